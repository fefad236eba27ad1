"""DQNImbClassifier: scikit-learn behaviour, labels, shapes and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from agents.dqn import DQNImbClassifier


@pytest.fixture
def small_clf(fast_config):
    return DQNImbClassifier(total_timesteps=320, hidden_sizes=(16,), num_envs=8, config=fast_config,
                            random_state=0, device="cpu")


def test_binary_fit_predict_proba_and_decision_function(tiny_binary, small_clf):
    X, y = tiny_binary
    labels = np.array(["major", "minor"])[y]  # any sortable labels
    clf = small_clf.fit(X, labels)
    assert clf.classes_.tolist() == ["major", "minor"] and clf.n_features_in_ == 4
    pred = clf.predict(X)
    assert pred.shape == (100,) and set(pred) <= {"major", "minor"}
    proba = clf.predict_proba(X)
    assert proba.shape == (100, 2) and np.allclose(proba.sum(axis=1), 1.0) and (proba >= 0).all()
    q = clf.q_values(X)
    margin = clf.decision_function(X)
    assert margin.shape == (100,) and np.allclose(margin, q[:, 1] - q[:, 0])
    assert np.array_equal(pred, clf.classes_[(margin > 0).astype(int)])
    assert np.array_equal(np.argmax(proba, axis=1), np.argmax(q, axis=1))  # softmax keeps the order
    assert 0.0 <= clf.score(X, labels) <= 1.0
    # The validation split (10%, stratified) drove model selection.
    assert clf.history_ and clf.history_[-1]["step"] == 320


def test_multiclass_labels_and_no_decision_function(tiny_multiclass, small_clf):
    X, y = tiny_multiclass
    clf = small_clf.fit(X, y + 10)
    assert clf.classes_.tolist() == [10, 11, 12]
    assert clf.predict_proba(X).shape == (90, 3)
    assert set(clf.predict(X)) <= {10, 11, 12}
    assert not hasattr(clf, "decision_function")
    with pytest.raises(AttributeError) as info:
        clf.decision_function(X)
    assert "needs binary labels" in str(info.value.__cause__)


def test_same_random_state_same_model_and_clone(tiny_binary, small_clf):
    X, y = tiny_binary
    a = small_clf.fit(X, y).q_values(X)
    twin = clone(small_clf)
    assert twin.get_params()["random_state"] == 0 and not hasattr(twin, "classes_")
    assert np.array_equal(twin.fit(X, y).q_values(X), a)
    other = clone(small_clf).set_params(random_state=1).fit(X, y).q_values(X)
    assert not np.array_equal(other, a)


def test_explicit_validation_data_and_pipeline(tiny_binary, small_clf):
    X, y = tiny_binary
    pipe = make_pipeline(StandardScaler(), small_clf.set_params(val_size=None))
    pipe.fit(X, y)
    assert pipe.predict(X).shape == (100,)
    clf = clone(small_clf).fit(X[:80], y[:80], X_val=X[80:], y_val=y[80:])
    assert clf.predict(X).shape == (100,)
    with pytest.raises(ValueError, match="y_val holds labels"):
        clone(small_clf).fit(X, y, X_val=X[:5], y_val=np.full(5, 7))
    with pytest.raises(ValueError, match="both X_val and y_val"):
        clone(small_clf).fit(X, y, X_val=X[:5])


def test_images_fit_and_grey_images_without_channel_axis(tiny_images, fast_config):
    X, y = tiny_images
    clf = DQNImbClassifier(total_timesteps=96, num_envs=16, random_state=0, device="cpu",
                           config=fast_config.replace(batch_size=8, eval_freq=96))
    clf.fit(X, y)
    assert clf.agent_.network_kind == "cnn" and clf.observation_shape_ == (1, 28, 28)
    assert np.array_equal(clf.predict(X[:, 0]), clf.predict(X))


def test_errors(tiny_binary, tiny_multiclass, small_clf):
    X, y = tiny_binary
    with pytest.raises(NotFittedError):
        small_clf.predict(X)
    with pytest.raises(ValueError, match="DQNImbConfig.network"):
        clone(small_clf).set_params(network="transformer").fit(X, y)
    with pytest.raises(ValueError, match="network='cnn' does not fit"):
        clone(small_clf).set_params(network="cnn").fit(X, y)
    with pytest.raises(ValueError, match="val_size"):
        clone(small_clf).set_params(val_size=1.5).fit(X, y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        clone(small_clf).fit(X, np.zeros(100, int))
    with pytest.raises(ValueError, match="reward_lambda applies to binary"):
        clone(small_clf).set_params(reward_lambda=0.1).fit(*tiny_multiclass)
    fitted = clone(small_clf).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but DQNImbClassifier is expecting 4"):
        fitted.predict(X[:, :3])
    with pytest.raises(ValueError, match=r"samples of shape \(4, 1\).*fitted on samples of shape \(4,\)"):
        fitted.predict(X.reshape(100, 4, 1))


def test_tiny_classes_skip_the_validation_split(small_clf):
    X = np.arange(20, dtype=float).reshape(10, 2)
    y = np.array([0] * 9 + [1])
    with pytest.warns(UserWarning, match="no validation split"):
        clf = clone(small_clf).fit(X, y)
    assert clf.history_ == []


@pytest.mark.slow
def test_sklearn_check_estimator(fast_config):
    # A small, fast learner: the checks fit dozens of times, and check_classifiers_train
    # needs > 83% training accuracy on easy blobs. No check is expected to fail.
    cfg = fast_config.replace(learning_rate=1e-2, learning_starts=32, eval_freq=100, buffer_size=1_000,
                              exploration_fraction=0.3)
    clf = DQNImbClassifier(total_timesteps=160, hidden_sizes=(16,), num_envs=16, config=cfg,
                           random_state=0, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(clf, on_fail=None)
    failed = {r["check_name"]: str(r["exception"])[:200] for r in results if r["status"] == "failed"}
    assert failed == {}
