"""Per-sample errors and the class-weighted losses of the DNN, CSM and CSMLP baselines.

Every loss maps ``logits`` ``[B, C]`` (the network's raw outputs, softmax applied here)
and integer targets ``y`` ``[B]`` in ``0..C-1`` to a scalar. ``reduction="mean"``
divides the (weighted) sum by the batch size ``B``, not by the sum of the weights, so a
minibatch loss is an unbiased estimate of the full-data weighted loss divided by ``N``
and the learning rate means the same for every method. ``reduction="sum"`` is the sum
as the papers write it.

The cost-sensitive weights of CSM (DQNimb sec. IV-A, ref. [17]) and of CSMLP (Castro
and Braga 2013, CRCEN's baseline) are inversely proportional to the class frequency:
``w_c = N / (C * N_c)`` (:func:`inverse_frequency_weights`), so each class carries the
same total weight ``N / C`` over the training set and the weights of a balanced set are 1.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torch.nn import functional as F

__all__ = [
    "cross_entropy_loss",
    "inverse_frequency_weights",
    "nll_per_sample",
    "squared_error_loss",
    "squared_error_per_sample",
]

Reduction = Literal["mean", "sum"]


def _check_inputs(logits: torch.Tensor, y: torch.Tensor) -> None:
    """Shape contract shared by every loss: logits [B, C] with C >= 2, y [B]."""
    if logits.ndim != 2 or logits.shape[1] < 2:
        raise ValueError(f"logits must have shape [B, C] with C >= 2, got {tuple(logits.shape)}")
    if y.ndim != 1 or y.shape[0] != logits.shape[0]:
        raise ValueError(f"y must have shape [B] = [{logits.shape[0]}], got {tuple(y.shape)}")


def _reduce(per_sample: torch.Tensor, reduction: Reduction) -> torch.Tensor:
    """Sum, or sum divided by the batch size (0 for an empty batch)."""
    if reduction == "sum":
        return per_sample.sum()
    if reduction == "mean":
        return per_sample.sum() / max(per_sample.shape[0], 1)
    raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")


def _weigh(per_sample: torch.Tensor, y: torch.Tensor, class_weights) -> torch.Tensor:
    """Multiply each sample's error by the weight of its class (no-op for None)."""
    if class_weights is None:
        return per_sample
    weights = torch.as_tensor(class_weights, dtype=per_sample.dtype, device=per_sample.device)
    if weights.ndim != 1:
        raise ValueError(f"class_weights must be 1-D [C], got shape {tuple(weights.shape)}")
    return per_sample * weights[y]


def nll_per_sample(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood ``-log softmax(logits)_y``: logits ``[B, C]``, y ``[B]`` -> ``[B]``."""
    _check_inputs(logits, y)
    return -F.log_softmax(logits, dim=1).gather(1, y.long().unsqueeze(1)).squeeze(1)


def squared_error_per_sample(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Half squared error between the softmax output and the one-hot target.

    ``e_i = sum_k 1/2 (d_ik - o_ik)^2`` with ``o_i = softmax(logits_i)`` and ``d_i`` the
    one-hot code of ``y_i``: the per-sample error inside Wang et al.'s FPE / FNE
    (2016, DQNimb ref. [22]) and the squared error of Castro and Braga's CSMLP.
    Shapes: logits ``[B, C]``, y ``[B]`` -> ``[B]``.
    """
    _check_inputs(logits, y)
    target = F.one_hot(y.long(), logits.shape[1]).to(logits.dtype)
    return 0.5 * (target - torch.softmax(logits, dim=1)).pow(2).sum(dim=1)


def cross_entropy_loss(logits: torch.Tensor, y: torch.Tensor, class_weights=None,
                       reduction: Reduction = "mean") -> torch.Tensor:
    """(Class-weighted) cross-entropy ``sum_i w_{y_i} * (-log p_{i, y_i})``.

    With ``class_weights=None`` this is the plain cross-entropy of DNN, ROS, RUS and DTA;
    with :func:`inverse_frequency_weights` it is the CSM loss (DQNimb sec. IV-A).

    Args:
        logits: Raw outputs, shape ``[B, C]``.
        y: Target classes, int64 ``[B]``.
        class_weights: ``None`` or per-class weights ``[C]``.
        reduction: ``"mean"`` (divide by ``B``) or ``"sum"``.

    Returns:
        A scalar tensor.
    """
    return _reduce(_weigh(nll_per_sample(logits, y), y, class_weights), reduction)


def squared_error_loss(logits: torch.Tensor, y: torch.Tensor, class_weights=None,
                       reduction: Reduction = "mean") -> torch.Tensor:
    """(Class-weighted) squared error ``sum_i w_{y_i} * sum_k 1/2 (d_ik - o_ik)^2``.

    With :func:`inverse_frequency_weights` this is CSMLP's class-weighted squared error
    (Castro and Braga 2013, as described in CRCEN sec. 2) on the softmax outputs; for two
    classes ``sum_k 1/2 (d_k - o_k)^2 = (d_1 - o_1)^2``, the squared error of a single
    sigmoid output. Arguments and result as in :func:`cross_entropy_loss`.
    """
    return _reduce(_weigh(squared_error_per_sample(logits, y), y, class_weights), reduction)


def inverse_frequency_weights(counts) -> np.ndarray:
    """Cost-sensitive class weights ``w_c = N / (C * N_c)``, inversely proportional to frequency.

    ``N = sum_c N_c`` and ``C`` the number of classes: scikit-learn's ``"balanced"``
    weights. The ratio ``w_1 / w_0 = N_0 / N_1`` is the imbalance ratio, the same ratio
    ``lambda / (1 - lambda)`` as CRCEN's default ``lambda = N_0 / (N_0 + N_1)``.

    Args:
        counts: Training rows per class, shape ``[C]``, each >= 1.

    Returns:
        float64 weights, shape ``[C]``.

    Raises:
        ValueError: If ``counts`` is not 1-D with at least two entries, or a count is < 1.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or counts.shape[0] < 2:
        raise ValueError(f"counts must be a 1-D array of >= 2 class counts, got {counts!r}")
    if np.any(counts < 1):
        raise ValueError(f"counts must all be >= 1 (every class needs a training row), got {counts.tolist()}")
    return counts.sum() / (counts.shape[0] * counts)
