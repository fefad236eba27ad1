"""Base classifiers and the AutoSMOTE reward (Zha et al., CIKM'22, sec. 3.2 and 4.1).

AutoSMOTE's reward is the validation score of a base classifier fit on the training
data plus the synthetic minority rows. :func:`evaluate` is that reward, the one
function the environments, the baseline searches and the benchmarks call, so every
number in the project is computed the same way.

Classifiers are scikit-learn estimators with scikit-learn's default hyperparameters
(the paper's four are SVM, KNN, DecisionTree and AdaBoost, sec. 4.1); ``random_state``
is set where the estimator has one, so a seeded caller gets the same fit every time.
"""

from __future__ import annotations

import numbers
from typing import Any, Callable

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import AdaBoostClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier

from imbalance_gym.envs._inputs import check_features
from imbalance_gym.metrics import METRICS, get_metric

__all__ = ["CLASSIFIERS", "check_classifier", "check_metric", "evaluate", "make_classifier"]

CLASSIFIERS: dict[str, type] = {
    "svm": SVC,
    "linear_svm": LinearSVC,
    "knn": KNeighborsClassifier,
    "dt": DecisionTreeClassifier,
    "adaboost": AdaBoostClassifier,
    "mlp": MLPClassifier,
    "logreg": LogisticRegression,
}
"""Base classifiers by name (scikit-learn defaults; ``svm`` is the RBF ``SVC``)."""

_SEEDED = frozenset(n for n, c in CLASSIFIERS.items() if "random_state" in c().get_params())


def check_classifier(classifier: Any) -> Any:
    """Validate a classifier argument: a name from :data:`CLASSIFIERS` or an estimator.

    Returns the argument unchanged.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
        TypeError: an object without ``fit`` and ``predict``.
    """
    if isinstance(classifier, str):
        if classifier not in CLASSIFIERS:
            raise ValueError(
                f"unknown classifier {classifier!r}; known classifiers: {sorted(CLASSIFIERS)}, "
                "or pass a scikit-learn estimator instance"
            )
        return classifier
    if isinstance(classifier, type):
        raise TypeError(
            f"classifier must be a name or an estimator *instance*, got the class "
            f"{classifier.__name__}; use {classifier.__name__}()"
        )
    if not (callable(getattr(classifier, "fit", None)) and callable(getattr(classifier, "predict", None))):
        raise TypeError(
            f"classifier must be one of {sorted(CLASSIFIERS)} or an estimator with fit() and "
            f"predict(), got {type(classifier).__name__}"
        )
    return classifier


def check_metric(metric: Any) -> Callable[..., float]:
    """Resolve a metric name (any key of :data:`imbalance_gym.metrics.METRICS`) or callable.

    A callable must take ``(y_true, y_pred)`` and return a float.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
        TypeError: neither a string nor a callable.
    """
    if isinstance(metric, str):
        return get_metric(metric)
    if callable(metric):
        return metric
    raise TypeError(
        f"metric must be a metric name {sorted(METRICS)} or a callable (y_true, y_pred) -> float, "
        f"got {type(metric).__name__}"
    )


def _check_random_state(random_state: Any) -> int | None:
    """None or a non-negative integer (what scikit-learn estimators take)."""
    if random_state is None:
        return None
    if isinstance(random_state, (bool, np.bool_)) or not isinstance(random_state, numbers.Integral) \
            or random_state < 0:
        raise TypeError(f"random_state must be None or a non-negative integer, got {random_state!r}")
    return int(random_state)


def make_classifier(name: Any, random_state: int | None = None):
    """A fresh, unfitted base classifier.

    Args:
        name: a key of :data:`CLASSIFIERS` (``svm``, ``linear_svm``, ``knn``, ``dt``,
            ``adaboost``, ``mlp``, ``logreg``) or an estimator instance, which is
            cloned (``sklearn.base.clone``; objects without ``get_params`` are
            deep-copied), so the instance passed in is never fitted.
        random_state: seed given to the estimator's ``random_state`` parameter when it
            has one (``knn`` has none and is deterministic).

    Returns:
        An unfitted estimator.

    Raises:
        ValueError: unknown name. TypeError: not an estimator, or a bad ``random_state``.
    """
    check_classifier(name)
    random_state = _check_random_state(random_state)
    if isinstance(name, str):
        cls = CLASSIFIERS[name]
        # the constructor takes the seed directly (set_params would inspect signatures)
        return cls(random_state=random_state) if name in _SEEDED else cls()
    # scikit-learn estimators are cloned; other objects with fit/predict are deep-copied
    estimator = clone(name, safe=False)
    if random_state is not None and hasattr(estimator, "get_params") \
            and "random_state" in estimator.get_params(deep=False):
        estimator.set_params(random_state=random_state)
    return estimator


def evaluate(X_train, y_train, X_syn, X_val, y_val, classifier: Any = "svm",
             metric: Any = "macro_f1", random_state: int | None = None, *,
             check_input: bool = True) -> float:
    """AutoSMOTE's reward: validation score of a classifier fit on train + synthetic rows.

    Sec. 3.2 / Algorithm 2 line 5: the base classifier is trained on
    ``X_train U X_syn`` with every synthetic row labelled 1 (minority), then scored on
    the validation data; the score is the reward of the episode's final step.

    Args:
        X_train: training features, shape ``[N, D]``.
        y_train: training labels in {0, 1} (1 = minority), shape ``[N]``.
        X_syn: synthetic minority rows, shape ``[M, D]`` (``M`` may be 0), or None.
        X_val: validation features, shape ``[N_val, D]``.
        y_val: validation labels, shape ``[N_val]``.
        classifier: name or estimator, see :func:`make_classifier`.
        metric: name (``macro_f1`` default, ``mcc``, ``g_mean``, ``f1``, ... any key of
            :data:`imbalance_gym.metrics.METRICS`) or callable ``(y_true, y_pred)``.
        random_state: the classifier's seed (the envs draw it from their RNG).
        check_input: False skips the array checks, for callers that validated the
            data once and make ``X_syn`` themselves (the environments, every episode).

    Returns:
        The metric of the fitted classifier's predictions on ``X_val``.

    Raises:
        ValueError / TypeError: bad arrays, classifier, metric or seed, before fitting.
    """
    check_classifier(classifier)
    score = check_metric(metric)
    if check_input:
        X_train, y_train, X_syn, X_val, y_val = _check_arrays(X_train, y_train, X_syn, X_val, y_val)
    if X_syn is None or len(X_syn) == 0:
        X_fit, y_fit = X_train, y_train
    else:
        X_fit = np.concatenate([X_train, X_syn.astype(X_train.dtype, copy=False)])
        y_fit = np.concatenate([y_train, np.ones(X_syn.shape[0], dtype=y_train.dtype)])
    estimator = make_classifier(classifier, random_state)
    estimator.fit(X_fit, y_fit)
    return float(score(y_val, np.asarray(estimator.predict(X_val)).astype(np.int64)))


def _check_arrays(X_train, y_train, X_syn, X_val, y_val):
    """Shapes and finiteness of :func:`evaluate`'s arrays; returns them as numpy arrays."""
    X_train = check_features(X_train, "X_train")
    X_val = check_features(X_val, "X_val")
    y_train = np.asarray(y_train)
    y_val = np.asarray(y_val)
    if X_train.ndim != 2 or X_val.ndim != 2:
        raise ValueError(f"X_train and X_val must be [N, D], got {X_train.shape} and {X_val.shape}")
    if X_val.shape[1] != X_train.shape[1]:
        raise ValueError(
            f"X_val has {X_val.shape[1]} features but X_train has {X_train.shape[1]}"
        )
    for name, y, X in (("y_train", y_train, X_train), ("y_val", y_val, X_val)):
        if y.shape != (X.shape[0],):
            raise ValueError(f"{name} must have shape ({X.shape[0]},), got {y.shape}")
    if X_syn is not None and np.size(X_syn):
        X_syn = check_features(X_syn, "X_syn")
        if X_syn.ndim != 2 or X_syn.shape[1] != X_train.shape[1]:
            raise ValueError(
                f"X_syn must be [M, {X_train.shape[1]}] like X_train, got shape {X_syn.shape}"
            )
    else:
        X_syn = None
    return X_train, y_train, X_syn, X_val, y_val
