"""Making data imbalanced: the two under-sampling protocols of the papers.

Both keep every majority row and draw a subset of the minority rows without
replacement; they differ in how the target is written:

* DQNimb (Lin et al., sec. IV-B): the imbalance ratio ``rho = N_min / N_maj`` in (0, 1];
  the minority is reduced "to rho x N where N is the total number of negative class",
  i.e. ``floor(rho * N_maj)`` rows (Table I: MNIST train at rho = 1% keeps 540 of the
  5958 digit-2 images against 54042 others).
* AutoSMOTE (Zha et al., sec. 4.1): the imbalanced ratio ``IR = N_maj / N_min >= 1``;
  ``floor(N_maj / IR)`` minority rows are kept (Table 1: phoneme at IR 20/50/100 keeps
  190/76/38 of its minority rows against 3818 majority rows).

A ``1e-9`` is added before the floor so that products that land a hair under an
integer in floating point (``0.29 * 100 == 28.999999999999996``) still give the integer,
and at least one minority row is always kept. The functions are pure: all randomness comes from the
``np.random.Generator`` passed in, and they return sorted row indices.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

_EPS = 1e-9


def _check_inputs(
    y: object, rng: object, minority: object, fn: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate the shared arguments; return (y, minority rows, majority rows)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{fn}: rng must be a numpy.random.Generator (e.g. np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    array = np.asarray(y)
    if array.ndim != 1:
        raise ValueError(f"{fn}: y must be 1-D, got shape {array.shape}")
    if isinstance(minority, (bool, np.bool_)) or not isinstance(minority, (numbers.Integral, str)):
        raise TypeError(f"{fn}: minority must be an int or str label, got {minority!r}")
    is_min = array == minority
    min_idx = np.flatnonzero(is_min)
    maj_idx = np.flatnonzero(~is_min)
    if min_idx.size == 0:
        raise ValueError(f"{fn}: y has no row with the minority label {minority!r}")
    if maj_idx.size == 0:
        raise ValueError(
            f"{fn}: y has only minority rows (label {minority!r}); nothing to keep as majority"
        )
    return array, min_idx, maj_idx


def _check_real(name: str, value: object, fn: str) -> float:
    """Return ``value`` as a finite float or raise naming the argument."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a real number, got {type(value).__name__} ({value!r})")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{fn}: {name} must be finite, got {value!r}")
    return number


def _draw(min_idx: np.ndarray, maj_idx: np.ndarray, n_keep: int, rng: np.random.Generator) -> np.ndarray:
    """Keep every majority row and ``n_keep`` random minority rows; sorted indices."""
    chosen = rng.choice(min_idx, size=n_keep, replace=False)
    return np.sort(np.concatenate([maj_idx, chosen])).astype(np.int64)


def n_minority_for_ratio(n_majority: int, ratio: float) -> int:
    """Minority rows kept by the DQNimb protocol: ``max(1, floor(ratio * N_maj + 1e-9))``."""
    return max(1, math.floor(ratio * n_majority + _EPS))


def n_minority_for_ir(n_majority: int, imbalance_ratio: float) -> int:
    """Minority rows kept by the AutoSMOTE protocol: ``max(1, floor(N_maj / IR + 1e-9))``."""
    return max(1, math.floor(n_majority / imbalance_ratio + _EPS))


def make_imbalance_ratio(
    y: np.ndarray, ratio: float, rng: np.random.Generator, minority: int | str = 1
) -> np.ndarray:
    """Under-sample the minority class to ``rho = N_min / N_maj`` (DQNimb protocol).

    Keeps every row whose label is not ``minority`` and draws, without replacement,
    ``max(1, floor(ratio * N_maj + 1e-9))`` of the minority rows.

    Args:
        y: Labels, shape [N].
        ratio: Target rho = N_min / N_maj in (0, 1], at most the data's natural ratio.
        rng: Source of randomness.
        minority: Label of the minority class.

    Returns:
        Sorted int64 indices into ``y`` of the kept rows, shape [N_maj + n_kept].

    Raises:
        TypeError: If ``rng`` is not a Generator, ``ratio`` not a real number or
            ``minority`` not an int / str.
        ValueError: If ``ratio`` is outside (0, 1] or above the natural ratio
            N_min / N_maj of ``y`` (the message states it), or ``y`` lacks a class.
    """
    fn = "make_imbalance_ratio"
    rho = _check_real("ratio", ratio, fn)
    if not 0.0 < rho <= 1.0:
        raise ValueError(f"{fn}: ratio must be in (0, 1] (rho = N_min / N_maj), got {ratio!r}")
    _, min_idx, maj_idx = _check_inputs(y, rng, minority, fn)
    natural = min_idx.size / maj_idx.size
    if rho > natural * (1.0 + 1e-12):
        raise ValueError(
            f"{fn}: ratio={ratio!r} is above the natural ratio N_min / N_maj = "
            f"{min_idx.size}/{maj_idx.size} = {natural:.6g} of this data; allowed: "
            f"(0, {min(natural, 1.0):.6g}]"
        )
    return _draw(min_idx, maj_idx, n_minority_for_ratio(maj_idx.size, rho), rng)


def make_imbalance_ir(
    y: np.ndarray, imbalance_ratio: float, rng: np.random.Generator, minority: int | str = 1
) -> np.ndarray:
    """Under-sample the minority class to ``IR = N_maj / N_min`` (AutoSMOTE protocol).

    Keeps every row whose label is not ``minority`` and draws, without replacement,
    ``max(1, floor(N_maj / IR + 1e-9))`` of the minority rows.

    Args:
        y: Labels, shape [N].
        imbalance_ratio: Target IR = N_maj / N_min >= 1, at least the natural IR.
        rng: Source of randomness.
        minority: Label of the minority class.

    Returns:
        Sorted int64 indices into ``y`` of the kept rows, shape [N_maj + n_kept].

    Raises:
        TypeError: If ``rng`` is not a Generator, ``imbalance_ratio`` not a real
            number or ``minority`` not an int / str.
        ValueError: If ``imbalance_ratio`` < 1 or below the natural IR N_maj / N_min
            of ``y`` (the message states it), or ``y`` lacks a class.
    """
    fn = "make_imbalance_ir"
    ir = _check_real("imbalance_ratio", imbalance_ratio, fn)
    if ir < 1.0:
        raise ValueError(
            f"{fn}: imbalance_ratio must be >= 1 (IR = N_maj / N_min), got {imbalance_ratio!r}"
        )
    _, min_idx, maj_idx = _check_inputs(y, rng, minority, fn)
    natural = maj_idx.size / min_idx.size
    if ir < natural * (1.0 - 1e-12):
        raise ValueError(
            f"{fn}: imbalance_ratio={imbalance_ratio!r} is below the natural IR N_maj / N_min = "
            f"{maj_idx.size}/{min_idx.size} = {natural:.6g} of this data; allowed: "
            f">= {max(natural, 1.0):.6g}"
        )
    return _draw(min_idx, maj_idx, n_minority_for_ir(maj_idx.size, ir), rng)
