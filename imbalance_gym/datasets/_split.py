"""Seeded stratified splitting of row indices."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def stratified_split(
    y: np.ndarray, fractions: Sequence[float], rng: np.random.Generator
) -> list[np.ndarray]:
    """Split row indices into ``len(fractions) + 1`` parts with the class proportions of ``y``.

    For each class (in sorted label order) its rows are shuffled with ``rng``; part
    ``j >= 1`` takes ``round(fractions[j-1] * n_class)`` of them (half rounds up), at
    least one when the class has a row for every part, and part 0 keeps the rest (it
    never loses its last row to the others).

    Args:
        y: Labels, shape [N].
        fractions: Fraction of each class for parts 1..k, each in (0, 1), sum < 1.
        rng: Source of randomness.

    Returns:
        ``k + 1`` sorted int64 index arrays that partition ``range(N)``.
    """
    labels = np.asarray(y)
    if labels.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {labels.shape}")
    if not fractions or any(not 0.0 < f < 1.0 for f in fractions) or sum(fractions) >= 1.0:
        raise ValueError(f"fractions must each be in (0, 1) and sum to < 1, got {list(fractions)}")
    n_parts = len(fractions) + 1
    parts: list[list[np.ndarray]] = [[] for _ in range(n_parts)]
    for label in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == label))
        n = rows.size
        counts = [math.floor(f * n + 0.5) for f in fractions]
        if n >= n_parts:
            counts = [max(1, c) for c in counts]
        while sum(counts) > n - 1 and max(counts) > 0:  # part 0 keeps at least one row
            counts[counts.index(max(counts))] -= 1
        start = n - sum(counts)
        parts[0].append(rows[:start])
        for j, count in enumerate(counts, start=1):
            parts[j].append(rows[start : start + count])
            start += count
    return [np.sort(np.concatenate(p)).astype(np.int64) if p else np.empty(0, np.int64) for p in parts]
