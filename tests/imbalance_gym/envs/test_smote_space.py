"""SMOTE search space (AutoSMOTE sec. 3.1-3.3): each function against a literal transcription."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imbalance_gym.envs.smote_space import (
    N_USAGE_BINS,
    WEIGHTS,
    action_features,
    decode_action,
    encode_action,
    generate,
    interpolate,
    max_g2,
    minority_neighbours,
    usage_bin,
    usage_bins,
    usage_counts,
    usage_one_hot,
)


# ---- neighbours --------------------------------------------------------------------------
def _brute_force_neighbours(X, k):
    """Sort every other row by Euclidean distance (ties by index), keep the first k."""
    out = []
    for i in range(len(X)):
        d = [(float(np.sum((X[j] - X[i]) ** 2)), j) for j in range(len(X)) if j != i]
        out.append([j for _, j in sorted(d)[:k]])
    return np.array(out)


def test_neighbours_match_brute_force_and_exclude_self():
    X = np.random.default_rng(0).normal(size=(12, 3))
    got = minority_neighbours(X, 4)
    assert got.shape == (12, 4)
    assert got.tolist() == _brute_force_neighbours(X, 4).tolist()
    assert not (got == np.arange(12)[:, None]).any()


def test_neighbours_k_capped_at_n_min_minus_one():
    X = np.array([[0.0], [1.0], [3.0]])
    got = minority_neighbours(X, 30)
    assert got.tolist() == [[1, 2], [0, 2], [1, 0]]


def test_neighbours_with_duplicate_rows_still_drop_the_instance_itself():
    X = np.zeros((4, 2))  # every distance ties: the query may not list itself first
    got = minority_neighbours(X, 3)
    for i, row in enumerate(got):
        assert sorted(row.tolist()) == sorted(set(range(4)) - {i})


@pytest.mark.parametrize("X, k, match", [
    (np.zeros((1, 2)), 3, "N_min >= 2"),
    (np.zeros(5), 3, "N_min >= 2"),
    (np.zeros((4, 2)), 0, "k must be an integer >= 1"),
])
def test_neighbours_bad_input(X, k, match):
    with pytest.raises(ValueError, match=match):
        minority_neighbours(X, k)


# ---- actions -----------------------------------------------------------------------------
def test_action_layout_is_slot_times_five_plus_weight():
    K = 3
    for a in range(5 * K):
        slot, w = decode_action(a)
        assert (int(slot), float(w)) == (a // 5, [0.0, 0.25, 0.5, 0.75, 1.0][a % 5])
        assert int(encode_action(a // 5, a % 5)) == a
    slots, ws = decode_action(np.arange(15).reshape(3, 5))
    assert slots.shape == ws.shape == (3, 5)
    assert WEIGHTS.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]


# ---- interpolation -----------------------------------------------------------------------
def test_interpolate_matches_the_formula_row_by_row():
    rng = np.random.default_rng(1)
    base = rng.normal(size=(6, 4))
    nb = rng.normal(size=(6, 4))
    w = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 0.5])
    got = interpolate(base, nb, w)
    for j in range(6):
        expect = [base[j, d] + w[j] * (nb[j, d] - base[j, d]) for d in range(4)]
        assert got[j].tolist() == expect  # same operations in the same order: exact
    assert got[0].tolist() == base[0].tolist()  # w = 0: the instance itself
    np.testing.assert_allclose(got[4], nb[4], rtol=1e-15, atol=1e-15)  # w = 1: the neighbour


def test_float32_rows_lie_exactly_on_the_float32_segment():
    rng = np.random.default_rng(7)
    base = rng.normal(size=(500, 4)).astype(np.float32) * 100
    nb = rng.normal(size=(500, 4)).astype(np.float32)
    w = np.tile(WEIGHTS, 100)
    got = interpolate(base, nb, w)
    assert got.dtype == np.float32
    assert np.all(got >= np.minimum(base, nb)) and np.all(got <= np.maximum(base, nb))
    assert got[w == 1.0].tolist() == nb[w == 1.0].tolist()
    literal = [[np.float32(float(b) + float(wj) * (float(n) - float(b))) for b, n in zip(br, nr)]
               for br, nr, wj in zip(base[:20], nb[:20], w[:20])]
    assert got[:20].tolist() == literal


def test_interpolate_single_row_and_float32_kept():
    b = np.array([1.0, 2.0], dtype=np.float32)
    n = np.array([3.0, -2.0], dtype=np.float32)
    got = interpolate(b, n, 0.25)
    assert got.dtype == np.float32
    assert got.tolist() == [1.5, 1.0]
    one = interpolate(b[None], n[None], np.array([0.75]))
    assert one.shape == (1, 2) and one.tolist() == [[2.5, -1.0]]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_min=st.integers(2, 9), k=st.integers(1, 6), m=st.integers(1, 30))
def test_generated_rows_follow_provenance_and_lie_on_the_segment(seed, n_min, k, m):
    rng = np.random.default_rng(seed)
    X_min = rng.normal(size=(n_min, 3))
    nbrs = minority_neighbours(X_min, k)
    source = rng.integers(0, n_min, m)
    action = rng.integers(0, 5 * nbrs.shape[1], m)
    syn = generate(X_min, nbrs, source, action)
    assert syn.X.shape == (m, 3)
    for j in range(m):
        i, a = int(source[j]), int(action[j])
        nb = int(nbrs[i, a // 5])
        w = [0.0, 0.25, 0.5, 0.75, 1.0][a % 5]
        assert (int(syn.source[j]), int(syn.neighbour[j]), float(syn.weight[j])) == (i, nb, w)
        x_i, x_nb = X_min[i], X_min[nb]
        assert syn.X[j].tolist() == (x_i + w * (x_nb - x_i)).tolist()
        # on the segment: each coordinate between the two end points (float64 data:
        # up to one rounding; float32 data is exact, see the test above)
        lo, hi = np.minimum(x_i, x_nb), np.maximum(x_i, x_nb)
        assert np.all(syn.X[j] >= lo - 1e-12) and np.all(syn.X[j] <= hi + 1e-12)


def test_generate_with_no_rows():
    syn = generate(np.zeros((3, 2)), np.array([[1], [0], [1]]), np.array([], int), np.array([], int))
    assert syn.X.shape == (0, 2) and syn.source.shape == (0,)


# ---- usage features ----------------------------------------------------------------------
def _paper_bin(count):
    """Sec. 3.2 as written: [0, 9] -> bin 0, [10, 19] -> bin 1, ..., the last bin open-ended."""
    for b in range(N_USAGE_BINS - 1):
        if 10 * b <= count <= 10 * b + 9:
            return b
    return N_USAGE_BINS - 1


@pytest.mark.parametrize("count, expect", [(0, 0), (9, 0), (10, 1), (19, 1), (20, 2), (89, 8),
                                           (90, 9), (99, 9), (100, 9), (12345, 9)])
def test_usage_bins_at_the_edges(count, expect):
    assert int(usage_bins(count)) == usage_bin(count) == expect == _paper_bin(count)


@given(st.lists(st.integers(0, 500), min_size=1, max_size=50))
def test_usage_bins_and_one_hot_match_the_paper(counts):
    bins = usage_bins(counts)
    assert bins.tolist() == [_paper_bin(c) for c in counts] == [usage_bin(c) for c in counts]
    oh = usage_one_hot(counts)
    assert oh.shape == (len(counts), 10) and oh.dtype == np.float32
    assert oh.sum(axis=1).tolist() == [1.0] * len(counts)
    assert oh.argmax(axis=1).tolist() == bins.tolist()


def test_usage_counts_count_start_and_neighbour():
    source = [0, 0, 2, 1]
    neighbour = [1, 2, 0, 0]
    expect = [0] * 4
    for s, n in zip(source, neighbour):
        expect[s] += 1
        expect[n] += 1
    assert usage_counts(4, source, neighbour).tolist() == expect == [4, 2, 2, 0]


# ---- action features and the row bound ---------------------------------------------------
def test_action_features_pair_each_neighbour_with_each_weight():
    nf = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)  # [batch, K, F]
    got = action_features(nf)
    assert got.shape == (2, 15, 9) and got.dtype == np.float32
    for b in range(2):
        for a in range(15):
            expect = list(nf[b, a // 5]) + [1.0 if w == a % 5 else 0.0 for w in range(5)]
            assert got[b, a].tolist() == expect
    assert action_features(nf[0]).tolist() == got[0].tolist()


@pytest.mark.parametrize("g1, G2, left", [(0, 10, 0), (3, 10, 100), (3, 10, 29), (3, 10, 2), (7, 4, 28),
                                          (1, 5, 0)])
def test_max_g2_is_the_largest_fitting_factor(g1, G2, left):
    expect = max(g2 for g2 in range(G2 + 1) if g1 * g2 <= left)
    assert max_g2(g1, G2, left) == expect
