"""Mean false error (Wang et al. 2016, DQNimb ref. [22]) against its formula."""

import math

import numpy as np
import pytest
import torch

from agents.supervised.mfe import mfe_loss


def _logits(*p1):
    """Two-class logits [0, log(p / (1 - p))], so that softmax gives o = (1 - p, p)."""
    return torch.tensor([[0.0, math.log(p / (1 - p))] for p in p1], dtype=torch.float64)


def test_hand_made_batch():
    # Outputs o = (o_0, o_1) and per-sample errors e = sum_k 1/2 (d_k - o_k)^2:
    #   majority (d = (1, 0)): o = (.8, .2) -> 1/2 (.2^2 + .2^2) = .04 (twice); o = (.5, .5) -> .25
    #   minority (d = (0, 1)): o = (.8, .2) -> 1/2 (.8^2 + .8^2) = .64
    # FPE = (.04 + .04 + .25) / 3 = .11, FNE = .64 / 1, MFE = .75
    logits = _logits(0.2, 0.2, 0.5, 0.2)
    y = torch.tensor([0, 0, 0, 1])
    assert mfe_loss(logits, y).item() == pytest.approx(0.75, rel=1e-12)
    # the order of the rows does not matter
    order = torch.tensor([3, 1, 0, 2])
    assert mfe_loss(logits[order], y[order]).item() == pytest.approx(0.75, rel=1e-12)


def test_batch_without_minority_counts_only_fpe():
    # no minority row: FNE is taken as 0, MFE = FPE = (.04 + .25) / 2
    assert mfe_loss(_logits(0.2, 0.5), torch.tensor([0, 0])).item() == pytest.approx(0.145, rel=1e-12)
    # batch size 1, minority only: MFE = FNE = .64
    assert mfe_loss(_logits(0.2), torch.tensor([1])).item() == pytest.approx(0.64, rel=1e-12)


def _literal_mfe(logits, y):
    """FPE + FNE written out: class means of sum_k 1/2 (d_k - o_k)^2 (any number of classes)."""
    errors = {}
    for z, t in zip(logits.tolist(), y.tolist()):
        total = sum(math.exp(v) for v in z)
        o = [math.exp(v) / total for v in z]
        errors.setdefault(t, []).append(sum(0.5 * ((1.0 if k == t else 0.0) - o[k]) ** 2 for k in range(len(z))))
    return sum(sum(e) / len(e) for e in errors.values())


@pytest.mark.parametrize("n_classes", [2, 3])
def test_random_batches_match_the_literal_formula(n_classes):
    g = torch.Generator().manual_seed(n_classes)
    logits = torch.randn(33, n_classes, generator=g, dtype=torch.float64) * 3
    y = torch.randint(0, n_classes, (33,), generator=g)
    assert mfe_loss(logits, y).item() == pytest.approx(_literal_mfe(logits, y), rel=1e-12)


def test_minority_weighs_as_much_as_majority():
    # 9 majority rows and 1 minority row with the same error: MFE is 2 x that error,
    # while the plain mean squared error is dominated by the majority
    logits = _logits(*([0.3] * 9 + [0.7]))
    y = torch.tensor([0] * 9 + [1])
    e = 0.3**2  # two-class error (d_1 - o_1)^2 of every row
    assert mfe_loss(logits, y).item() == pytest.approx(2 * e, rel=1e-12)
    grad = torch.autograd.functional.jacobian(lambda z: mfe_loss(z, y), logits)
    assert np.isclose(grad[9].abs().sum().item(), 9 * grad[0].abs().sum().item())
