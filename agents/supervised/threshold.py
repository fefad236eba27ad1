"""Decision-threshold moving for the DTA baseline (DQNimb sec. IV-A, ref. [19]).

A network trained with plain cross-entropy on imbalanced data estimates the posterior
``p_c = P(y=c | x)`` under the training prior ``pi_c = N_c / N``. DTA moves the decision
at predict time instead of changing the training:

* ``"prior"``: divide each class probability by its training prior and take the
  arg-max, ``argmax_c p_c / pi_c`` (:func:`prior_adjusted_predict`). For two classes
  this is the rule ``p_1 > pi_1``: ``p_1 / pi_1 > p_0 / pi_0 <=> p_1 pi_0 > (1 - p_1) pi_1
  <=> p_1 > pi_1``, i.e. a threshold on ``P(y=1)`` equal to the minority prior
  (:func:`prior_threshold`).
* ``"tuned"``: the threshold on ``P(y=1)`` that maximises a metric (G-mean by default)
  on held-out validation rows (:func:`tune_threshold`).

Both give a threshold ``t`` and the prediction ``1`` iff ``P(y=1) > t``.
"""

from __future__ import annotations

import numpy as np

from imbalance_gym.metrics import get_metric

__all__ = ["prior_adjusted_predict", "prior_threshold", "tune_threshold"]


def prior_adjusted_predict(proba, prior) -> np.ndarray:
    """``argmax_c p_c / pi_c``: the class-prior-corrected decision (DQNimb ref. [19]).

    Args:
        proba: Class probabilities, shape ``[N, C]``.
        prior: Training class priors ``pi_c > 0``, shape ``[C]``.

    Returns:
        int64 class indices, shape ``[N]``.

    Raises:
        ValueError: If the shapes disagree or a prior is not positive.
    """
    proba = np.asarray(proba, dtype=np.float64)
    prior = np.asarray(prior, dtype=np.float64)
    if proba.ndim != 2 or prior.shape != (proba.shape[1],):
        raise ValueError(f"proba must be [N, C] and prior [C], got shapes {proba.shape} and {prior.shape}")
    if np.any(prior <= 0):
        raise ValueError(f"prior must be positive for every class, got {prior.tolist()}")
    return np.argmax(proba / prior, axis=1).astype(np.int64)


def prior_threshold(class_counts) -> float:
    """Binary threshold of the prior rule: ``pi_1 = N_1 / (N_0 + N_1)`` on ``P(y=1)``.

    Args:
        class_counts: Training rows per class ``(N_0, N_1)``, both >= 1.

    Raises:
        ValueError: If there are not exactly two positive counts.
    """
    counts = np.asarray(class_counts, dtype=np.float64)
    if counts.shape != (2,) or np.any(counts < 1):
        raise ValueError(f"class_counts must be two counts (N_0, N_1) >= 1, got {counts.tolist()}")
    return float(counts[1] / counts.sum())


def tune_threshold(scores, y, metric: str = "g_mean") -> float:
    """The threshold on ``scores`` (``P(y=1)``) that maximises ``metric`` on ``(scores, y)``.

    Candidates are every distinct way to cut the sorted scores: the midpoints between
    consecutive distinct scores, one value just below the smallest score (everything
    positive) and the largest score (everything negative). The rule is ``predict 1 iff
    score > t``. Ties between candidates go to the lowest threshold.

    Args:
        scores: Validation scores, shape ``[N]``.
        y: Validation labels in {0, 1}, shape ``[N]``, both classes present.
        metric: A name from :data:`imbalance_gym.metrics.METRICS` (``"g_mean"``,
            ``"f_measure"``, ``"mcc"`` ...).

    Returns:
        The threshold ``t``.

    Raises:
        ValueError: If the shapes differ, ``y`` is not binary with both classes, or the
            metric is unknown.
    """
    score_fn = get_metric(metric)
    scores = np.asarray(scores, dtype=np.float64)
    y = np.asarray(y)
    if scores.ndim != 1 or scores.shape != y.shape:
        raise ValueError(f"scores and y must be 1-D of the same length, got shapes {scores.shape} and {y.shape}")
    if not np.all((y == 0) | (y == 1)) or np.all(y == 0) or np.all(y == 1):
        raise ValueError("y must hold labels in {0, 1} with both classes present to tune a threshold")
    distinct = np.unique(scores)
    candidates = np.concatenate(
        [[np.nextafter(distinct[0], -np.inf)], (distinct[:-1] + distinct[1:]) / 2.0, [distinct[-1]]]
    )
    pos = np.sort(scores[y == 1])
    neg = np.sort(scores[y == 0])
    tp = pos.size - np.searchsorted(pos, candidates, side="right")  # positives with score > t
    fp = neg.size - np.searchsorted(neg, candidates, side="right")
    values = np.array([
        score_fn(confusion=np.array([[neg.size - f, f], [pos.size - t, t]]))
        for t, f in zip(tp, fp)
    ])
    return float(candidates[int(np.argmax(values))])
