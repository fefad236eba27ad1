"""Configuration of the AutoSMOTE learner (Zha et al., CIKM'22, sec. 3.3 and 4.1).

One frozen dataclass, validated once in ``__post_init__``. Every field says where its
default comes from: "paper" for values stated in sec. 4.1, "authors' code" for values the
paper leaves out but the authors' released implementation sets, "ours" for choices made
here (with the reason).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["ABLATIONS", "BACKENDS", "START_METHODS", "HierarchicalConfig"]

ABLATIONS = ("full", "no_cross_instance", "no_instance_specific", "no_low_level", "flat", "random")
"""The full agent and the ablations of AutoSMOTE Table 4 (sec. 4.4)."""

START_METHODS = ("auto", "fork", "spawn", "forkserver")

BACKENDS = ("local", "ray")
"""Where actors play episodes: processes on this machine, or Ray actors (issue #7)."""

Ablation = Literal["full", "no_cross_instance", "no_instance_specific", "no_low_level", "flat", "random"]


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _int_tuple(name: str, value: Any, length: int | None = None) -> tuple[int, ...]:
    """A non-empty tuple of ints >= 1 (of ``length`` entries when given), or a ValueError."""
    what = f"a sequence of {length} ints >= 1" if length else "a non-empty sequence of ints >= 1"
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(f"HierarchicalConfig.{name} must be {what}, got {value!r}")
    items = tuple(value)
    if not items or (length is not None and len(items) != length) or not all(_is_int(v) and v >= 1 for v in items):
        raise ValueError(f"HierarchicalConfig.{name} must be {what}, got {value!r}")
    return tuple(int(v) for v in items)


@dataclass(frozen=True)
class HierarchicalConfig:
    """Hyperparameters and run settings of :class:`agents.hierarchical.HierarchicalAgent`.

    Counts of "steps" are steps of one level's episodes (a level-0 episode has 1 step,
    a level-1 episode ``N_min``, a low-level episode ``g = g1 * g2``); "episodes" are
    episodes of the environment (one synthetic set, one classifier fit).
    """

    learning_rate: float = 5e-3
    """Adam learning rate of all three policies. Paper (sec. 4.1): 0.005."""
    hidden_sizes: tuple[int, ...] = (128, 128)
    """MLP body of each policy-value network. Paper (sec. 4.1): 128-128."""
    score_hidden_sizes: tuple[int, ...] = (128,)
    """Hidden layers of the low-level head that scores (state representation, action
    features) pairs. Ours: the paper says "an MLP" without sizes; one layer as wide as
    the body."""
    buffer_sizes: tuple[int, int, int] = (2, 300, 300)
    """Steps popped per update from the cross-instance, instance-specific and low-level
    buffers ``(B_h1, B_h2, B_l)`` (Algorithm 2, lines 6-14). Paper (sec. 4.1): 2, 300,
    300. The flat ablation uses ``B_l``."""
    gamma: float = 1.0
    """Discount. Authors' code: 1.0 (finite episodes, one terminal reward)."""
    rho_bar: float = 1.0
    """V-trace truncation of the importance weights in the TD errors (IMPALA: 1.0)."""
    c_bar: float = 1.0
    """V-trace truncation of the trace coefficients (IMPALA: 1.0)."""
    baseline_coef: float = 0.5
    """Weight of the value loss ``1/2 (v_t - V(s_t))^2`` of eq. (2). Authors' code and
    IMPALA: 0.5 (eq. 2 read literally: 1)."""
    entropy_coef: float = 6e-4
    """Weight of IMPALA's entropy bonus. Authors' code: 0.0006 (the paper gives none)."""
    max_grad_norm: float | None = 40.0
    """Global gradient-norm clipping per update; None = no clipping. Authors' code: 40."""
    num_actors: int | None = None
    """Actors. None = one per CPU core (``os.cpu_count()``; with ``backend="ray"`` one
    per CPU of the Ray cluster); 0 = run the episodes in the learner's process (no
    subprocess; reproducible; ``backend="local"`` only); 1 = one actor overlapping with
    the learner (reproducible, same numbers as 0, on either backend). Paper: 40."""
    backend: Literal["local", "ray"] = "local"
    """Where the actors run: ``"local"``, processes on this machine (``multiprocessing``);
    ``"ray"``, Ray actors on the cluster at ``ray_address`` (one CPU each; needs
    ``pip install imbalance-gym[distributed]``). Only where episodes are played differs:
    same seeds, same trajectories, same learner. Ours (issue #7)."""
    ray_address: str | None = None
    """With ``backend="ray"``: the cluster to connect to (``"auto"``, ``"HOST:PORT"``,
    ``"ray://HOST:PORT"``); None = ``RAY_ADDRESS`` or the Ray instance started on this
    machine by ``ray start``, else a new local instance that ``learn`` stops when it
    returns. An already initialised Ray connection is used as it is."""
    max_in_flight: int = 2
    """With 2 or more actors: episodes an actor may have sent that the learner has not
    used yet. Bounds the policy lag and the queued data. Ours."""
    ablation: Ablation = "full"
    """``"full"`` or an ablation of Table 4 (sec. 4.4): ``"no_cross_instance"`` (g1 fixed
    at ``ceil(G1 / 2)``), ``"no_instance_specific"`` (g2 fixed at ``ceil(G2 / 2)``),
    ``"no_low_level"`` (uniformly random neighbour and weight), ``"flat"`` (one policy on
    ``imbalance_gym/AutoSMOTE-Flat-v0``), ``"random"`` (random search, nothing learnt)."""
    learner_threads: int | None = 1
    """torch threads of the learner's process while ``learn`` runs (restored afterwards);
    None leaves torch's setting. Ours: the networks are small, so more threads only add
    synchronisation (10-100x slower updates on a busy 2-core machine) and take cores from
    the actors."""
    device: str = "auto"
    """Learner device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
    Actors always act on the CPU."""
    start_method: Literal["auto", "fork", "spawn", "forkserver"] = "auto"
    """How actor processes start. ``"auto"``: ``"spawn"`` when CUDA is available (a forked
    child must not inherit a CUDA context) or on platforms without fork, else ``"fork"``
    (starts in milliseconds)."""
    checkpoint_path: str | None = None
    """Where :meth:`~agents.hierarchical.HierarchicalAgent.learn` writes checkpoints
    (atomically): every ``checkpoint_every`` episodes, at the end, and when stopped by
    ``KeyboardInterrupt`` or an error. None = never."""
    checkpoint_every: int = 50
    """Episodes between checkpoints. Ours."""
    log_dir: str | None = None
    """Folder for ``progress.csv`` (one row per episode) and, when the ``tensorboard``
    package is installed, TensorBoard event files. None = no files."""
    progress_bar: bool = True
    """Default of ``learn(progress_bar=None)``: a tqdm bar with the best validation score."""
    max_actor_restarts: int = 8
    """Dead actors (processes or Ray actors) replaced per ``learn`` call before giving
    up with an error."""
    history_limit: int | None = 1000
    """Rows of :attr:`~agents.hierarchical.HierarchicalAgent.history` kept in memory
    and in checkpoints (the newest); None keeps every row. Bounds the memory and the
    checkpoint size of long runs; ``log_dir/progress.csv`` keeps the whole log on disk.
    Ours: 1000 keeps the whole history of a paper-length run (``I = 1000``)."""

    def __post_init__(self) -> None:
        if not _is_real(self.learning_rate) or not math.isfinite(self.learning_rate) or self.learning_rate <= 0:
            raise ValueError(f"HierarchicalConfig.learning_rate must be a finite number > 0, got {self.learning_rate!r}")
        object.__setattr__(self, "hidden_sizes", _int_tuple("hidden_sizes", self.hidden_sizes))
        object.__setattr__(self, "score_hidden_sizes", _int_tuple("score_hidden_sizes", self.score_hidden_sizes))
        object.__setattr__(self, "buffer_sizes", _int_tuple("buffer_sizes", self.buffer_sizes, 3))
        if not _is_real(self.gamma) or not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"HierarchicalConfig.gamma must be a number in [0, 1], got {self.gamma!r}")
        for name in ("rho_bar", "c_bar"):
            value = getattr(self, name)
            if not _is_real(value) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"HierarchicalConfig.{name} must be a finite number > 0, got {value!r}")
        if self.rho_bar < self.c_bar:
            raise ValueError(
                f"HierarchicalConfig.rho_bar ({self.rho_bar}) must be >= c_bar ({self.c_bar}) (V-trace, IMPALA sec. 4)"
            )
        for name in ("baseline_coef", "entropy_coef"):
            value = getattr(self, name)
            if not _is_real(value) or not math.isfinite(value) or value < 0:
                raise ValueError(f"HierarchicalConfig.{name} must be a finite number >= 0, got {value!r}")
        if self.max_grad_norm is not None and (
            not _is_real(self.max_grad_norm) or not math.isfinite(self.max_grad_norm) or self.max_grad_norm <= 0
        ):
            raise ValueError(f"HierarchicalConfig.max_grad_norm must be None or a number > 0, got {self.max_grad_norm!r}")
        if self.num_actors is not None and (not _is_int(self.num_actors) or self.num_actors < 0):
            raise ValueError(
                f"HierarchicalConfig.num_actors must be None (one per CPU core) or an int >= 0, got {self.num_actors!r}"
            )
        for name in ("max_in_flight", "checkpoint_every"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"HierarchicalConfig.{name} must be an int >= 1, got {value!r}")
        if self.learner_threads is not None and (not _is_int(self.learner_threads) or self.learner_threads < 1):
            raise ValueError(f"HierarchicalConfig.learner_threads must be None or an int >= 1, got {self.learner_threads!r}")
        if self.history_limit is not None and (not _is_int(self.history_limit) or self.history_limit < 1):
            raise ValueError(f"HierarchicalConfig.history_limit must be None or an int >= 1, got {self.history_limit!r}")
        if self.backend not in BACKENDS:
            raise ValueError(f"HierarchicalConfig.backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.ray_address is not None and (not isinstance(self.ray_address, str) or not self.ray_address.strip()):
            raise ValueError(f"HierarchicalConfig.ray_address must be None or an address string, got {self.ray_address!r}")
        if self.ray_address is not None and self.backend != "ray":
            raise ValueError(
                f"HierarchicalConfig.ray_address={self.ray_address!r} is only used with backend='ray', "
                f"got backend={self.backend!r}"
            )
        if self.backend == "ray" and self.num_actors == 0:
            raise ValueError(
                "HierarchicalConfig.num_actors=0 plays the episodes in the learner's process, which "
                "backend='ray' cannot do; use num_actors >= 1 or None (one per CPU of the cluster)"
            )
        if not _is_int(self.max_actor_restarts) or self.max_actor_restarts < 0:
            raise ValueError(f"HierarchicalConfig.max_actor_restarts must be an int >= 0, got {self.max_actor_restarts!r}")
        if self.ablation not in ABLATIONS:
            raise ValueError(f"HierarchicalConfig.ablation must be one of {ABLATIONS}, got {self.ablation!r}")
        if self.start_method not in START_METHODS:
            raise ValueError(f"HierarchicalConfig.start_method must be one of {START_METHODS}, got {self.start_method!r}")
        if not isinstance(self.device, str) or not self.device:
            raise ValueError(f"HierarchicalConfig.device must be a device string such as 'auto' or 'cpu', got {self.device!r}")
        for name in ("checkpoint_path", "log_dir"):
            value = getattr(self, name)
            if isinstance(value, os.PathLike):
                object.__setattr__(self, name, os.fspath(value))
            elif value is not None and (not isinstance(value, str) or not value):
                raise ValueError(f"HierarchicalConfig.{name} must be None or a path, got {value!r}")
        if not isinstance(self.progress_bar, bool):
            raise ValueError(f"HierarchicalConfig.progress_bar must be a bool, got {self.progress_bar!r}")

    @property
    def resolved_num_actors(self) -> int:
        """``num_actors`` with None resolved to ``os.cpu_count()`` (at least 1); with
        ``backend="ray"`` the Ray pool resolves None to the cluster's CPUs instead."""
        return max(1, os.cpu_count() or 1) if self.num_actors is None else int(self.num_actors)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict of every field."""
        out = dataclasses.asdict(self)
        for name in ("hidden_sizes", "score_hidden_sizes", "buffer_sizes"):
            out[name] = list(out[name])
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "HierarchicalConfig":
        """Inverse of :meth:`to_dict` (checkpoints); unknown keys are a ``ValueError`` naming them."""
        try:
            return cls(**values)
        except TypeError as err:  # "... got an unexpected keyword argument 'x'" or not a mapping
            names = [f.name for f in dataclasses.fields(cls)]
            raise ValueError(f"not a dict of HierarchicalConfig fields ({err}); the fields are {names}") from err

    def replace(self, **changes: Any) -> "HierarchicalConfig":
        """A copy with ``changes`` applied (validated again by ``__post_init__``)."""
        return self.from_dict({**dataclasses.asdict(self), **changes})
