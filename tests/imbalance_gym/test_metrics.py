"""Metrics against scikit-learn / imbalanced-learn, from labels and from a confusion matrix."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from imblearn.metrics import geometric_mean_score
from sklearn import metrics as skm

from imbalance_gym import metrics as M

labels = st.integers(2, 4).flatmap(
    lambda c: st.tuples(
        st.just(c),
        st.lists(st.tuples(st.integers(0, c - 1), st.integers(0, c - 1)), min_size=1, max_size=60),
    )
)


@given(labels)
@settings(max_examples=300, deadline=None)
@pytest.mark.filterwarnings("ignore:A single label was found")  # sklearn's reference, not ours
def test_metrics_equal_reference_implementations(case):
    n_classes, pairs = case
    y_true = np.array([t for t, _ in pairs])
    y_pred = np.array([p for _, p in pairs])
    cm = M.confusion_matrix(y_true, y_pred, n_classes=n_classes)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y_true, y_pred, labels=range(n_classes)))
    present = np.union1d(y_true, y_pred)
    refs = {
        "macro_f1": skm.f1_score(y_true, y_pred, average="macro", labels=present, zero_division=0),
        "mcc": skm.matthews_corrcoef(y_true, y_pred),
        "f_measure": skm.f1_score(y_true, y_pred, labels=[1], average="macro", zero_division=0),
        "precision": skm.precision_score(y_true, y_pred, labels=[1], average="macro", zero_division=0),
        "recall": skm.recall_score(y_true, y_pred, labels=[1], average="macro", zero_division=0),
    }
    for name, ref in refs.items():
        fn = M.get_metric(name)
        assert fn(y_true, y_pred) == pytest.approx(ref, abs=1e-12), name
        assert fn(confusion=cm) == pytest.approx(ref, abs=1e-12), name
    # imbalanced-learn's G-mean averages over the classes present in y_true or y_pred;
    # ours (DQNimb) over the classes present in y_true -- identical when no class is
    # predicted without being present.
    if set(np.unique(y_pred)) <= set(np.unique(y_true)):
        ref = geometric_mean_score(y_true, y_pred, average="multiclass", correction=0.0)
        assert M.g_mean(y_true, y_pred) == pytest.approx(ref, abs=1e-12)


def test_binary_g_mean_formula():
    # TP=3, FN=1, TN=8, FP=2: sqrt(3/4 * 8/10)
    y_true = np.array([1] * 4 + [0] * 10)
    y_pred = np.array([1, 1, 1, 0] + [0] * 8 + [1, 1])
    assert M.g_mean(y_true, y_pred) == pytest.approx(np.sqrt(0.75 * 0.8))
    assert M.specificity(y_true, y_pred) == pytest.approx(0.8)
    assert M.f_measure(y_true, y_pred) == pytest.approx(2 * 3 / (2 * 3 + 2 + 1))


def test_degenerate_cases_are_zero():
    y_true = np.array([0, 0, 1, 1])
    all_zero = np.zeros(4, int)
    assert M.f_measure(y_true, all_zero) == 0.0
    assert M.precision(y_true, all_zero) == 0.0
    assert M.g_mean(y_true, all_zero) == 0.0
    assert M.mcc(y_true, all_zero) == 0.0


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="same length"):
        M.g_mean(np.array([0, 1]), np.array([0]))
    with pytest.raises(ValueError, match="either"):
        M.g_mean(np.array([0, 1]), np.array([0, 1]), confusion=np.eye(2))
    with pytest.raises(ValueError, match="square"):
        M.mcc(confusion=np.ones((2, 3)))
    with pytest.raises(ValueError, match="unknown metric 'auc'"):
        M.get_metric("auc")
    with pytest.raises(ValueError, match="outside"):
        M.confusion_matrix(np.array([0, 3]), np.array([0, 1]), n_classes=2)


def test_classification_report_collects_every_metric():
    y_true = np.array([1] * 4 + [0] * 10)
    y_pred = np.array([1, 1, 1, 0] + [0] * 8 + [1, 1])
    rep = M.classification_report(y_true, y_pred)
    assert rep["confusion_matrix"] == [[8, 2], [1, 3]]
    assert rep["g_mean"] == M.g_mean(y_true, y_pred) and rep["f_measure"] == M.f_measure(y_true, y_pred)
    assert set(rep) == {"g_mean", "macro_f1", "mcc", "f_measure", "precision", "recall",
                        "specificity", "confusion_matrix"}
    multi = M.classification_report(confusion=np.eye(3) * 5)
    assert multi["g_mean"] == 1.0 and "f_measure" not in multi
