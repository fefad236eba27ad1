"""Mean false error (MFE) loss of Wang et al. 2016 (DQNimb sec. IV-A, ref. [22]).

For a binary batch with ``N`` majority (negative, class 0) and ``P`` minority (positive,
class 1) samples and the per-sample error ``e_i = sum_k 1/2 (d_ik - o_ik)^2`` between
the one-hot target ``d_i`` and the softmax output ``o_i``::

    FPE = (1/N) * sum_{i in majority} e_i       (mean false positive error)
    FNE = (1/P) * sum_{i in minority} e_i       (mean false negative error)
    MFE = FPE + FNE

Each class's error is averaged on its own, so the minority class weighs as much as the
majority class however few rows it has. With ``C > 2`` classes the same idea gives
``sum_c mean_{i in class c} e_i``, which is exactly ``FPE + FNE`` for ``C = 2``.

Batches without a class: the mean over an empty set is taken as 0, so that class adds
nothing to the batch loss (and no gradient). With plain shuffled batches of 64 and a
rare minority this happens often (at rho = 1% most batches hold no minority row); over an
epoch every minority row still contributes, through the batch it lands in, with weight
1 / (minority rows in that batch).
"""

from __future__ import annotations

import torch

from .losses import squared_error_per_sample

__all__ = ["mfe_loss"]


def mfe_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean false error ``MFE = FPE + FNE`` (Wang et al. 2016; DQNimb ref. [22]).

    Args:
        logits: Raw network outputs, shape ``[B, C]`` (softmax applied here).
        y: Target classes, int64 ``[B]`` in ``0..C-1`` (binary: 1 = minority).

    Returns:
        Scalar ``sum_c (1/N_c) sum_{i: y_i = c} sum_k 1/2 (d_ik - o_ik)^2`` over the
        classes present in the batch (an absent class contributes 0).
    """
    errors = squared_error_per_sample(logits, y)
    n_classes = logits.shape[1]
    y = y.long()
    per_class_sum = torch.zeros(n_classes, dtype=errors.dtype, device=errors.device).index_add_(0, y, errors)
    per_class_n = torch.bincount(y, minlength=n_classes).to(errors.dtype)
    return (per_class_sum / per_class_n.clamp_min(1.0)).sum()
