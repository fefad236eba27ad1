"""V-trace off-policy targets (IMPALA, Espeholt et al. 2018, eq. 1) as pure torch functions.

AutoSMOTE (Zha et al., sec. 3.3, eq. 1-2) trains each of its three policies with
IMPALA's V-trace because the reward of an episode arrives only after a classifier has
been fit, so the weights that acted may be several updates old.

Shape contract: time-major ``[T, B]`` tensors (``T`` steps of ``B`` sequences), with
``bootstrap_value`` ``[B]`` the value of the state after the last step. A sequence may
hold several episodes; ``terminated`` and ``truncated`` mark the steps where one ends.
At such a step the trace is cut (nothing flows back from the next episode). A
terminated step has no successor value; a truncated step bootstraps from
``final_values`` (the value of the last observation, required when any step is
truncated).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

__all__ = ["VTraceReturns", "vtrace", "vtrace_loss"]


class VTraceReturns(NamedTuple):
    """Outputs of :func:`vtrace` (both ``[T, B]``, no gradient)."""

    vs: torch.Tensor
    """V-trace value targets ``v_t``."""
    pg_advantages: torch.Tensor
    """Policy-gradient advantages ``rho_t (r_t + gamma v_{t+1} - V(x_t))``."""


@torch.no_grad()
def vtrace(
    behaviour_log_probs: torch.Tensor,
    target_log_probs: torch.Tensor,
    rewards: torch.Tensor,
    values: torch.Tensor,
    bootstrap_value: torch.Tensor,
    terminated: torch.Tensor,
    truncated: torch.Tensor,
    gamma: float = 1.0,
    rho_bar: float = 1.0,
    c_bar: float = 1.0,
    pg_rho_bar: float | None = None,
    final_values: torch.Tensor | None = None,
) -> VTraceReturns:
    r"""V-trace targets and policy-gradient advantages (IMPALA eq. 1, AutoSMOTE eq. 1).

    .. math::
        v_s = V(x_s) + \sum_{t=s}^{s+n-1} \gamma^{t-s} \Big(\prod_{i=s}^{t-1} c_i\Big)
              \rho_t \big(r_t + \gamma V(x_{t+1}) - V(x_t)\big)

    with :math:`\rho_t = \min(\bar\rho, \pi(a_t|x_t)/\mu(a_t|x_t))` and
    :math:`c_i = \min(\bar c, \pi(a_i|x_i)/\mu(a_i|x_i))`, computed backwards as
    :math:`v_s - V(x_s) = \delta_s + \gamma c_s (v_{s+1} - V(x_{s+1}))`. The advantage is
    :math:`\rho^{pg}_s (r_s + \gamma v_{s+1} - V(x_s))` (the weight in AutoSMOTE eq. 2).

    Args:
        behaviour_log_probs: ``log mu(a_t|x_t)`` of the acting policy, ``[T, B]``.
        target_log_probs: ``log pi(a_t|x_t)`` of the policy being learnt, ``[T, B]``.
        rewards: ``r_t``, ``[T, B]``.
        values: ``V(x_t)`` from the learner, ``[T, B]``.
        bootstrap_value: ``V(x_T)``, ``[B]``.
        terminated: bool ``[T, B]``, episode ended at ``t`` with no successor state.
        truncated: bool ``[T, B]``, episode cut at ``t``; bootstraps from ``final_values``.
        gamma: discount.
        rho_bar: truncation of the importance weight inside the TD errors (>= c_bar).
        c_bar: truncation of the trace coefficients.
        pg_rho_bar: truncation of the advantage's weight (default ``rho_bar``).
        final_values: ``V`` of the last observation at truncated steps, ``[T, B]``.

    Returns:
        :class:`VTraceReturns` with ``vs`` and ``pg_advantages``, ``[T, B]``.

    Raises:
        ValueError: on shape mismatches, ``rho_bar < c_bar``, or truncated steps without
            ``final_values``.
    """
    T, B = _check_shapes(behaviour_log_probs, target_log_probs, rewards, values,
                         bootstrap_value, terminated, truncated, final_values)
    if not (rho_bar > 0 and c_bar > 0 and rho_bar >= c_bar):
        raise ValueError(f"need rho_bar >= c_bar > 0, got rho_bar={rho_bar}, c_bar={c_bar}")
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    terminated = terminated.bool()
    truncated = truncated.bool()
    if final_values is None:
        if truncated.any():
            raise ValueError("final_values is required when a step is truncated")
        final_values = torch.zeros_like(values)

    ratio = torch.exp(target_log_probs - behaviour_log_probs)
    rho = ratio.clamp(max=rho_bar)
    c = ratio.clamp(max=c_bar)
    pg_rho = ratio.clamp(max=rho_bar if pg_rho_bar is None else pg_rho_bar)

    next_values = torch.cat([values[1:], bootstrap_value[None]], dim=0)
    next_values = torch.where(truncated, final_values, next_values)
    discounts = gamma * (~terminated).to(values.dtype)
    trace = gamma * (~(terminated | truncated)).to(values.dtype) * c

    deltas = rho * (rewards + discounts * next_values - values)
    vs = values + _suffix_scan(deltas, trace)

    next_vs = torch.cat([vs[1:], bootstrap_value[None]], dim=0)
    next_vs = torch.where(truncated, final_values, next_vs)
    pg_advantages = pg_rho * (rewards + discounts * next_vs - values)
    return VTraceReturns(vs=vs, pg_advantages=pg_advantages)


def vtrace_loss(
    target_log_probs: torch.Tensor,
    values: torch.Tensor,
    entropy: torch.Tensor,
    returns: VTraceReturns,
    mask: torch.Tensor | None = None,
    baseline_coef: float = 0.5,
    entropy_coef: float = 0.01,
) -> tuple[torch.Tensor, dict[str, float]]:
    r"""IMPALA / AutoSMOTE eq. (2) loss: policy gradient + baseline + entropy terms.

    .. math::
        L = -\sum_t \rho_t \log\pi(a_t|s_t)\,(r_t + \gamma v_{t+1} - V(s_t))
            + c_V \sum_t \tfrac12 (v_t - V(s_t))^2 - c_H \sum_t H(\pi(\cdot|s_t))

    AutoSMOTE's eq. (2) is the first two terms with ``c_V = 1``; the entropy term is
    IMPALA's regulariser. Sums are averaged over the valid steps.

    Args:
        target_log_probs: ``log pi(a_t|s_t)`` with gradient, ``[T, B]``.
        values: ``V(s_t)`` with gradient, ``[T, B]``.
        entropy: ``H(pi(.|s_t))`` with gradient, ``[T, B]``.
        returns: the (gradient-free) output of :func:`vtrace`.
        mask: 1 for real steps, 0 for padding, ``[T, B]`` (default all ones).
        baseline_coef: weight of the value loss.
        entropy_coef: weight of the entropy bonus.

    Returns:
        ``(loss, stats)`` with the scalar loss and its parts as floats.
    """
    if mask is None:
        mask = torch.ones_like(values)
    mask = mask.to(values.dtype)
    n = mask.sum().clamp(min=1.0)
    pg = -(target_log_probs * returns.pg_advantages.detach() * mask).sum() / n
    baseline = 0.5 * (((returns.vs.detach() - values) ** 2) * mask).sum() / n
    ent = (entropy * mask).sum() / n
    loss = pg + baseline_coef * baseline - entropy_coef * ent
    return loss, {"policy_loss": pg.item(), "baseline_loss": baseline.item(), "entropy": ent.item()}


def _suffix_scan(deltas: torch.Tensor, coefs: torch.Tensor) -> torch.Tensor:
    """``acc_t = deltas_t + coefs_t * acc_{t+1}`` with ``acc_T = 0``, over ``[T, B]``.

    A log-depth (Hillis-Steele) scan instead of a Python loop over T: after the round
    with shift ``s``, ``acc_t`` sums the terms ``t .. t + 2s - 1`` of the unrolled sum
    ``sum_k (prod_{i=t}^{k-1} coefs_i) deltas_k`` and ``span_t`` is the product of their
    coefficients, so ``ceil(log2 T)`` rounds give the exact recursion.
    """
    acc, span = deltas, coefs
    T = deltas.shape[0]
    shift = 1
    while shift < T:
        pad = deltas.new_zeros((shift,) + tuple(deltas.shape[1:]))
        acc = acc + span * torch.cat([acc[shift:], pad])
        span = span * torch.cat([span[shift:], pad])
        shift *= 2
    return acc


def _check_shapes(behaviour_log_probs, target_log_probs, rewards, values, bootstrap_value,
                  terminated, truncated, final_values) -> tuple[int, int]:
    """All ``[T, B]`` inputs share one shape; ``bootstrap_value`` is ``[B]``."""
    if values.dim() != 2:
        raise ValueError(f"values must be [T, B], got shape {tuple(values.shape)}")
    T, B = values.shape
    named = {"behaviour_log_probs": behaviour_log_probs, "target_log_probs": target_log_probs,
             "rewards": rewards, "terminated": terminated, "truncated": truncated}
    if final_values is not None:
        named["final_values"] = final_values
    for name, tensor in named.items():
        if tuple(tensor.shape) != (T, B):
            raise ValueError(f"{name} must have shape [T, B] = {(T, B)}, got {tuple(tensor.shape)}")
    if tuple(bootstrap_value.shape) != (B,):
        raise ValueError(f"bootstrap_value must have shape [B] = ({B},), got {tuple(bootstrap_value.shape)}")
    return T, B
