"""DTA's threshold rules: prior correction (DQNimb ref. [19]) and validation G-mean tuning."""

import numpy as np
import pytest

from agents.supervised.threshold import prior_adjusted_predict, prior_threshold, tune_threshold
from imbalance_gym.metrics import f_measure, g_mean


def test_prior_rule_is_argmax_of_probability_over_prior():
    # literal: class c maximising p_c / pi_c, row by row
    proba = np.array([[0.7, 0.2, 0.1], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])
    prior = np.array([0.8, 0.15, 0.05])
    expected = [max(range(3), key=lambda c: row[c] / prior[c]) for row in proba]
    np.testing.assert_array_equal(prior_adjusted_predict(proba, prior), expected)
    # row 0: .7/.8 = .875, .2/.15 = 1.33, .1/.05 = 2 -> class 2 although p_0 is largest
    assert prior_adjusted_predict(proba, prior)[0] == 2


def test_binary_prior_rule_is_the_threshold_pi_1():
    # p_1 / pi_1 > p_0 / pi_0  <=>  p_1 > pi_1, on both sides of pi_1 = .1 and of .5
    pi_1 = prior_threshold([90, 10])
    assert pi_1 == pytest.approx(0.1)
    p1 = np.array([0.02, 0.09, 0.11, 0.3, 0.49, 0.51, 0.95])
    proba = np.stack([1 - p1, p1], axis=1)
    moved = prior_adjusted_predict(proba, [0.9, 0.1])
    np.testing.assert_array_equal(moved, (p1 > pi_1).astype(int))
    np.testing.assert_array_equal(moved, [0, 0, 1, 1, 1, 1, 1])
    # the plain arg-max says 0 for .11, .3 and .49: exactly those flip
    np.testing.assert_array_equal(np.flatnonzero(moved != (p1 > 0.5)), [2, 3, 4])


def test_prior_errors():
    with pytest.raises(ValueError, match="prior"):
        prior_adjusted_predict(np.ones((2, 2)) / 2, [1.0, 0.0])
    with pytest.raises(ValueError, match="shapes"):
        prior_adjusted_predict(np.ones((2, 2)) / 2, [1.0])
    with pytest.raises(ValueError, match="class_counts"):
        prior_threshold([10, 0])


def test_tuned_threshold_on_a_constructed_case():
    # sorted scores: .05N .1N .2N .3P .32N .35P .6P .7N
    # cut between .2 and .3 -> TPR 3/3, TNR 3/5, G = sqrt(.6) = .775 (the best);
    # t = .5 gives TPR 1/3, TNR 4/5, G = .516; cut at .335 gives sqrt(2/3 * 4/5) = .730
    scores = np.array([0.3, 0.05, 0.35, 0.1, 0.6, 0.2, 0.32, 0.7])
    y = np.array([1, 0, 1, 0, 1, 0, 0, 0])
    t = tune_threshold(scores, y)
    assert t == pytest.approx(0.25)  # the midpoint of .2 and .3
    assert g_mean(y, (scores > t).astype(int)) == pytest.approx(np.sqrt(0.6))


@pytest.mark.parametrize("seed", [0, 1])
def test_tuned_threshold_beats_every_other_threshold(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(300) < 0.15).astype(int)
    scores = np.clip(rng.normal(0.25 + 0.3 * y, 0.15), 0, 1).round(2)  # ties on purpose
    t = tune_threshold(scores, y)
    best = g_mean(y, (scores > t).astype(int))
    grid = np.linspace(-0.01, 1.01, 1021)
    assert best >= max(g_mean(y, (scores > u).astype(int)) for u in grid) - 1e-12
    assert best > g_mean(y, (scores > 0.5).astype(int))
    t_f = tune_threshold(scores, y, metric="f_measure")
    assert f_measure(y, (scores > t_f).astype(int)) >= max(f_measure(y, (scores > u).astype(int)) for u in grid) - 1e-12


def test_tune_threshold_errors():
    with pytest.raises(ValueError, match="both classes"):
        tune_threshold([0.1, 0.2], [0, 0])
    with pytest.raises(ValueError, match="same length"):
        tune_threshold([0.1, 0.2], [0, 1, 1])
    with pytest.raises(ValueError, match="unknown metric"):
        tune_threshold([0.1, 0.2], [0, 1], metric="auc")
