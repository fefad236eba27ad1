"""Batched acting: same episode as one-step-at-a-time play, 1 + 2 N_min forward passes, exact log-probs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.hierarchical.policies import CROSS_INSTANCE, FLAT, INSTANCE_SPECIFIC, LOW_LEVEL, log_probs_and_entropy
from agents.hierarchical.rollout import LEARNED_LEVELS, episode_rng, fixed_factor, play_episode

from .conftest import acting_policies as numpy_policies
from .conftest import make_env

SEED_HIGH = 2**31 - 1


class CountingEnv:
    """Counts the calls an agent makes to the env it wraps (attribute access passes through)."""

    def __init__(self, env):
        self._env = env
        self.calls = {"reset": 0, "step": 0, "step_batch": 0}

    def __getattr__(self, name):
        return getattr(self._env, name)

    def reset(self, **kw):
        self.calls["reset"] += 1
        return self._env.reset(**kw)

    def step(self, a):
        self.calls["step"] += 1
        return self._env.step(a)

    def step_batch(self, a):
        self.calls["step_batch"] += 1
        return self._env.step_batch(a)


def replay(env, record, reset_seed):
    """Play the record's decisions one env.step at a time; return the final info."""
    env.reset(seed=reset_seed)
    res = record.result
    g1 = res["g1"]
    low = record.levels[LOW_LEVEL].actions.tolist() if LOW_LEVEL in record.levels else []
    *_, info = env.step(g1)
    pos = 0
    for g2 in res["g2"].tolist():
        obs, r, terminated, truncated, info = env.step(g2)
        for _ in range(g1 * g2):
            obs, r, terminated, truncated, info = env.step(low[pos])
            pos += 1
    assert terminated and pos == len(low)
    return r, info


def test_batched_episode_equals_step_by_step_play():
    env = make_env(G1=3, G2=3)
    policies, _ = numpy_policies(env)
    counting = CountingEnv(env)
    record = play_episode(counting, policies, episode_rng(0, 0, 0, 2), "full")
    assert record.result["g1"] > 0 and record.result["synthetic"].shape[0] > 0  # all three levels acted
    reset_seed = int(episode_rng(0, 0, 0, 2).integers(0, SEED_HIGH))
    reward, info = replay(make_env(G1=3, G2=3), record, reset_seed)
    assert reward == record.metric
    np.testing.assert_array_equal(info["synthetic"], record.result["synthetic"])
    np.testing.assert_array_equal(info["provenance"]["source"], record.result["source"])
    np.testing.assert_array_equal(info["counts"], record.result["counts"])

    n_min = env.n_minority
    g = record.result["g1"] * record.result["g2"]
    # one forward pass for g1, one per instance for g2, one per instance with g > 0
    assert record.stats["n_forward"] == 1 + n_min + int((g > 0).sum()) <= 1 + 2 * n_min
    assert counting.calls == {"reset": 1, "step": 1, "step_batch": n_min}


def test_trajectory_format_and_rewards_layout():
    env = make_env(G1=3, G2=3)
    policies, _ = numpy_policies(env)
    record = play_episode(env, policies, episode_rng(0, 0, 0, 3), "full")
    n_min = env.n_minority
    cross, inst, low = (record.levels[k] for k in (CROSS_INSTANCE, INSTANCE_SPECIFIC, LOW_LEVEL))
    assert len(cross) == 1 and cross.ends.tolist() == [True] and cross.actions[0] == record.result["g1"]
    assert len(inst) == n_min and inst.obs.shape[0] == n_min
    assert inst.ends.tolist() == [False] * (n_min - 1) + [True]
    np.testing.assert_array_equal(inst.actions, record.result["g2"])
    assert inst.mask.shape == (n_min, env.G2 + 1) and inst.mask.all()  # the row bound never binds here
    g = record.result["g1"] * record.result["g2"]
    segments = g[g > 0]
    assert low.obs.shape[0] == segments.size and low.nf.shape == (segments.size, env.K, 10 + 3)
    assert len(low) == segments.sum() == record.result["synthetic"].shape[0]
    np.testing.assert_array_equal(np.bincount(low.obs_index), segments)       # one input per segment
    np.testing.assert_array_equal(np.flatnonzero(low.ends), np.cumsum(segments) - 1)


@pytest.mark.parametrize("ablation, level", [("full", CROSS_INSTANCE), ("full", INSTANCE_SPECIFIC),
                                             ("full", LOW_LEVEL)])
def test_behaviour_log_probs_are_the_policys_on_the_recorded_inputs(ablation, level):
    env = make_env(G1=3, G2=3)
    policies, torch_policies = numpy_policies(env, ablation)
    for e in range(20):  # the first episode with g1 > 0 (else the low level does not act)
        record = play_episode(env, policies, episode_rng(0, 0, 0, e), ablation)
        if record.result["g1"] > 0:
            break
    steps = record.levels[level]
    with torch.no_grad():
        x = torch.as_tensor(steps.obs)
        mask = None if steps.mask is None else torch.as_tensor(steps.mask)
        if level == LOW_LEVEL:
            logits, _ = torch_policies[level](x, torch.as_tensor(steps.nf), mask)
        else:
            logits, _ = torch_policies[level](x, mask)
        logp, _ = log_probs_and_entropy(logits)
    expected = logp[torch.as_tensor(steps.obs_index), torch.as_tensor(steps.actions)].numpy()
    np.testing.assert_allclose(steps.logp, expected, rtol=1e-4, atol=1e-5)


def test_the_same_generator_gives_the_same_episode():
    env = make_env()
    policies, _ = numpy_policies(env)
    a = play_episode(env, policies, episode_rng(5, 0, 0, 2), "full")
    b = play_episode(env, policies, episode_rng(5, 0, 0, 2), "full")
    c = play_episode(env, policies, episode_rng(5, 0, 0, 3), "full")
    assert a.metric == b.metric
    np.testing.assert_array_equal(a.result["synthetic"], b.result["synthetic"])
    for k in a.levels:
        np.testing.assert_array_equal(a.levels[k].actions, b.levels[k].actions)
    assert not (a.result["g1"] == c.result["g1"] and np.array_equal(a.result["g2"], c.result["g2"]))


def test_sampling_respects_the_row_bound_masks():
    # 6 rows at most: after them every g2 but 0 is masked; an invalid action would raise
    env = make_env(G1=3, G2=3, max_synthetic=6)
    policies, _ = numpy_policies(env)
    for e in range(8):
        record = play_episode(env, policies, episode_rng(0, 0, 0, e), "full")
        inst = record.levels[INSTANCE_SPECIFIC]
        assert np.all(inst.mask[np.arange(len(inst)), inst.actions])
        assert record.result["synthetic"].shape[0] <= 6
        assert not inst.mask.all() or record.result["g1"] == 0


def test_fixed_factor_is_half_rounded_up():
    assert [fixed_factor(G) for G in (1, 2, 3, 10, 20, 21)] == [1, 1, 2, 5, 10, 11]


@pytest.mark.parametrize("ablation", ["no_cross_instance", "no_instance_specific", "no_low_level", "random"])
def test_ablations_fix_or_randomise_the_removed_level(ablation):
    env = make_env(G1=3, G2=4)
    policies, _ = numpy_policies(env, ablation)
    record = play_episode(env, policies, episode_rng(0, 0, 0, 0), ablation)
    assert set(record.levels) == set(LEARNED_LEVELS[ablation]) & {k for k in record.levels}
    assert set(record.levels) <= set(LEARNED_LEVELS[ablation])
    res = record.result
    if ablation == "no_cross_instance":
        assert res["g1"] == 2 and CROSS_INSTANCE not in record.levels
    if ablation == "no_instance_specific":
        assert np.all(res["g2"] == 2) and INSTANCE_SPECIFIC not in record.levels
        assert record.stats["n_forward"] == 1 + int((res["g1"] * res["g2"] > 0).sum())
    if ablation == "no_low_level":
        assert LOW_LEVEL not in record.levels and record.stats["n_forward"] == 1 + env.n_minority
    if ablation == "random":
        assert record.levels == {} and record.stats["n_forward"] == 0
    assert res["synthetic"].shape[0] == int((res["g1"] * res["g2"]).sum())
    assert 0.0 <= record.metric <= 1.0


def test_flat_episode_is_one_level_episode_and_replays():
    env = make_env(flat=True, G1=2, G2=2)
    policies, torch_policies = numpy_policies(env, "flat")
    record = play_episode(env, policies, episode_rng(0, 0, 0, 4), "flat")
    steps = record.levels[FLAT]
    assert steps.ends.tolist() == [False] * (len(steps) - 1) + [True]
    n_pairs = 5 * env.K
    assert steps.obs.shape[0] == env.n_minority == record.stats["n_forward"]  # one input per instance
    # rows per instance never exceed the cap; "next" moves on
    rows = np.bincount(steps.obs_index[steps.actions < n_pairs], minlength=env.n_minority)
    np.testing.assert_array_equal(rows, record.result["counts"])
    assert rows.max() <= env.G1 * env.G2
    # playing the same actions one by one gives the same rows and reward
    env2 = make_env(flat=True, G1=2, G2=2)
    env2.reset(seed=int(episode_rng(0, 0, 0, 4).integers(0, SEED_HIGH)))
    for a in steps.actions.tolist():
        obs, r, terminated, truncated, info = env2.step(a)
    assert terminated and r == record.metric
    np.testing.assert_array_equal(info["synthetic"], record.result["synthetic"])
