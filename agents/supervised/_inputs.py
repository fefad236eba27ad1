"""Input checks shared by the supervised classifiers: from an array X to a network input space."""

from __future__ import annotations

import numbers

import numpy as np
from gymnasium import spaces
from scipy import sparse

from agents.networks import NETWORK_KINDS, network_kind


def as_array(X, name: str = "X") -> np.ndarray:
    """``X`` (array, list, DataFrame) as a numeric numpy array, or a ValueError naming ``name``."""
    if X is None:
        raise ValueError(f"{name} is None; expected an array of shape [N, D], [N, H, W] or [N, C, H, W]")
    if sparse.issparse(X):
        raise TypeError(f"{name} is a sparse matrix: sparse input is not supported; pass {name}.toarray()")
    if hasattr(X, "to_numpy"):  # pandas
        X = X.to_numpy()
    array = np.asarray(X)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        try:
            array = array.astype(np.float32)
        except (TypeError, ValueError) as err:
            raise type(err)(f"{name} must hold numbers (dtype {array.dtype}): {err}") from err
    if array.ndim < 2:
        raise ValueError(f"{name} must have shape [N, D], [N, H, W] or [N, C, H, W], got shape {array.shape}. "
                         "Reshape your data: X.reshape(-1, 1) for one feature, X.reshape(1, -1) for one row")
    for what, empty in (("sample", array.shape[0] == 0), ("feature", 0 in array.shape[1:])):
        if empty:
            raise ValueError(f"{name} has 0 {what}(s) (shape={array.shape}) while a minimum of 1 is required.")
    return array


def check_network(network) -> str:
    """``network`` must be one of ``agents.networks.NETWORK_KINDS``."""
    if not isinstance(network, str) or network not in NETWORK_KINDS:
        raise ValueError(f"network must be one of {NETWORK_KINDS}, got {network!r}")
    return network


def check_hidden_sizes(hidden_sizes) -> tuple[int, ...]:
    """A non-empty sequence of ints >= 1."""
    try:
        sizes = tuple(hidden_sizes)
    except TypeError:
        sizes = ()
    if not sizes or any(isinstance(h, bool) or not isinstance(h, numbers.Integral) or h < 1 for h in sizes):
        raise ValueError(f"hidden_sizes must be a non-empty sequence of ints >= 1, got {hidden_sizes!r}")
    return tuple(int(h) for h in sizes)


def input_space(X: np.ndarray, network: str, observation) -> tuple[spaces.Box, str]:
    """The Box one row of ``X`` lives in and the body kind that will read it.

    ``observation`` (a ``gymnasium.spaces.Box``) wins when given; it is how token ids
    reach the text net (its ``high`` gives the vocabulary). Otherwise the space comes
    from ``X``: ``[N, D]`` -> float features (MLP), ``[N, H, W]`` -> one-channel images,
    ``[N, C, H, W]`` -> images (CNN); uint8 images keep the 0..255 range.

    Raises:
        ValueError: If ``observation`` is not a Box or does not match ``X``, the text net
            is asked for without ``observation``, or ``network`` does not fit the data.
    """
    row_shape = X.shape[1:] if X.ndim != 3 else (1, *X.shape[1:])
    if observation is not None:
        if not isinstance(observation, spaces.Box):
            raise ValueError(f"observation must be a gymnasium.spaces.Box or None, got {observation!r}")
        if tuple(observation.shape) != tuple(row_shape):
            raise ValueError(
                f"observation has shape {observation.shape} but the rows of X have shape {tuple(row_shape)}"
            )
        space = observation
    elif X.ndim == 2:
        if network == "text":
            raise ValueError(
                "network='text' needs observation=gymnasium.spaces.Box(0, vocab_size - 1, (L,), np.int64) "
                "so the embedding knows the vocabulary size"
            )
        space = spaces.Box(-np.inf, np.inf, row_shape, np.float32)
    elif X.ndim in (3, 4):
        dtype = np.uint8 if X.dtype == np.uint8 else np.float32
        high = 255 if dtype == np.uint8 else np.inf
        space = spaces.Box(0 if dtype == np.uint8 else -np.inf, high, row_shape, dtype)
    else:
        raise ValueError(f"X must have shape [N, D], [N, H, W] or [N, C, H, W], got shape {X.shape}")
    fit = network_kind(space)
    kind = fit if network == "auto" else network
    if kind != fit and not (kind == "mlp" and fit == "cnn"):
        raise ValueError(f"network={network!r} does not fit X with rows of shape {tuple(row_shape)} and "
                         f"dtype {X.dtype} (it fits {fit!r})")
    return space, kind


def rows_for(X: np.ndarray, space: spaces.Box, kind: str, name: str = "X", owner: str = "the model") -> np.ndarray:
    """``X`` reshaped and cast to what the body reads; checks shape and values against ``space``.

    Raises:
        ValueError: Wrong row shape, non-finite features, or token ids outside ``space``.
    """
    if X.ndim == 3 and len(space.shape) == 3 and X.shape[1:] == space.shape[1:] and space.shape[0] == 1:
        X = X[:, None]
    if tuple(X.shape[1:]) != tuple(space.shape):
        if X.ndim == 2 and len(space.shape) == 1:
            raise ValueError(f"{name} has {X.shape[1]} features, but {owner} is expecting {space.shape[0]} "
                             "features as input")
        raise ValueError(f"{name} has rows of shape {tuple(X.shape[1:])}, but {owner} was fitted on rows "
                         f"of shape {tuple(space.shape)}")
    if kind == "text":
        if not np.issubdtype(X.dtype, np.integer):
            raise ValueError(f"{name} must hold integer token ids for the text net, got dtype {X.dtype}")
        vocab = int(np.max(space.high)) + 1
        if X.min() < 0 or X.max() >= vocab:
            raise ValueError(f"{name} holds token ids outside 0..{vocab - 1}: min {X.min()}, max {X.max()}")
        return np.ascontiguousarray(X, dtype=np.int64)
    if X.dtype == np.uint8 and space.dtype == np.uint8:
        return np.ascontiguousarray(X)
    X = np.ascontiguousarray(X, dtype=np.float32)
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return X
