"""DQNImb agent: smoke run, transitions it stores, determinism, checkpoints, errors, learning."""

from __future__ import annotations

import json
import zipfile

import gymnasium as gym
import numpy as np
import pytest
import torch

import imbalance_gym  # noqa: F401  (registers the env ids)
from agents.dqn import DQNImb, DQNImbConfig
from imbalance_gym.envs import ICMDPEnv, ICMDPVectorEnv
from imbalance_gym.metrics import g_mean


def _vec(X, y, num_envs=8, **kwargs):
    return gym.make_vec("imbalance_gym/ICMDP-v0", num_envs=num_envs, X=X, y=y, **kwargs)


def _weights(agent):
    return [p.detach().clone() for p in agent.q_net.parameters()]


def test_smoke_run_through_the_python_api(tiny_binary, fast_config):
    X, y = tiny_binary
    agent = DQNImb(_vec(X, y), fast_config, seed=0, eval_data=(X, y))
    assert agent.learn(progress_bar=False) is agent
    assert agent.num_timesteps == 320  # 40 vector steps of 8 lanes
    # One gradient step per transition after learning_starts (replay ratio 1).
    assert agent.num_updates == 320 - 64
    actions, state = agent.predict(X)
    assert state is None and actions.shape == (100,) and actions.dtype == np.int64
    assert set(np.unique(actions)) <= {0, 1}
    assert agent.q_values(X).shape == (100, 2) and agent.q_values(X[0]).shape == (2,)
    assert agent.predict(X[0])[0].shape == ()
    scores = agent.evaluate(X, y)
    assert {"g_mean", "f_measure", "macro_f1", "mcc", "precision", "recall", "confusion_matrix"} <= set(scores)
    assert np.sum(scores["confusion_matrix"]) == 100
    assert scores["g_mean"] == pytest.approx(g_mean(y, actions))
    # Validation passes at steps 160 and 320; the kept weights are the best of them.
    assert [h["step"] for h in agent.history] == [160, 320]
    best = max(h["g_mean"] for h in agent.history)
    assert agent.best_score[0] == best and scores["g_mean"] == pytest.approx(best)


def test_truncated_transitions_store_the_final_observation_as_next_state(fast_config):
    # Evaluation mode: rows in fixed order 0, 1, 2, never terminated, truncated after row 2;
    # on the final step the env's final observation is the first sample, row 0.
    X = np.arange(9, dtype=np.float32).reshape(3, 3)
    y = np.array([0, 1, 0])
    env = ICMDPVectorEnv(1, X=X, y=y, mode="eval")
    cfg = fast_config.replace(num_envs=1, total_timesteps=6, learning_starts=1000, batch_size=4)
    agent = DQNImb(env, cfg, seed=0)
    agent.learn()
    mem = agent.replay
    assert mem.obs[:6, 0].tolist() == [0, 3, 6, 0, 3, 6]
    assert mem.next_obs[:6, 0].tolist() == [3, 6, 0, 3, 6, 0]
    assert mem.truncated[:6].tolist() == [False, False, True, False, False, True]
    assert not mem.terminated[:6].any()


def test_training_mode_terminates_exactly_on_misclassified_minority(tiny_binary, fast_config):
    X, y = tiny_binary
    cfg = fast_config.replace(learning_starts=10_000)  # random actions only, no updates
    agent = DQNImb(_vec(X, y), cfg, seed=3)
    agent.learn()
    n = len(agent.replay)
    r, term = agent.replay.rewards[:n], agent.replay.terminated[:n]
    assert term.any()
    assert torch.equal(term, r == -1.0)  # eq. (1): only a wrong minority label gives -1


def test_single_env_is_wrapped_into_lanes_over_the_same_data(tiny_binary, fast_config):
    X, y = tiny_binary
    agent = DQNImb(gym.make("imbalance_gym/ICMDP-v0", X=X, y=y, reward_lambda=0.5),
                   fast_config.replace(num_envs=4), seed=0)
    assert isinstance(agent.env, ICMDPVectorEnv) and agent.env.num_envs == 4
    np.testing.assert_array_equal(agent.env.problem.X, X.astype(np.float32))
    assert agent.env.problem.class_weights.tolist() == [0.5, 1.0]  # same reward table
    with pytest.warns(UserWarning, match="wrappers"):
        wrapped = gym.wrappers.TimeLimit(ICMDPEnv(X=X, y=y), max_episode_steps=10)
        assert DQNImb(wrapped, fast_config.replace(num_envs=2), seed=0).env.num_envs == 2


def test_same_seed_same_actions_and_weights(tiny_binary, fast_config):
    X, y = tiny_binary
    runs = []
    for seed in (5, 5, 6):
        agent = DQNImb(_vec(X, y), fast_config, seed=seed, eval_data=(X, y))
        agent.learn()
        runs.append((_weights(agent), agent.predict(X)[0], agent.q_values(X), agent.replay.actions.clone()))
    (w1, a1, q1, acts1), (w2, a2, q2, acts2), (w3, _, _, acts3) = runs
    assert all(torch.equal(p, q) for p, q in zip(w1, w2))
    assert np.array_equal(a1, a2) and np.array_equal(q1, q2)
    assert torch.equal(acts1, acts2)  # the exploration actions too
    assert not all(torch.equal(p, q) for p, q in zip(w1, w3))
    assert not torch.equal(acts1, acts3)


def test_learn_leaves_torch_global_rng_alone(tiny_binary, fast_config):
    X, y = tiny_binary
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    DQNImb(_vec(X, y), fast_config, seed=0).learn()
    assert torch.equal(torch.rand(3), expected)


def test_save_load_roundtrip(tmp_path, tiny_binary, fast_config, monkeypatch):
    X, y = tiny_binary
    agent = DQNImb(_vec(X, y), fast_config, seed=0, eval_data=(X, y))
    agent.learn()
    path = agent.save(tmp_path / "agent.zip")
    with zipfile.ZipFile(path) as zf:
        names = sorted(zf.namelist())
        meta = json.loads(zf.read("metadata.json"))
    assert names == ["metadata.json", "optimizer.pt", "q_net.pt", "target_net.pt"]
    assert meta["observation_space"]["shape"] == [4] and meta["n_classes"] == 2 and meta["network"] == "mlp"

    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    loaded = DQNImb.load(path, device="cpu")
    assert calls == [True, True, True]
    assert np.array_equal(loaded.q_values(X), agent.q_values(X))
    assert np.array_equal(loaded.predict(X)[0], agent.predict(X)[0])
    assert loaded.evaluate(X, y) == agent.evaluate(X, y)
    assert loaded.history == agent.history and loaded.num_timesteps == agent.num_timesteps
    with pytest.raises(ValueError, match="no env"):
        loaded.learn(10)
    # With an env the loaded agent keeps training.
    resumed = DQNImb.load(path, env=_vec(X, y), device="cpu")
    resumed.learn(64)
    assert resumed.num_timesteps == agent.num_timesteps + 64


def test_load_rejects_other_observation_space_and_architecture(tmp_path, tiny_binary, fast_config):
    X, y = tiny_binary
    path = DQNImb(_vec(X, y), fast_config, seed=0).save(tmp_path / "a.zip")
    with pytest.raises(ValueError, match=r"observation space \(5,\).*\(4,\)"):
        DQNImb.load(path, env=_vec(np.hstack([X, X[:, :1]]), y))
    # A checkpoint whose config names another MLP than the weights it holds.
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "metadata.json":
                meta = json.loads(data)
                meta["config"]["hidden_sizes"] = [32]
                data = json.dumps(meta)
            dst.writestr(name, data)
    with pytest.raises(ValueError, match="does not fit the 'mlp' network"):
        DQNImb.load(bad)
    not_zip = tmp_path / "x.zip"
    not_zip.write_text("hello")
    with pytest.raises(ValueError, match="not a DQNImb checkpoint"):
        DQNImb.load(not_zip)


def test_bad_input_errors(tiny_binary, fast_config):
    X, y = tiny_binary
    with pytest.raises(TypeError, match="env must be"):
        DQNImb("phoneme", fast_config)
    with pytest.raises(ValueError, match="autoreset"):
        DQNImb(ICMDPVectorEnv(2, X=X, y=y, autoreset_mode="next_step"), fast_config)
    with pytest.raises(ValueError, match="network='cnn' does not fit"):
        DQNImb(_vec(X, y), fast_config.replace(network="cnn"))
    with pytest.raises(ValueError, match="DQNImbConfig.network"):
        fast_config.replace(network="resnet")
    with pytest.raises(TypeError, match="config must be a DQNImbConfig"):
        DQNImb(_vec(X, y), {"gamma": 0.1})
    with pytest.raises(ValueError, match="seed"):
        DQNImb(_vec(X, y), fast_config, seed=-1)
    with pytest.raises(ValueError, match="eval_data"):
        DQNImb(_vec(X, y), fast_config, eval_data=(X, y[:-1]))
    agent = DQNImb(_vec(X, y), fast_config, seed=0)
    with pytest.raises(ValueError, match=r"shape \[N, 4\].*\(100, 3\)"):
        agent.predict(X[:, :3])
    with pytest.raises(ValueError, match="total_timesteps"):
        agent.learn(0)


def test_image_observations_use_the_cnn(tiny_images, fast_config):
    X, y = tiny_images
    cfg = fast_config.replace(total_timesteps=96, learning_starts=64, batch_size=8, eval_freq=96)
    agent = DQNImb(_vec(X, y, num_envs=16), cfg, seed=0, eval_data=(X[:, 0], y))  # [N, H, W] accepted
    agent.learn()
    assert agent.network_kind == "cnn"
    assert agent.replay.obs.dtype == torch.uint8
    assert agent.predict(X)[0].shape == (60,)
    with pytest.raises(TypeError, match="uint8"):
        agent.predict(X.astype(np.float32))


@pytest.mark.slow
def test_dqnimb_learns_a_separable_imbalanced_toy_set(toy_split):
    X_tr, y_tr, X_va, y_va, X_te, y_te = toy_split
    cfg = DQNImbConfig(total_timesteps=4_000, learning_starts=256, hidden_sizes=(64,), num_envs=16,
                       learning_rate=1e-3, eval_freq=500, target_update_interval=200,
                       exploration_fraction=0.2, device="cpu", progress_bar=False)
    agent = DQNImb(_vec(X_tr, y_tr, num_envs=16), cfg, seed=0, eval_data=(X_va, y_va))
    agent.learn()
    test = agent.evaluate(X_te, y_te)
    assert test["g_mean"] >= 0.9, test
    assert test["recall"] >= 0.85, test  # the minority class is found, not ignored
