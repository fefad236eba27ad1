"""Base classifiers and the AutoSMOTE reward (Zha et al. sec. 3.2, Algorithm 2 line 5)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from imbalance_gym.classifiers import CLASSIFIERS, evaluate, make_classifier
from imbalance_gym.metrics import f_measure, g_mean, macro_f1, mcc


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0, 1, (40, 3)), rng.normal(1.2, 1, (6, 3))]).astype(np.float32)
    y = np.r_[np.zeros(40, int), np.ones(6, int)]
    X_val = np.vstack([rng.normal(0, 1, (20, 3)), rng.normal(1.2, 1, (5, 3))]).astype(np.float32)
    y_val = np.r_[np.zeros(20, int), np.ones(5, int)]
    X_syn = rng.normal(1.2, 1, (10, 3)).astype(np.float32)
    return X, y, X_syn, X_val, y_val


class RecordingClassifier(ClassifierMixin, BaseEstimator):
    """Remembers what it was fit on (class attribute: clones share it) and predicts 1."""

    seen: list = []

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X, y):
        RecordingClassifier.seen.append((np.array(X), np.array(y), self.random_state))
        self.classes_ = np.array([0, 1])
        return self

    def predict(self, X):
        return np.ones(len(X), dtype=int)


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_make_classifier_names_and_seed(name):
    est = make_classifier(name, random_state=7)
    assert isinstance(est, CLASSIFIERS[name])
    params = est.get_params()
    if "random_state" in params:
        assert params["random_state"] == 7


def test_estimator_instances_are_cloned_and_seeded():
    template = DecisionTreeClassifier(max_depth=2)
    est = make_classifier(template, random_state=3)
    assert est is not template
    assert est.get_params()["max_depth"] == 2 and est.get_params()["random_state"] == 3
    assert template.get_params()["random_state"] is None  # the template is left alone
    knn = make_classifier(KNeighborsClassifier(n_neighbors=2), random_state=3)  # no random_state
    assert knn.get_params()["n_neighbors"] == 2


class _Plain:
    """Not a scikit-learn estimator: only fit and predict."""

    def fit(self, X, y):
        self.n_fit = len(X)
        return self

    def predict(self, X):
        return np.zeros(len(X), dtype=int)


def test_plain_objects_with_fit_and_predict_are_copied():
    template = _Plain()
    est = make_classifier(template, random_state=1)
    assert isinstance(est, _Plain) and est is not template
    X, y, X_syn, X_val, y_val = _data()
    assert evaluate(X, y, X_syn, X_val, y_val, classifier=template) == macro_f1(y_val, np.zeros(len(y_val), int))
    assert not hasattr(template, "n_fit")


def test_evaluate_is_fit_on_train_plus_synthetic_rows_labelled_minority():
    X, y, X_syn, X_val, y_val = _data()
    RecordingClassifier.seen = []
    score = evaluate(X, y, X_syn, X_val, y_val, classifier=RecordingClassifier(), metric="macro_f1",
                     random_state=5)
    (X_fit, y_fit, rs), = RecordingClassifier.seen
    assert X_fit.tolist() == np.vstack([X, X_syn]).tolist()
    assert y_fit.tolist() == y.tolist() + [1] * len(X_syn)
    assert rs == 5
    assert score == macro_f1(y_val, np.ones(len(y_val), int))


@pytest.mark.parametrize("metric, fn", [("macro_f1", macro_f1), ("mcc", mcc), ("g_mean", g_mean), ("f1", f_measure)])
def test_evaluate_equals_a_direct_fit_and_score(metric, fn):
    X, y, X_syn, X_val, y_val = _data(1)
    clf = SVC(random_state=11).fit(np.vstack([X, X_syn]), np.r_[y, np.ones(len(X_syn), int)])
    expect = fn(y_val, clf.predict(X_val))
    assert evaluate(X, y, X_syn, X_val, y_val, classifier="svm", metric=metric, random_state=11) == expect


def test_evaluate_seeded_and_no_synthetic_rows():
    X, y, X_syn, X_val, y_val = _data(2)
    a = evaluate(X, y, X_syn, X_val, y_val, classifier="adaboost", random_state=4)
    b = evaluate(X, y, X_syn, X_val, y_val, classifier="adaboost", random_state=4)
    assert a == b
    none = evaluate(X, y, None, X_val, y_val, classifier="dt", random_state=0)
    empty = evaluate(X, y, np.empty((0, 3), np.float32), X_val, y_val, classifier="dt", random_state=0)
    expect = macro_f1(y_val, DecisionTreeClassifier(random_state=0).fit(X, y).predict(X_val))
    assert none == empty == expect


def test_evaluate_accepts_a_metric_callable():
    X, y, X_syn, X_val, y_val = _data(3)
    got = evaluate(X, y, X_syn, X_val, y_val, classifier="knn", metric=lambda t, p: float(np.mean(t == p)))
    pred = KNeighborsClassifier().fit(np.vstack([X, X_syn]), np.r_[y, np.ones(10, int)]).predict(X_val)
    assert got == float(np.mean(pred == y_val))


def test_bad_classifier_and_metric():
    X, y, X_syn, X_val, y_val = _data()
    with pytest.raises(ValueError, match=r"unknown classifier 'forest'.*'adaboost'.*'svm'"):
        make_classifier("forest")
    with pytest.raises(TypeError, match="fit\\(\\) and predict\\(\\)"):
        make_classifier(object())
    with pytest.raises(TypeError, match="instance"):
        make_classifier(SVC)
    with pytest.raises(ValueError, match=r"unknown metric 'auc'.*'macro_f1'"):
        evaluate(X, y, X_syn, X_val, y_val, metric="auc")
    with pytest.raises(TypeError, match="random_state"):
        make_classifier("dt", random_state=-1)


def test_bad_arrays_fail_before_fitting():
    X, y, X_syn, X_val, y_val = _data()
    RecordingClassifier.seen = []
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="X_train holds 1 NaN"):
        evaluate(bad, y, X_syn, X_val, y_val, classifier=RecordingClassifier())
    with pytest.raises(ValueError, match="X_val has 2 features but X_train has 3"):
        evaluate(X, y, X_syn, X_val[:, :2], y_val, classifier=RecordingClassifier())
    with pytest.raises(ValueError, match="X_syn must be"):
        evaluate(X, y, X_syn[:, :2], X_val, y_val, classifier=RecordingClassifier())
    with pytest.raises(ValueError, match="y_val must have shape"):
        evaluate(X, y, X_syn, X_val, y_val[:-1], classifier=RecordingClassifier())
    assert RecordingClassifier.seen == []
