"""Per-sample errors, weighted CE / squared error (DNN, CSM, CSMLP) and inverse-frequency weights."""

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from agents.supervised.losses import (
    cross_entropy_loss,
    inverse_frequency_weights,
    nll_per_sample,
    squared_error_loss,
    squared_error_per_sample,
)


def _batch(n=7, c=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, c, generator=g, dtype=torch.float64) * 2
    y = torch.randint(0, c, (n,), generator=g)
    return logits, y


def _literal_nll(logits, y):
    """-log(exp(z_y) / sum_k exp(z_k)), one row at a time."""
    out = []
    for z, t in zip(logits.tolist(), y.tolist()):
        out.append(-math.log(math.exp(z[t]) / sum(math.exp(v) for v in z)))
    return out


def _literal_squared(logits, y):
    """sum_k 1/2 (d_k - o_k)^2 with o = softmax(z), d = one-hot(y), one row at a time."""
    out = []
    for z, t in zip(logits.tolist(), y.tolist()):
        total = sum(math.exp(v) for v in z)
        o = [math.exp(v) / total for v in z]
        out.append(sum(0.5 * ((1.0 if k == t else 0.0) - o[k]) ** 2 for k in range(len(z))))
    return out


@pytest.mark.parametrize("n", [1, 7])
def test_per_sample_errors_match_their_formulas(n):
    logits, y = _batch(n)
    np.testing.assert_allclose(nll_per_sample(logits, y).numpy(), _literal_nll(logits, y), rtol=1e-12)
    np.testing.assert_allclose(squared_error_per_sample(logits, y).numpy(), _literal_squared(logits, y), rtol=1e-12)


def test_squared_error_of_two_classes_is_a_single_output_error():
    # sum_k 1/2 (d_k - o_k)^2 = (d_1 - o_1)^2 when o_0 = 1 - o_1 (the CSMLP single-output form)
    logits = torch.tensor([[0.0, math.log(4.0)], [0.0, 0.0]], dtype=torch.float64)  # o_1 = 0.8, 0.5
    y = torch.tensor([0, 1])
    np.testing.assert_allclose(squared_error_per_sample(logits, y).numpy(), [0.8**2, 0.5**2], rtol=1e-12)


def test_unweighted_mean_cross_entropy_is_torch_cross_entropy():
    logits, y = _batch()
    assert torch.allclose(cross_entropy_loss(logits, y), F.cross_entropy(logits, y))
    assert torch.allclose(cross_entropy_loss(logits, y, reduction="sum"), F.cross_entropy(logits, y, reduction="sum"))


def test_weighted_losses_divide_by_the_batch_size_not_the_weight_sum():
    logits, y = _batch()
    w = np.array([0.5, 2.0, 3.0])
    nll = np.array(_literal_nll(logits, y))
    sq = np.array(_literal_squared(logits, y))
    expected_ce = np.sum(w[y.numpy()] * nll) / 7
    expected_sq = np.sum(w[y.numpy()] * sq) / 7
    assert cross_entropy_loss(logits, y, w).item() == pytest.approx(expected_ce, rel=1e-12)
    assert squared_error_loss(logits, y, w).item() == pytest.approx(expected_sq, rel=1e-12)
    # torch's weighted mean normalises by sum_i w_{y_i}; ours must not
    assert not torch.allclose(cross_entropy_loss(logits, y, w), F.cross_entropy(logits, y, weight=torch.tensor(w)))


def test_inverse_frequency_weights():
    # w_c = N / (C N_c): 100 / (2 * 90) and 100 / (2 * 10); each class then weighs N / C = 50 in total
    w = inverse_frequency_weights([90, 10])
    np.testing.assert_allclose(w, [100 / 180, 5.0])
    np.testing.assert_allclose(w * np.array([90, 10]), [50.0, 50.0])
    np.testing.assert_allclose(inverse_frequency_weights([50, 30, 10]), [90 / 150, 1.0, 3.0])
    np.testing.assert_allclose(inverse_frequency_weights([4, 4]), [1.0, 1.0])


@pytest.mark.parametrize("counts", [[10], [5, 0], [[1, 2]], [-1, 3]])
def test_inverse_frequency_weights_reject_bad_counts(counts):
    with pytest.raises(ValueError, match="counts"):
        inverse_frequency_weights(counts)


def test_shape_and_reduction_errors():
    logits, y = _batch()
    with pytest.raises(ValueError, match="logits"):
        cross_entropy_loss(logits[:, :1], y)
    with pytest.raises(ValueError, match="y must have shape"):
        cross_entropy_loss(logits, y[:3])
    with pytest.raises(ValueError, match="reduction"):
        cross_entropy_loss(logits, y, reduction="max")
