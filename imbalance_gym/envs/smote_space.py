"""The SMOTE search space of AutoSMOTE as pure functions (Zha et al., CIKM'22, sec. 3.1-3.3).

A synthetic minority row is a point on the segment between a minority instance ``x_i``
and one of its ``K`` nearest minority neighbours ``x_nb``:

    x_syn = x_i + w * (x_nb - x_i),    w in {0, 0.25, 0.5, 0.75, 1}        (sec. 3.2)

A low-level action picks one of the ``5 K`` (neighbour, weight) pairs. This module
holds everything about that space that is plain arithmetic on arrays, so the
environments, the random-search baseline and the agents share one definition:

* :func:`minority_neighbours` -- the top-``K`` neighbour table (instance excluded);
* :func:`encode_action` / :func:`decode_action` -- action id <-> (neighbour slot, weight);
* :func:`interpolate` and :func:`generate` -- every synthetic row of an episode in one
  vectorised call, with its provenance (:class:`SyntheticRows`);
* :func:`usage_counts`, :func:`usage_bins` (:func:`usage_bin` for one int),
  :func:`usage_one_hot` -- the paper's 10-bin "data distribution" features;
* :func:`max_g2` -- the largest instance factor that fits a bound on rows per episode;
* :func:`action_features` -- per-action features for a policy that scores
  state-action pairs (sec. 3.3).

Nothing here draws random numbers: callers that need random indices or actions draw
them from a ``np.random.Generator`` they own and pass the results in.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
from sklearn.neighbors import NearestNeighbors

__all__ = [
    "N_USAGE_BINS",
    "N_WEIGHTS",
    "USAGE_BIN_WIDTH",
    "WEIGHTS",
    "SyntheticRows",
    "action_features",
    "decode_action",
    "encode_action",
    "generate",
    "interpolate",
    "max_g2",
    "minority_neighbours",
    "usage_bin",
    "usage_bins",
    "usage_counts",
    "usage_one_hot",
]

WEIGHTS: np.ndarray = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
"""Interpolation weights of a low-level action, sec. 3.2 (read-only)."""
WEIGHTS.flags.writeable = False

N_WEIGHTS: int = WEIGHTS.size
"""Number of interpolation weights (5): a low-level action space has ``5 K`` actions."""

N_USAGE_BINS: int = 10
"""Length of the usage one-hot ("data distribution features", sec. 3.2)."""

USAGE_BIN_WIDTH: int = 10
"""Uses per bin: counts 0-9 fall in bin 0, 10-19 in bin 1, ...; the last bin is open-ended."""


def _check_count(value, name: str, minimum: int) -> int:
    """An integer (not bool) >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def minority_neighbours(X_min, k: int) -> np.ndarray:
    """Top-``K`` nearest minority neighbours of every minority instance (sec. 3.2).

    Euclidean nearest neighbours among the minority rows themselves (scikit-learn's
    ``NearestNeighbors``), nearest first, with the instance itself excluded. ``K`` is
    capped at ``N_min - 1``, the number of other instances. When duplicate rows make
    the query tie with itself, the instance's own index is still the one removed.

    Args:
        X_min: minority features, shape ``[N_min, D]``, ``N_min >= 2``.
        k: requested number of neighbours ``K >= 1``.

    Returns:
        ``int64`` array ``[N_min, min(K, N_min - 1)]`` of row indices into ``X_min``;
        row ``i`` never contains ``i``.

    Raises:
        ValueError: if ``X_min`` is not 2-D with at least 2 rows, or ``k < 1``.
    """
    k = _check_count(k, "k", 1)
    X_min = np.asarray(X_min)
    if X_min.ndim != 2 or X_min.shape[0] < 2:
        raise ValueError(
            f"X_min must be [N_min, D] with N_min >= 2 minority rows, got shape {X_min.shape}"
        )
    n = X_min.shape[0]
    k_eff = min(k, n - 1)
    nn = NearestNeighbors(n_neighbors=k_eff + 1).fit(X_min)
    found = nn.kneighbors(X_min, return_distance=False)  # [N, K + 1], self usually first
    keep = found != np.arange(n)[:, None]
    # A row whose own index is missing (more than K + 1 exact duplicates) drops its last.
    no_self = keep.all(axis=1)
    keep[no_self, -1] = False
    return found[keep].reshape(n, k_eff).astype(np.int64, copy=False)


def encode_action(slot, weight_index):
    """Low-level action id of (neighbour slot, weight index): ``a = slot * 5 + weight_index``.

    Args:
        slot: neighbour slot(s) in ``0..K-1`` (position in the neighbour table row).
        weight_index: index/indices into :data:`WEIGHTS`, ``0..4``.

    Returns:
        Action id(s) in ``0..5K-1``, same shape as the broadcast inputs.
    """
    return np.asarray(slot) * N_WEIGHTS + np.asarray(weight_index)


def decode_action(action):
    """Decode low-level action id(s) into ``(slot, weight)`` (sec. 3.2: ``5 K`` actions).

    The inverse of :func:`encode_action`: ``slot = a // 5`` picks the neighbour,
    ``weight = WEIGHTS[a % 5]``. Range checks are the caller's (the envs check against
    their ``K`` before decoding).

    Args:
        action: int or int array of any shape, values in ``0..5K-1``.

    Returns:
        ``(slot, weight)``: ``int64`` and ``float64`` arrays of the input's shape.
    """
    slot, w_idx = np.divmod(np.asarray(action, dtype=np.int64), N_WEIGHTS)
    return slot, WEIGHTS.take(w_idx)


def interpolate(x_base, x_neighbour, weight):
    """SMOTE interpolation ``x_base + weight * (x_neighbour - x_base)`` (sec. 3.1-3.2).

    Pure arithmetic, broadcast over a leading batch axis: ``weight`` has one value per
    row. It is evaluated in float64 and rounded once to ``x_base``'s floating dtype, so
    a float32 result lies on its float32 segment (each coordinate between the two end
    points, ``w = 1`` giving the neighbour exactly).

    Args:
        x_base: start points, shape ``[M, D]`` (or ``[D]``).
        x_neighbour: chosen neighbours, same shape as ``x_base``.
        weight: interpolation weights in ``[0, 1]``, shape ``[M]`` (or scalar).

    Returns:
        Synthetic rows, shape ``[M, D]`` (or ``[D]``), in ``x_base``'s floating dtype
        (float64 for integer input).
    """
    x_base = np.asarray(x_base)
    dtype = x_base.dtype if np.issubdtype(x_base.dtype, np.floating) else np.float64
    base = x_base.astype(np.float64, copy=False)
    w = np.asarray(weight, dtype=np.float64)
    if w.ndim:
        w = w[..., None]
    out = np.array(x_neighbour, dtype=np.float64)  # a fresh buffer, updated in place below
    out -= base
    out *= w
    out += base
    return out.astype(dtype, copy=False)


class SyntheticRows(NamedTuple):
    """Synthetic rows of one episode and where each came from.

    Attributes:
        X: synthetic rows, shape ``[M, D]``.
        source: start instance of each row (index into the minority rows), ``int64 [M]``.
        neighbour: chosen neighbour of each row (index into the minority rows), ``int64 [M]``.
        weight: interpolation weight of each row, ``float64 [M]``.
    """

    X: np.ndarray
    source: np.ndarray
    neighbour: np.ndarray
    weight: np.ndarray


def generate(X_min, neighbours, source, action) -> SyntheticRows:
    """All synthetic rows of an episode in one vectorised call (Algorithm 1, line 7).

    Row ``j`` is ``interpolate(X_min[source[j]], X_min[nb_j], w_j)`` where
    ``(slot_j, w_j) = decode_action(action[j])`` and ``nb_j = neighbours[source[j], slot_j]``.

    Args:
        X_min: minority features, shape ``[N_min, D]``.
        neighbours: neighbour table from :func:`minority_neighbours`, ``[N_min, K]``.
        source: start instance of each row, ints in ``0..N_min-1``, shape ``[M]``.
        action: low-level action of each row, ints in ``0..5K-1``, shape ``[M]``.

    Returns:
        :class:`SyntheticRows` with ``X`` of shape ``[M, D]`` and the provenance.
    """
    source = np.asarray(source, dtype=np.int64)
    slot, weight = decode_action(action)
    neighbours = np.asarray(neighbours)
    neighbour = neighbours.take(source * neighbours.shape[1] + slot)  # neighbours[source, slot]
    X_min = np.asarray(X_min)
    # take() gathers rows several times faster than fancy indexing
    rows = interpolate(X_min.take(source, axis=0), X_min.take(neighbour, axis=0), weight)
    return SyntheticRows(rows, source, neighbour, weight)


def max_g2(g1: int, G2: int, rows_left: int) -> int:
    """Largest instance factor ``g2 <= G2`` whose ``g = g1 * g2`` rows fit in ``rows_left``.

    Algorithm 1 makes ``g1 * g2`` rows for an instance; under a bound on rows per
    episode, ``g2`` may be at most ``rows_left // g1`` (any ``g2`` when ``g1 == 0``).

    Args:
        g1: cross-instance factor, ``>= 0``.
        G2: largest instance factor.
        rows_left: rows still allowed, ``>= 0``.

    Returns:
        ``min(G2, rows_left // g1)``, or ``G2`` when ``g1 == 0``.
    """
    if g1 == 0:
        return G2
    return min(G2, rows_left // g1)


def usage_counts(n_min: int, source, neighbour) -> np.ndarray:
    """How often each minority instance was used for interpolation (sec. 3.2).

    A use is being the start point of a synthetic row or its chosen neighbour, so every
    row adds one use to ``source[j]`` and one to ``neighbour[j]``.

    Args:
        n_min: number of minority instances ``N_min``.
        source: start instances, ints, shape ``[M]``.
        neighbour: chosen neighbours, ints, shape ``[M]``.

    Returns:
        ``int64`` counts, shape ``[N_min]``.
    """
    return (np.bincount(np.asarray(source, dtype=np.int64), minlength=n_min)
            + np.bincount(np.asarray(neighbour, dtype=np.int64), minlength=n_min))


def usage_bin(count: int) -> int:
    """:func:`usage_bins` of one Python int, without numpy (the envs' per-step path)."""
    b = count // USAGE_BIN_WIDTH
    return b if b < N_USAGE_BINS else N_USAGE_BINS - 1


def usage_bins(counts) -> np.ndarray:
    """Bin index of usage counts: ``min(count // 10, 9)`` (sec. 3.2).

    Counts 0-9 go to bin 0, 10-19 to bin 1, ..., 90 and above to bin 9.

    Args:
        counts: non-negative integer counts, any shape.

    Returns:
        ``int64`` bin indices in ``0..9``, same shape.
    """
    c = np.asarray(counts, dtype=np.int64)
    return np.minimum(c // USAGE_BIN_WIDTH, N_USAGE_BINS - 1)


def usage_one_hot(counts, dtype=np.float32) -> np.ndarray:
    """10-dimensional one-hot of :func:`usage_bins` (the paper's data distribution features).

    Args:
        counts: non-negative integer counts, shape ``[...]``.
        dtype: output dtype.

    Returns:
        Array of shape ``[..., 10]`` with a single 1 per count.
    """
    bins = usage_bins(counts)
    return (bins[..., None] == np.arange(N_USAGE_BINS)).astype(dtype)


def action_features(neighbour_features) -> np.ndarray:
    """Features of every low-level action, for a policy that scores state-action pairs.

    Sec. 3.3: the low-level policy head scores each (neighbour, weight) pair from the
    neighbour's data-distribution features and a one-hot of the weight. Action ``a``
    (:func:`encode_action` order) gets ``[neighbour_features[a // 5], one_hot_5(a % 5)]``.

    Args:
        neighbour_features: per-neighbour features, shape ``[..., K, F]`` (e.g. the
            environments' ``neighbour_features`` observation, ``F = 10 + D``).

    Returns:
        ``[..., 5 K, F + 5]`` array in the input's dtype.
    """
    nf = np.asarray(neighbour_features)
    *batch, k, f = nf.shape
    per_slot = np.repeat(nf, N_WEIGHTS, axis=-2)  # [..., 5K, F]
    eye = np.eye(N_WEIGHTS, dtype=nf.dtype)
    weights = np.broadcast_to(np.tile(eye, (k, 1)), (*batch, k * N_WEIGHTS, N_WEIGHTS))
    return np.concatenate([per_slot, weights], axis=-1)
