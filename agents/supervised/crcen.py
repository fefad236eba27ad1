"""CRCEN: the class-wise reweighted cross-entropy and its key equation (Li and Zhu).

With ``p_i = P(y=1 | x_i)`` the network's probability of the minority class, ``S_1`` the
minority rows, ``S_0`` the majority rows and a weight ``0 < lambda < 1``, CRCEN eq. (1)::

    L = -lambda * sum_{i in S_1} log p_i - (1 - lambda) * sum_{j in S_0} log(1 - p_j)
      = lambda * L_1 + (1 - lambda) * L_0

``lambda = 1/2`` is the plain cross-entropy (up to a factor 1/2); the default
``lambda = N_0 / (N_0 + N_1)`` weighs each class by the inverse of its frequency. At a
minimum of ``L`` whose output bias is unregularised, the gradient with respect to that
bias vanishes, which gives the key equation (6)::

    sum_{i in S_1} (1 - p_i) / sum_{j in S_0} p_j = (1 - lambda) / lambda

and, for data drawn like the training data, eq. (7)::

    (1 - pbar_1) / pbar_0 ~= N_0 (1 - lambda) / (N_1 lambda)

with ``pbar_c`` the mean predicted ``P(y=1)`` over class ``c``.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

from .losses import Reduction, cross_entropy_loss

__all__ = ["check_lambda", "crcen_loss", "default_lambda", "eq6_lhs", "eq6_rhs", "eq7_lhs", "eq7_rhs"]


def check_lambda(lam, name: str = "lam") -> float:
    """Return ``lam`` as a float after checking ``0 < lam < 1`` (CRCEN sec. 3.1).

    Raises:
        TypeError: If ``lam`` is not a real number.
        ValueError: If ``lam`` is outside the open interval (0, 1) or not finite.
    """
    if isinstance(lam, (bool, np.bool_)) or not isinstance(lam, numbers.Real):
        raise TypeError(f"{name} must be a real number in (0, 1), got {type(lam).__name__} ({lam!r})")
    if not 0.0 < float(lam) < 1.0:
        raise ValueError(f"{name} must be in the open interval (0, 1) (CRCEN eq. 1), got {lam!r}")
    return float(lam)


def crcen_loss(logits: torch.Tensor, y: torch.Tensor, lam: float,
               reduction: Reduction = "sum") -> torch.Tensor:
    """CRCEN eq. (1): ``-lam sum_{S_1} log p_i - (1 - lam) sum_{S_0} log(1 - p_j)``.

    ``p = softmax(logits)[:, 1]`` is the probability of the minority class 1, so
    ``log p_i`` and ``log(1 - p_j)`` are the two log-softmax entries and the loss is the
    cross-entropy with class weights ``(1 - lam, lam)``.

    Args:
        logits: Raw outputs for the two classes, shape ``[B, 2]``.
        y: Targets in {0, 1} (1 = minority), int64 ``[B]``.
        lam: Weight ``lambda`` of the minority class, in (0, 1).
        reduction: ``"sum"`` (eq. 1 as written) or ``"mean"`` (the sum divided by ``B``,
            used for minibatch training).

    Returns:
        A scalar tensor.

    Raises:
        ValueError: If ``logits`` is not ``[B, 2]`` or ``lam`` is outside (0, 1).
    """
    lam = check_lambda(lam)
    if logits.ndim != 2 or logits.shape[1] != 2:
        raise ValueError(f"CRCEN is binary: logits must have shape [B, 2], got {tuple(logits.shape)}")
    return cross_entropy_loss(logits, y, class_weights=(1.0 - lam, lam), reduction=reduction)


def default_lambda(class_counts) -> float:
    """CRCEN's default weight ``lambda = N_0 / (N_0 + N_1)`` (inverse class frequency, sec. 3.3).

    Args:
        class_counts: Training rows per class ``(N_0, N_1)``, both >= 1.

    Raises:
        ValueError: If there are not exactly two counts >= 1.
    """
    counts = np.asarray(class_counts, dtype=np.float64)
    if counts.shape != (2,) or np.any(counts < 1):
        raise ValueError(f"class_counts must be two counts (N_0, N_1) >= 1, got {counts.tolist()}")
    return float(counts[0] / counts.sum())


def _split_probabilities(p, y) -> tuple[np.ndarray, np.ndarray]:
    """(p of minority rows, p of majority rows) as float64."""
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y)
    if p.shape != y.shape or p.ndim != 1:
        raise ValueError(f"p and y must be 1-D of the same length, got shapes {p.shape} and {y.shape}")
    return p[y == 1], p[y == 0]


def eq6_lhs(p, y) -> float:
    """Left side of CRCEN eq. (6): ``sum_{i in S_1} (1 - p_i) / sum_{j in S_0} p_j``.

    Args:
        p: Predicted ``P(y=1 | x)`` of the training rows, shape ``[N]``.
        y: Their labels in {0, 1}, shape ``[N]``.
    """
    p_1, p_0 = _split_probabilities(p, y)
    return float(np.sum(1.0 - p_1) / np.sum(p_0))


def eq6_rhs(lam: float) -> float:
    """Right side of CRCEN eq. (6): ``(1 - lambda) / lambda``."""
    lam = check_lambda(lam)
    return (1.0 - lam) / lam


def eq7_lhs(p, y) -> float:
    """Left side of CRCEN eq. (7): ``(1 - pbar_1) / pbar_0`` with class-wise mean probabilities.

    Args:
        p: Predicted ``P(y=1 | x)`` of fresh rows, shape ``[M]``.
        y: Their labels in {0, 1}, shape ``[M]``.
    """
    p_1, p_0 = _split_probabilities(p, y)
    return float((1.0 - p_1.mean()) / p_0.mean())


def eq7_rhs(lam: float, n_0: int, n_1: int) -> float:
    """Right side of CRCEN eq. (7): ``N_0 (1 - lambda) / (N_1 lambda)`` (training counts)."""
    lam = check_lambda(lam)
    return n_0 * (1.0 - lam) / (n_1 * lam)
