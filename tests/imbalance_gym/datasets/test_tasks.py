"""load_task: protocols, splits, seeding, labels, features, errors."""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from imbalance_gym.datasets import DATA_HOME_ENV, DatasetNotFoundError, Task, load_dataset, load_task
from imbalance_gym.datasets._split import stratified_split
from imbalance_gym.datasets._text import OOV_ID, PAD_ID


def _counts(y):
    """(positives, negatives)."""
    return int(np.sum(y == 1)), int(np.sum(y == 0))


def _assert_same(a: Task, b: Task):
    for field in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert a.info == b.info


# --------------------------------------------------------------------------------------
# Stratified splitting
# --------------------------------------------------------------------------------------


def test_stratified_split_partitions_and_keeps_proportions():
    y = np.array([0] * 500 + [1] * 50 + [2] * 7)
    parts = stratified_split(y, [0.2, 0.2], np.random.default_rng(0))
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(y.size))
    counts = [Counter(y[p].tolist()) for p in parts]
    assert [c[0] for c in counts] == [300, 100, 100]
    assert [c[1] for c in counts] == [30, 10, 10]
    assert [c[2] for c in counts] == [5, 1, 1]  # round(0.2 * 7) = 1 per part, the rest to part 0


def test_stratified_split_small_classes():
    y = np.array([0] * 20 + [1] * 3 + [2] * 2)
    parts = stratified_split(y, [0.1, 0.1], np.random.default_rng(0))
    counts = [Counter(y[p].tolist()) for p in parts]
    assert [c[1] for c in counts] == [1, 1, 1]  # 3 rows: one in every part
    assert [c[2] for c in counts] == [2, 0, 0]  # 2 rows: too few for three parts
    with pytest.raises(ValueError, match="fractions must each be in"):
        stratified_split(y, [0.5, 0.5], np.random.default_rng(0))


# --------------------------------------------------------------------------------------
# Protocols on tiny files (no real data needed)
# --------------------------------------------------------------------------------------


def test_dqnimb_on_a_predefined_split(tiny_home):
    # tiny mnist: train fold 200 images, labels cycling 0..9 -> 20 twos, 180 others.
    task = load_task("mnist", ratio=0.05, seed=0, data_home=tiny_home)
    train, val, test = _counts(task.y_train), _counts(task.y_val), _counts(task.y_test)
    assert train[0] + val[0] == math.floor(0.05 * 180)  # 9 positives in train + val
    assert train[1] + val[1] == 180  # every negative kept
    assert val == (1, 18)  # stratified 10% of 9 / 180
    assert test == (5, 45)  # test fold kept whole
    assert task.info["protocol"] == "dqnimb" and task.info["requested_ratio"] == 0.05
    assert task.info["ratio"] == pytest.approx(8 / 162)
    assert task.X_train.shape == (170, 1, 28, 28) and task.X_train.dtype == np.uint8


def test_images_are_untouched_rows_of_the_stored_data(tiny_home):
    task = load_task("mnist", seed=3, data_home=tiny_home)
    raw = load_dataset("mnist", data_home=tiny_home)
    stored = {raw.X[i].tobytes(): int(raw.y[i]) for i in range(raw.n_rows)}
    for image, label in zip(task.X_val, task.y_val):
        assert int(stored[image.tobytes()] == 2) == label
    assert task.X_train.flags.writeable and task.X_train.base is not raw.X


def test_natural_predefined_split(tiny_home):
    task = load_task("fashion_mnist_1", seed=0, data_home=tiny_home)
    # train fold: 20 each of 0, 1, 2, 3 -> 40 positives ({0, 2}) and 40 negatives ({1, 3})
    assert _counts(task.y_train) == (36, 36) and _counts(task.y_val) == (4, 4)
    assert _counts(task.y_test) == (10, 10)  # 5 each of 0..3 in the test fold; other classes dropped
    assert task.info["label_mapping"] == {"1": 0, "3": 0, "0": 1, "2": 1}
    assert task.info["protocol"] == "natural" and task.info["val_size"] == 0.1


def test_multiclass_task_keeps_codes(tiny_home):
    task = load_task("fashion_mnist", seed=0, data_home=tiny_home)
    assert task.n_classes == 10 and task.info["positive_labels"] is None
    assert sorted(set(task.y_test.tolist())) == list(range(10))
    assert task.info["ratio"] is None and task.info["class_counts"]["test"]["9"] == 5
    with pytest.raises(ValueError, match=r"'fashion_mnist' has 10 classes.*fashion_mnist_1, fashion_mnist_2"):
        load_task("fashion_mnist", ratio=0.1, data_home=tiny_home)


def test_autosmote_on_a_predefined_split(tiny_home):
    task = load_task("cifar10_2", imbalance_ratio=4, seed=0, data_home=tiny_home)
    # every split: positives = floor(negatives / 4)
    for y in (task.y_train, task.y_val, task.y_test):
        pos, neg = _counts(y)
        assert pos == max(1, math.floor(neg / 4 + 1e-9))
    assert task.X_train.shape[1:] == (3, 32, 32) and task.X_train.dtype == np.uint8


def test_cifar_tasks_select_the_dqnimb_classes(tiny_home):
    raw = load_dataset("cifar10", data_home=tiny_home)
    task = load_task("cifar10_1", seed=0, data_home=tiny_home)
    labels_of = {raw.X[i].tobytes(): int(raw.y[i]) for i in range(raw.n_rows)}
    for X, y in ((task.X_train, task.y_train), (task.X_test, task.y_test)):
        stored = np.array([labels_of[x.tobytes()] for x in X])
        assert set(stored[y == 1].tolist()) == {1}
        assert set(stored[y == 0].tolist()) == {3, 4, 5, 6}


def test_text_task_vocabulary_from_the_training_split_only(tiny_home):
    task = load_task("imdb", seed=0, data_home=tiny_home, vocab_size=50, max_len=6)
    vocab = dict(zip(task.vocabulary, range(2, 2 + len(task.vocabulary))))
    assert "zebra" not in vocab  # only in test reviews
    assert "great" in vocab and vocab["great"] == 2  # the most frequent training word
    assert task.X_test.dtype == np.int64 and task.X_test.shape == (3, 6)
    test_texts = load_task("imdb", seed=0, data_home=tiny_home, preprocess=False).X_test
    row = int(np.flatnonzero([t.startswith("awful") for t in test_texts])[0])
    assert task.X_test[row].tolist()[:3] == [OOV_ID, OOV_ID, OOV_ID]  # awful awful zebra
    assert task.X_test[row].tolist()[3:] == [PAD_ID] * 3
    assert task.info["num_embeddings"] == len(task.vocabulary) + 2 and task.info["max_len"] == 6
    assert _counts(task.y_test) == (1, 2)  # positive reviews are positive
    short = load_task("imdb", seed=0, data_home=tiny_home, vocab_size=3)
    assert len(short.vocabulary) == 3 and short.X_train.shape[1] == 500


def test_tables_dqnimb_keeps_the_test_split_natural():
    task = load_task("breast_cancer", ratio=0.1, seed=0)
    # 212 malignant / 357 benign; test = stratified 20%: 42 / 71
    assert _counts(task.y_test) == (42, 71)
    pos, neg = (a + b for a, b in zip(_counts(task.y_train), _counts(task.y_val)))
    assert neg == 357 - 71 and pos == math.floor(0.1 * neg)
    assert _counts(task.y_val) == (round(0.1 * pos), round(0.1 * neg))


def test_tables_autosmote_gives_every_split_the_ir():
    task = load_task("breast_cancer", imbalance_ratio=10, seed=0)
    for y in (task.y_train, task.y_val, task.y_test):
        pos, neg = _counts(y)
        assert pos == math.floor(neg / 10 + 1e-9)
    assert _counts(task.y_test)[1] == 71 and _counts(task.y_train)[1] == 215  # 60/20/20 of 357


def test_tables_natural_split_is_stratified_60_20_20():
    task = load_task("digits", seed=0)
    assert [len(y) for y in (task.y_train, task.y_val, task.y_test)] == [1079, 359, 359]
    whole = 177 / 1797
    for y in (task.y_train, task.y_val, task.y_test):
        assert abs(y.mean() - whole) < 1.0 / len(y)
    assert task.info["feature_names"][:2] == ["pixel_0_0", "pixel_0_1"] and task.n_features == 64


def test_ratio_above_natural_states_it():
    with pytest.raises(ValueError, match=r"ratio=0\.9 is above the natural ratio N_min / N_maj = 212/357 = 0\.593838 of 'breast_cancer'"):
        load_task("breast_cancer", ratio=0.9)
    with pytest.raises(ValueError, match=r"imbalance_ratio=1\.2 is below the natural IR N_maj / N_min = 357/212 = 1\.68396"):
        load_task("breast_cancer", imbalance_ratio=1.2)


# --------------------------------------------------------------------------------------
# Seeding, dtypes, info
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{}, {"ratio": 0.2}, {"imbalance_ratio": 5}])
def test_same_seed_same_arrays_other_seed_other_arrays(kwargs):
    a = load_task("breast_cancer", seed=11, **kwargs)
    b = load_task("breast_cancer", seed=11, **kwargs)
    c = load_task("breast_cancer", seed=12, **kwargs)
    _assert_same(a, b)
    assert not np.array_equal(a.X_train, c.X_train)
    assert not all(np.array_equal(getattr(a, f), getattr(c, f)) for f in ("y_train", "y_val", "y_test"))


def test_bundled_tasks_work_without_a_data_home(monkeypatch, tmp_path):
    monkeypatch.delenv(DATA_HOME_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    cancer = load_task("breast_cancer", seed=0)
    assert cancer.info["label_mapping"] == {"benign": 0, "malignant": 1}
    total = sum(_counts(y)[0] for y in (cancer.y_train, cancer.y_val, cancer.y_test))
    assert total == 212
    digits = load_task("digits", ratio=0.05, seed=0)
    assert digits.info["label_mapping"]["2"] == 1 and digits.info["label_mapping"]["3"] == 0
    assert digits.X_train.dtype == np.float32 and digits.X_train.shape[1] == 64
    assert list(tmp_path.iterdir()) == []


def test_dtypes_and_info_are_json_and_path_free(tiny_home):
    task = load_task("breast_cancer", imbalance_ratio=4, seed=5)
    for X in (task.X_train, task.X_val, task.X_test):
        assert X.dtype == np.float32
    for y in (task.y_train, task.y_val, task.y_test):
        assert y.dtype == np.int64 and set(np.unique(y)) <= {0, 1}
    info = task.info
    assert info["class_counts"]["train"] == {"0": _counts(task.y_train)[1], "1": _counts(task.y_train)[0]}
    assert info["imbalance_ratio"] == pytest.approx(_counts(task.y_train)[1] / _counts(task.y_train)[0])
    assert task.name == "breast_cancer" and task.kind == "tabular" and task.observation_shape == (30,)
    json.dumps(info)
    image_info = load_task("mnist", ratio=0.1, seed=1, data_home=tiny_home).info
    text = json.dumps(image_info)
    assert str(tiny_home) not in text and image_info["image_shape"] == [1, 28, 28]
    assert "breast_cancer" in repr(task) and "protocol='autosmote'" in repr(task)


def test_preprocess_false_gives_raw_frames():
    task = load_task("breast_cancer", seed=0, preprocess=False)
    assert isinstance(task.X_train, pd.DataFrame) and task.X_train.shape[1] == 30
    assert task.X_train.index.tolist() == list(range(len(task.y_train)))
    processed = load_task("breast_cancer", seed=0)
    np.testing.assert_array_equal(processed.y_train, task.y_train)


def test_repeated_loads_reuse_the_parsed_data(tiny_home, monkeypatch, empty_cache):
    from imbalance_gym.datasets import _readers

    calls = []
    original = _readers.read_idx
    monkeypatch.setattr(_readers, "read_idx", lambda path: calls.append(path) or original(path))
    for seed in range(3):
        load_task("mnist", ratio=0.05, seed=seed, data_home=tiny_home)
    assert len(calls) == 4


# --------------------------------------------------------------------------------------
# Bad input: raised before any file is read
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"ratio": 0.1, "imbalance_ratio": 10}, ValueError, r"either ratio .* not both"),
        ({"ratio": 0}, ValueError, r"ratio must be in \(0, 1\]"),
        ({"ratio": 1.5}, ValueError, r"ratio must be in \(0, 1\] \(rho = N_min / N_maj\), got 1\.5"),
        ({"ratio": "0.1"}, TypeError, r"ratio must be None or a real number, got str"),
        ({"imbalance_ratio": 0.5}, ValueError, r"imbalance_ratio must be a finite number >= 1 \(IR = N_maj / N_min\), got 0\.5"),
        ({"seed": 1.5}, TypeError, r"seed must be an int, got float"),
        ({"seed": True}, TypeError, r"seed must be an int, got bool"),
        ({"seed": -1}, ValueError, r"seed must be a non-negative int"),
        ({"val_size": 1.2}, ValueError, r"val_size must be in \(0, 1\)"),
        ({"val_size": 0.5, "test_size": 0.5}, ValueError, r"val_size \+ test_size must be < 1"),
        ({"preprocess": "yes"}, TypeError, r"preprocess must be a bool"),
        ({"download": 1}, TypeError, r"download must be a bool"),
        ({"vocab_size": 10}, TypeError, r"unexpected keyword argument\(s\) \['vocab_size'\] for tabular dataset 'phoneme'"),
    ],
)
def test_bad_arguments_raise_before_any_work(tmp_path, kwargs, error, message):
    with pytest.raises(error, match=message):
        load_task("phoneme", data_home=tmp_path / "nothing_here", **kwargs)  # no files needed to fail


def test_unknown_name_lists_names_and_suggests(tmp_path):
    with pytest.raises(ValueError, match=r"unknown dataset name='fashion_mnist1'\. Did you mean 'fashion_mnist_1'"):
        load_task("fashion_mnist1", data_home=tmp_path)


def test_predefined_split_rejects_test_size_and_bad_text_options(tmp_path):
    with pytest.raises(ValueError, match=r"test_size=0\.3 does not apply to 'mnist'"):
        load_task("mnist", test_size=0.3, data_home=tmp_path)
    with pytest.raises(ValueError, match=r"max_len must be a positive int, got 0"):
        load_task("imdb", max_len=0, data_home=tmp_path)


def test_missing_files_after_valid_arguments(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"Place these files there: phoneme\.csv"):
        load_task("phoneme", imbalance_ratio=20, data_home=tmp_path)


# --------------------------------------------------------------------------------------
# The papers' numbers on the real data
# --------------------------------------------------------------------------------------


@pytest.mark.data
@pytest.mark.parametrize(("ratio", "positives"), [(0.01, 540), (0.002, 108), (0.001, 54), (0.0005, 27)])
def test_mnist_task_matches_dqnimb_table_one(data_home, ratio, positives):
    task = load_task("mnist", ratio=ratio, seed=0, data_home=data_home)
    pos = _counts(task.y_train)[0] + _counts(task.y_val)[0]
    neg = _counts(task.y_train)[1] + _counts(task.y_val)[1]
    assert (pos, neg) == (positives, 54042)
    assert _counts(task.y_test) == (1032, 8968)
    assert len(task.y_val) == round(0.1 * positives) + round(0.1 * 54042)


@pytest.mark.data
@pytest.mark.parametrize(("name", "expected", "test"), [
    ("fashion_mnist_1", (480, 12000), (2000, 2000)),
    ("fashion_mnist_2", (720, 18000), (3000, 3000)),
])
def test_fashion_tasks_match_dqnimb_table_one(data_home, name, expected, test):
    task = load_task(name, ratio=0.04, seed=0, data_home=data_home)
    train_val = tuple(a + b for a, b in zip(_counts(task.y_train), _counts(task.y_val)))
    assert train_val == expected and _counts(task.y_test) == test


@pytest.mark.data
def test_phoneme_autosmote_splits(data_home):
    task = load_task("phoneme", imbalance_ratio=50, seed=0, data_home=data_home)
    negatives = [_counts(y)[1] for y in (task.y_train, task.y_val, task.y_test)]
    assert negatives == [2290, 764, 764]  # stratified 60/20/20 of 3818
    assert [_counts(y)[0] for y in (task.y_train, task.y_val, task.y_test)] == [45, 15, 15]
    assert task.X_train.shape == (2335, 5) and task.info["label_mapping"] == {"1": 0, "2": 1}


@pytest.mark.data
@pytest.mark.parametrize(("name", "n_features"), [
    ("phishing_websites", 68), ("eeg_eye_state", 14), ("mozilla4", 5), ("phoneme", 5),
])
def test_autosmote_feature_counts(data_home, name, n_features):
    # AutoSMOTE Table 1: one-hot of the 30 nominal phishing features gives 68 columns.
    task = load_task(name, imbalance_ratio=20, seed=0, data_home=data_home)
    assert task.n_features == n_features == len(task.info["feature_names"])


@pytest.mark.data
def test_minority_is_positive_on_real_tables(data_home):
    for name, positive in (("mozilla4", "0"), ("eeg_eye_state", "1"), ("toy2", "anomaly"), ("mammography", "1")):
        task = load_task(name, seed=0, data_home=data_home)
        assert task.info["positive_labels"] == [positive]
        total = [sum(_counts(y)[i] for y in (task.y_train, task.y_val, task.y_test)) for i in (0, 1)]
        assert total[0] < total[1]


# --------------------------------------------------------------------------------------
# Label keys and binarisation
# --------------------------------------------------------------------------------------


def test_label_keys_match_across_stored_types():
    from imbalance_gym.datasets._labels import label_keys

    keys = label_keys(np.array([2, 2.0, "2", " 2 ", "-1", -1.0, "?", None, float("nan"), "pos"], dtype=object))
    assert keys.tolist() == ["2", "2", "2", "2", "-1", "-1", None, None, None, "pos"]
    assert label_keys(np.array([3, 0], dtype=np.uint8)).tolist() == ["3", "0"]


def test_less_frequent_class_is_positive_and_rows_without_label_are_dropped(tmp_path):
    folder = tmp_path / "eeg_eye_state"
    folder.mkdir()
    rows = ["1.0,0"] * 12 + ["2.0,1"] * 6 + ["3.0,?"] * 2  # eyeDetection: 0 x12, 1 x6, two missing
    (folder / "eeg_eye_state.csv").write_text("AF3,eyeDetection\n" + "\n".join(rows) + "\n")
    task = load_task("eeg_eye_state", seed=0, data_home=tmp_path)
    assert task.info["label_mapping"] == {"0": 0, "1": 1}
    assert sum(len(y) for y in (task.y_train, task.y_val, task.y_test)) == 18


def test_a_tie_makes_the_label_sorting_last_positive(tmp_path):
    folder = tmp_path / "eeg_eye_state"
    folder.mkdir()
    rows = ["1.0,b"] * 5 + ["2.0,a"] * 5
    (folder / "eeg_eye_state.csv").write_text("AF3,eyeDetection\n" + "\n".join(rows) + "\n")
    assert load_task("eeg_eye_state", seed=0, data_home=tmp_path).info["positive_labels"] == ["b"]


def test_stored_labels_without_the_positive_class_are_an_error(tmp_path):
    folder = tmp_path / "ecoli"
    folder.mkdir()
    (folder / "ecoli.csv").write_text("0,target\n0.5,0\n0.25,0\n")
    with pytest.raises(ValueError, match=r"positive labels \['1'\] and negative labels .* must both occur in the stored labels \['0'\]"):
        load_task("ecoli", data_home=tmp_path)
