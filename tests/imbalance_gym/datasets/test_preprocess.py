"""AutoSMOTE preprocessing, fit on the training split only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imbalance_gym.datasets import load_task
from imbalance_gym.datasets._preprocess import preprocess_splits, split_columns


def _frames():
    train = pd.DataFrame(
        {
            "a": [1.0, 2.0, 3.0, np.nan],
            "b": [10.0, 10.0, 30.0, 30.0],
            "colour": ["red", "blue", "red", None],
        }
    )
    val = pd.DataFrame({"a": [4.0, np.nan], "b": [20.0, 50.0], "colour": ["green", "blue"]})
    test = pd.DataFrame({"a": [0.0], "b": [10.0], "colour": [None]})
    return train, val, test


def test_numeric_columns_use_training_statistics_only():
    train, val, test = _frames()
    X_train, (X_val, X_test), names = preprocess_splits(train, [val, test])
    assert names == ["a", "b", "colour_blue", "colour_red"]
    assert X_train.dtype == X_val.dtype == np.float32
    mean_a, std_a = 2.0, np.std([1.0, 2.0, 3.0])  # NaN ignored by the fit
    np.testing.assert_allclose(X_train[:3, 0], (np.array([1.0, 2.0, 3.0]) - mean_a) / std_a, rtol=1e-6)
    np.testing.assert_allclose(X_val[0, 0], (4.0 - mean_a) / std_a, rtol=1e-6)  # train mean / std
    np.testing.assert_allclose(X_test[0, 0], (0.0 - mean_a) / std_a, rtol=1e-6)
    np.testing.assert_allclose(X_val[:, 1], [0.0, 3.0], atol=1e-6)  # b: mean 20, std 10
    np.testing.assert_allclose(X_train[:, 1].mean(), 0.0, atol=1e-6)
    assert X_val[:, 1].mean() != pytest.approx(0.0)


def test_missing_numbers_become_zero_after_scaling():
    train, val, _ = _frames()
    X_train, (X_val,), _ = preprocess_splits(train, [val])
    assert X_train[3, 0] == 0.0 and X_val[1, 0] == 0.0
    assert np.isfinite(X_train).all() and np.isfinite(X_val).all()


def test_unseen_and_missing_categories_give_zero_blocks():
    train, val, test = _frames()
    X_train, (X_val, X_test), _ = preprocess_splits(train, [val, test])
    np.testing.assert_array_equal(X_train[:, 2:], [[0, 1], [1, 0], [0, 1], [0, 0]])
    np.testing.assert_array_equal(X_val[:, 2:], [[0, 0], [1, 0]])  # "green" never seen in train
    np.testing.assert_array_equal(X_test[:, 2:], [[0, 0]])


def test_declared_categories_fix_the_one_hot_width():
    declared = pd.Categorical(["x", "x", "y"], categories=["x", "y", "z"])
    train = pd.DataFrame({"c": declared})
    X_train, _, names = preprocess_splits(train, [])
    assert names == ["c_x", "c_y", "c_z"]  # z (declared in the ARFF header) has a column
    np.testing.assert_array_equal(X_train[:, 2], 0.0)


def test_forced_categorical_columns_match_text_labels():
    as_ints = pd.DataFrame({"f": [-1, 0, 1, 1], "g": [0.5, 1.5, 2.5, 3.5]})
    as_text = pd.DataFrame({"f": pd.Categorical(["-1", "0", "1", "1"]), "g": [0.5, 1.5, 2.5, 3.5]})
    ints, _, int_names = preprocess_splits(as_ints, [], categorical=("f",))
    text, _, text_names = preprocess_splits(as_text, [], categorical="infer")
    np.testing.assert_array_equal(ints, text)
    assert int_names == text_names == ["g", "f_-1", "f_0", "f_1"]
    every, _, every_names = preprocess_splits(as_ints, [], categorical="all")
    assert every.shape == (4, 7) and every_names[0] == "f_-1"


def test_split_columns_and_errors():
    frame = pd.DataFrame({"n": [1.0], "t": ["a"], "b": [True], "k": pd.Categorical(["u"])})
    assert split_columns(frame) == (["n", "b"], ["t", "k"])
    with pytest.raises(ValueError, match=r"categorical columns \['nope'\] are not among the feature columns"):
        split_columns(frame, ("nope",))
    with pytest.raises(ValueError, match="the training split is empty"):
        preprocess_splits(frame.iloc[:0], [])
    with pytest.raises(ValueError, match="differ from the training columns"):
        preprocess_splits(frame, [frame[["n"]]])


def test_task_features_are_standardised_on_train_only():
    task = load_task("breast_cancer", seed=0)
    raw = load_task("breast_cancer", seed=0, preprocess=False)
    mean = raw.X_train.to_numpy().mean(axis=0)
    std = raw.X_train.to_numpy().std(axis=0)
    np.testing.assert_allclose(task.X_train.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(task.X_train.std(axis=0), 1.0, atol=1e-3)
    expected_test = (raw.X_test.to_numpy() - mean) / std
    np.testing.assert_allclose(task.X_test, expected_test, rtol=1e-4, atol=1e-4)
    assert np.abs(task.X_test.mean(axis=0)).max() > 1e-3  # test statistics were not used
