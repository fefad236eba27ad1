"""AutoSMOTE's learner: three policy-value networks trained with V-trace (Zha et al., sec. 3.3).

Reads top to bottom: the result of a search (:class:`BestResult`), small helpers (env
checks, the per-episode log, deferred Ctrl-C), then :class:`HierarchicalAgent`, whose
:meth:`~HierarchicalAgent.learn` holds the visible loop of Algorithm 2::

    for each episode an actor delivers (lines 4-5: Algorithm 1 + classifier reward):
        keep its synthetic set if its validation score is the best so far
        push each level's steps into that level's buffer
        for each level, while its buffer holds >= B steps:          (lines 6-14)
            pop B steps, recompute pi and V, V-trace targets, eq. (2) loss, Adam step
        publish the new weights to the actors (they pick them up before an episode)
        log the episode, update the progress bar, checkpoint every N episodes

Algorithm 2 checks each buffer once per iteration; one episode can add more than
``B_l`` low-level steps (``g1 * sum(g2)`` can be thousands), so the learner updates
*while* a buffer holds ``B`` steps, which keeps the buffers bounded.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import json
import math
import numbers
import os
import pickle
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from agents.hierarchical.actors import ActorPool, EpisodePool, InProcessRunner, resolve_start_method
from agents.hierarchical.config import HierarchicalConfig
from agents.hierarchical.learner import StepBuffer, level_update
from agents.hierarchical.policies import (
    CROSS_INSTANCE,
    FLAT,
    INSTANCE_SPECIFIC,
    LOW_LEVEL,
    PolicySpec,
    flat_parameters,
    log_probs_and_entropy,
    make_policies,
    parameter_layout,
    policy_input,
)
from agents.hierarchical.ray_pool import require_ray
from agents.hierarchical.rollout import LEARNED_LEVELS, EpisodeRecord, fixed_factor
from agents.networks import make_adam, resolve_device
from imbalance_gym.envs.autosmote import AutoSMOTEEnv, AutoSMOTEFlatEnv
from imbalance_gym.envs.smote_space import N_WEIGHTS

__all__ = ["BestResult", "HierarchicalAgent"]

CHECKPOINT_FORMAT = "imbalance_gym.hierarchical"
CHECKPOINT_VERSION = 1
_LEVEL_ORDER = (CROSS_INSTANCE, INSTANCE_SPECIFIC, LOW_LEVEL, FLAT)
_BEST_ARRAYS = ("synthetic", "source", "neighbour", "weight", "counts", "g2")


# --------------------------------------------------------------------------------------
# Result of a search
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BestResult:
    """The synthetic set with the best validation score so far (sec. 4.1).

    Attributes:
        metric: its validation score (the episode's reward).
        synthetic: the synthetic minority rows, float32 ``[N_syn, D]``.
        provenance: ``source`` and ``neighbour`` (row indices into ``env.X_train``) and
            ``weight`` of every row: ``row = X[source] + weight (X[neighbour] - X[source])``.
        counts: rows generated around each minority instance, ``[N_min]``.
        episode: the episode that found it (0-based, over the agent's life).
        g1: its cross-instance factor (None for the flat ablation).
        g2: its instance-specific factors ``[N_min]`` (None for the flat ablation).
        random_state: the classifier seed of that episode (refit with it to reproduce
            the score).
    """

    metric: float
    synthetic: np.ndarray = field(repr=False)
    provenance: dict = field(repr=False)
    counts: np.ndarray = field(repr=False)
    episode: int
    g1: int | None = None
    g2: np.ndarray | None = field(default=None, repr=False)
    random_state: int = 0

    @property
    def n_synthetic(self) -> int:
        """Number of synthetic rows."""
        return int(self.synthetic.shape[0])

    @classmethod
    def from_result(cls, metric: float, result: dict[str, Any], episode: int) -> "BestResult":
        """From an :class:`~agents.hierarchical.rollout.EpisodeRecord`'s ``result``."""
        return cls(metric=float(metric), synthetic=result["synthetic"],
                   provenance={k: result[k] for k in ("source", "neighbour", "weight")},
                   counts=result["counts"], episode=int(episode),
                   g1=None if result.get("g1") is None else int(result["g1"]), g2=result.get("g2"),
                   random_state=int(result["random_state"]))

    def arrays(self) -> dict[str, np.ndarray]:
        """Array fields by name (checkpoints)."""
        out = {"synthetic": self.synthetic, "counts": self.counts, **self.provenance}
        if self.g2 is not None:
            out["g2"] = self.g2
        return out


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------
def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be an int in [0, 2**63), got {seed!r}")
    return int(seed)


def _check_env(env: Any, ablation: str):
    """The unwrapped AutoSMOTE env, of the kind the ablation needs."""
    base = getattr(env, "unwrapped", None)
    if not isinstance(base, (AutoSMOTEEnv, AutoSMOTEFlatEnv)):
        raise TypeError(
            "env must be an AutoSMOTE environment, e.g. gym.make('imbalance_gym/AutoSMOTE-v0', dataset=...) "
            f"(or 'imbalance_gym/AutoSMOTE-Flat-v0' for ablation='flat'), got {type(env).__name__}"
        )
    if ablation == "flat" and not isinstance(base, AutoSMOTEFlatEnv):
        raise ValueError(
            "ablation='flat' needs an imbalance_gym/AutoSMOTE-Flat-v0 env (AutoSMOTEFlatEnv), got "
            f"{type(base).__name__}; build it with gym.make('imbalance_gym/AutoSMOTE-Flat-v0', ...)"
        )
    if ablation != "flat" and not isinstance(base, AutoSMOTEEnv):
        raise ValueError(
            f"ablation={ablation!r} needs an imbalance_gym/AutoSMOTE-v0 env (AutoSMOTEEnv), got "
            f"{type(base).__name__}; the flat env is only for ablation='flat'"
        )
    return base


def _env_signature(base) -> dict[str, Any]:
    """What a checkpoint's policies and buffers depend on."""
    return {"kind": type(base).__name__, "n_minority": int(base.n_minority),
            "n_features": int(base.X_train.shape[1]), "G1": int(base.G1), "G2": int(base.G2), "K": int(base.K)}


def _trim(history: list, limit: int | None) -> None:
    """Keep the newest ``limit`` rows of ``history`` (in place; None keeps all)."""
    if limit is not None and len(history) > limit:
        del history[: len(history) - limit]


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale_temporaries(path: Path) -> None:
    """Delete temporary checkpoint files that processes killed while saving left behind."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            pid = int(tmp.name[len(path.name) + 2:-4])
        except ValueError:
            continue
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:  # its writer is gone: never renamed, never will be
            tmp.unlink(missing_ok=True)
        except OSError:  # alive (another user's process): not ours to delete
            pass


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash at any point leaves the old file or the new one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


class _RunLogger:
    """One row per episode to ``log_dir/progress.csv`` and, when installed, TensorBoard.

    The csv is the run's whole log, on disk (memory holds only the bounded
    ``history``). A run resumed from a checkpoint first drops the rows of episodes the
    checkpoint does not hold (those played after it, before a crash), so each episode
    appears once; an agent starting at episode 0 starts a new file.
    """

    def __init__(self, log_dir: str | None, first_episode: int = 0):
        self.first_episode = int(first_episode)
        self.path = None
        self._file = None
        self._writer = None
        self._columns: list[str] | None = None
        self.tensorboard = None
        if log_dir is None:
            return
        folder = Path(log_dir)
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "progress.csv"
        try:
            from torch.utils.tensorboard import SummaryWriter  # needs the tensorboard package

            self.tensorboard = SummaryWriter(log_dir=str(folder))
        except ImportError:
            self.tensorboard = None

    def write(self, row: dict[str, Any]) -> None:
        if self.path is None:
            return
        if self._file is None:
            columns = list(row)
            existing = None
            if self.path.exists() and self.path.stat().st_size:
                with open(self.path, newline="") as f:
                    existing = next(csv.reader(f), None)
            if existing is not None and existing == columns:
                self._keep_rows_before(self.first_episode)
            self._file = open(self.path, "a", newline="")
            if existing is not None and existing == columns:
                self._columns = existing
            else:
                if existing is not None:  # a different run's file: start a new one
                    self._file.close()
                    self._file = open(self.path, "w", newline="")
                self._columns = columns
                csv.writer(self._file).writerow(columns)
        csv.writer(self._file).writerow([row.get(c, "") for c in self._columns])
        self._file.flush()
        if self.tensorboard is not None:
            step = int(row["episode"])
            for key, value in row.items():
                if key not in ("episode", "t_end") and isinstance(value, (int, float)) and math.isfinite(value):
                    self.tensorboard.add_scalar(f"autosmote/{key}", value, step)

    def _keep_rows_before(self, episode: int) -> None:
        """Rewrite the csv (atomically) without its rows of episodes ``>= episode``."""
        with open(self.path, newline="") as f:
            rows = list(csv.reader(f))
        col = rows[0].index("episode")
        keep = [rows[0]] + [r for r in rows[1:] if len(r) > col and r[col] and int(float(r[col])) < episode]
        if len(keep) == len(rows):
            return
        out = io.StringIO()
        csv.writer(out).writerows(keep)
        _atomic_write(self.path, out.getvalue().encode())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.tensorboard is not None:
            self.tensorboard.close()
            self.tensorboard = None


class _DeferredInterrupt:
    """Ctrl-C while the learner updates is held until the update is done (consistent state).

    Outside :meth:`updating` a SIGINT raises ``KeyboardInterrupt`` at once, as usual.
    Only installed from the main thread (signal handlers live there).
    """

    def __init__(self):
        self._busy = False
        self._pending = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False

    def _handle(self, signum, frame):
        if self._busy:
            self._pending = True
        else:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def updating(self):
        self._busy = True
        try:
            yield
        finally:
            self._busy = False
        if self._pending:
            self._pending = False
            raise KeyboardInterrupt


def _to_tensor_dict(arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}


def _to_numpy_dict(tensors: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in tensors.items()}


# --------------------------------------------------------------------------------------
# Agent
# --------------------------------------------------------------------------------------
class HierarchicalAgent:
    """AutoSMOTE's hierarchical RL search over synthetic minority sets (sec. 3.3, Algorithm 2).

    Three policy-value networks -- cross-instance (``g1``), instance-specific (``g2``) and
    low-level ((neighbour, weight) pairs) -- act in actors on copies of ``env`` (processes
    on this machine, or Ray actors with ``config.backend="ray"``) and are trained by one
    learner with V-trace (eq. 1) and the loss of eq. (2). The synthetic set with the best
    validation score is kept in :attr:`best_` (replaced when beaten, never accumulated).

    Long runs: memory stays flat (bounded ``history``, step buffers emptied by updates,
    one best set, the per-episode log on disk), checkpoints are written atomically every
    ``config.checkpoint_every`` episodes, and after a crash -- ``kill -9`` of the learner
    included -- :meth:`load` + :meth:`learn` continue from the last checkpoint with its
    episode count, updates, buffers and best set.

    Args:
        env: an ``imbalance_gym/AutoSMOTE-v0`` env (``AutoSMOTE-Flat-v0`` for
            ``ablation="flat"``), wrapped or not. The agent never builds its env; actors
            get copies of this one.
        config: :class:`~agents.hierarchical.config.HierarchicalConfig` (paper defaults).
        seed: seeds the networks and every episode (actor seeds are derived from it).
            With ``num_actors`` 0 or 1 a run is reproducible from the seed; with more
            actors each actor's episodes are seeded, but which weights they act with
            depends on timing.

    Attributes:
        num_episodes: episodes used so far (the weights version).
        num_updates: gradient steps per level.
        history: one dict per episode: ``episode``, ``metric``, ``best``,
            ``n_synthetic``, ``g1``, ``actor``, ``policy_version``, ``policy_lag``,
            wall-clock timings (``wall_s`` since ``learn`` started, ``policy_s``,
            ``env_s``, ``reward_s`` -- the classifier's call --, ``learner_s``), CPU
            seconds (``cpu_s`` of the episode, ``reward_cpu_s``, ``learner_cpu_s``),
            ``t_end`` (``time.time()`` when the episode ended in its actor),
            ``updates`` and the last loss per learned level (None without an update).
            Only the newest ``config.history_limit`` rows are kept (memory stays flat in
            long runs); ``config.log_dir``'s ``progress.csv`` has them all.
        best_: the :class:`BestResult` (None before the first episode).
        actor_restarts: actors (processes or Ray actors) replaced over the agent's life.
        policies: ``torch.nn.ModuleDict`` of the learned levels' networks.

    Raises:
        TypeError, ValueError: a bad env, config or seed (before any work).
    """

    def __init__(self, env: Any, config: HierarchicalConfig | None = None, seed: int = 0):
        config = HierarchicalConfig() if config is None else config
        if not isinstance(config, HierarchicalConfig):
            raise TypeError(f"config must be a HierarchicalConfig, got {type(config).__name__}")
        base = _check_env(env, config.ablation)
        self._setup(env, base, config, _check_seed(seed))

    def _setup(self, env, base, config: HierarchicalConfig, seed: int) -> None:
        """Networks, optimizers, buffers and counters (shared by ``__init__`` and ``load``)."""
        self.env = env
        self._base = base
        self.config = config
        self.seed = seed
        self.spec = PolicySpec.from_env(base)
        self.device = resolve_device(config.device)
        self.levels = LEARNED_LEVELS[config.ablation]
        # Initialise on the CPU from the seed without touching torch's global RNG, then move.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            policies = make_policies(self.spec, self.levels, config.hidden_sizes, config.score_hidden_sizes)
        self.policies = policies.to(self.device)
        self.optimizers = {level: make_adam(self.policies[level].parameters(), config.learning_rate)
                           for level in self.levels}
        self._buffers = {level: StepBuffer() for level in self.levels}
        self._batch_size = {CROSS_INSTANCE: config.buffer_sizes[0], INSTANCE_SPECIFIC: config.buffer_sizes[1],
                            LOW_LEVEL: config.buffer_sizes[2], FLAT: config.buffer_sizes[2]}
        self._layout = parameter_layout(self.policies)
        current = flat_parameters(self.policies) if self.levels else np.zeros(0, np.float32)
        self._weights = (current, current)  # versions num_episodes - 1 and num_episodes
        self._rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2,)))  # predict()
        self._local_env = None
        self.num_episodes = 0
        self.num_updates = {level: 0 for level in self.levels}
        self.history: list[dict[str, Any]] = []
        self.best_: BestResult | None = None
        self.actor_restarts = 0
        self.actor_pids: list[int] = []
        self._pool: EpisodePool | None = None  # while learn() runs

    # ---- learning ---------------------------------------------------------------------
    def learn(self, total_episodes: int, progress_bar: bool | None = None) -> "HierarchicalAgent":
        """Run Algorithm 2 for ``total_episodes`` more episodes.

        Stops cleanly: on return, on an error and on ``KeyboardInterrupt`` (re-raised
        after the actors are stopped and, with ``config.checkpoint_path``, a final
        checkpoint is written); no actor process outlives the call.

        Args:
            total_episodes: episodes to add (the paper's ``I`` is 1000 in total).
            progress_bar: show a tqdm bar with the best validation score (default
                ``config.progress_bar``).

        Returns:
            ``self``.

        Raises:
            ValueError / TypeError: bad arguments, or an env that spawned actors cannot
                receive (not picklable), before any process or Ray instance starts; with
                ``backend="ray"`` also more actors than the cluster has CPUs (after
                connecting, before any actor starts).
            ImportError: ``backend="ray"`` without ray installed (before anything starts).
            RuntimeError: an actor raised (its traceback is in the message), or more
                than ``config.max_actor_restarts`` actors were lost.
        """
        cfg = self.config
        if isinstance(total_episodes, bool) or not isinstance(total_episodes, numbers.Integral) or total_episodes < 1:
            raise ValueError(f"total_episodes must be an int >= 1, got {total_episodes!r}")
        show = cfg.progress_bar if progress_bar is None else progress_bar
        if not isinstance(show, bool):
            raise ValueError(f"progress_bar must be a bool or None, got {progress_bar!r}")
        start_method = resolve_start_method(cfg.start_method)
        if cfg.backend == "ray":
            n_actors = cfg.num_actors  # None: one per CPU of the cluster, known once connected
            ray = require_ray()        # before anything starts: ImportError naming the extra
            try:
                ray.cloudpickle.dumps(self._base)
            except Exception as err:
                raise TypeError(
                    f"backend='ray' sends the env to the actors by pickling, and this env cannot be "
                    f"pickled ({err}); use a picklable classifier and metric, or backend='local'"
                ) from err
        else:
            n_actors = cfg.resolved_num_actors
            if n_actors and start_method != "fork":
                try:
                    pickle.dumps(self._base)
                except Exception as err:
                    raise TypeError(
                        f"start_method={start_method!r} sends the env to the actors by pickling, and this env "
                        f"cannot be pickled ({err}); use module-level functions for a custom metric or "
                        "classifier, start_method='fork', or num_actors=0"
                    ) from err

        target = self.num_episodes + int(total_episodes)
        t0 = time.perf_counter()
        logger = _RunLogger(cfg.log_dir, first_episode=self.num_episodes)
        interrupt = _DeferredInterrupt()
        runner = None
        error: BaseException | None = None
        threads = torch.get_num_threads()
        if cfg.learner_threads is not None:
            torch.set_num_threads(cfg.learner_threads)
        try:
            with interrupt, tqdm(total=int(total_episodes), disable=not show, unit="ep", dynamic_ncols=True,
                                 desc=f"AutoSMOTE {cfg.ablation}") as bar:
                runner = self._pool = self._make_runner(n_actors, start_method)
                self.actor_pids = list(runner.pids)
                while self.num_episodes < target:
                    record = runner.next_episode()              # Algorithm 2, lines 4-5
                    with interrupt.updating():
                        row = self._consume(record, t0)         # lines 6-14
                        runner.episode_done(record, self._weights[1], self.num_episodes)
                    self.actor_pids = list(runner.pids)
                    logger.write(row)
                    bar.update(1)
                    bar.set_postfix(best=f"{self.best_.metric:.4f}", last=f"{record.metric:.4f}", refresh=False)
                    if cfg.checkpoint_path and self.num_episodes % cfg.checkpoint_every == 0:
                        self.save(cfg.checkpoint_path)
        except BaseException as err:  # KeyboardInterrupt included
            error = err
        finally:
            if runner is not None:
                self.actor_restarts += runner.restarts
                runner.close()
            self._pool = None
            self.actor_pids = []
            logger.close()
            torch.set_num_threads(threads)
        if error is not None:
            if cfg.checkpoint_path and self.num_episodes > 0:
                try:  # keep what was learnt; the original error matters more than a failed save
                    self.save(cfg.checkpoint_path)
                except Exception:
                    pass
            raise error
        if cfg.checkpoint_path:
            self.save(cfg.checkpoint_path)
        return self

    def _make_runner(self, n_actors: int | None, start_method: str) -> EpisodePool:
        """The :class:`~agents.hierarchical.actors.EpisodePool` of the config: episodes in this
        process (``n_actors == 0``), in actor processes, or in Ray actors."""
        cfg = self.config
        common = dict(seed=self.seed, ablation=cfg.ablation, layout=self._layout, n_layers=len(cfg.hidden_sizes),
                      weights=self._weights, num_episodes=self.num_episodes, generation=self.actor_restarts)
        if n_actors == 0:
            if self._local_env is None:
                self._local_env = copy.deepcopy(self._base)
            return InProcessRunner(self._local_env, **common)
        remote = dict(max_in_flight=cfg.max_in_flight, max_restarts=cfg.max_actor_restarts, **common)
        if cfg.backend == "ray":
            from agents.hierarchical.ray_pool import RayActorPool

            return RayActorPool(self._base, n_actors, address=cfg.ray_address, **remote)
        return ActorPool(self._base, n_actors, start_method=start_method, **remote)

    def _consume(self, record: EpisodeRecord, t0: float) -> dict[str, Any]:
        """Use one episode: best set, buffers, updates, new weights, history row."""
        t, cpu = time.perf_counter(), time.process_time()
        cfg = self.config
        e = self.num_episodes
        metric = float(record.metric)
        if self.best_ is None or metric > self.best_.metric:  # ties keep the earlier set
            self.best_ = BestResult.from_result(metric, record.result, e)
        for level, steps in record.levels.items():
            self._buffers[level].push(steps, metric)
        losses: dict[str, float] = {}
        for level in self.levels:
            buffer, size = self._buffers[level], self._batch_size[level]
            while len(buffer) >= size:
                stats = level_update(
                    self.policies[level], self.optimizers[level], buffer.pop(size),
                    max_grad_norm=cfg.max_grad_norm, gamma=cfg.gamma, rho_bar=cfg.rho_bar, c_bar=cfg.c_bar,
                    baseline_coef=cfg.baseline_coef, entropy_coef=cfg.entropy_coef, device=self.device,
                )
                self.num_updates[level] += 1
                losses[level] = stats["loss"]
        current = flat_parameters(self.policies) if losses else self._weights[1]
        self._weights = (self._weights[1], current)
        self.num_episodes = e + 1

        stats = record.stats
        version = int(stats.get("policy_version", e))
        row = {
            "episode": e, "metric": metric, "best": self.best_.metric,
            "n_synthetic": int(record.result["synthetic"].shape[0]),
            "g1": int(record.result.get("g1", -1)), "actor": int(stats.get("actor", -1)),
            "policy_version": version, "policy_lag": e - version,
            "wall_s": time.perf_counter() - t0, "policy_s": float(stats.get("policy_s", 0.0)),
            "env_s": float(stats.get("env_s", 0.0)), "reward_s": float(stats.get("reward_s", 0.0)),
            "learner_s": time.perf_counter() - t, "cpu_s": float(stats.get("cpu_s", 0.0)),
            "reward_cpu_s": float(stats.get("reward_cpu_s", 0.0)), "learner_cpu_s": time.process_time() - cpu,
            "t_end": float(stats.get("t_end", 0.0)),
            "updates": int(sum(self.num_updates.values())),
        }
        for level in self.levels:
            row[f"loss_{level}"] = losses.get(level)  # None: no update of this level this episode
        self.history.append(row)
        _trim(self.history, cfg.history_limit)
        return row

    # ---- using the policies -----------------------------------------------------------
    def predict(self, obs: dict, state: Any = None, episode_start: Any = None,
                deterministic: bool = True) -> tuple[np.ndarray, None]:
        """Action for one observation of the env, from the policy of its level (SB3-style).

        Level 0 uses the cross-instance policy, level 1 the instance-specific one (both
        masked by ``obs["action_mask"]``), level 2 the low-level policy; the flat env the
        flat policy. A level an ablation removed answers as it does in training: the
        fixed ``ceil(G / 2)`` (capped by the mask), or a uniformly random pair drawn from
        the agent's generator.

        Args:
            obs: one observation dict as the env returns it.
            state, episode_start: unused (SB3 signature).
            deterministic: the most probable action; False samples one from the agent's
                generator.

        Returns:
            ``(action, None)`` with ``action`` a 0-d int64 array.
        """
        if not isinstance(obs, dict) or "state" not in obs or "action_mask" not in obs:
            raise TypeError(f"obs must be an observation dict of the AutoSMOTE env, got {type(obs).__name__}")
        mask = np.asarray(obs["action_mask"]).astype(bool)
        n_pairs = N_WEIGHTS * self.spec.K
        if self.spec.flat:
            level, n_valid = FLAT, n_pairs + 1
        else:
            level_id = int(obs["level"])
            if level_id not in (0, 1, 2):
                raise ValueError(f"obs['level'] must be 0, 1 or 2, got {level_id}")
            level = (CROSS_INSTANCE, INSTANCE_SPECIFIC, LOW_LEVEL)[level_id]
            n_valid = (self.spec.n_g1, self.spec.n_g2, n_pairs)[level_id]
        valid = mask[:n_valid]
        if level not in self.levels:
            if level == LOW_LEVEL:
                action = int(self._rng.integers(0, n_pairs))
            else:
                G = (self.spec.n_g1 if level == CROSS_INSTANCE else self.spec.n_g2) - 1
                action = min(fixed_factor(G), int(np.flatnonzero(valid)[-1]))
            return np.asarray(action, dtype=np.int64), None
        policy = self.policies[level]
        with torch.inference_mode():
            x = torch.as_tensor(policy_input(obs)[None], device=self.device)
            m = torch.as_tensor(valid[None], device=self.device)
            if level in (LOW_LEVEL, FLAT):
                nf = torch.as_tensor(np.asarray(obs["neighbour_features"], dtype=np.float32)[None], device=self.device)
                logits, _ = policy(x, nf, m)
            else:
                logits, _ = policy(x, m)
            if deterministic:
                action = int(logits[0].argmax())
            else:
                logp, _ = log_probs_and_entropy(logits[0].double().cpu())
                p = logp.exp().numpy()
                action = int(self._rng.choice(p.size, p=p / p.sum()))
        return np.asarray(action, dtype=np.int64), None

    def resample(self) -> tuple[np.ndarray, np.ndarray]:
        """Training data plus the best synthetic set: ``(X_resampled, y_resampled)`` (label 1).

        Raises:
            RuntimeError: before the first episode.
        """
        if self.best_ is None:
            raise RuntimeError("no synthetic set yet: call learn() first")
        X = np.concatenate([self._base.X_train, self.best_.synthetic.astype(self._base.X_train.dtype)])
        y = np.concatenate([self._base.y_train, np.ones(self.best_.n_synthetic, dtype=self._base.y_train.dtype)])
        return X, y

    # ---- persistence ------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write a checkpoint atomically (a temporary file, then ``os.replace``).

        It holds the config, seed, env signature, counters, history and best result as
        JSON metadata, and as tensors the networks, the optimizers, the previous weights
        version (what the next episode acts with), the buffered steps and the best
        synthetic set; :meth:`load` reads it with ``torch.load(..., weights_only=True)``.
        Resuming from it continues exactly where the run stopped.

        A crash at any point of the write (``kill -9`` included) leaves either the
        previous checkpoint or the new one, never a torn file: the bytes go to a
        temporary file in the same folder, are flushed to disk, and replace the old file
        in one ``os.replace``. Temporaries left by killed writers are deleted here.

        Returns:
            The path written.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        best = self.best_
        meta = {
            "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "config": self.config.to_dict(),
            "seed": self.seed, "spec": self.spec.to_dict(), "env": _env_signature(self._base),
            "layout": [[name, list(shape)] for name, shape in self._layout],
            "num_episodes": self.num_episodes, "num_updates": self.num_updates,
            "actor_restarts": self.actor_restarts, "history": self.history,
            "best": None if best is None else {"metric": best.metric, "episode": best.episode, "g1": best.g1,
                                               "random_state": best.random_state},
        }
        state = {
            "format": CHECKPOINT_FORMAT,
            "metadata": json.dumps(meta),
            "policies": {k: v.detach().cpu() for k, v in self.policies.state_dict().items()},
            "optimizers": {level: opt.state_dict() for level, opt in self.optimizers.items()},
            "previous_weights": torch.from_numpy(np.array(self._weights[0], dtype=np.float32)),
            "buffers": {level: _to_tensor_dict(buf.state()) for level, buf in self._buffers.items()},
            "best": {} if best is None else _to_tensor_dict(best.arrays()),
        }
        buffer = io.BytesIO()
        torch.save(state, buffer)
        _remove_stale_temporaries(path)
        _atomic_write(path, buffer.getvalue())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, env: Any, config: HierarchicalConfig | None = None) -> "HierarchicalAgent":
        """Rebuild an agent from :meth:`save` output, ready to ``learn`` on.

        Args:
            path: the checkpoint.
            env: the same environment (same data and search space) to keep searching on.
            config: optional settings to resume with (e.g. another ``num_actors`` or
                ``checkpoint_path``); fields that shape the networks (``hidden_sizes``,
                ``score_hidden_sizes``, ``ablation``) must match the checkpoint's.

        Raises:
            ValueError: not a checkpoint of this agent, or an env or config that does
                not match it (naming what differs).
        """
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"path {str(path)!r} is not a checkpoint file")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:
            raise ValueError(f"{str(path)!r} is not a HierarchicalAgent checkpoint: {err}") from err
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"{str(path)!r} is not a HierarchicalAgent checkpoint")
        meta = json.loads(state["metadata"])
        if meta.get("version") != CHECKPOINT_VERSION:
            raise ValueError(f"checkpoint version {meta.get('version')!r} is not supported "
                             f"(this code reads version {CHECKPOINT_VERSION})")
        saved = HierarchicalConfig.from_dict(meta["config"])
        if config is None:
            config = saved
        elif not isinstance(config, HierarchicalConfig):
            raise TypeError(f"config must be a HierarchicalConfig or None, got {type(config).__name__}")
        for name in ("hidden_sizes", "score_hidden_sizes", "ablation"):
            if getattr(config, name) != getattr(saved, name):
                raise ValueError(f"config.{name}={getattr(config, name)!r} does not match the checkpoint's "
                                 f"{getattr(saved, name)!r}")
        base = _check_env(env, config.ablation)
        got = _env_signature(base)
        if got != meta["env"]:
            diff = {k: (meta["env"].get(k), got.get(k)) for k in got if got.get(k) != meta["env"].get(k)}
            raise ValueError(f"env does not match the checkpoint's (checkpoint, env): {diff}")
        agent = cls.__new__(cls)
        agent._setup(env, base, config, int(meta["seed"]))
        if [[n, list(s)] for n, s in agent._layout] != meta["layout"]:
            raise ValueError("the checkpoint's networks do not fit this env and config")
        agent.policies.load_state_dict(state["policies"])
        for level, opt in agent.optimizers.items():
            opt.load_state_dict(state["optimizers"][level])
        for level, buf in agent._buffers.items():
            buf.load_state(_to_numpy_dict(state["buffers"].get(level, {})))
        current = flat_parameters(agent.policies) if agent.levels else np.zeros(0, np.float32)
        agent._weights = (state["previous_weights"].numpy().copy(), current)
        agent.num_episodes = int(meta["num_episodes"])
        agent.num_updates = {level: int(meta["num_updates"].get(level, 0)) for level in agent.levels}
        agent.actor_restarts = int(meta["actor_restarts"])
        agent.history = list(meta["history"])
        _trim(agent.history, config.history_limit)
        if meta["best"] is not None:
            arrays = _to_numpy_dict(state["best"])
            b = meta["best"]
            agent.best_ = BestResult(
                metric=float(b["metric"]), synthetic=arrays["synthetic"],
                provenance={k: arrays[k] for k in ("source", "neighbour", "weight")}, counts=arrays["counts"],
                episode=int(b["episode"]), g1=b["g1"], g2=arrays.get("g2"), random_state=int(b["random_state"]),
            )
        return agent
