"""Pure helpers of the DQNimb agent: eq. (9) TD target, eq. (8) loss and the epsilon schedule."""

from __future__ import annotations

import math

import pytest
import torch

from agents.dqn import linear_epsilon, q_loss, td_target


def eq9_literal(r, next_q, terminal, gamma):
    """DQNimb eq. (9) transcribed: y = r if terminal else r + gamma * max_a' Q(s', a')."""
    out = []
    for r_j, q_j, t_j in zip(r, next_q, terminal):
        out.append(r_j if t_j else r_j + gamma * max(q_j))
    return out


def test_td_target_terminal_truncated_and_ongoing_exact_numbers():
    # rows: minority correct (ongoing), minority wrong (terminated), majority correct on
    # the last sample (truncated: data used up -> must bootstrap), majority wrong (ongoing).
    reward = torch.tensor([1.0, -1.0, 0.1, -0.1], dtype=torch.float64)
    next_q = torch.tensor([[0.5, 2.0], [3.0, -1.0], [-0.2, -0.4], [1.0, 1.0]], dtype=torch.float64)
    terminated = torch.tensor([False, True, False, False])
    y = td_target(reward, next_q, terminated, gamma=0.1)
    # Worked by hand: 1 + 0.1*2.0, -1 (terminal), 0.1 + 0.1*(-0.2), -0.1 + 0.1*1.0.
    assert y.tolist() == pytest.approx([1.2, -1.0, 0.08, 0.0], abs=1e-15)
    assert y.tolist() == eq9_literal(reward.tolist(), next_q.tolist(), terminated.tolist(), 0.1)


def test_td_target_truncation_bootstraps_and_termination_does_not():
    reward = torch.tensor([0.5, 0.5])
    next_q = torch.tensor([[4.0, 10.0], [4.0, 10.0]])
    # Only ``terminated`` enters eq. (9); a truncated transition is an ordinary one.
    y = td_target(reward, next_q, torch.tensor([False, True]), gamma=0.5)
    assert y.tolist() == [5.5, 0.5]


def test_td_target_batch_of_one_and_leading_shape():
    y1 = td_target(torch.tensor([-1.0]), torch.tensor([[0.25, -3.0]]), torch.tensor([False]), 0.1)
    assert y1.shape == (1,) and y1.item() == pytest.approx(-1.0 + 0.1 * 0.25)
    gen = torch.Generator().manual_seed(0)
    r = torch.randn(3, 5, generator=gen, dtype=torch.float64)
    q = torch.randn(3, 5, 2, generator=gen, dtype=torch.float64)
    t = torch.rand(3, 5, generator=gen) < 0.5
    y = td_target(r, q, t, 0.1)
    assert y.shape == (3, 5)
    flat = eq9_literal(r.reshape(-1).tolist(), q.reshape(-1, 2).tolist(), t.reshape(-1).tolist(), 0.1)
    assert y.reshape(-1).tolist() == pytest.approx(flat, abs=1e-15)


def test_td_target_gamma_zero_is_the_reward():
    r = torch.tensor([1.0, -0.3])
    assert torch.equal(td_target(r, torch.tensor([[9.0, 9.0], [9.0, 9.0]]), torch.tensor([False, False]), 0.0), r)


def test_q_loss_mse_is_eq8_mean_and_huber_differs_for_large_errors():
    q = torch.tensor([0.0, 1.0, 3.0])
    y = torch.tensor([1.0, 1.0, 0.0])
    assert q_loss(q, y, "mse").item() == pytest.approx((1 + 0 + 9) / 3)
    assert q_loss(q, y, "huber").item() == pytest.approx((0.5 + 0 + 2.5) / 3)
    with pytest.raises(ValueError, match="kind"):
        q_loss(q, y, "l3")


def test_linear_epsilon_endpoints_and_linearity():
    decay = 1000
    assert linear_epsilon(0, decay, 1.0, 0.01) == 1.0
    assert linear_epsilon(decay, decay, 1.0, 0.01) == pytest.approx(0.01, abs=1e-15)
    for step in (decay + 1, 5 * decay, 10**9):
        assert linear_epsilon(step, decay, 1.0, 0.01) == pytest.approx(0.01, abs=1e-15)
    assert linear_epsilon(500, decay, 1.0, 0.01) == pytest.approx(0.505)
    assert linear_epsilon(250, decay, 1.0, 0.01) == pytest.approx(1.0 - 0.99 * 0.25)
    values = [linear_epsilon(s, decay, 1.0, 0.01) for s in range(0, decay + 1, 50)]
    steps = [b - a for a, b in zip(values, values[1:])]
    assert all(math.isclose(d, steps[0], rel_tol=1e-9) for d in steps)  # constant slope
    with pytest.raises(ValueError, match="decay_steps"):
        linear_epsilon(0, 0)
