"""Step buffers, the [T, B] layout, the V-trace loss on popped steps, and one learner step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.hierarchical.learner import StepBuffer, column_layout, level_loss, level_update, time_major
from agents.hierarchical.policies import FLAT, LOW_LEVEL, log_probs_and_entropy
from agents.hierarchical.rollout import LevelSteps, episode_rng, play_episode
from agents.hierarchical.vtrace import vtrace

from .conftest import acting_policies, make_env


def toy_steps(n_obs: int, per_obs: list[int], ends_at: list[int], offset: float = 0.0) -> LevelSteps:
    """Steps whose inputs/actions encode their position (easy to follow through the buffer)."""
    obs = (np.arange(n_obs, dtype=np.float32)[:, None] + offset) * np.ones((1, 2), np.float32)
    index = np.repeat(np.arange(n_obs), per_obs)
    n = index.size
    ends = np.zeros(n, bool)
    ends[ends_at] = True
    return LevelSteps(obs=obs, nf=None, mask=None, obs_index=index, actions=np.arange(n) + int(100 * offset),
                      logp=np.full(n, -1.0, np.float32), ends=ends)


def test_buffer_pops_exact_step_counts_in_order_and_pays_the_metric_at_episode_ends():
    buf = StepBuffer()
    a = toy_steps(3, [2, 3, 1], ends_at=[1, 4, 5])          # three level-episodes of 2, 3, 1 steps
    b = toy_steps(2, [4, 1], ends_at=[3, 4], offset=10.0)
    buf.push(a, 0.5)
    buf.push(b, 0.75)
    assert len(buf) == 11
    popped = []
    for n in (4, 4, 3):
        batch = buf.pop(n)
        assert len(batch) == n
        # every step still sees its own input
        popped.append((batch.actions.copy(), batch.obs[batch.obs_index][:, 0].copy(), batch.rewards.copy(),
                       batch.ends.copy(), batch.truncated_tail, batch.obs[-1, 0]))
    assert len(buf) == 0
    actions = np.concatenate([p[0] for p in popped])
    np.testing.assert_array_equal(actions, np.r_[np.arange(6), 1000 + np.arange(5)])
    inputs = np.concatenate([p[1] for p in popped])
    np.testing.assert_array_equal(inputs, np.r_[a.obs[a.obs_index, 0], b.obs[b.obs_index, 0]])
    rewards = np.concatenate([p[2] for p in popped])
    np.testing.assert_array_equal(rewards, [0, .5, 0, 0, .5, .5, 0, 0, 0, .75, .75])
    # pop 1 cuts the 3-step episode after its first 2 steps: truncated, successor = the same input
    assert popped[0][4] is True and popped[0][5] == 1.0
    # pop 2 ends cut inside b's first episode: successor is b's first input (10)
    assert popped[1][4] is True and popped[1][5] == 10.0
    # the last pop empties the buffer at an episode end
    assert popped[2][4] is False
    with pytest.raises(ValueError, match="pop"):
        buf.pop(1)


def test_buffer_state_round_trip():
    buf = StepBuffer()
    buf.push(toy_steps(3, [2, 3, 1], ends_at=[1, 4, 5]), 0.5)
    buf.pop(3)
    copy = StepBuffer()
    copy.load_state({k: v.copy() for k, v in buf.state().items()})
    x, y = buf.pop(3), copy.pop(3)
    np.testing.assert_array_equal(x.actions, y.actions)
    np.testing.assert_array_equal(x.obs, y.obs)
    assert StepBuffer().state() == {}


def test_column_layout_and_time_major():
    ends = np.array([0, 1, 1, 0, 0, 1, 0, 0], bool)
    starts, lengths = column_layout(ends)
    assert starts.tolist() == [0, 2, 3, 6] and lengths.tolist() == [2, 1, 3, 2]
    cells = time_major(starts, lengths)
    assert cells.tolist() == [[0, 2, 3, 6], [1, -1, 4, 7], [-1, -1, 5, -1]]
    starts, lengths = column_layout(np.array([1], bool))
    assert time_major(starts, lengths).tolist() == [[0]]


def episode_batches(level: str, n_episodes: int = 3, size: int = 25, seed: int = 0):
    """Real steps of ``level`` from untrained policies, and the torch policy."""
    flat = level == FLAT
    env = make_env(flat=flat, G1=3, G2=3)
    ablation = "flat" if flat else "full"
    acting, policies = acting_policies(env, ablation, seed)
    buf = StepBuffer()
    for e in range(n_episodes):
        record = play_episode(env, acting, episode_rng(seed, 0, 0, e), ablation)
        if level in record.levels:
            buf.push(record.levels[level], record.metric)
    return policies[level], buf.pop(min(size, len(buf)))


def reference_loss(policy, batch, gamma=1.0, baseline_coef=0.5, entropy_coef=6e-4):
    """Eq. (2) + entropy with each level-episode piece run through V-trace on its own ([L, 1])."""
    x = torch.as_tensor(batch.obs)
    mask = None if batch.mask is None else torch.as_tensor(batch.mask)
    out = policy(x, torch.as_tensor(batch.nf), mask) if batch.nf is not None else policy(x, mask)
    logp_all, ent_all = log_probs_and_entropy(out[0])
    values = out[1]
    pg = base = ent = 0.0
    starts, lengths = column_layout(batch.ends)
    for b, (s, n) in enumerate(zip(starts.tolist(), lengths.tolist())):
        rows = torch.as_tensor(batch.obs_index[s:s + n])
        acts = torch.as_tensor(batch.actions[s:s + n])
        tlp = logp_all[rows, acts][:, None]
        v = values[rows][:, None]
        last_cut = b == len(starts) - 1 and batch.truncated_tail
        term = torch.zeros(n, 1, dtype=torch.bool)
        trunc = torch.zeros(n, 1, dtype=torch.bool)
        final = torch.zeros(n, 1)
        if last_cut:
            trunc[-1] = True
            final[-1] = values[-1].detach()
        else:
            term[-1] = True
        ret = vtrace(torch.as_tensor(batch.logp[s:s + n])[:, None], tlp.detach(),
                     torch.as_tensor(batch.rewards[s:s + n])[:, None], v.detach(), torch.zeros(1), term, trunc,
                     gamma=gamma, final_values=final)
        pg = pg - (tlp * ret.pg_advantages).sum()
        base = base + 0.5 * ((ret.vs - v) ** 2).sum()
        ent = ent + ent_all[rows].sum()
    n = len(batch)
    return pg / n + baseline_coef * base / n - entropy_coef * ent / n


@pytest.mark.parametrize("level", ["cross_instance", "instance_specific", "low_level", "flat"])
def test_level_loss_equals_a_column_by_column_reference(level):
    policy, batch = episode_batches(level, n_episodes=4, size=3 if level == "cross_instance" else 25)
    with torch.no_grad():
        loss, stats, _ = level_loss(policy, batch)
        expected = reference_loss(policy, batch)
    assert float(loss) == pytest.approx(float(expected), rel=1e-5, abs=1e-6)
    if level in ("instance_specific", "flat"):
        assert batch.truncated_tail  # the pop cut an episode: the bootstrap path is exercised
    assert stats["steps"] == len(batch) and stats["columns"] == len(column_layout(batch.ends)[0])
    # acting and learning weights are the same here: every importance ratio is 1
    assert stats["mean_ratio"] == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("level", ["cross_instance", "instance_specific", "low_level", "flat"])
def test_a_learner_step_lowers_the_loss_on_a_fixed_batch(level):
    # The step descends eq. (2) with the V-trace targets of the batch held fixed (targets are
    # not differentiated through), so that is the loss that must go down.
    policy, batch = episode_batches(level, n_episodes=4, size=3 if level == "cross_instance" else 25, seed=1)
    optimizer = torch.optim.Adam(policy.parameters(), lr=5e-3)   # the learner's optimizer (sec. 4.1)
    before, _, targets = level_loss(policy, batch)
    stats = level_update(policy, optimizer, batch, max_grad_norm=40.0)
    after = level_loss(policy, batch, returns=targets)[0]
    assert stats["loss"] == pytest.approx(float(before.detach()), rel=1e-6)
    assert float(after.detach()) < float(before.detach())
    assert stats["grad_norm"] > 0


def test_gradient_clipping_bounds_the_step():
    policy, batch = episode_batches(LOW_LEVEL, size=20)
    optimizer = torch.optim.SGD(policy.parameters(), lr=1.0)
    before = [p.detach().clone() for p in policy.parameters()]
    stats = level_update(policy, optimizer, batch, max_grad_norm=1e-3)
    step = torch.sqrt(sum(((p.detach() - q) ** 2).sum() for p, q in zip(policy.parameters(), before)))
    assert stats["grad_norm"] > 1e-3
    assert float(step) == pytest.approx(1e-3, rel=1e-3)   # SGD with lr 1 moves by the clipped norm
