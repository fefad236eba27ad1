"""Configuration of the DQNimb agent (Lin et al., sec. III-C and IV-D).

One frozen dataclass, validated once in ``__post_init__``. Every field says where its
default comes from: "paper" for values stated in sec. IV-D, "ours" for choices the paper
leaves open (with the reason).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["DQNImbConfig", "LOSSES", "NETWORKS", "SELECTION_METRICS"]

NETWORKS = ("auto", "mlp", "cnn", "text")
LOSSES = ("mse", "huber")
SELECTION_METRICS = ("g_mean", "f_measure", "macro_f1", "mcc")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclass(frozen=True)
class DQNImbConfig:
    """Hyperparameters of :class:`agents.dqn.DQNImb` (DQNimb, Algorithm 1).

    Step counts are *environment transitions* summed over all lanes (SB3's
    ``num_timesteps``), except ``target_update_interval``, which counts gradient steps.
    """

    total_timesteps: int = 120_000
    """Transitions per ``learn()`` call. Paper (sec. III-C, IV-D): "about 120 000 iterations"."""
    buffer_size: int = 50_000
    """Replay memory capacity. Paper (sec. IV-D): 50 000."""
    batch_size: int = 64
    """Mini-batch size. Paper (sec. IV-D) states 64 for the baselines; used for the Q-network too."""
    gamma: float = 0.1
    """Discount factor of eq. (9). Paper (sec. IV-D): 0.1."""
    learning_rate: float = 2.5e-4
    """Adam learning rate. Paper (sec. IV-D): 0.00025."""
    epsilon_start: float = 1.0
    """Initial exploration rate of the epsilon-greedy policy. Paper (sec. IV-D): 1.0."""
    epsilon_end: float = 0.01
    """Final exploration rate. Paper (sec. IV-D): 0.01."""
    exploration_fraction: float = 0.1
    """Fraction of the run over which epsilon decays linearly. Ours: the paper gives no
    length; 10% (SB3's DQN default) spends the rest of the budget near-greedy, where the
    classifier is refined."""
    target_update_interval: int = 1_000
    """Gradient steps between hard copies of the Q-network into the target network of
    eq. (9). Ours: the paper names theta_{k-1} without a period; with gamma = 0.1 the
    bootstrap term is small, and 1 000 updates keeps the target stable without lagging."""
    learning_starts: int = 1_000
    """Transitions collected before the first gradient step. Ours (not in the paper)."""
    train_frequency: int = 1
    """Transitions between gradient updates. Algorithm 1: one update per step."""
    gradient_steps: int = 1
    """Gradient steps per update; the replay ratio is ``gradient_steps / train_frequency``
    (1 in Algorithm 1, whatever ``num_envs`` is)."""
    num_envs: int = 16
    """Lanes of the vector env built when the agent gets a single ``ICMDPEnv``. Ours: more
    lanes amortise one forward pass over several transitions (the replay ratio stays 1)."""
    loss: Literal["mse", "huber"] = "mse"
    """Squared TD error of eq. (8) (paper) or the Huber loss (SB3's choice)."""
    max_grad_norm: float | None = None
    """Clip the gradient norm to this value; None = no clipping (the paper clips nothing)."""
    network: Literal["auto", "mlp", "cnn", "text"] = "auto"
    """Q-network body: ``"auto"`` picks it from the observation space (Tables II-III)."""
    hidden_sizes: tuple[int, ...] = (256, 256)
    """Hidden layer widths of the MLP body (tabular data). Ours."""
    device: str = "auto"
    """Learner device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:N"``."""
    eval_freq: int = 2_000
    """Transitions between validation passes (when validation data is given). Ours."""
    selection_metric: Literal["g_mean", "f_measure", "macro_f1", "mcc"] = "g_mean"
    """Validation metric that picks the best weights (the paper reports G-mean)."""
    load_best: bool = True
    """At the end of ``learn()``, load the weights with the best validation score."""
    eval_batch_size: int = 4_096
    """Rows per forward pass in ``predict`` / ``evaluate``."""
    progress_bar: bool = True
    """Default of ``learn(progress_bar=None)``: show a tqdm bar."""

    def __post_init__(self) -> None:
        positive_ints = ("total_timesteps", "buffer_size", "batch_size", "target_update_interval",
                         "train_frequency", "gradient_steps", "num_envs", "eval_freq", "eval_batch_size")
        for name in positive_ints:
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"DQNImbConfig.{name} must be an int >= 1, got {value!r}")
        if not _is_int(self.learning_starts) or self.learning_starts < 0:
            raise ValueError(f"DQNImbConfig.learning_starts must be an int >= 0, got {self.learning_starts!r}")
        if self.batch_size > self.buffer_size:
            raise ValueError(
                f"DQNImbConfig.batch_size ({self.batch_size}) must not exceed buffer_size ({self.buffer_size})"
            )
        for name, low, high, low_open in (("gamma", 0.0, 1.0, False), ("epsilon_start", 0.0, 1.0, False),
                                          ("epsilon_end", 0.0, 1.0, False),
                                          ("exploration_fraction", 0.0, 1.0, True)):
            value = getattr(self, name)
            inside = _is_real(value) and (low < value if low_open else low <= value) and value <= high
            if not inside:
                bracket = "(" if low_open else "["
                raise ValueError(f"DQNImbConfig.{name} must be a number in {bracket}{low}, {high}], got {value!r}")
        if self.epsilon_end > self.epsilon_start:
            raise ValueError(
                f"DQNImbConfig.epsilon_end ({self.epsilon_end}) must not exceed epsilon_start ({self.epsilon_start})"
            )
        if not _is_real(self.learning_rate) or not math.isfinite(self.learning_rate) or self.learning_rate <= 0:
            raise ValueError(f"DQNImbConfig.learning_rate must be a finite number > 0, got {self.learning_rate!r}")
        if self.max_grad_norm is not None and (
            not _is_real(self.max_grad_norm) or not self.max_grad_norm > 0
        ):
            raise ValueError(f"DQNImbConfig.max_grad_norm must be None or a number > 0, got {self.max_grad_norm!r}")
        for name, allowed in (("loss", LOSSES), ("network", NETWORKS), ("selection_metric", SELECTION_METRICS)):
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"DQNImbConfig.{name} must be one of {allowed}, got {value!r}")
        sizes = self.hidden_sizes
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
            raise ValueError(f"DQNImbConfig.hidden_sizes must be a sequence of ints >= 1, got {sizes!r}")
        sizes = tuple(sizes)
        if not sizes or not all(_is_int(h) and h >= 1 for h in sizes):
            raise ValueError(f"DQNImbConfig.hidden_sizes must be a non-empty sequence of ints >= 1, got {sizes!r}")
        object.__setattr__(self, "hidden_sizes", tuple(int(h) for h in sizes))  # lists -> hashable tuple
        if not isinstance(self.device, str) or not self.device:
            raise ValueError(f"DQNImbConfig.device must be a device string such as 'auto' or 'cpu', got {self.device!r}")
        for name in ("load_best", "progress_bar"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"DQNImbConfig.{name} must be a bool, got {getattr(self, name)!r}")

    @property
    def replay_ratio(self) -> float:
        """Gradient steps per collected transition (1.0 in Algorithm 1)."""
        return self.gradient_steps / self.train_frequency

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict of every field."""
        out = dataclasses.asdict(self)
        out["hidden_sizes"] = list(self.hidden_sizes)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "DQNImbConfig":
        """Inverse of :meth:`to_dict`; unknown keys are a ``ValueError`` naming them."""
        if not isinstance(values, dict):
            raise TypeError(f"values must be a dict, got {type(values).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown DQNImbConfig field(s) {unknown}; known: {sorted(known)}")
        return cls(**values)

    def replace(self, **changes: Any) -> "DQNImbConfig":
        """A copy with ``changes`` applied (validated again)."""
        return self.from_dict({**self.to_dict(), **changes})

