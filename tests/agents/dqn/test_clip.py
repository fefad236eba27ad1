"""The learner's gradient clipping is torch's ``clip_grad_norm_`` arithmetic."""

import pytest
import torch

from agents.dqn.dqn import _clip_grad_norm


@pytest.mark.parametrize("scale", [0.01, 100.0])
def test_clip_grad_norm_matches_torch(scale):
    torch.manual_seed(0)
    a = [torch.nn.Parameter(torch.randn(5, 3)), torch.nn.Parameter(torch.randn(7))]
    b = [torch.nn.Parameter(p.detach().clone()) for p in a]
    for p, q in zip(a, b):
        p.grad = torch.randn_like(p) * scale
        q.grad = p.grad.clone()
    before = [p.grad.clone() for p in a]
    _clip_grad_norm(a, 1.0)
    torch.nn.utils.clip_grad_norm_(b, 1.0)
    for p, q in zip(a, b):
        torch.testing.assert_close(p.grad, q.grad)
    norm = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in a]))
    if scale > 1:
        assert norm == pytest.approx(1.0, rel=1e-4)                     # clipped to the bound
    else:
        assert all(torch.equal(p.grad, g) for p, g in zip(a, before))  # small gradients untouched
