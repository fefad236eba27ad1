"""Replay memory: preallocated tensors, wrap-around, sampling only stored rows."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.dqn import ReplayMemory


def _batch(start: int, n: int, dim: int = 3):
    """``n`` transitions numbered ``start..start+n-1``: the number is in every field."""
    ids = np.arange(start, start + n)
    obs = np.repeat(ids[:, None], dim, axis=1).astype(np.float32)
    return obs, ids % 2, ids.astype(np.float64), obs + 0.5, ids % 3 == 0, ids % 3 == 1


def test_wraparound_overwrites_the_oldest_rows():
    mem = ReplayMemory(5, (3,), np.float32, generator=torch.Generator().manual_seed(0))
    for start, n in ((0, 3), (3, 3), (6, 2)):  # 8 transitions in batches of 3, 3, 2
        mem.add(*_batch(start, n))
    assert len(mem) == 5 and mem.full and mem.n_added == 8
    assert mem.pos == 3
    # Transitions 0, 1, 2 were overwritten by 5, 6, 7 (rows 0..2), 3 and 4 are kept.
    assert mem.rewards.tolist() == [5.0, 6.0, 7.0, 3.0, 4.0]
    assert torch.equal(mem.obs[:, 0], mem.rewards)
    assert torch.equal(mem.next_obs[:, 0], mem.rewards + 0.5)
    ids = mem.rewards.long()
    assert torch.equal(mem.terminated, ids % 3 == 0)
    assert torch.equal(mem.truncated, ids % 3 == 1)  # stored separately from terminated
    assert torch.equal(mem.actions, ids % 2)


def test_one_batch_larger_than_capacity_keeps_the_last_rows():
    mem = ReplayMemory(5, (3,), np.float32)
    mem.add(*_batch(0, 8))
    assert sorted(mem.rewards.tolist()) == [3.0, 4.0, 5.0, 6.0, 7.0]
    assert mem.pos == 0 and len(mem) == 5


def test_sampling_returns_only_stored_rows_and_is_seeded():
    mem = ReplayMemory(10, (3,), np.float32, generator=torch.Generator().manual_seed(1))
    mem.add(*_batch(100, 4))  # only rows 0..3 hold data
    batch = mem.sample(64, n_batches=50)
    assert batch.obs.shape == (50, 64, 3) and batch.rewards.shape == (50, 64)
    assert set(batch.rewards.reshape(-1).tolist()) == {100.0, 101.0, 102.0, 103.0}
    assert torch.equal(batch.obs[..., 0], batch.rewards.float())  # fields stay aligned
    mem2 = ReplayMemory(10, (3,), np.float32, generator=torch.Generator().manual_seed(1))
    mem2.add(*_batch(100, 4))
    assert torch.equal(mem2.sample(64, n_batches=50).rewards, batch.rewards)


def test_observations_keep_their_dtype():
    mem = ReplayMemory(4, (1, 2, 2), np.uint8)
    obs = np.full((2, 1, 2, 2), 255, np.uint8)
    mem.add(obs, [0, 1], [1.0, -1.0], obs, [False, True], [False, False])
    assert mem.obs.dtype == torch.uint8 and mem.obs[:2].eq(255).all()
    assert mem.obs.element_size() * mem.obs.nelement() == 4 * 4  # preallocated, 1 byte per pixel


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="capacity"):
        ReplayMemory(0, (3,), np.float32)
    mem = ReplayMemory(4, (3,), np.float32)
    with pytest.raises(ValueError, match="empty"):
        mem.sample(2)
    obs, a, r, nxt, term, trunc = _batch(0, 2)
    with pytest.raises(ValueError, match="next_obs"):
        mem.add(obs, a, r, nxt[:, :2], term, trunc)
    with pytest.raises(ValueError, match="rewards"):
        mem.add(obs, a, r[:1], nxt, term, trunc)
