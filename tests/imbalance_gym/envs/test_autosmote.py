"""AutoSMOTE-v0 and AutoSMOTE-Flat-v0: levels, masks, rows, reward, seeding, batching, checks."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import imbalance_gym
from imbalance_gym.classifiers import evaluate
from imbalance_gym.envs import AutoSMOTEConfig, AutoSMOTEEnv, AutoSMOTEFlatEnv
from imbalance_gym.envs.smote_space import usage_counts, usage_one_hot

ENV_ID = "imbalance_gym/AutoSMOTE-v0"
FLAT_ID = "imbalance_gym/AutoSMOTE-Flat-v0"

# Warnings the checkers may emit on purpose: features and offsets are unbounded, and
# neighbour_features is a [K, 10 + D] table on purpose (one row per candidate neighbour,
# the shape a state-action scoring head wants); SB3's default extractor flattens it.
ALLOWED_WARNINGS = (
    "A Box observation space minimum value is -infinity",
    "A Box observation space maximum value is infinity",
    "Your observation neighbour_features has an unconventional shape",
)


def play(env, g1, g2s, low=None, seed=0):
    """Play one episode: ``g1``, then ``g2s[i]`` and low-level actions ``low(i, t)`` per instance.

    Returns the list of (obs_before, action, reward, terminated, truncated, info).
    """
    low = low or (lambda i, t: (7 * i + 3 * t) % env.unwrapped.action_space.n)
    n_low = 5 * env.unwrapped.K
    obs, _ = env.reset(seed=seed)
    steps = []

    def do(a):
        nonlocal obs
        prev = obs
        obs, r, term, trunc, info = env.step(a)
        steps.append((prev, a, r, term, trunc, info))

    do(g1)
    for i, g2 in enumerate(g2s):
        do(g2)
        for t in range(g1 * g2):
            do(low(i, t) % n_low)
    return steps


def random_masked_episode(env, rng, seed):
    """A uniformly random valid action at every step (from the observation's mask)."""
    obs, _ = env.reset(seed=seed)
    actions, out = [], []
    while True:
        a = int(rng.choice(np.flatnonzero(obs["action_mask"])))
        actions.append(a)
        obs, r, term, trunc, info = env.step(a)
        out.append((obs, r, term, trunc, info))
        if term or trunc:
            return actions, out


# ---- checkers ------------------------------------------------------------------------------
def _checked(env):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env)
    return [str(w.message) for w in caught if not any(a in str(w.message) for a in ALLOWED_WARNINGS)]


def test_checkers_pass_on_the_hierarchical_env(smote_split):
    # The checkers step with unmasked action_space.sample(), and Gymnasium's determinism
    # check even samples *before* resetting. So every level must accept every action:
    # K = 2 gives 5K = 10 low-level actions, and G1 = G2 = 9 make levels 0 and 1 the same
    # size. Masks and invalid actions are tested separately below.
    X, y, X_val, y_val = smote_split
    env = gym.make(ENV_ID, X=X, y=y, X_val=X_val, y_val=y_val, classifier="dt", K=2, G1=9, G2=9)
    assert env.action_space.n == 10
    assert _checked(env) == []


def test_checkers_pass_on_the_flat_env_with_defaults(smote_split):
    X, y, X_val, y_val = smote_split
    env = gym.make(FLAT_ID, X=X, y=y, X_val=X_val, y_val=y_val, classifier="dt")
    assert _checked(env) == []


def test_registration(smote_kwargs):
    assert ENV_ID in imbalance_gym.ENV_IDS and FLAT_ID in imbalance_gym.ENV_IDS
    assert isinstance(gym.make(ENV_ID, **smote_kwargs).unwrapped, AutoSMOTEEnv)
    assert isinstance(gym.make(FLAT_ID, **smote_kwargs).unwrapped, AutoSMOTEFlatEnv)
    assert gym.spec(ENV_ID).entry_point == "imbalance_gym.envs.autosmote:AutoSMOTEEnv"
    assert gym.spec(FLAT_ID).entry_point == "imbalance_gym.envs.autosmote:AutoSMOTEFlatEnv"


# ---- structure: levels, masks, length ------------------------------------------------------
def test_level_order_and_episode_length(smote_kwargs):
    env = gym.make(ENV_ID, **smote_kwargs)
    u = env.unwrapped
    g1, g2s = 2, [3, 0, 1, 2, 0, 3, 1, 2]
    assert u.n_minority == len(g2s)
    steps = play(env, g1, g2s)
    levels = [info["level"] for *_, info in steps]
    expect = [0]
    for g2 in g2s:
        expect += [1] + [2] * (g1 * g2)
    assert levels == expect
    assert len(steps) == 1 + u.n_minority + g1 * sum(g2s)
    instances = [info["instance"] for *_, info in steps]
    assert instances[0] == -1 and instances[1:1 + 1 + g1 * 3] == [0] * (1 + g1 * 3)
    assert [t for *_, t, _, _ in steps][:-1] == [False] * (len(steps) - 1)
    assert steps[-1][3] is True and steps[-1][4] is False
    assert [r for _, _, r, *_ in steps[:-1]] == [0.0] * (len(steps) - 1)
    # the observation each action was taken from says its level
    assert [int(o["level"]) for o, *_ in steps] == expect


def test_masks_are_exact_for_each_level(smote_kwargs):
    env = gym.make(ENV_ID, **smote_kwargs)
    u = env.unwrapped
    G1, G2, K = u.G1, u.G2, u.K
    n = u.action_space.n
    assert n == max(G1 + 1, G2 + 1, 5 * K) == 15
    steps = play(env, 2, [1] * u.n_minority)
    for obs, a, *_ in steps:
        level = int(obs["level"])
        allowed = {0: G1 + 1, 1: G2 + 1, 2: 5 * K}[level]
        assert obs["action_mask"].dtype == np.int8
        assert obs["action_mask"].tolist() == [1] * allowed + [0] * (n - allowed)
    obs, _ = env.reset(seed=0)
    assert u.action_masks().tolist() == [True] * (G1 + 1) + [False] * (n - G1 - 1)


@pytest.mark.parametrize("level, prefix, bad", [(0, [], 3), (1, [2], 4), (2, [2, 1], 15), (0, [], -1)])
def test_invalid_actions_raise_and_change_nothing(smote_kwargs, level, prefix, bad):
    env = gym.make(ENV_ID, **smote_kwargs)
    obs, _ = env.reset(seed=0)
    for a in prefix:
        obs, *_ = env.step(a)
    assert int(obs["level"]) == level
    with pytest.raises(ValueError, match=f"not a valid .* at level {level}"):
        env.step(bad)
    again = env.unwrapped._observe()
    for key in obs:
        assert np.array_equal(obs[key], again[key])
    with pytest.raises(TypeError, match="integer"):
        env.step(0.5)


def test_reset_needed(smote_kwargs):
    env = AutoSMOTEEnv(**smote_kwargs)
    with pytest.raises(ResetNeeded):
        env.step(0)
    play(env, 0, [0] * env.n_minority)
    with pytest.raises(ResetNeeded):
        env.step(0)


# ---- observations ---------------------------------------------------------------------------
def test_observation_contents_follow_the_usage_counts(smote_kwargs):
    env = gym.make(ENV_ID, **{**smote_kwargs, "G1": 4})
    u = env.unwrapped
    X_min = u.X_train[u.minority_index]
    D = X_min.shape[1]
    steps = play(env, 4, [3] * u.n_minority, low=lambda i, t: 5 * (t % 2) + t % 5)
    final = steps[-1][-1]
    src = np.searchsorted(u.minority_index, final["provenance"]["source"])
    nbr = np.searchsorted(u.minority_index, final["provenance"]["neighbour"])
    assert final["usage"].tolist() == usage_counts(u.n_minority, src, nbr).tolist()
    assert max(final["usage"]) >= 10  # some instance reached bin 1
    rows_done = 0
    for obs, a, r, term, trunc, info in steps:
        level = int(obs["level"])
        assert obs["state"].dtype == np.float32 and obs["neighbour_features"].dtype == np.float32
        if level == 0:
            np.testing.assert_allclose(obs["state"][:D], X_min.mean(axis=0), rtol=1e-6)
            assert obs["state"][D:].tolist() == [1.0] + [0.0] * 9
            assert not obs["neighbour_features"].any()
        else:
            i = info["instance"]
            counts = usage_counts(u.n_minority, src[:rows_done], nbr[:rows_done])
            assert obs["state"][:D].tolist() == X_min[i].tolist()
            assert obs["state"][D:].tolist() == usage_one_hot(counts[i]).tolist()
            nb = u.neighbours[i]
            assert obs["neighbour_features"][:, :10].tolist() == usage_one_hot(counts[nb]).tolist()
            np.testing.assert_allclose(obs["neighbour_features"][:, 10:], X_min[nb] - X_min[i], rtol=1e-6)
        if level == 2:
            rows_done += 1
        assert u.observation_space.contains(obs)


# ---- rows, provenance, reward ---------------------------------------------------------------
def test_rows_follow_provenance_and_the_actions_taken(smote_kwargs):
    env = gym.make(ENV_ID, **smote_kwargs)
    u = env.unwrapped
    steps = play(env, 2, [3, 1, 0, 2, 3, 1, 0, 2])
    info = steps[-1][-1]
    X = u.X_train
    prov = info["provenance"]
    low = [(s[-1]["instance"], s[1]) for s in steps if s[-1]["level"] == 2]
    assert len(low) == info["n_synthetic"] == len(info["synthetic"])
    for j, (i, a) in enumerate(low):
        src, nb, w = int(prov["source"][j]), int(prov["neighbour"][j]), float(prov["weight"][j])
        assert src == u.minority_index[i]
        assert nb == u.minority_index[u.neighbours[i, a // 5]]
        assert w == [0.0, 0.25, 0.5, 0.75, 1.0][a % 5]
        row = info["synthetic"][j]
        x_i, x_nb = X[src].astype(np.float64), X[nb].astype(np.float64)
        assert row.tolist() == (x_i + w * (x_nb - x_i)).astype(np.float32).tolist()
        lo, hi = np.minimum(X[src], X[nb]), np.maximum(X[src], X[nb])
        assert np.all(row >= lo) and np.all(row <= hi)
        assert u.y_train[src] == 1 and u.y_train[nb] == 1


def test_final_reward_equals_evaluate_on_the_same_rows(smote_kwargs):
    env = gym.make(ENV_ID, **{**smote_kwargs, "classifier": "svm", "metric": "mcc"})
    u = env.unwrapped
    steps = play(env, 1, [2, 3, 1, 0, 2, 3, 1, 0], seed=5)
    _, _, reward, term, _, info = steps[-1]
    assert term
    direct = evaluate(u.X_train, u.y_train, info["synthetic"], u.X_val, u.y_val,
                      classifier="svm", metric="mcc", random_state=info["random_state"])
    assert reward == info["metric"] == direct


def test_final_class_counts_match_the_chosen_factors(smote_kwargs):
    env = gym.make(ENV_ID, **smote_kwargs)
    u = env.unwrapped
    g1, g2s = 2, [3, 2, 1, 0, 3, 2, 1, 0]
    info = play(env, g1, g2s)[-1][-1]
    assert info["g1"] == g1 and info["g2"].tolist() == g2s
    assert info["counts"].tolist() == [g1 * g for g in g2s]
    y_res = np.r_[u.y_train, np.ones(info["n_synthetic"], int)]
    n_maj, n_min = int((u.y_train == 0).sum()), int((u.y_train == 1).sum())
    assert np.bincount(y_res).tolist() == [n_maj, n_min + g1 * sum(g2s)]
    src_rows = np.searchsorted(u.minority_index, info["provenance"]["source"])
    assert np.bincount(src_rows, minlength=u.n_minority).tolist() == info["counts"].tolist()


def test_g1_zero_reproduces_the_no_resampling_score(smote_kwargs):
    env = gym.make(ENV_ID, **smote_kwargs)
    u = env.unwrapped
    steps = play(env, 0, [3] * u.n_minority, seed=2)  # g2 is asked but g = 0 * g2
    assert len(steps) == 1 + u.n_minority
    _, _, reward, _, _, info = steps[-1]
    assert info["n_synthetic"] == 0 and info["synthetic"].shape == (0, u.X_train.shape[1])
    plain = evaluate(u.X_train, u.y_train, None, u.X_val, u.y_val, classifier="dt",
                     random_state=info["random_state"])
    assert reward == plain


# ---- seeding ------------------------------------------------------------------------------
def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return np.array_equal(np.asarray(a), np.asarray(b))


def test_same_seed_same_episode_and_reward(smote_kwargs):
    env = gym.make(ENV_ID, **{**smote_kwargs, "classifier": "adaboost"})
    a1, out1 = random_masked_episode(env, np.random.default_rng(0), seed=11)
    a2, out2 = random_masked_episode(env, np.random.default_rng(0), seed=11)
    assert a1 == a2
    for s1, s2 in zip(out1, out2, strict=True):
        assert all(_same(x, y) for x, y in zip(s1, s2))
    # another seed draws another classifier seed (the episode's only randomness)
    env.reset(seed=12)
    other = play(env, 0, [0] * env.unwrapped.n_minority, seed=12)[-1][-1]
    assert other["random_state"] != out1[-1][-1]["random_state"]


def test_constructor_seed_seeds_the_first_reset(smote_kwargs):
    e1 = AutoSMOTEEnv(**smote_kwargs, seed=4)
    e2 = AutoSMOTEEnv(**smote_kwargs, seed=4)
    r1 = play(e1, 1, [1] * e1.n_minority, seed=None)[-1][-1]["random_state"]
    r2 = play(e2, 1, [1] * e2.n_minority, seed=None)[-1][-1]["random_state"]
    assert r1 == r2


# ---- batched stepping ----------------------------------------------------------------------
def _episode_actions(env, rng):
    u = env.unwrapped
    g1 = 2
    g2s = rng.integers(0, u.G2 + 1, u.n_minority)
    per_instance = [rng.integers(0, 5 * u.K, g1 * g).tolist() for g in g2s]
    return g1, g2s.tolist(), per_instance


def test_step_batch_is_exactly_stepping_one_by_one(smote_kwargs):
    env_a = gym.make(ENV_ID, **smote_kwargs)
    env_b = gym.make(ENV_ID, **smote_kwargs)
    env_c = gym.make(ENV_ID, **smote_kwargs)
    g1, g2s, lows = _episode_actions(env_a, np.random.default_rng(3))
    flat_actions = [g1] + [a for g2, low in zip(g2s, lows) for a in [g2] + low]

    # a: one step per action; b: level-1 step + one batch per instance; c: the whole episode
    env_a.reset(seed=9)
    env_b.reset(seed=9)
    env_c.reset(seed=9)
    first_a = env_a.step(g1)
    first_b = env_b.unwrapped.step_batch([g1])
    assert _same(first_a[0], first_b[0]) and first_b[-1]["levels"].tolist() == [0]
    for g2, low in zip(g2s, lows):
        obs_b, r_b, term_b, _, info_b = env_b.unwrapped.step_batch([g2] + low)
        for a in [g2] + low:
            obs_a, r_a, term_a, _, info_a = env_a.step(a)
        assert _same(obs_a, obs_b) and r_a == r_b and term_a == term_b
        assert info_b["level"] == info_a["level"] and info_b["instance"] == info_a["instance"]
        assert info_b["levels"].tolist() == [1] + [2] * len(low)
    obs_c, r_c, term_c, _, info_c = env_c.unwrapped.step_batch(flat_actions)
    assert term_a and term_c and r_c == r_a
    assert _same(obs_c, obs_a)
    for key in ("counts", "provenance", "synthetic", "usage", "g2", "random_state", "metric"):
        assert _same(info_c[key], info_a[key]) and _same(info_b[key], info_a[key])


def test_step_batch_validates_the_whole_batch_first(smote_kwargs):
    env = gym.make(ENV_ID, **smote_kwargs)
    u = env.unwrapped
    obs, _ = env.reset(seed=0)
    with pytest.raises(ValueError, match=r"actions\[3\] = 15 is not a valid a low-level action"):
        u.step_batch([2, 1, 0, 15])
    assert _same(u._observe(), obs)  # nothing applied
    with pytest.raises(ValueError, match=r"actions\[1\] = 4 is not a valid g2"):
        u.step_batch([2, 4])
    with pytest.raises(ValueError, match=r"actions\[2\] = 99 is not a valid a low-level action"):
        u.step_batch([2, 1, 99, 0, 9])  # the bad g2 at position 4 comes later
    too_long = [0] + [0] * u.n_minority + [0]
    with pytest.raises(ValueError, match="after the episode's last step"):
        u.step_batch(too_long)
    with pytest.raises(TypeError, match="integers"):
        u.step_batch([0.5])
    with pytest.raises(ValueError, match="non-empty"):
        u.step_batch([])
    # a partial instance in a batch is fine: the rest follows step by step
    obs, *_ = u.step_batch([2, 2, 0, 1])
    assert int(obs["level"]) == 2 and obs["progress"][2] == pytest.approx(2 / (u.G1 * u.G2))


# ---- the row bound --------------------------------------------------------------------------
def test_row_bound_masks_g2_and_caps_the_rows(smote_kwargs):
    env = gym.make(ENV_ID, **{**smote_kwargs, "max_synthetic": 7})
    u = env.unwrapped
    obs, _ = env.reset(seed=0)
    obs, *_ = env.step(2)
    assert obs["action_mask"][: u.G2 + 1].tolist() == [1, 1, 1, 1]  # 2 * 3 <= 7
    obs, *_ = u.step_batch([3] + [0] * 6)  # 6 rows, 1 left: only g2 = 0 fits
    assert obs["action_mask"].tolist()[:4] == [1, 0, 0, 0]
    with pytest.raises(ValueError, match="max_synthetic=7"):
        env.step(1)
    obs, r, term, _, info = u.step_batch([0] * (u.n_minority - 1))
    assert term and info["n_synthetic"] == 6


# ---- flat env -------------------------------------------------------------------------------
def test_flat_env_reproduces_the_hierarchical_rows_and_reward(smote_kwargs):
    hier = gym.make(ENV_ID, **smote_kwargs)
    flat = gym.make(FLAT_ID, **smote_kwargs)
    g1, g2s, lows = _episode_actions(hier, np.random.default_rng(5))
    hier.reset(seed=1)
    _, r_h, _, _, info_h = hier.unwrapped.step_batch([g1] + [a for g2, low in zip(g2s, lows) for a in [g2] + low])

    nxt = 5 * flat.unwrapped.K
    assert flat.action_space.n == nxt + 1
    obs, _ = flat.reset(seed=1)
    n_steps = 0
    for i, low in enumerate(lows):
        for a in low:
            assert obs["action_mask"].all()
            obs, r, term, trunc, info = flat.step(a)
            n_steps += 1
            assert info["instance"] == i
        if len(low) < flat.unwrapped.G1 * flat.unwrapped.G2:  # at the cap it moved on by itself
            obs, r, term, trunc, info = flat.step(nxt)
            n_steps += 1
    assert term and not trunc
    assert r == r_h
    for key in ("counts", "provenance", "synthetic", "usage", "random_state"):
        assert _same(info[key], info_h[key])


def test_flat_env_caps_rows_per_instance_and_stops_at_the_row_bound(smote_kwargs):
    env = gym.make(FLAT_ID, **smote_kwargs)
    u = env.unwrapped
    cap = u.G1 * u.G2
    obs, _ = env.reset(seed=0)
    for t in range(cap):
        assert obs["progress"][1] == pytest.approx(t / cap)
        obs, r, term, _, info = env.step(0)
        assert info["instance"] == 0
    assert obs["progress"][0] == pytest.approx(1 / u.n_minority)  # moved on to instance 1
    env2 = gym.make(FLAT_ID, **{**smote_kwargs, "max_synthetic": 3})
    env2.reset(seed=0)
    outs = [env2.step(1) for _ in range(3)]
    assert [o[2] for o in outs] == [False, False, True]
    assert outs[-1][-1]["n_synthetic"] == 3


# ---- data sources ----------------------------------------------------------------------------
def test_arrays_without_validation_are_split_stratified_and_seeded(tiny_binary):
    X, y = tiny_binary
    a = AutoSMOTEEnv(X=X, y=y, classifier="dt", seed=3)
    b = AutoSMOTEEnv(X=X, y=y, classifier="dt", seed=3)
    assert a.X_val.tolist() == b.X_val.tolist()
    assert len(a.y_train) + len(a.y_val) == 100
    assert np.bincount(a.y_val).tolist() == [23, 3]  # 25% of 90 and of 10, rounded half up
    assert np.bincount(a.y_train).tolist() == [67, 7]
    assert a.G1 == 4 and a.G2 == 10  # round(4 * (67 / 7) / 10) = round(3.83)
    assert a.K == 6  # 30 capped at N_min - 1


def test_named_bundled_dataset():
    env = gym.make(ENV_ID, dataset="breast_cancer", imbalance_ratio=5, classifier="dt", seed=0)
    u = env.unwrapped
    assert u.task is not None and u.task.info["protocol"] == "autosmote"
    assert u.G1 == 2  # round(4 * 5 / 10)
    steps = play(env, 0, [0] * u.n_minority)
    assert 0.0 <= steps[-1][2] <= 1.0


@pytest.mark.data
def test_phoneme_at_ir_50_follows_the_paper_defaults(data_home):
    env = gym.make(ENV_ID, dataset="phoneme", imbalance_ratio=50, classifier="dt", seed=0,
                   data_home=data_home)
    u = env.unwrapped
    assert (u.G1, u.G2, u.K) == (20, 10, 30)  # G1 = 4 * 50 / 10
    n_maj, n_min = np.bincount(u.y_train)
    assert 49 <= n_maj / n_min <= 52
    assert u.action_space.n == 150


# ---- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize("change, error, match", [
    ({"K": 0}, ValueError, "K must be an integer >= 1, got 0"),
    ({"G1": 0}, ValueError, "G1 must be an integer >= 1, got 0"),
    ({"G2": -2}, ValueError, "G2 must be an integer >= 1, got -2"),
    ({"G2": 2.5}, TypeError, "G2 must be an integer"),
    ({"max_synthetic": 0}, ValueError, "max_synthetic must be an integer >= 1"),
    ({"classifier": "forest"}, ValueError, r"unknown classifier 'forest'; known classifiers: \['adaboost'"),
    ({"classifier": object()}, TypeError, "fit\\(\\) and predict\\(\\)"),
    ({"metric": "auc"}, ValueError, r"unknown metric 'auc'; known metrics: \["),
    ({"val_size": 1.5, "X_val": None, "y_val": None}, ValueError, "val_size must be a number in \\(0, 1\\)"),
    ({"imbalance_ratio": 20}, ValueError, "imbalance_ratio= applies to dataset="),
    ({"y_val": None}, ValueError, "X_val and y_val together"),
])
def test_bad_arguments(smote_kwargs, change, error, match):
    with pytest.raises(error, match=match):
        AutoSMOTEEnv(**{**smote_kwargs, **change})


def test_bad_data(smote_split, tiny_multiclass):
    X, y, X_val, y_val = smote_split
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="X holds 1 NaN"):
        AutoSMOTEEnv(X=bad, y=y, X_val=X_val, y_val=y_val)
    with pytest.raises(ValueError, match="X_val has 2 features but X has 3"):
        AutoSMOTEEnv(X=X, y=y, X_val=X_val[:, :2], y_val=y_val)
    few = np.r_[np.zeros(10, int), [1]]
    with pytest.raises(ValueError, match="at least 2 minority .* N_min = 1"):
        AutoSMOTEEnv(X=np.arange(11.0)[:, None], y=few, X_val=X_val[:, :1], y_val=y_val)
    with pytest.raises(ValueError, match=r"label 1 must be the minority.*\(y = 1 - y\)"):
        AutoSMOTEEnv(X=X, y=1 - y, X_val=X_val, y_val=y_val)
    Xm, ym = tiny_multiclass
    with pytest.raises(ValueError, match="3 classes.*one-vs-rest"):
        AutoSMOTEEnv(X=Xm, y=ym)
    with pytest.raises(ValueError, match="either dataset= or arrays"):
        AutoSMOTEEnv(dataset="breast_cancer", X=X, y=y)
    with pytest.raises(TypeError, match="config must be an AutoSMOTEConfig"):
        AutoSMOTEEnv(X=X, y=y, config={"K": 3})
    with pytest.raises(ValueError, match=r"either config= or the settings \['K'\]"):
        AutoSMOTEEnv(X=X, y=y, config=AutoSMOTEConfig(K=3), K=4)


def test_config_object_and_defaults(smote_split):
    X, y, X_val, y_val = smote_split
    env = AutoSMOTEEnv(X=X, y=y, X_val=X_val, y_val=y_val, config=AutoSMOTEConfig(G1=2, G2=3, K=2))
    assert (env.G1, env.G2, env.K) == (2, 3, 2) and env.config.classifier == "svm"
    cfg = AutoSMOTEConfig()
    assert (cfg.G1, cfg.G2, cfg.K, cfg.classifier, cfg.metric) == (None, 10, 30, "svm", "macro_f1")
    assert [cfg.g1_max(ir) for ir in (20, 50, 100, 1.0, 3.75)] == [8, 20, 40, 1, 2]  # 1.5 rounds up
    assert AutoSMOTEConfig(G1=3).g1_max(100) == 3
    with pytest.raises(Exception):
        cfg.K = 3  # frozen


# ---- learners --------------------------------------------------------------------------------
class _MaskAudit(gym.Wrapper):
    """Records whether each action taken was allowed by the mask of its observation."""

    def __init__(self, env):
        super().__init__(env)
        self.allowed: list[bool] = []
        self._mask = None

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self._mask = obs["action_mask"]
        return obs, info

    def step(self, action):
        self.allowed.append(bool(self._mask[int(action)]))
        obs, r, term, trunc, info = self.env.step(action)
        self._mask = obs["action_mask"]
        return obs, r, term, trunc, info

    def action_masks(self):
        return self.env.unwrapped.action_masks()


def test_maskable_ppo_runs_and_never_takes_a_masked_action(smote_kwargs):
    from sb3_contrib import MaskablePPO

    env = _MaskAudit(gym.make(ENV_ID, **smote_kwargs))
    model = MaskablePPO("MultiInputPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0,
                        policy_kwargs={"net_arch": [16]}, device="cpu")
    model.learn(total_timesteps=256)
    assert len(env.allowed) >= 256 and all(env.allowed)


def test_plain_ppo_runs_on_the_flat_env(smote_kwargs):
    from stable_baselines3 import PPO

    env = gym.make(FLAT_ID, **smote_kwargs)
    model = PPO("MultiInputPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0,
                policy_kwargs={"net_arch": [16]}, device="cpu")
    model.learn(total_timesteps=128)
    assert model.num_timesteps >= 128
