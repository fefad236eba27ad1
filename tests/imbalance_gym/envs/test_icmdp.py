"""ICMDP: reward table, episode end, seeding, evaluation pass, vector equivalence, checks."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import imbalance_gym  # noqa: F401  (registers the ids)
from imbalance_gym.envs import (
    ICMDPEnv,
    ICMDPVectorEnv,
    default_class_weights,
    icmdp_reward,
    icmdp_reward_table,
)
from imbalance_gym.metrics import confusion_matrix

ENV_ID = "imbalance_gym/ICMDP-v0"

# Warnings the checkers may emit on purpose: standardised features are unbounded, and
# 28x28 images are below SB3's NatureCNN minimum (the project ships its own extractor).
ALLOWED_WARNINGS = (
    "A Box observation space minimum value is -infinity",
    "A Box observation space maximum value is infinity",
    "The minimal resolution for an image is 36x36",
)


def toy_labels_in_features(n_major=8, n_minor=2):
    """The feature *is* the label, so a test can read the class off the observation."""
    y = np.array([0] * n_major + [1] * n_minor)
    return y.reshape(-1, 1).astype(np.float64), y


# ---- reward table: DQNimb eq. (1) exactly ----------------------------------------------
LAMBDA = 2 / 8  # rho of the toy data: 2 minority rows, 8 majority rows


@pytest.mark.parametrize(
    "true_class, action, reward, terminated",
    [
        (1, 1, 1.0, False),  # TP: minority correct
        (1, 0, -1.0, True),  # FN: minority wrong -> terminal (training)
        (0, 0, LAMBDA, False),  # TN: majority correct
        (0, 1, -LAMBDA, False),  # FP: majority wrong
    ],
)
def test_reward_table_matches_eq1(true_class, action, reward, terminated):
    X, y = toy_labels_in_features()
    env = ICMDPEnv(X=X, y=y)
    obs, _ = env.reset(seed=0)
    for _ in range(len(y)):
        if int(obs[0]) == true_class:
            _, r, term, trunc, info = env.step(action)
            assert info["label"] == true_class
            assert r == reward
            assert term is terminated
            return
        obs, _, term, trunc, _ = env.step(int(obs[0]))  # label correctly until found
    pytest.fail("class never shown")


def _paper_step(a, label, minority, lam):
    """Literal transcription of DQNimb Algorithm 2 (STEP)."""
    terminal = False
    if label == minority:
        if a == label:
            r = 1.0
        else:
            r = -1.0
            terminal = True
    else:
        r = lam if a == label else -lam
    return r, terminal


def test_pure_reward_equals_algorithm_2():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, 500)
    y_pred = rng.integers(0, 2, 500)
    lam = 0.037
    reward, term = icmdp_reward(y_true, y_pred, [lam, 1.0])
    expect = [_paper_step(a, c, 1, lam) for a, c in zip(y_pred, y_true)]
    assert reward.tolist() == [r for r, _ in expect]
    assert term.tolist() == [t for _, t in expect]


def test_reward_table_multiclass_and_eval_mode():
    R, T = icmdp_reward_table([0.2, 0.5, 1.0], terminal_classes=(2,))
    assert R.tolist() == [[0.2, -0.2, -0.2], [-0.5, 0.5, -0.5], [-1.0, -1.0, 1.0]]
    assert T.tolist() == [[False] * 3, [False] * 3, [True, True, False]]
    _, T_eval = icmdp_reward_table([0.2, 0.5, 1.0], terminal_classes=(2,), training=False)
    assert not T_eval.any()


def test_default_weights_reduce_to_rho_for_binary():
    assert default_class_weights([900, 100]).tolist() == [100 / 900, 1.0]
    assert default_class_weights([50, 30, 10]).tolist() == [10 / 50, 10 / 30, 1.0]


def test_env_default_lambda_is_rho_and_override(tiny_binary):
    X, y = tiny_binary
    assert ICMDPEnv(X=X, y=y).class_weights.tolist() == [10 / 90, 1.0]
    assert ICMDPEnv(X=X, y=y, reward_lambda=0.5).class_weights.tolist() == [0.5, 1.0]
    # lambda above 1 (DQNimb Fig. 3 sweeps up to 20 rho) keeps the minority terminal.
    env = ICMDPEnv(X=X, y=y, reward_lambda=3.0)
    assert env.problem.terminal_classes == (1,)


def test_multiclass_weights_and_rarest_class_terminates(tiny_multiclass):
    X, y = tiny_multiclass
    env = ICMDPEnv(X=X, y=y)
    assert env.class_weights.tolist() == [10 / 50, 10 / 30, 1.0]
    assert env.problem.terminal_classes == (2,)
    env = ICMDPEnv(X=X, y=y, terminal_classes=(1, 2))
    assert env.problem.terminal_classes == (1, 2)


# ---- episode end ------------------------------------------------------------------------
def test_terminates_on_first_misclassified_minority_only():
    X, y = toy_labels_in_features(n_major=30, n_minor=5)
    env = ICMDPEnv(X=X, y=y)
    obs, _ = env.reset(seed=1)
    steps = 0
    while True:
        label = int(obs[0])
        obs, r, term, trunc, info = env.step(1)  # always "minority"
        steps += 1
        if label == 0:
            assert not term and r == -5 / 30
        else:
            assert r == 1.0 and not term
        if term or trunc:
            break
    # "always minority" never misclassifies a minority sample: the data runs out.
    assert trunc and not term and steps == 35


def test_every_sample_scored_exactly_once(tiny_binary):
    X, y = tiny_binary
    env = ICMDPEnv(X=X, y=y)
    obs, _ = env.reset(seed=5)
    seen = []
    first = obs.copy()
    for t in range(len(y)):
        row = int(np.flatnonzero((X.astype(np.float32) == obs).all(axis=1))[0])
        obs, r, term, trunc, info = env.step(int(y[row]))  # oracle
        seen.append(info["index"])
        assert info["index"] == row and info["label"] == y[row]
        assert not term
        assert trunc is (t == len(y) - 1)
    assert sorted(seen) == list(range(len(y)))
    # the final observation is the episode's first sample; the matrix counts all rows
    np.testing.assert_array_equal(obs, first)
    assert "confusion_matrix" not in info  # only evaluation passes report one
    with pytest.raises(gym.error.ResetNeeded, match="reset"):
        env.step(0)


def test_reset_without_seed_reshuffles(tiny_binary):
    X, y = tiny_binary
    env = ICMDPEnv(X=X, y=y)
    env.reset(seed=0)
    orders = []
    for _ in range(3):
        order = []
        for _ in range(len(y)):
            _, _, term, trunc, info = env.step(0)
            order.append(info["index"])
            if term or trunc:
                break
        orders.append(order)
        env.reset()
    assert orders[0][:5] != orders[1][:5] or orders[1][:5] != orders[2][:5]


# ---- seeding -----------------------------------------------------------------------------
def _rollout(env, seed, actions):
    out = []
    obs, _ = env.reset(seed=seed)
    out.append(obs)
    for a in actions:
        obs, r, term, trunc, info = env.step(int(a))
        out.append((obs, r, term, trunc, info["index"], info["label"]))
        if term or trunc:
            obs, _ = env.reset()
            out.append(obs)
    return out


def _same(a, b):
    if isinstance(a, tuple):
        return all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def test_same_seed_same_rollout_and_different_seed_differs(tiny_binary):
    X, y = tiny_binary
    actions = np.random.default_rng(0).integers(0, 2, 400)
    a = _rollout(ICMDPEnv(X=X, y=y), 7, actions)
    b = _rollout(ICMDPEnv(X=X, y=y), 7, actions)
    c = _rollout(ICMDPEnv(X=X, y=y), 8, actions)
    assert len(a) == len(b) and all(_same(p, q) for p, q in zip(a, b))
    assert not all(_same(p, q) for p, q in zip(a, c))


def test_constructor_seed_seeds_first_reset(tiny_binary):
    X, y = tiny_binary
    o1, _ = ICMDPEnv(X=X, y=y, seed=3).reset()
    o2, _ = ICMDPEnv(X=X, y=y).reset(seed=3)
    np.testing.assert_array_equal(o1, o2)


# ---- evaluation mode --------------------------------------------------------------------
def test_eval_pass_confusion_matches_direct_computation(tiny_binary):
    X, y = tiny_binary
    env = ICMDPEnv(X=X, y=y, mode="eval")
    policy = lambda o: int(o[0] > 1.5)  # noqa: E731  a threshold rule with some errors
    obs, _ = env.reset(seed=0)
    preds, steps = [], 0
    while True:
        a = policy(obs)
        obs, r, term, trunc, info = env.step(a)
        preds.append(a)
        assert info["index"] == steps  # fixed order
        steps += 1
        assert not term  # evaluation never terminates early
        if trunc:
            break
    assert steps == len(y)
    expected = confusion_matrix(y, np.array(preds), n_classes=2)
    np.testing.assert_array_equal(info["confusion_matrix"], expected)
    assert expected[1, 0] > 0 or expected[0, 1] > 0  # the rule does make mistakes


def test_split_defaults_mode(tiny_binary):
    X, y = tiny_binary
    assert ICMDPEnv(X=X, y=y).training
    assert not ICMDPEnv(X=X, y=y, mode="eval").training


# ---- observations -----------------------------------------------------------------------
def test_observation_kinds(tiny_binary, tiny_images):
    X, y = tiny_binary
    env = ICMDPEnv(X=X, y=y)
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs.shape == (4,) and env.observation_space.contains(obs)
    Xi, yi = tiny_images
    env = ICMDPEnv(X=Xi, y=yi)
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.uint8 and obs.shape == (1, 28, 28)
    env = ICMDPEnv(X=Xi[:, 0], y=yi)  # [N, H, W] gains a channel axis
    assert env.observation_space.shape == (1, 28, 28)
    tokens = np.random.default_rng(0).integers(0, 30, size=(60, 7))
    env = ICMDPEnv(X=tokens, y=yi, observation="tokens", vocab_size=40)
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.int64 and env.observation_space.high.max() == 39


def test_arrays_used_as_given(tiny_binary):
    X, y = tiny_binary
    X = X * 1000.0
    env = ICMDPEnv(X=X, y=y, mode="eval")
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(obs, X[0].astype(np.float32))
    obs[:] = 0  # mutating an observation must not touch the env's data
    obs2, *_ = env.step(0)
    np.testing.assert_array_equal(env.problem.X[0], X[0].astype(np.float32))


# ---- checkers ---------------------------------------------------------------------------
def _cases(tiny_binary, tiny_images, tiny_multiclass):
    tokens = np.random.default_rng(0).integers(0, 30, size=(60, 7))
    return {
        "tabular": dict(X=tiny_binary[0], y=tiny_binary[1]),
        "image": dict(X=tiny_images[0], y=tiny_images[1]),
        "multiclass": dict(X=tiny_multiclass[0], y=tiny_multiclass[1]),
        "tokens": dict(X=tokens, y=tiny_images[1], observation="tokens"),
        "eval": dict(X=tiny_binary[0], y=tiny_binary[1], mode="eval"),
    }


@pytest.mark.parametrize("case", ["tabular", "image", "multiclass", "tokens", "eval"])
def test_gymnasium_and_sb3_checkers_pass(case, tiny_binary, tiny_images, tiny_multiclass):
    kwargs = _cases(tiny_binary, tiny_images, tiny_multiclass)[case]
    env = gym.make(ENV_ID, **kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env)
    unexpected = [str(w.message) for w in caught
                  if not any(a in str(w.message) for a in ALLOWED_WARNINGS)]
    assert unexpected == []


def test_registration_and_make_vec(tiny_binary):
    X, y = tiny_binary
    assert isinstance(gym.make(ENV_ID, X=X, y=y).unwrapped, ICMDPEnv)
    env = gym.make("imbalance_gym:imbalance_gym/ICMDP-v0", X=X, y=y)
    assert isinstance(env.unwrapped, ICMDPEnv)
    venv = gym.make_vec(ENV_ID, num_envs=3, X=X, y=y)
    assert isinstance(venv, ICMDPVectorEnv)
    assert venv.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert venv.observation_space.shape == (3, 4)
    venv2 = gym.make_vec(ENV_ID, num_envs=2, X=X, y=y, autoreset_mode="next_step")
    assert venv2.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP


# ---- vector env: the same trajectories as single envs ------------------------------------
def _compare_infos(ia, ib):
    for key in ("label", "index", "confusion_matrix"):
        if key in ib:
            mask = ib["_" + key]
            np.testing.assert_array_equal(ia["_" + key], mask)
            np.testing.assert_array_equal(np.asarray(ia[key])[mask], np.asarray(ib[key])[mask])
        elif key in ia:
            assert not ia["_" + key].any()
    assert ("final_obs" in ia) == ("final_obs" in ib)
    if "final_obs" in ib:
        np.testing.assert_array_equal(ia["_final_obs"], ib["_final_obs"])
        for lane in np.flatnonzero(ib["_final_obs"]):
            np.testing.assert_array_equal(ia["final_obs"][lane], ib["final_obs"][lane])
        _compare_infos(ia["final_info"], ib["final_info"])


@pytest.mark.parametrize("autoreset", ["same_step", "next_step"])
@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("data", ["binary", "multiclass"])
def test_vector_env_equals_single_envs(autoreset, mode, data, tiny_binary, tiny_multiclass):
    X, y = tiny_binary if data == "binary" else tiny_multiclass
    n_classes = int(y.max()) + 1
    E = 6
    venv = ICMDPVectorEnv(num_envs=E, X=X, y=y, mode=mode, autoreset_mode=autoreset)
    sync = SyncVectorEnv(
        [lambda: ICMDPEnv(X=X, y=y, mode=mode) for _ in range(E)],
        autoreset_mode=AutoresetMode(venv.metadata["autoreset_mode"]),
    )
    oa, _ = venv.reset(seed=11)
    ob, _ = sync.reset(seed=11)
    np.testing.assert_array_equal(oa, ob)
    rng = np.random.default_rng(3)
    ended = 0
    # Mostly-correct actions make episodes long enough to cross the single env's draw
    # chunks, and enough of them end to cross its prefetched block of episode starts.
    for _ in range(2500):
        actions = rng.integers(0, n_classes, E)
        ra = venv.step(actions)
        rb = sync.step(actions)
        for k in range(4):
            np.testing.assert_array_equal(ra[k], rb[k])
        _compare_infos(ra[4], rb[4])
        ended += int(np.sum(rb[2] | rb[3]))
    assert ended > 64 * 2


def test_vector_long_episodes_match_single(tiny_binary):
    """An oracle policy runs whole passes (longer than the single env's draw chunks)."""
    X, y = tiny_binary
    Xb = np.repeat(X, 5, axis=0)
    yb = np.repeat(y, 5)
    Xb = Xb + np.arange(len(yb))[:, None] * 1e-3  # distinct rows, so obs identify the row
    E = 3
    venv = ICMDPVectorEnv(num_envs=E, X=Xb, y=yb)
    singles = [ICMDPEnv(X=Xb, y=yb) for _ in range(E)]
    obs_v, _ = venv.reset(seed=4)
    obs_s = [s.reset(seed=4 + i)[0] for i, s in enumerate(singles)]
    X32 = Xb.astype(np.float32)
    for _ in range(3 * len(yb)):
        rows = [int(np.flatnonzero((X32 == o).all(1))[0]) for o in obs_s]
        actions = yb[rows]
        obs_v, rv, tv, trv, _ = venv.step(actions)
        nxt = []
        for i, s in enumerate(singles):
            o, r, t, tr, _ = s.step(int(actions[i]))
            assert r == rv[i] and t == tv[i] and tr == trv[i]
            if t or tr:
                o, _ = s.reset()
            nxt.append(o)
        obs_s = nxt
        np.testing.assert_array_equal(obs_v, np.stack(obs_s))


def test_vector_seed_list_and_unseeded_reset(tiny_binary):
    X, y = tiny_binary
    venv = ICMDPVectorEnv(num_envs=2, X=X, y=y)
    o1, _ = venv.reset(seed=[5, 9])
    o2, _ = ICMDPEnv(X=X, y=y).reset(seed=9)
    np.testing.assert_array_equal(o1[1], o2)
    venv.reset()  # unseeded reset: new episodes, no error


# ---- bad input --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(X=np.zeros((5, 2)), y=np.array([0, 1, 0, 1])), ValueError, "different lengths"),
        (dict(X=np.array([[np.nan, 1], [0, 1]]), y=np.array([0, 1])), ValueError, "NaN or infinite"),
        (dict(X=np.array([[np.inf, 1], [0, 1]]), y=np.array([0, 1])), ValueError, "NaN or infinite"),
        (dict(X=np.zeros((4, 2)), y=np.zeros(4, int)), ValueError, "single class"),
        (dict(X=np.zeros((4, 2)), y=np.array([0, 0.5, 1, 1])), ValueError, "integer class labels"),
        (dict(X=np.zeros((4, 2)), y=np.array(["a", "b", "a", "b"])), TypeError, "LabelEncoder"),
        (dict(X=np.zeros((4, 2)), y=np.array([0, 2, 0, 2])), ValueError, "0..C-1"),
        (dict(X=np.zeros((4, 2)), y=np.array([0, 1, 0, 1]), reward_lambda=-0.1), ValueError, "reward_lambda"),
        (dict(X=np.zeros((4, 2)), y=np.array([0, 1, 0, 1]), mode="test"), ValueError, "mode"),
        (dict(X=np.zeros((6, 2)), y=np.array([0, 1, 2, 0, 1, 2]), reward_lambda=0.5), ValueError, "class_weights"),
        (dict(X=np.array(["a", "b"]).reshape(2, 1), y=np.array([0, 1])), TypeError, "numeric"),
        (dict(dataset="phoneme", ratio=0.0), ValueError, r"ratio must be in \(0, 1\]"),
        (dict(dataset="phoneme", ratio=1.5), ValueError, r"ratio must be in \(0, 1\]"),
        (dict(X=np.zeros((4, 2)), y=np.array([0, 1, 0, 1]), terminal_classes=(3,)), ValueError, "terminal_classes"),
    ],
)
def test_bad_input_raises_before_work(kwargs, error, match):
    with pytest.raises(error, match=match):
        ICMDPEnv(**kwargs)


def test_bad_actions_and_order(tiny_binary):
    X, y = tiny_binary
    env = ICMDPEnv(X=X, y=y)
    with pytest.raises(gym.error.ResetNeeded, match="reset"):
        env.step(0)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"outside Discrete\(2\)"):
        env.step(2)
    with pytest.raises(ValueError, match=r"outside Discrete\(2\)"):
        env.step(-1)
    with pytest.raises(TypeError, match="integer class label"):
        env.step(0.5)
    env.step(np.int64(1))  # numpy integers are fine
    venv = ICMDPVectorEnv(num_envs=3, X=X, y=y)
    with pytest.raises(gym.error.ResetNeeded):
        venv.step(np.zeros(3, int))
    venv.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        venv.step(np.zeros(2, int))
    with pytest.raises(ValueError, match="lanes"):
        venv.step(np.array([0, 1, 5]))
    with pytest.raises(TypeError, match="integer"):
        venv.step(np.zeros(3))
    with pytest.raises(ValueError, match="num_envs"):
        ICMDPVectorEnv(num_envs=0, X=X, y=y)
    with pytest.raises(ValueError, match="autoreset_mode"):
        ICMDPVectorEnv(num_envs=2, X=X, y=y, autoreset_mode="sometimes")


# ---- named tasks ------------------------------------------------------------------------
def test_unknown_dataset_lists_the_known_names():
    with pytest.raises(ValueError, match="Did you mean 'mnist'.*Known names"):
        ICMDPEnv(dataset="mnistt")


def test_bundled_task_needs_no_data_home():
    env = gym.make(ENV_ID, dataset="breast_cancer", ratio=0.1, seed=0)
    assert env.unwrapped.training and env.observation_space.shape == (30,)
    test_env = gym.make(ENV_ID, dataset="breast_cancer", ratio=0.1, split="test", seed=0)
    assert not test_env.unwrapped.training  # val/test splits default to an evaluation pass
    # lambda comes from the training split's rho in both
    assert env.unwrapped.class_weights.tolist() == test_env.unwrapped.class_weights.tolist()


@pytest.mark.data
def test_named_tasks_from_the_data_home(data_home):
    env = gym.make(ENV_ID, dataset="phoneme", ratio=0.05, seed=0, data_home=data_home)
    lam, one = env.unwrapped.class_weights
    assert one == 1.0 and lam == pytest.approx(0.05, abs=0.002)
    mnist = gym.make(ENV_ID, dataset="mnist", ratio=0.01, seed=0, data_home=data_home)
    obs, _ = mnist.reset(seed=0)
    assert obs.shape == (1, 28, 28) and obs.dtype == np.uint8
    # DQNimb Table I: 540 positives at rho = 1%, 10% of the training data held out
    y = mnist.unwrapped.problem.y
    assert abs(int(y.sum()) - 486) <= 1 and len(y) == pytest.approx(0.9 * (54042 + 540), abs=2)
    venv = gym.make_vec(ENV_ID, num_envs=8, dataset="phoneme", ratio=0.05, seed=0, data_home=data_home)
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (8, 5)
