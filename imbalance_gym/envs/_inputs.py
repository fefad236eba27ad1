"""Input checks and data resolution shared by the environments (no torch).

Every check raises before any work starts and names the argument, the bad value and
what is allowed.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

OBSERVATION_KINDS = ("auto", "tabular", "image", "tokens")


def check_features(X: Any, name: str = "X") -> np.ndarray:
    """Validate a feature array: numeric, at least 2-D, non-empty and finite.

    Returns the array itself (``np.asarray``), never a rescaled copy.
    """
    if X is None:
        raise TypeError(f"{name} is required")
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):  # pandas objects
        X = X.to_numpy()
    X = np.asarray(X)
    if X.dtype == object or not (
        np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_
    ):
        raise TypeError(
            f"{name} must be a numeric array, got dtype {X.dtype}; encode categorical "
            "columns first (e.g. with sklearn's OneHotEncoder)"
        )
    if X.ndim < 2:
        raise ValueError(
            f"{name} must have one row per sample (2-D for features, 3-D/4-D for images), "
            f"got shape {X.shape}"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {X.shape})")
    if np.issubdtype(X.dtype, np.floating) and not np.isfinite(X).all():
        bad = int(np.size(X) - np.count_nonzero(np.isfinite(X)))
        raise ValueError(
            f"{name} holds {bad} NaN or infinite value(s); impute or drop them first"
        )
    return X


def check_labels(y: Any, n_rows: int, name: str = "y", x_name: str = "X") -> tuple[np.ndarray, int]:
    """Validate class labels: integers ``0..C-1``, every class present, at least two classes.

    Float arrays are accepted only when every value is integral.

    Returns:
        ``(y as int64, n_classes)``.
    """
    if y is None:
        raise TypeError(f"{name} is required")
    if hasattr(y, "to_numpy") and not isinstance(y, np.ndarray):
        y = y.to_numpy()
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D with one label per row, got shape {y.shape}")
    if y.shape[0] != n_rows:
        raise ValueError(
            f"{x_name} and {name} have different lengths: {n_rows} rows vs {y.shape[0]} labels"
        )
    if y.dtype == np.bool_:
        y = y.astype(np.int64)
    elif np.issubdtype(y.dtype, np.integer):
        y = y.astype(np.int64, copy=False)
    elif np.issubdtype(y.dtype, np.floating):
        if not np.isfinite(y).all() or not np.all(np.mod(y, 1) == 0):
            raise ValueError(
                f"{name} must hold integer class labels 0..C-1, got non-integer values "
                f"such as {y[np.mod(np.nan_to_num(y, nan=0.5), 1) != 0][:3].tolist()}"
            )
        y = y.astype(np.int64)
    else:
        raise TypeError(
            f"{name} must hold integer class labels 0..C-1, got dtype {y.dtype}; "
            "encode them first (e.g. with sklearn's LabelEncoder)"
        )
    labels = np.unique(y)
    if labels.size < 2:
        raise ValueError(
            f"{name} holds a single class ({labels.tolist()}); an imbalanced problem needs "
            "at least two classes"
        )
    if labels[0] != 0 or labels[-1] != labels.size - 1:
        raise ValueError(
            f"{name} must use the labels 0..C-1 with every class present, got {labels.tolist()}"
        )
    return y, int(labels.size)


def check_ratio(ratio: Any, name: str = "ratio") -> float | None:
    """rho = N_min / N_maj must lie in (0, 1]."""
    if ratio is None:
        return None
    if isinstance(ratio, bool) or not isinstance(ratio, numbers.Real):
        raise TypeError(f"{name} must be a number in (0, 1], got {ratio!r}")
    if not 0.0 < float(ratio) <= 1.0:
        raise ValueError(f"{name} must be in (0, 1] (rho = N_min / N_maj), got {ratio!r}")
    return float(ratio)


def check_seed(seed: Any, name: str = "seed") -> int | None:
    """A seed is ``None`` or a non-negative integer."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"{name} must be None or a non-negative integer, got {seed!r}")
    return int(seed)


def load_split(dataset: str, split: str, *, ratio, imbalance_ratio, seed, data_home):
    """Load a named task and return ``(X, y, task)`` for ``split`` in train/val/test."""
    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    from imbalance_gym.datasets import load_task  # deferred: only named datasets need it

    task = load_task(dataset, ratio=ratio, imbalance_ratio=imbalance_ratio,
                     seed=0 if seed is None else seed, data_home=data_home)
    X = getattr(task, f"X_{split}")
    y = getattr(task, f"y_{split}")
    return X, y, task
