"""make_imbalance_ratio (DQNimb) and make_imbalance_ir (AutoSMOTE)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imbalance_gym.datasets import load_dataset, make_imbalance_ir, make_imbalance_ratio
from imbalance_gym.datasets._labels import label_keys


def _labels(n_maj: int, n_min: int, seed: int = 0) -> np.ndarray:
    y = np.array([0] * n_maj + [1] * n_min)
    return np.random.default_rng(seed).permutation(y)


def _check_kept(y, kept, n_min_expected):
    assert kept.dtype == np.int64
    assert np.all(np.diff(kept) > 0)  # sorted, no duplicates
    np.testing.assert_array_equal(np.flatnonzero(y[kept] == 0).size, np.sum(y == 0))  # every majority row
    assert int(np.sum(y[kept] == 1)) == n_min_expected


def test_ratio_keeps_all_majority_and_floor_of_rho_n_maj():
    y = _labels(1000, 300)
    kept = make_imbalance_ratio(y, 0.05, np.random.default_rng(0))
    _check_kept(y, kept, 50)
    assert set(np.flatnonzero(y == 0)) <= set(kept.tolist())


def test_ratio_floor_is_robust_to_float_products():
    # 0.29 * 100 = 28.999999999999996 in floating point; a bare floor would keep 28.
    assert 0.29 * 100 < 29
    y = _labels(100, 60)
    _check_kept(y, make_imbalance_ratio(y, 0.29, np.random.default_rng(1)), 29)
    y = _labels(12000, 6000)
    _check_kept(y, make_imbalance_ratio(y, 0.04, np.random.default_rng(1)), 480)  # DQNimb Table I
    _check_kept(y, make_imbalance_ratio(y, 0.0123, np.random.default_rng(1)), 147)  # 147.6 -> 147


def test_ratio_keeps_at_least_one_minority_row():
    y = _labels(50, 10)
    _check_kept(y, make_imbalance_ratio(y, 0.001, np.random.default_rng(0)), 1)


def test_ratio_at_the_natural_value_keeps_everything():
    y = _labels(40, 10)
    kept = make_imbalance_ratio(y, 10 / 40, np.random.default_rng(0))
    np.testing.assert_array_equal(kept, np.arange(50))


def test_ratio_above_natural_states_the_natural_ratio():
    y = _labels(3818, 1586)
    with pytest.raises(ValueError, match=r"ratio=0\.5 is above the natural ratio N_min / N_maj = 1586/3818 = 0\.415401"):
        make_imbalance_ratio(y, 0.5, np.random.default_rng(0))


@pytest.mark.parametrize("bad", [0, 0.0, -0.1, 1.5, float("nan"), float("inf")])
def test_ratio_out_of_range(bad):
    with pytest.raises(ValueError, match=r"ratio must be in \(0, 1\]|ratio must be finite"):
        make_imbalance_ratio(_labels(10, 5), bad, np.random.default_rng(0))


def test_bad_types_are_type_errors():
    y = _labels(10, 5)
    with pytest.raises(TypeError, match="ratio must be a real number, got str"):
        make_imbalance_ratio(y, "0.1", np.random.default_rng(0))
    with pytest.raises(TypeError, match="ratio must be a real number, got bool"):
        make_imbalance_ratio(y, True, np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        make_imbalance_ratio(y, 0.1, 0)
    with pytest.raises(TypeError, match="imbalance_ratio must be a real number"):
        make_imbalance_ir(y, None, np.random.default_rng(0))


def test_missing_classes_are_errors():
    with pytest.raises(ValueError, match="no row with the minority label 1"):
        make_imbalance_ratio(np.zeros(5, int), 0.1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="only minority rows"):
        make_imbalance_ir(np.ones(5, int), 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="y must be 1-D"):
        make_imbalance_ir(np.ones((2, 2), int), 2, np.random.default_rng(0))


def test_ir_keeps_floor_of_n_maj_over_ir():
    y = _labels(3818, 1586)
    for ir, expected in ((20, 190), (50, 76), (100, 38)):  # AutoSMOTE Table 1, phoneme
        _check_kept(y, make_imbalance_ir(y, ir, np.random.default_rng(ir)), expected)
    _check_kept(y, make_imbalance_ir(y, 1e6, np.random.default_rng(0)), 1)


def test_ir_below_one_or_natural():
    y = _labels(300, 100)
    with pytest.raises(ValueError, match=r"imbalance_ratio must be >= 1"):
        make_imbalance_ir(y, 0.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"imbalance_ratio=2 is below the natural IR N_maj / N_min = 300/100 = 3"):
        make_imbalance_ir(y, 2, np.random.default_rng(0))


def test_other_minority_labels():
    y = np.array(["a"] * 30 + ["b"] * 10)
    kept = make_imbalance_ratio(y, 0.1, np.random.default_rng(0), minority="b")
    assert (y[kept] == "b").sum() == 3 and (y[kept] == "a").sum() == 30
    y_int = np.array([5] * 20 + [7] * 20)
    assert (y_int[make_imbalance_ir(y_int, 4, np.random.default_rng(0), minority=5)] == 5).sum() == 5


def test_same_generator_state_same_rows_other_seed_other_rows():
    y = _labels(500, 500)
    a = make_imbalance_ratio(y, 0.1, np.random.default_rng(7))
    b = make_imbalance_ratio(y, 0.1, np.random.default_rng(7))
    c = make_imbalance_ratio(y, 0.1, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@settings(max_examples=60, deadline=None)
@given(
    n_maj=st.integers(1, 400),
    n_min=st.integers(1, 400),
    fraction=st.floats(0.001, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_counts_property(n_maj, n_min, fraction, seed):
    y = _labels(n_maj, n_min, seed=seed)
    natural = n_min / n_maj
    rho = min(1.0, natural) * fraction
    kept = make_imbalance_ratio(y, rho, np.random.default_rng(seed))
    _check_kept(y, kept, max(1, math.floor(rho * n_maj + 1e-9)))
    ir = max(1.0, n_maj / n_min) / fraction
    kept = make_imbalance_ir(y, ir, np.random.default_rng(seed))
    _check_kept(y, kept, max(1, math.floor(n_maj / ir + 1e-9)))


# --------------------------------------------------------------------------------------
# The papers' numbers on the real data
# --------------------------------------------------------------------------------------


def _binary(raw, positive):
    return np.isin(label_keys(raw.y), positive).astype(np.int64)


@pytest.mark.data
def test_mnist_table_one_counts(data_home):
    raw = load_dataset("mnist", data_home=data_home)
    y = _binary(raw, ["2"])[raw.fold == "train"]
    assert int((y == 0).sum()) == 54042
    for rho, expected in ((0.01, 540), (0.002, 108), (0.001, 54), (0.0005, 27)):  # DQNimb Table I
        kept = make_imbalance_ratio(y, rho, np.random.default_rng(0))
        assert (int((y[kept] == 1).sum()), int((y[kept] == 0).sum())) == (expected, 54042)


@pytest.mark.data
def test_fashion_table_one_counts(data_home):
    raw = load_dataset("fashion_mnist", data_home=data_home)
    keys = label_keys(raw.y)
    train = raw.fold == "train"
    for positive, negative, expected in ((["0", "2"], ["1", "3"], (480, 12000)), (["4", "5", "6"], ["7", "8", "9"], (720, 18000))):
        rows = train & np.isin(keys, positive + negative)
        y = np.isin(keys[rows], positive).astype(int)
        kept = make_imbalance_ratio(y, 0.04, np.random.default_rng(0))
        assert (int((y[kept] == 1).sum()), int((y[kept] == 0).sum())) == expected


@pytest.mark.data
def test_phoneme_table_one_counts(data_home):
    y = _binary(load_dataset("phoneme", data_home=data_home), ["2"])
    for ir, expected in ((20, 190), (50, 76), (100, 38)):  # AutoSMOTE Table 1
        kept = make_imbalance_ir(y, ir, np.random.default_rng(0))
        assert (int((y[kept] == 1).sum()), int((y[kept] == 0).sum())) == (expected, 3818)
