"""Baseline searches: imblearn samplers with the ratio chosen on validation, and random search."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from imblearn import combine, over_sampling, under_sampling
from imblearn.over_sampling import RandomOverSampler
from sklearn.base import BaseEstimator

import imbalance_gym  # noqa: F401  (registers the ids)
from imbalance_gym.baselines import (
    RATIO_GRID,
    SAMPLERS,
    list_samplers,
    random_episode_actions,
    random_search,
    sampler_grid_search,
)
from imbalance_gym.classifiers import evaluate


def _split(seed=0, n0=80, n1=8):
    rng = np.random.default_rng(seed)

    def blobs(a, b):
        X = np.vstack([rng.normal(0, 1, (a, 3)), rng.normal(1.3, 1, (b, 3))]).astype(np.float32)
        return X, np.r_[np.zeros(a, int), np.ones(b, int)]

    return (*blobs(n0, n1), *blobs(n0 // 2, n1 // 2))


def test_samplers_enumerate_every_imblearn_sampler():
    expected = set(over_sampling.__all__) | set(under_sampling.__all__) | set(combine.__all__)
    assert set(SAMPLERS) == expected
    assert SAMPLERS["SMOTE"].category == "over" and SAMPLERS["SMOTEENN"].category == "combine"
    assert SAMPLERS["NearMiss"].category == "under" and SAMPLERS["NearMiss"].takes_ratio
    for cleaning in ("TomekLinks", "EditedNearestNeighbours", "AllKNN", "OneSidedSelection",
                     "CondensedNearestNeighbour", "NeighbourhoodCleaningRule",
                     "RepeatedEditedNearestNeighbours"):
        assert not SAMPLERS[cleaning].takes_ratio
    assert "SMOTENC" not in list_samplers() and "SMOTENC" in list_samplers(numeric_only=False)
    assert list_samplers("combine") == ["SMOTEENN", "SMOTETomek"]
    assert RATIO_GRID == (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def test_grid_search_picks_the_best_validation_ratio():
    X, y, X_val, y_val = _split()
    res = sampler_grid_search(X, y, X_val, y_val, "RandomOverSampler", classifier="dt", seed=3)
    assert set(res.scores) == set(RATIO_GRID[1:]) and list(res.failures) == [0.1]  # 8/80 is already 0.1
    assert res.best_score == max(res.scores.values())
    assert res.best_ratio == min(r for r, s in res.scores.items() if s == res.best_score)
    n_maj = 80
    assert np.bincount(res.y_resampled).tolist() == [n_maj, int(res.best_ratio * n_maj)]
    # the score is evaluate() on the resampled data with the classifier seed drawn from seed
    rng = np.random.default_rng(3)
    sampler_seed, clf_seed = int(rng.integers(0, 2**31 - 1)), int(rng.integers(0, 2**31 - 1))
    X_r, y_r = RandomOverSampler(sampling_strategy=res.best_ratio, random_state=sampler_seed).fit_resample(X, y)
    assert X_r.tolist() == res.X_resampled.tolist()
    assert evaluate(X_r, y_r, None, X_val, y_val, classifier="dt", random_state=clf_seed) == res.best_score
    again = sampler_grid_search(X, y, X_val, y_val, "RandomOverSampler", classifier="dt", seed=3)
    assert again.scores == res.scores


def test_under_sampler_and_ratio_free_sampler():
    X, y, X_val, y_val = _split(1)
    res = sampler_grid_search(X, y, X_val, y_val, "RandomUnderSampler", classifier="dt", ratios=(0.5, 1.0))
    counts = np.bincount(res.y_resampled).tolist()
    assert counts == [int(8 / res.best_ratio), 8]
    tomek = sampler_grid_search(X, y, X_val, y_val, "TomekLinks", classifier="dt")
    assert tomek.best_ratio is None and list(tomek.scores) == [None]
    assert np.bincount(tomek.y_resampled)[1] == 8  # cleaning only removes majority rows


class _Failing(BaseEstimator):
    _sampling_type = "over-sampling"

    def __init__(self, sampling_strategy="auto", random_state=None):
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state

    def fit_resample(self, X, y):
        raise ValueError(f"cannot reach {self.sampling_strategy}")


def test_grid_search_failures_and_bad_input():
    X, y, X_val, y_val = _split(2)
    with pytest.raises(RuntimeError, match="_Failing failed at every ratio.*cannot reach 0.5"):
        sampler_grid_search(X, y, X_val, y_val, _Failing(), classifier="dt")
    with pytest.raises(ValueError, match=r"unknown sampler 'SMOTO'; known samplers: \['ADASYN'"):
        sampler_grid_search(X, y, X_val, y_val, "SMOTO")
    with pytest.raises(ValueError, match="SMOTENC needs categorical_features"):
        sampler_grid_search(X, y, X_val, y_val, "SMOTENC")
    with pytest.raises(TypeError, match="imbalanced-learn sampler instance"):
        sampler_grid_search(X, y, X_val, y_val, RandomOverSampler)
    with pytest.raises(ValueError, match=r"ratios must hold numbers in \(0, 1\].*1.5"):
        sampler_grid_search(X, y, X_val, y_val, "SMOTE", ratios=(0.5, 1.5))
    with pytest.raises(ValueError, match="unknown classifier"):
        sampler_grid_search(X, y, X_val, y_val, "SMOTE", classifier="forest")
    with pytest.raises(ValueError, match="X_val has 2 features"):
        sampler_grid_search(X, y, X_val[:, :2], y_val, "SMOTE")
    with pytest.raises(ValueError, match="one-vs-rest"):
        sampler_grid_search(X, np.arange(len(y)) % 3, X_val, y_val, "SMOTE")


# ---- random search --------------------------------------------------------------------------
def _env(**kw):
    X, y, X_val, y_val = _split(3)
    return gym.make("imbalance_gym/AutoSMOTE-v0", X=X, y=y, X_val=X_val, y_val=y_val,
                    classifier="dt", K=3, G1=3, G2=4, **kw)


def test_random_episode_actions_are_a_valid_whole_episode():
    env = _env(max_synthetic=40)
    u = env.unwrapped
    rng = np.random.default_rng(0)
    for _ in range(20):
        acts = random_episode_actions(rng, u.G1, u.G2, u.K, u.n_minority, u.max_synthetic)
        obs, _ = env.reset(seed=0)
        for t, a in enumerate(acts.tolist()):
            assert obs["action_mask"][a] == 1  # valid under the mask of its own step
            obs, r, term, trunc, info = env.step(a)
            assert term == (t == len(acts) - 1)
        g1 = int(acts[0])
        assert len(acts) == 1 + u.n_minority + g1 * int(info["g2"].sum())
        assert info["n_synthetic"] <= 40


def test_random_search_keeps_the_best_episode_and_is_seeded():
    env = _env()
    u = env.unwrapped
    res = random_search(env, n_episodes=6, seed=4)
    assert res.scores.shape == (6,)
    assert res.best_score == res.scores.max() and res.best_episode == int(np.argmax(res.scores))
    assert res.X_resampled.shape[0] == u.X_train.shape[0] + res.X_synthetic.shape[0]
    assert np.bincount(res.y_resampled).tolist() == [80, 8 + res.g1 * int(res.g2.sum())]
    X = u.X_train.astype(np.float64)
    src, nb, w = res.provenance["source"], res.provenance["neighbour"], res.provenance["weight"]
    expect = (X[src] + w[:, None] * (X[nb] - X[src])).astype(np.float32)
    assert res.X_synthetic.tolist() == expect.tolist()
    again = random_search(_env(), n_episodes=6, seed=4)
    assert again.scores.tolist() == res.scores.tolist()
    assert again.X_synthetic.tolist() == res.X_synthetic.tolist()
    with pytest.raises(ValueError, match="n_episodes must be a positive integer"):
        random_search(env, n_episodes=0)
    with pytest.raises(TypeError, match="AutoSMOTE-v0"):
        random_search(gym.make("imbalance_gym/AutoSMOTE-Flat-v0", X=u.X_train, y=u.y_train), 2)
