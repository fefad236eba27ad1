"""HierarchicalAgent in one process: the loop, determinism, predict, resample, checkpoints, resume."""

from __future__ import annotations

import csv
import os
import signal

import numpy as np
import pytest
import torch

from agents.hierarchical import HierarchicalAgent
from agents.hierarchical.policies import CROSS_INSTANCE, INSTANCE_SPECIFIC, LOW_LEVEL, flat_parameters
from imbalance_gym.envs.smote_space import interpolate

from .conftest import fast_config, make_env


def weights(agent):
    return flat_parameters(agent.policies)


def test_learn_runs_algorithm_2_and_keeps_the_best_set(small_env):
    agent = HierarchicalAgent(small_env, fast_config(), seed=0)
    before = weights(agent)
    assert agent.learn(8) is agent
    assert agent.num_episodes == 8 and len(agent.history) == 8
    metrics = [h["metric"] for h in agent.history]
    assert agent.best_.metric == max(metrics) and agent.best_.episode == metrics.index(max(metrics))
    assert [h["best"] for h in agent.history] == list(np.maximum.accumulate(metrics))
    assert all(agent.num_updates[level] > 0 for level in (CROSS_INSTANCE, INSTANCE_SPECIFIC, LOW_LEVEL))
    assert agent.num_updates[CROSS_INSTANCE] == 8 // 2          # B_h1 = 2 one-step episodes per update
    assert not np.array_equal(before, weights(agent))
    # single stream: episode e acted with the weights after e - 1 episodes
    assert [h["policy_version"] for h in agent.history] == [0, 0, 1, 2, 3, 4, 5, 6]
    # the best set is made of its provenance, in the env's training rows
    best = agent.best_
    X = small_env.X_train
    rows = interpolate(X[best.provenance["source"]], X[best.provenance["neighbour"]], best.provenance["weight"])
    np.testing.assert_array_equal(rows, best.synthetic)
    assert np.all(small_env.y_train[best.provenance["source"]] == 1)
    assert best.counts.sum() == best.n_synthetic == int((best.g1 * best.g2).sum())


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    runs = []
    for seed in (3, 3, 4):
        agent = HierarchicalAgent(make_env(), fast_config(), seed=seed).learn(5)
        runs.append(([h["metric"] for h in agent.history], [h["n_synthetic"] for h in agent.history], weights(agent)))
    assert runs[0][0] == runs[1][0] and runs[0][1] == runs[1][1]
    np.testing.assert_array_equal(runs[0][2], runs[1][2])
    assert runs[0][1] != runs[2][1]


def test_predict_follows_the_level_and_the_mask():
    env = make_env(max_synthetic=6)
    agent = HierarchicalAgent(env, fast_config(), seed=0).learn(2)
    obs, _ = env.reset(seed=1)
    a0, state = agent.predict(obs)
    assert state is None and a0.shape == () and a0.dtype == np.int64 and 0 <= a0 <= env.G1
    obs, *_ = env.step(3)                    # g1 = 3: after 6 rows only g2 = 0 is valid
    seen_levels = set()
    for _ in range(200):
        a = int(agent.predict(obs, deterministic=False)[0])
        assert obs["action_mask"][a] == 1
        assert int(agent.predict(obs)[0]) == int(agent.predict(obs)[0])  # the mode is deterministic
        seen_levels.add(int(obs["level"]))
        obs, r, terminated, truncated, info = env.step(a)
        if terminated:
            break
    assert terminated and seen_levels == {1, 2}
    with pytest.raises(TypeError, match="obs"):
        agent.predict(np.zeros(3))


def test_predict_on_the_flat_env_and_for_removed_levels(small_flat_env):
    agent = HierarchicalAgent(small_flat_env, fast_config(ablation="flat"), seed=0)
    obs, _ = small_flat_env.reset(seed=0)
    assert 0 <= int(agent.predict(obs)[0]) <= 5 * small_flat_env.K
    env = make_env(G1=3, G2=4)
    fixed = HierarchicalAgent(env, fast_config(ablation="no_cross_instance"), seed=0)
    obs, _ = env.reset(seed=0)
    assert int(fixed.predict(obs)[0]) == 2              # ceil(G1 / 2)
    obs, *_ = env.step(2)
    assert int(HierarchicalAgent(env, fast_config(ablation="no_instance_specific"), seed=0).predict(obs)[0]) == 2


def test_resample_appends_the_best_rows_as_minority(small_env):
    agent = HierarchicalAgent(small_env, fast_config(), seed=0)
    with pytest.raises(RuntimeError, match="learn"):
        agent.resample()
    agent.learn(3)
    X, y = agent.resample()
    n = small_env.X_train.shape[0]
    np.testing.assert_array_equal(X[:n], small_env.X_train)
    np.testing.assert_array_equal(X[n:], agent.best_.synthetic)
    assert y[n:].tolist() == [1] * agent.best_.n_synthetic and y.shape[0] == X.shape[0]


@pytest.mark.parametrize("ablation, flat, error", [
    ("full", True, ValueError), ("flat", False, ValueError), ("random", True, ValueError),
])
def test_env_and_ablation_must_match(ablation, flat, error):
    with pytest.raises(error, match="AutoSMOTE"):
        HierarchicalAgent(make_env(flat=flat), fast_config(ablation=ablation))


def test_bad_arguments_are_rejected_before_any_work(small_env):
    with pytest.raises(TypeError, match="AutoSMOTE environment"):
        HierarchicalAgent(object())
    with pytest.raises(TypeError, match="HierarchicalConfig"):
        HierarchicalAgent(small_env, config={"num_actors": 0})
    with pytest.raises(ValueError, match="seed"):
        HierarchicalAgent(small_env, fast_config(), seed=-1)
    agent = HierarchicalAgent(small_env, fast_config())
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="total_episodes"):
            agent.learn(bad)
    with pytest.raises(ValueError, match="progress_bar"):
        agent.learn(1, progress_bar="yes")
    assert agent.num_episodes == 0


def test_an_unpicklable_env_is_refused_before_spawning():
    env = make_env(metric=lambda y_true, y_pred: float(np.mean(y_true == y_pred)))
    agent = HierarchicalAgent(env, fast_config(num_actors=1, start_method="spawn"))
    with pytest.raises(TypeError, match="pickl"):
        agent.learn(1)
    assert agent.num_episodes == 0 and agent.actor_pids == []


def test_save_and_load_round_trip(tmp_path, small_env):
    agent = HierarchicalAgent(small_env, fast_config(), seed=2).learn(5)
    path = agent.save(tmp_path / "ckpt" / "agent.pt")
    assert os.listdir(path.parent) == ["agent.pt"]          # written atomically: no temporary left
    state = torch.load(path, weights_only=True)              # loadable without pickle
    assert state["format"] == "imbalance_gym.hierarchical"
    loaded = HierarchicalAgent.load(path, small_env)
    np.testing.assert_array_equal(weights(loaded), weights(agent))
    assert (loaded.num_episodes, loaded.num_updates, loaded.seed) == (agent.num_episodes, agent.num_updates, 2)
    assert loaded.history == agent.history and loaded.config == agent.config
    assert loaded.best_.metric == agent.best_.metric and loaded.best_.episode == agent.best_.episode
    np.testing.assert_array_equal(loaded.best_.synthetic, agent.best_.synthetic)
    np.testing.assert_array_equal(loaded.best_.g2, agent.best_.g2)
    for level in agent.levels:
        for k, v in agent._buffers[level].state().items():
            np.testing.assert_array_equal(loaded._buffers[level].state()[k], v)


def test_load_checks_the_env_the_config_and_the_file(tmp_path, small_env):
    path = HierarchicalAgent(small_env, fast_config(), seed=0).learn(1).save(tmp_path / "a.pt")
    with pytest.raises(ValueError, match="does not match"):
        HierarchicalAgent.load(path, make_env(G2=4))
    with pytest.raises(ValueError, match="hidden_sizes"):
        HierarchicalAgent.load(path, small_env, config=fast_config(hidden_sizes=(16, 16)))
    with pytest.raises(ValueError, match="not a checkpoint"):
        HierarchicalAgent.load(tmp_path / "missing.pt", small_env)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="checkpoint"):
        HierarchicalAgent.load(tmp_path / "junk.pt", small_env)
    # another num_actors is fine
    assert HierarchicalAgent.load(path, small_env, config=fast_config(num_actors=2)).config.num_actors == 2


def test_resume_continues_exactly_where_the_run_stopped(tmp_path):
    straight = HierarchicalAgent(make_env(), fast_config(), seed=5).learn(9)
    first = HierarchicalAgent(make_env(), fast_config(), seed=5).learn(4)
    first.save(tmp_path / "half.pt")
    resumed = HierarchicalAgent.load(tmp_path / "half.pt", make_env())
    assert resumed.num_episodes == 4
    resumed.learn(5)
    assert resumed.num_episodes == 9 and resumed.num_updates == straight.num_updates
    assert [h["metric"] for h in resumed.history] == [h["metric"] for h in straight.history]
    assert resumed.best_.metric == straight.best_.metric and resumed.best_.episode == straight.best_.episode
    np.testing.assert_array_equal(weights(resumed), weights(straight))


def test_checkpoints_and_csv_log_during_learn(tmp_path, small_env):
    cfg = fast_config(checkpoint_path=str(tmp_path / "run.pt"), checkpoint_every=2, log_dir=str(tmp_path / "log"))
    agent = HierarchicalAgent(small_env, cfg, seed=0).learn(5)
    assert HierarchicalAgent.load(tmp_path / "run.pt", small_env).num_episodes == 5   # the final checkpoint
    agent = HierarchicalAgent.load(tmp_path / "run.pt", small_env).learn(2)           # resume appends
    with open(tmp_path / "log" / "progress.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["episode"]) for r in rows] == list(range(7))
    assert float(rows[-1]["best"]) == agent.best_.metric
    assert {"metric", "best", "policy_lag", "reward_s", "loss_low_level"} <= set(rows[0])


def test_ctrl_c_during_an_update_stops_after_it_with_a_consistent_checkpoint(tmp_path, small_env):
    cfg = fast_config(checkpoint_path=str(tmp_path / "run.pt"), checkpoint_every=100)
    agent = HierarchicalAgent(small_env, cfg, seed=0)
    consume = agent._consume

    def consume_then_ctrl_c(record, t0):
        if agent.num_episodes == 2:
            os.kill(os.getpid(), signal.SIGINT)     # arrives while the learner is busy
        return consume(record, t0)

    agent._consume = consume_then_ctrl_c
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        agent.learn(10)
    assert agent.num_episodes == 3                     # the interrupted update was finished first
    saved = HierarchicalAgent.load(tmp_path / "run.pt", small_env)
    assert saved.num_episodes == 3 and len(saved.history) == 3
    np.testing.assert_array_equal(weights(saved), weights(agent))
    assert signal.getsignal(signal.SIGINT) is handler  # the caller's handler is back


def test_every_ablation_learns_in_process():
    for ablation in ("no_cross_instance", "no_instance_specific", "no_low_level", "random", "flat"):
        env = make_env(flat=ablation == "flat")
        agent = HierarchicalAgent(env, fast_config(ablation=ablation), seed=0).learn(4)
        assert agent.num_episodes == 4 and agent.best_ is not None
        expected = {"no_cross_instance": {INSTANCE_SPECIFIC, LOW_LEVEL},
                    "no_instance_specific": {CROSS_INSTANCE, LOW_LEVEL},
                    "no_low_level": {CROSS_INSTANCE, INSTANCE_SPECIFIC}, "random": set(), "flat": {"flat"}}[ablation]
        assert set(agent.num_updates) == expected and all(n > 0 for n in agent.num_updates.values())
        if ablation == "flat":
            assert agent.best_.g1 is None and agent.best_.g2 is None
