"""Experience replay memory M of DQNimb (Algorithm 1), preallocated as tensors.

Every field is one tensor of ``capacity`` rows on the learner device, written in
place with wrap-around: the memory never allocates after construction, a batch of
transitions from all lanes is one slice write, and sampling is one ``randint`` on a
seeded ``torch.Generator`` plus one gather per field (no numpy round trip).
``terminated`` and ``truncated`` are stored separately: only ``terminated`` stops the
bootstrap of eq. (9); running out of data (truncation) keeps it.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import torch

__all__ = ["ReplayBatch", "ReplayMemory"]


class ReplayBatch(NamedTuple):
    """Transitions ``(s, a, r, s', terminated, truncated)``; leading shape ``[B]`` or ``[K, B]``."""

    obs: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    next_obs: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor


def _torch_dtype(dtype) -> torch.dtype:
    """torch dtype of a numpy / torch dtype."""
    if isinstance(dtype, torch.dtype):
        return dtype
    return torch.from_numpy(np.zeros(0, dtype=np.dtype(dtype))).dtype


class ReplayMemory:
    """Ring buffer of transitions, preallocated on ``device``.

    Args:
        capacity: number of transitions kept (the oldest are overwritten).
        obs_shape: shape of one observation, e.g. ``(D,)`` or ``(C, H, W)``.
        obs_dtype: dtype of stored observations (numpy or torch), e.g. ``uint8`` images
            are kept as ``uint8`` (4x less memory than float32).
        device: where the tensors live (the learner's device).
        generator: seeded ``torch.Generator`` on ``device`` used by :meth:`sample`.
    """

    def __init__(self, capacity: int, obs_shape: Sequence[int], obs_dtype, device: str | torch.device = "cpu",
                 generator: torch.Generator | None = None):
        if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)) or capacity < 1:
            raise ValueError(f"capacity must be an int >= 1, got {capacity!r}")
        self.capacity = int(capacity)
        self.obs_shape = tuple(int(d) for d in obs_shape)
        self.device = torch.device(device)
        dtype = _torch_dtype(obs_dtype)
        self.obs = torch.zeros((self.capacity, *self.obs_shape), dtype=dtype, device=self.device)
        self.next_obs = torch.zeros_like(self.obs)
        self.actions = torch.zeros(self.capacity, dtype=torch.int64, device=self.device)
        self.rewards = torch.zeros(self.capacity, dtype=torch.float32, device=self.device)
        self.terminated = torch.zeros(self.capacity, dtype=torch.bool, device=self.device)
        self.truncated = torch.zeros(self.capacity, dtype=torch.bool, device=self.device)
        self.generator = generator
        self.pos = 0  # next row to write
        self.size = 0  # rows holding data
        self.n_added = 0  # transitions ever added

    def __len__(self) -> int:
        return self.size

    @property
    def full(self) -> bool:
        """True once ``capacity`` transitions have been stored."""
        return self.size == self.capacity

    def _fields(self) -> tuple[torch.Tensor, ...]:
        return (self.obs, self.actions, self.rewards, self.next_obs, self.terminated, self.truncated)

    def add(self, obs, actions, rewards, next_obs, terminated, truncated) -> None:
        """Store a batch of ``B`` transitions (one per lane) in one vectorised write.

        Args:
            obs: ``[B, *obs_shape]`` observations s (numpy or tensor).
            actions: ``[B]`` integer actions a.
            rewards: ``[B]`` rewards r.
            next_obs: ``[B, *obs_shape]`` next observations s' (the final observation on
                lanes whose episode just ended).
            terminated: ``[B]`` bool, the episode ended in a terminal state.
            truncated: ``[B]`` bool, the episode was cut (data used up); bootstraps.

        When ``B > capacity`` only the last ``capacity`` transitions are kept.
        """
        values = [obs, actions, rewards, next_obs, terminated, truncated]
        tensors = []
        n = None
        for name, value, store in zip(ReplayBatch._fields, values, self._fields()):
            t = torch.as_tensor(value, device=self.device)
            if t.dtype != store.dtype:
                t = t.to(store.dtype)
            if n is None:
                n = t.shape[0] if t.ndim else -1
            if t.ndim == 0 or t.shape[0] != n or t.shape[1:] != store.shape[1:]:
                raise ValueError(
                    f"{name} must have shape [{n}, {', '.join(map(str, store.shape[1:]))}]"
                    f" (one row per lane), got {tuple(t.shape)}"
                )
            tensors.append(t)
        if n == 0:
            return
        self.n_added += n
        if n > self.capacity:
            tensors = [t[n - self.capacity:] for t in tensors]
            n = self.capacity
        first = min(n, self.capacity - self.pos)
        for t, store in zip(tensors, self._fields()):
            store[self.pos:self.pos + first] = t[:first]
            if first < n:  # wrap around to the start
                store[: n - first] = t[first:]
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample_indices(self, n_batches: int, batch_size: int) -> torch.Tensor:
        """Uniform row indices with replacement over the stored rows, shape ``[K, B]``."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay memory; add transitions first")
        return torch.randint(0, self.size, (n_batches, batch_size), generator=self.generator,
                             device=self.device)

    def gather(self, indices: torch.Tensor) -> ReplayBatch:
        """Rows at ``indices`` (any shape ``S``): each field gets leading shape ``S``."""
        flat = indices.reshape(-1)
        shape = tuple(indices.shape)
        return ReplayBatch(*(store[flat].reshape(*shape, *store.shape[1:]) for store in self._fields()))

    def sample(self, batch_size: int, n_batches: int | None = None) -> ReplayBatch:
        """Draw ``batch_size`` stored transitions uniformly (with replacement).

        Args:
            batch_size: ``B``.
            n_batches: draw ``K`` batches at once (leading shape ``[K, B]``); ``None``
                gives one batch with leading shape ``[B]``.
        """
        idx = self.sample_indices(1 if n_batches is None else n_batches, batch_size)
        return self.gather(idx[0] if n_batches is None else idx)
