"""Actor processes: same numbers as in-process, fork and spawn, dead and failing actors, Ctrl-C, no zombies."""

from __future__ import annotations

import multiprocessing
import os
import signal

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.tree import DecisionTreeClassifier

from agents.hierarchical import HierarchicalAgent
from agents.hierarchical.actors import pack_record, unpack_record
from agents.hierarchical.policies import flat_parameters
from agents.hierarchical.rollout import episode_rng, play_episode

from .conftest import acting_policies, fast_config, make_env


class DiesOnce(BaseEstimator, ClassifierMixin):
    """A decision tree whose first fit (over all processes) SIGKILLs the process fitting it."""

    def __init__(self, marker: str = ""):
        self.marker = marker

    def fit(self, X, y):
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL)  # exactly one process wins
        except FileExistsError:
            self.tree_ = DecisionTreeClassifier(random_state=0).fit(X, y)
            return self
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)

    def predict(self, X):
        return self.tree_.predict(X)


class Fails(BaseEstimator, ClassifierMixin):
    """A classifier that raises."""

    def fit(self, X, y):
        raise ValueError("this classifier always fails")

    def predict(self, X):
        return np.zeros(len(X), dtype=np.int64)


def watch_pids(agent):
    """Record the actor pids the agent runs, episode by episode."""
    seen: set[int] = set()
    consume = agent._consume

    def watching(record, t0):
        seen.update(agent.actor_pids)
        return consume(record, t0)

    agent._consume = watching
    return seen


def assert_reaped(pids):
    assert pids, "no actor process was seen"
    assert multiprocessing.active_children() == []
    for pid in pids:
        with pytest.raises(ProcessLookupError):  # gone, not a zombie
            os.kill(pid, 0)


def test_pack_round_trip():
    env = make_env()
    record = play_episode(env, None, episode_rng(0, 0, 0, 0), "random")
    acting, _ = acting_policies(env)
    for rec in (record, play_episode(env, acting, episode_rng(0, 0, 0, 2), "full")):
        meta, blobs, layout = pack_record(rec)
        assert len(blobs) <= 4                          # one tensor per dtype
        back = unpack_record(meta, blobs, layout)
        assert back.metric == rec.metric and set(back.levels) == set(rec.levels)
        for k, v in rec.result.items():
            np.testing.assert_array_equal(back.result[k], v)
        for level, steps in rec.levels.items():
            for name, value in steps.arrays().items():
                np.testing.assert_array_equal(getattr(back.levels[level], name), value)


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_one_actor_process_gives_the_in_process_numbers(start_method):
    episodes = 6 if start_method == "fork" else 3   # spawn re-imports torch in the child: keep it short
    local = HierarchicalAgent(make_env(), fast_config(), seed=1).learn(episodes)
    agent = HierarchicalAgent(make_env(), fast_config(num_actors=1, start_method=start_method), seed=1)
    pids = watch_pids(agent)
    agent.learn(episodes)
    assert [h["metric"] for h in agent.history] == [h["metric"] for h in local.history]
    assert [h["policy_version"] for h in agent.history] == [h["policy_version"] for h in local.history]
    np.testing.assert_array_equal(flat_parameters(agent.policies), flat_parameters(local.policies))
    assert {h["actor"] for h in agent.history} == {0}
    assert_reaped(pids)


def test_several_actors_share_the_work_with_bounded_episodes_in_flight():
    cfg = fast_config(num_actors=2, max_in_flight=2)
    agent = HierarchicalAgent(make_env(), cfg, seed=0)
    pids = watch_pids(agent)
    agent.learn(12)
    assert agent.num_episodes == 12 and len(pids) == 2
    history = agent.history
    assert {h["actor"] for h in history} == {0, 1}
    # When an actor started its k-th episode with weights version v, at most max_in_flight - 1 of
    # its earlier episodes were still unused: the first v used episodes hold >= k - M + 1 of its own.
    for e, h in enumerate(history):
        a, v = h["actor"], h["policy_version"]
        k = sum(1 for r in history[:e] if r["actor"] == a)
        used = sum(1 for r in history[:v] if r["actor"] == a)
        assert 0 <= v <= e and k - used < cfg.max_in_flight
    assert_reaped(pids)


@pytest.mark.parametrize("num_actors", [1, 2])
def test_a_killed_actor_is_replaced_and_training_completes(tmp_path, num_actors):
    env = make_env(classifier=DiesOnce(marker=str(tmp_path / "died")))
    agent = HierarchicalAgent(env, fast_config(num_actors=num_actors), seed=0)
    pids = watch_pids(agent)
    agent.learn(6)
    assert (tmp_path / "died").exists()                 # one actor did die
    assert agent.actor_restarts == 1 and agent.num_episodes == 6
    assert [h["episode"] for h in agent.history] == list(range(6))
    assert len(pids) == num_actors + 1                  # the actors + the replacement
    assert all(0.0 <= h["metric"] <= 1.0 for h in agent.history)
    assert_reaped(pids)


def test_too_many_deaths_stop_with_an_error(tmp_path):
    env = make_env(classifier=DiesOnce(marker=str(tmp_path / "died")))
    agent = HierarchicalAgent(env, fast_config(num_actors=1, max_actor_restarts=0), seed=0)
    with pytest.raises(RuntimeError, match="max_actor_restarts"):
        agent.learn(3)
    assert multiprocessing.active_children() == []


def test_an_actor_error_stops_learning_with_its_traceback():
    agent = HierarchicalAgent(make_env(classifier=Fails()), fast_config(num_actors=2), seed=0)
    with pytest.raises(RuntimeError, match="this classifier always fails"):
        agent.learn(3)
    assert agent.num_episodes == 0
    assert multiprocessing.active_children() == []


def test_ctrl_c_stops_the_actors_and_writes_a_checkpoint(tmp_path):
    cfg = fast_config(num_actors=2, checkpoint_path=str(tmp_path / "run.pt"), checkpoint_every=1000)
    agent = HierarchicalAgent(make_env(), cfg, seed=0)
    pids = watch_pids(agent)
    consume = agent._consume

    def interrupt_at_three(record, t0):
        row = consume(record, t0)
        if agent.num_episodes == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return row

    agent._consume = interrupt_at_three
    with pytest.raises(KeyboardInterrupt):
        agent.learn(50)
    assert agent.num_episodes == 3
    assert HierarchicalAgent.load(tmp_path / "run.pt", make_env()).num_episodes == 3
    assert_reaped(pids)
