"""VectorEnvAdapter and make_vec_env: SB3's VecEnv contract on the native ICMDP vector env."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space
from numpy.testing import assert_array_equal
from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import (
    DummyVecEnv,
    SubprocVecEnv,
    VecCheckNan,
    VecMonitor,
    VecNormalize,
)

import imbalance_gym
from agents.sb3 import VectorEnvAdapter, make_model, make_vec_env, split_vector_info
from imbalance_gym.envs import ICMDPEnv, ICMDPVectorEnv

ICMDP = "imbalance_gym/ICMDP-v0"


def random_actions(n_steps: int, n_envs: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, size=(n_steps, n_envs))


def lockstep(first, second, n_steps: int, seed: int):
    """Reset two VecEnvs, then step both with the same random actions; yield both results."""
    yield first.reset(), second.reset()
    for actions in random_actions(n_steps, first.num_envs, seed):
        yield first.step(actions), second.step(actions)


# --------------------------------------------------------------------------------------
# Translation on a hand-made Gymnasium vector env whose every info is known
# --------------------------------------------------------------------------------------
class CountingVectorEnv(gym.vector.VectorEnv):
    """Lane i counts its steps; its episodes last i + 2 steps and end by termination on
    even lanes, by truncation on odd lanes. Reset infos carry an episode counter."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, num_envs: int = 3):
        self.num_envs = num_envs
        self.single_observation_space = spaces.Box(0, 100, (1,), np.float32)
        self.single_action_space = spaces.Discrete(2)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.render_mode = None
        self.t = np.zeros(num_envs, np.int64)
        self.episode = np.zeros(num_envs, np.int64)
        self.length = np.arange(num_envs) + 2
        self.reset_calls: list[tuple] = []

    def reset(self, *, seed=None, options=None):
        self.reset_calls.append((seed, options))
        self.t[:] = 0
        return self._obs(), {"episode_id": self.episode.copy(), "_episode_id": np.ones(self.num_envs, bool)}

    def _obs(self):
        return self.t.astype(np.float32)[:, None]

    def step(self, actions):
        assert np.asarray(actions).shape == (self.num_envs,)
        self.t += 1
        done = self.t >= self.length
        lanes = np.arange(self.num_envs)
        terminated = done & (lanes % 2 == 0)
        truncated = done & (lanes % 2 == 1)
        info = {"t": self.t.copy(), "_t": ~done}
        if done.any():
            final_obs = np.empty(self.num_envs, dtype=object)
            for i in np.flatnonzero(done):
                final_obs[i] = self._obs()[i]
            info["final_obs"], info["_final_obs"] = final_obs, done
            info["final_info"] = {"t": self.t.copy(), "_t": done}
            info["_final_info"] = done
            self.t[done] = 0
            self.episode[done] += 1
            info["episode_id"], info["_episode_id"] = self.episode.copy(), done
        return self._obs(), np.ones(self.num_envs), terminated, truncated, info

    def double(self, k):
        return 2 * k


def test_split_vector_info_follows_masks_and_nesting():
    info = {"a": np.array([1, 2, 3]), "_a": np.array([True, False, True]),
            "m": np.arange(12).reshape(3, 2, 2), "_m": np.array([False, True, False]),
            "inner": {"b": np.array([0.5, 1.5, 2.5]), "_b": np.array([False, False, True])},
            "_inner": np.array([True, True, True])}
    lanes = split_vector_info(info, 3)
    assert lanes[0] == {"a": 1, "inner": {}}
    assert lanes[2] == {"a": 3, "inner": {"b": 2.5}}
    assert set(lanes[1]) == {"m", "inner"}
    assert_array_equal(lanes[1]["m"], [[4, 5], [6, 7]])
    assert type(lanes[0]["a"]) is int  # a Python scalar, as a single env reports it


def test_adapter_translates_episode_ends_terminal_obs_and_reset_infos():
    toy = CountingVectorEnv(3)
    venv = VectorEnvAdapter(toy)
    obs = venv.reset()
    assert_array_equal(obs[:, 0], 0)
    assert venv.reset_infos == [{"episode_id": 0}] * 3
    for step in range(1, 13):
        obs, rewards, dones, infos = venv.step(np.zeros(3, np.int64))
        assert rewards.dtype == np.float32
        for i in range(3):
            ended = step % (i + 2) == 0
            assert dones[i] == ended
            if ended:
                assert infos[i]["t"] == i + 2  # the last step's info, not the reset's
                assert_array_equal(infos[i]["terminal_observation"], [i + 2])
                assert infos[i]["TimeLimit.truncated"] == (i % 2 == 1)
                assert obs[i, 0] == 0
                assert venv.reset_infos[i] == {"episode_id": step // (i + 2)}
            else:
                assert infos[i] == {"t": step % (i + 2), "TimeLimit.truncated": False}


def test_adapter_seeds_options_and_shared_attributes():
    toy = CountingVectorEnv(3)
    venv = VectorEnvAdapter(toy)
    assert venv.seed(5) == [5, 6, 7]
    venv.set_options({"level": 1})
    venv.reset()
    venv.reset()
    assert toy.reset_calls == [([5, 6, 7], {"level": 1}), (None, None)]  # used once each
    venv.set_options([{"a": 1}, {"a": 2}, {"a": 1}])
    with pytest.raises(ValueError, match="same options"):
        venv.reset()

    assert venv.get_attr("length") == [toy.length] * 3
    assert venv.get_attr("length", indices=[2]) == [toy.length]
    assert venv.env_method("double", 4) == [8, 8, 8]
    assert venv.env_method("double", k=1, indices=1) == [2]
    assert venv.env_is_wrapped(gym.Wrapper) == [False, False, False]
    assert venv.has_attr("double") and not venv.has_attr("action_masks")
    with pytest.raises(AttributeError, match="no_such"):
        venv.get_attr("no_such")
    venv.set_attr("flag", 3)
    assert toy.flag == 3
    with pytest.raises(ValueError, match="all of them"):
        venv.set_attr("flag", 4, indices=[0, 1])
    with pytest.raises(ValueError, match="lanes in 0..2"):
        venv.get_attr("length", indices=[3])


def test_adapter_rejects_next_step_autoreset_and_non_vector_envs(tiny_binary):
    X, y = tiny_binary
    with pytest.raises(ValueError, match="same step"):
        VectorEnvAdapter(ICMDPVectorEnv(2, autoreset_mode="next_step", X=X, y=y))
    with pytest.raises(TypeError, match="gymnasium.vector.VectorEnv"):
        VectorEnvAdapter(ICMDPEnv(X=X, y=y))


# --------------------------------------------------------------------------------------
# ICMDP: the native lanes replay single envs, step by step
# --------------------------------------------------------------------------------------
def test_native_lanes_replay_single_envs_step_by_step(short_episodes):
    X, y = short_episodes
    n_envs, seed = 3, 7
    venv = make_vec_env(ICMDP, n_envs=n_envs, seed=seed, monitor=False, X=X, y=y)
    assert isinstance(venv, VectorEnvAdapter)
    singles = [ICMDPEnv(X=X, y=y) for _ in range(n_envs)]
    obs = venv.reset()
    assert_array_equal(obs, np.stack([env.reset(seed=seed + i)[0] for i, env in enumerate(singles)]))
    ends = {"terminated": 0, "truncated": 0}
    for actions in random_actions(300, n_envs):
        obs, rewards, dones, infos = venv.step(actions)
        for i, env in enumerate(singles):
            o, r, terminated, truncated, info = env.step(int(actions[i]))
            assert rewards[i] == np.float32(r)
            assert dones[i] == (terminated or truncated)
            assert (infos[i]["label"], infos[i]["index"]) == (info["label"], info["index"])
            # SB3 bootstraps exactly on truncation: running out of data, not a misclassified minority
            assert infos[i]["TimeLimit.truncated"] == (truncated and not terminated)
            if terminated or truncated:
                assert_array_equal(infos[i]["terminal_observation"], o)
                ends["truncated" if truncated else "terminated"] += 1
                o, _ = env.reset()
            else:
                assert "terminal_observation" not in infos[i]
            assert_array_equal(obs[i], o)
    assert ends["terminated"] > 5 and ends["truncated"] > 5


def test_native_matches_sb3_dummy_vec_env_infos_and_monitor(short_episodes):
    """The adapter reports exactly what SB3's own DummyVecEnv (+ Monitor) reports."""
    X, y = short_episodes
    native = make_vec_env(ICMDP, n_envs=3, seed=1, X=X, y=y)
    dummy = make_vec_env(ICMDP, n_envs=3, seed=1, X=X, y=y, vec_env_cls=DummyVecEnv)
    assert isinstance(native, VecMonitor) and isinstance(dummy, DummyVecEnv)
    steps = lockstep(native, dummy, 200, seed=1)
    assert_array_equal(*next(steps))
    n_episodes = 0
    for (o1, r1, d1, i1), (o2, r2, d2, i2) in steps:
        assert_array_equal(o1, o2)
        assert_array_equal(r1, r2)
        assert_array_equal(d1, d2)
        for a, b in zip(i1, i2):
            assert a.keys() == b.keys()
            for key in a:
                if key == "episode":
                    assert a[key]["l"] == b[key]["l"]
                    assert a[key]["r"] == pytest.approx(b[key]["r"], abs=1e-5)
                    n_episodes += 1
                else:
                    assert_array_equal(a[key], b[key])
    assert n_episodes > 10


def test_eval_mode_confusion_matrix_reaches_sb3_infos(short_episodes):
    X, y = short_episodes
    venv = make_vec_env(ICMDP, n_envs=2, monitor=False, X=X, y=y, mode="eval")
    venv.reset()
    actions = np.zeros((len(y), 2), np.int64)
    actions[:, 1] = 1
    for t, a in enumerate(actions):
        _, _, dones, infos = venv.step(a)
        assert dones.all() == (t == len(y) - 1)
    n_min = int(y.sum())
    assert_array_equal(infos[0]["confusion_matrix"], [[len(y) - n_min, 0], [n_min, 0]])
    assert_array_equal(infos[1]["confusion_matrix"], [[0, len(y) - n_min], [0, n_min]])
    assert all(info["TimeLimit.truncated"] for info in infos)


@pytest.mark.parametrize(("data", "kind", "dtype"), [("tiny_binary", "tabular", np.float32),
                                                    ("tiny_images", "image", np.uint8),
                                                    ("tiny_tokens", "tokens", np.int64)])
def test_observations_match_the_observation_space(data, kind, dtype, request):
    X, y = request.getfixturevalue(data)
    venv = make_vec_env(ICMDP, n_envs=2, seed=0, X=X, y=y, observation=kind)
    space = venv.observation_space
    assert space == ICMDPEnv(X=X, y=y, observation=kind).observation_space and space.dtype == dtype
    obs = venv.reset()
    assert obs.shape == (2, *space.shape) and obs.dtype == space.dtype
    terminal = []
    for actions in random_actions(60, 2):
        obs, _, dones, infos = venv.step(actions)
        assert obs.shape == (2, *space.shape) and obs.dtype == space.dtype
        assert all(space.contains(o) for o in obs)
        terminal += [infos[i]["terminal_observation"] for i in np.flatnonzero(dones)]
    assert terminal and all(space.contains(o) for o in terminal)


def test_icmdp_attributes_through_the_adapter(tiny_binary):
    X, y = tiny_binary
    venv = make_vec_env(ICMDP, n_envs=3, X=X, y=y)
    assert venv.get_attr("n_classes") == [2, 2, 2]
    assert venv.env_is_wrapped(gym.Wrapper) == [False] * 3
    assert not is_masking_supported(venv)  # the ICMDP has no action masks
    assert venv.get_attr("render_mode") == [None] * 3


# --------------------------------------------------------------------------------------
# SB3's own wrappers and tools on the adapter
# --------------------------------------------------------------------------------------
def test_vec_normalize_normalises_observations_and_terminal_observations(short_episodes):
    X, y = short_episodes
    raw = make_vec_env(ICMDP, n_envs=2, seed=3, monitor=False, X=X, y=y)
    norm = VecNormalize(make_vec_env(ICMDP, n_envs=2, seed=3, monitor=False, X=X, y=y),
                        norm_reward=False)
    steps = lockstep(raw, norm, 80, seed=2)
    next(steps)
    n_terminal = 0
    for (o_raw, r_raw, d_raw, i_raw), (o_norm, r_norm, d_norm, i_norm) in steps:
        assert_array_equal(d_raw, d_norm)
        assert_array_equal(r_raw, r_norm)
        np.testing.assert_allclose(o_norm, norm.normalize_obs(o_raw), rtol=1e-6)
        assert_array_equal(norm.get_original_obs(), o_raw)
        for i in np.flatnonzero(d_raw):
            np.testing.assert_allclose(i_norm[i]["terminal_observation"],
                                       norm.normalize_obs(i_raw[i]["terminal_observation"]), rtol=1e-6)
            n_terminal += 1
    assert n_terminal > 0


def test_vec_monitor_episode_statistics_equal_the_rewards(short_episodes):
    X, y = short_episodes
    venv = make_vec_env(ICMDP, n_envs=2, seed=4, X=X, y=y)
    venv.reset()
    returns, lengths = np.zeros(2), np.zeros(2, int)
    checked = 0
    for actions in random_actions(100, 2, seed=4):
        _, rewards, dones, infos = venv.step(actions)
        returns += rewards
        lengths += 1
        for i in np.flatnonzero(dones):
            assert infos[i]["episode"]["l"] == lengths[i]
            assert infos[i]["episode"]["r"] == pytest.approx(returns[i], abs=1e-5)
            returns[i], lengths[i] = 0.0, 0
            checked += 1
    assert checked > 5


def test_evaluate_policy_and_vec_check_nan_run_without_warnings(short_episodes):
    X, y = short_episodes
    venv = VecCheckNan(make_vec_env(ICMDP, n_envs=2, seed=0, X=X, y=y), raise_exception=True)
    model = make_model("a2c", venv, seed=0, n_steps=8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.learn(64)
        rewards, lengths = evaluate_policy(model, venv, n_eval_episodes=6, return_episode_rewards=True)
    assert len(rewards) == len(lengths) == 6
    # an episode scores at most every row once; each reward is +-1 or +-lambda
    assert all(1 <= n <= len(y) for n in lengths)
    assert all(abs(r) <= n for r, n in zip(rewards, lengths))


# --------------------------------------------------------------------------------------
# AutoSMOTE: per-env VecEnvs, masks through env_method
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("env_id", ["imbalance_gym/AutoSMOTE-v0", "imbalance_gym/AutoSMOTE-Flat-v0"])
def test_autosmote_builds_per_env_vec_env_with_masks(env_id, smote_kwargs):
    venv = make_vec_env(env_id, n_envs=2, seed=0, **smote_kwargs)
    assert isinstance(venv, DummyVecEnv)
    obs = venv.reset()
    masks = get_action_masks(venv)
    assert masks.shape == (2, venv.action_space.n) and masks.dtype == bool
    assert_array_equal(masks, obs["action_mask"].astype(bool))
    assert is_masking_supported(VecNormalize(venv, norm_obs=False))  # wrappers forward it


def test_subproc_vec_env_gives_the_same_start_as_dummy(smote_kwargs):
    env_id = "imbalance_gym/AutoSMOTE-v0"
    dummy = make_vec_env(env_id, n_envs=2, seed=0, **smote_kwargs)
    sub = make_vec_env(env_id, n_envs=2, seed=0, vec_env_cls=SubprocVecEnv,
                       vec_env_kwargs={"start_method": "fork"}, **smote_kwargs)
    try:
        o1, o2 = dummy.reset(), sub.reset()
        for key in o1:
            assert_array_equal(o1[key], o2[key])
        assert_array_equal(get_action_masks(dummy), get_action_masks(sub))
    finally:
        sub.close()


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------
def test_unknown_env_id_lists_the_known_ones():
    with pytest.raises(ValueError, match="known ids") as err:
        make_vec_env("CartPole-v1")
    for env_id in imbalance_gym.ENV_IDS:
        assert env_id in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_envs": 0}, ValueError, "n_envs must be a positive integer, got 0"),
        ({"n_envs": 2.0}, ValueError, "n_envs"),
        ({"seed": -1}, ValueError, "seed must be None or a non-negative integer, got -1"),
        ({"num_envs": 4}, ValueError, r"\['num_envs'\]"),
        ({"autoreset_mode": "next_step"}, ValueError, "autoreset_mode"),
        ({"vec_env_cls": dict}, TypeError, "vec_env_cls must be a VecEnv class"),
        ({"vec_env_kwargs": {"start_method": "fork"}}, ValueError, "vec_env_kwargs apply to vec_env_cls"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, match, tiny_binary):
    X, y = tiny_binary
    with pytest.raises(error, match=match):
        make_vec_env(ICMDP, X=X, y=y, **kwargs)


def test_env_id_must_be_a_string_and_module_prefix_is_accepted(tiny_binary):
    X, y = tiny_binary
    with pytest.raises(TypeError, match="env_id must be a string"):
        make_vec_env(ICMDPEnv)
    venv = make_vec_env("imbalance_gym:" + ICMDP, n_envs=2, X=X, y=y)
    assert venv.reset().shape == (2, 4)
