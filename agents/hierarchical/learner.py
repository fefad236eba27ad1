"""The learner's side of Algorithm 2: per-level step buffers and the V-trace update (eq. 1-2).

* :class:`StepBuffer` -- a queue of one level's steps (the paper's ``B_h1``, ``B_h2``,
  ``B_l`` buffers). Whole episodes are pushed; :meth:`StepBuffer.pop` takes exactly ``n``
  steps from the front, cutting an episode when needed (the rest stays for the next pop).
* :func:`column_layout` / :func:`time_major` -- a popped run of steps as a ``[T, B]``
  batch: each piece of a level-episode is one column, padded with a mask.
* :func:`level_loss` -- recomputes the target log-probabilities and values of the popped
  steps with the current weights, computes V-trace targets
  (:func:`~agents.hierarchical.vtrace.vtrace`) and the loss of AutoSMOTE eq. (2) with
  IMPALA's entropy term (:func:`~agents.hierarchical.vtrace.vtrace_loss`).
* :func:`level_update` -- one Adam step on that loss with gradient-norm clipping.

Episode boundaries inside a batch: the last step of a level-episode is *terminated*
(its reward is the metric, nothing follows). A column cut by the pop size is
*truncated*: it bootstraps from the value of the next step's input (still in the buffer),
computed with the current weights, and the trace stops there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from agents.hierarchical.policies import DiscretePolicy, log_probs_and_entropy
from agents.hierarchical.rollout import LevelSteps
from agents.hierarchical.vtrace import VTraceReturns, vtrace, vtrace_loss

__all__ = ["StepBatch", "StepBuffer", "column_layout", "level_loss", "level_update", "time_major"]

_FIELDS = ("obs", "nf", "mask")
_STEP_FIELDS = ("obs_index", "actions", "logp", "rewards", "ends")


@dataclass
class StepBatch(LevelSteps):
    """``n`` consecutive steps of one level, popped from a :class:`StepBuffer`.

    The :class:`~agents.hierarchical.rollout.LevelSteps` fields, where ``logp`` is the
    behaviour policy's and, when ``truncated_tail``, the last input row is that of the
    step after the batch; plus:

    Attributes:
        rewards: ``[n]``: the metric at the last step of each level-episode, else 0.
        truncated_tail: the last step is not an episode's end (the pop cut it); its
            successor's input is ``obs[-1]``.
    """

    rewards: np.ndarray = None
    truncated_tail: bool = False


class StepBuffer:
    """Queue of one level's steps (Algorithm 2: ``B_h1``, ``B_h2`` or ``B_l``).

    Steps are stored as one stream of arrays (inputs once per distinct state). Because
    ``obs_index`` never decreases, popping the first ``n`` steps frees exactly the inputs
    before ``obs_index[n]``.
    """

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] | None = None

    def __len__(self) -> int:
        return 0 if self._arrays is None else int(self._arrays["actions"].shape[0])

    def push(self, steps: LevelSteps, metric: float) -> None:
        """Append one episode's steps of this level; the last step of each of its
        level-episodes gets reward ``metric``."""
        new = {k: v for k, v in steps.arrays().items()}
        new["rewards"] = np.where(steps.ends, np.float32(metric), np.float32(0.0)).astype(np.float32)
        if self._arrays is None or len(self) == 0:
            self._arrays = new
            return
        old = self._arrays
        if set(old) != set(new):
            raise ValueError(f"steps carry fields {sorted(new)}, the buffer {sorted(old)}")
        shift = old["obs"].shape[0]
        new["obs_index"] = new["obs_index"] + shift
        self._arrays = {k: np.concatenate([old[k], new[k]]) for k in old}

    def pop(self, n: int) -> StepBatch:
        """Remove and return the first ``n`` steps (``1 <= n <= len(self)``)."""
        if not 1 <= n <= len(self):
            raise ValueError(f"can pop 1..{len(self)} steps, asked for {n}")
        a = self._arrays
        first = int(a["obs_index"][0])
        tail = n < len(self)
        truncated_tail = tail and not bool(a["ends"][n - 1])
        # the successor's input is needed only when the pop cuts a level-episode
        last_row = int(a["obs_index"][n]) if truncated_tail else int(a["obs_index"][n - 1])
        rows = slice(first, last_row + 1)
        batch = StepBatch(
            obs=a["obs"][rows], nf=a["nf"][rows] if "nf" in a else None,
            mask=a["mask"][rows] if "mask" in a else None,
            obs_index=a["obs_index"][:n] - first, actions=a["actions"][:n], logp=a["logp"][:n],
            rewards=a["rewards"][:n], ends=a["ends"][:n], truncated_tail=truncated_tail,
        )
        if tail:
            keep_from = int(a["obs_index"][n])
            rest = {k: a[k][keep_from:] for k in _FIELDS if k in a}
            rest.update({k: a[k][n:] for k in _STEP_FIELDS})
            rest["obs_index"] = rest["obs_index"] - keep_from
            self._arrays = {k: np.ascontiguousarray(v) for k, v in rest.items()}
        else:
            self._arrays = None
        return batch

    def state(self) -> dict[str, np.ndarray]:
        """The buffered arrays (for checkpoints); empty when nothing is buffered."""
        return {} if self._arrays is None else dict(self._arrays)

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore :meth:`state` output."""
        self._arrays = dict(arrays) if arrays else None


# --------------------------------------------------------------------------------------
# [T, B] layout
# --------------------------------------------------------------------------------------
def column_layout(ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split ``n`` consecutive steps into columns that each end at a level-episode's end.

    Args:
        ends: bool ``[n]``.

    Returns:
        ``(starts, lengths)``, int64 ``[B]``: column ``b`` holds steps
        ``starts[b] .. starts[b] + lengths[b] - 1``; the last column ends at ``n - 1``
        whether or not that step ends an episode.
    """
    ends = np.asarray(ends, dtype=bool)
    n = ends.shape[0]
    stops = np.flatnonzero(ends[:-1]) + 1  # a column starts after each episode end
    starts = np.concatenate([[0], stops]).astype(np.int64)
    lengths = np.diff(np.concatenate([starts, [n]])).astype(np.int64)
    return starts, lengths


def time_major(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Step index of every ``[T, B]`` cell (``T = max(lengths)``), -1 for padding."""
    T = int(lengths.max())
    t = np.arange(T)[:, None]
    return np.where(t < lengths[None, :], starts[None, :] + t, -1)


# --------------------------------------------------------------------------------------
# Loss and update
# --------------------------------------------------------------------------------------
def _forward(policy: nn.Module, batch: StepBatch, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Masked logits ``[M, A]`` and values ``[M]`` of the batch's distinct inputs."""
    x = torch.as_tensor(batch.obs, device=device)
    mask = None if batch.mask is None else torch.as_tensor(batch.mask, device=device)
    if isinstance(policy, DiscretePolicy):
        return policy(x, mask)
    return policy(x, torch.as_tensor(batch.nf, device=device), mask)


def level_loss(policy: nn.Module, batch: StepBatch, *, gamma: float = 1.0, rho_bar: float = 1.0,
               c_bar: float = 1.0, baseline_coef: float = 0.5, entropy_coef: float = 6e-4,
               device: torch.device | str = "cpu", returns: VTraceReturns | None = None
               ) -> tuple[torch.Tensor, dict[str, float], VTraceReturns]:
    """AutoSMOTE eq. (2) + entropy on one popped batch, with V-trace targets (eq. 1).

    Target log-probabilities ``log pi(a_t|s_t)`` and values ``V(s_t)`` are recomputed with
    the policy's current weights; the behaviour log-probabilities are the actors'. The
    steps are laid out ``[T, B]`` by :func:`column_layout` (one column per piece of a
    level-episode, padding masked out and marked terminated so nothing leaks).

    Args:
        policy: the level's :class:`~agents.hierarchical.policies.DiscretePolicy` or
            :class:`~agents.hierarchical.policies.PairScoringPolicy`.
        batch: the steps.
        gamma, rho_bar, c_bar: V-trace settings.
        baseline_coef, entropy_coef: loss weights.
        device: where ``policy`` lives.
        returns: V-trace targets to use instead of computing them (``[T, B]`` of this
            batch's layout), e.g. to evaluate the objective a previous step descended.

    Returns:
        ``(loss, stats, returns)``: the scalar loss (with gradient); floats
        ``policy_loss``, ``baseline_loss``, ``entropy``, ``mean_ratio`` (``pi / mu`` over
        real steps), ``steps`` and ``columns``; and the V-trace targets used.
    """
    device = torch.device(device)
    logits, values = _forward(policy, batch, device)
    logp_all, entropy_all = log_probs_and_entropy(logits)
    idx = torch.as_tensor(batch.obs_index, device=device)
    actions = torch.as_tensor(batch.actions, device=device)
    step_logp = logp_all[idx, actions]
    step_values = values[idx]
    step_entropy = entropy_all[idx]

    starts, lengths = column_layout(batch.ends)
    cells = time_major(starts, lengths)
    real = torch.as_tensor(cells >= 0, device=device)
    flat_cells = torch.as_tensor(np.where(cells >= 0, cells, 0), device=device)
    T, B = cells.shape

    def grid(values_n: torch.Tensor) -> torch.Tensor:
        return torch.where(real, values_n[flat_cells], torch.zeros((), dtype=values_n.dtype, device=device))

    target_tb = grid(step_logp)
    values_tb = grid(step_values)
    entropy_tb = grid(step_entropy)
    behaviour_tb = grid(torch.as_tensor(batch.logp, device=device).to(step_logp.dtype))
    rewards_tb = grid(torch.as_tensor(batch.rewards, device=device).to(values.dtype))
    ends_tb = grid(torch.as_tensor(batch.ends, device=device)).bool()
    terminated = ends_tb | ~real  # padding cells are self-contained
    truncated = torch.zeros_like(terminated)
    final_values = torch.zeros_like(values_tb)
    if batch.truncated_tail:
        t_last = int(lengths[-1]) - 1
        truncated[t_last, B - 1] = True
        final_values[t_last, B - 1] = values[-1].detach()  # V of the next step's input
    if returns is None:
        returns = vtrace(behaviour_tb, target_tb.detach(), rewards_tb, values_tb.detach(),
                         torch.zeros(B, dtype=values_tb.dtype, device=device), terminated, truncated,
                         gamma=gamma, rho_bar=rho_bar, c_bar=c_bar, final_values=final_values)
    loss, stats = vtrace_loss(target_tb, values_tb, entropy_tb, returns, mask=real,
                              baseline_coef=baseline_coef, entropy_coef=entropy_coef)
    with torch.no_grad():
        ratio = torch.exp(step_logp - torch.as_tensor(batch.logp, device=device).to(step_logp.dtype))
    stats.update(loss=float(loss.detach()), mean_ratio=float(ratio.mean()), steps=len(batch), columns=B)
    return loss, stats, returns


def level_update(policy: nn.Module, optimizer: torch.optim.Optimizer, batch: StepBatch, *,
                 max_grad_norm: float | None = 40.0, **loss_kwargs) -> dict[str, float]:
    """One Adam step on :func:`level_loss` (Algorithm 2, lines 7, 10, 13).

    Args:
        policy, batch: as in :func:`level_loss`.
        optimizer: the level's optimizer.
        max_grad_norm: clip the global gradient norm to this (None: no clipping).
        **loss_kwargs: ``gamma``, ``rho_bar``, ``c_bar``, ``baseline_coef``,
            ``entropy_coef``, ``device``.

    Returns:
        The loss statistics plus ``grad_norm`` (before clipping).
    """
    loss, stats, _ = level_loss(policy, batch, **loss_kwargs)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if max_grad_norm is not None:
        norm = nn.utils.clip_grad_norm_(policy.parameters(), max_grad_norm)
    else:
        norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in policy.parameters() if p.grad is not None]))
    optimizer.step()
    stats["grad_norm"] = float(norm)
    return stats
