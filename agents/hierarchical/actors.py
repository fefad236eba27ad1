"""Where episodes are played: the actor-pool interface and its local implementations (sec. 3.3).

**The interface** (:class:`EpisodePool`): the learner gets
:class:`~agents.hierarchical.rollout.EpisodeRecord` objects through three calls --
``next_episode()``, ``episode_done(record, weights, version)`` and ``close()`` -- so its
loop does not care where episodes run. Three implementations:

* :class:`InProcessRunner` -- in the learner's process (``num_actors=0``);
* :class:`ActorPool` -- actor processes on this machine (``backend="local"``, the default);
* :class:`~agents.hierarchical.ray_pool.RayActorPool` -- Ray actors (``backend="ray"``).

Every actor, whatever runs it, plays through one :class:`EpisodePlayer` (seeding, acting
weights, the episode), and the two actor pools share :class:`RemoteActorPool` (which
episode a started actor plays first, the in-flight bound, counting and replacing lost
actors): the backend changes where episodes run and how bytes travel, nothing else.

**Weights** are published as versions: version ``v`` is the flat weight vector after the
learner has used ``v`` episodes. The last two versions are kept (a ring of two slots,
slot ``v % 2``). In actor processes the ring lives in shared memory next to a version
counter; readers never lock: they copy a slot and re-read the counter (a sequence lock,
with the learner the only writer), so a killed actor can never leave a lock held.

**Which weights act** (:func:`acting_version`). With one stream of episodes (0 or 1
actor), episode ``e`` acts with version ``max(e - 1, 0)``: one actor can play episode
``e`` while the learner is still learning from ``e - 1``, and the weights every episode
sees depend on the seed alone -- a run with one actor gives the same numbers as
``num_actors=0`` on either backend, and a resumed run the same as an uninterrupted one.
With several actors each episode acts with the newest version at its start, and an
actor waits when ``max_in_flight`` of its episodes are still unused by the learner.

**Transport** (processes): each actor has its own pipe to the learner; an episode's
arrays are packed by dtype into a few tensors (:func:`pack_record`) that travel through
shared memory (``torch.multiprocessing``), so one message is a few hundred bytes
whatever the episode's size. The learner waits on all pipes and all process sentinels
at once (:func:`multiprocessing.connection.wait`): a dead actor is seen at once, its
unread episodes are dropped (they are never counted), and a replacement starts with a
fresh derived seed. An actor that raises sends its traceback and the learner stops with
a ``RuntimeError``. Actors ignore SIGINT (the learner handles Ctrl-C and stops them), run
torch and BLAS with one thread, and exit when the learner goes away.
"""

from __future__ import annotations

import abc
import collections
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

import numpy as np
import torch
import torch.multiprocessing as mp

from agents.hierarchical.policies import NumpyPolicies
from agents.hierarchical.rollout import EpisodeRecord, LevelSteps, episode_rng, play_episode

__all__ = [
    "ActorError",
    "ActorPool",
    "ActorSpec",
    "EpisodePlayer",
    "EpisodePool",
    "InProcessRunner",
    "RemoteActorPool",
    "acting_version",
    "actor_main",
    "limit_threads",
    "pack_record",
    "resolve_start_method",
    "unpack_record",
]

_POLL_S = 0.002  # how often a waiting actor looks at the shared counters


def acting_version(episode: int) -> int:
    """Weights version that episode ``episode`` acts with in a single stream: ``max(e - 1, 0)``."""
    return max(int(episode) - 1, 0)


def resolve_start_method(start_method: str) -> str:
    """``"auto"`` -> ``"spawn"`` with CUDA or without fork, else ``"fork"``."""
    if start_method != "auto":
        return start_method
    if torch.cuda.is_available() or "fork" not in mp.get_all_start_methods():
        return "spawn"
    return "fork"


# --------------------------------------------------------------------------------------
# Packing an episode into a few tensors
# --------------------------------------------------------------------------------------
def pack_record(record: EpisodeRecord) -> tuple[dict[str, Any], dict[str, torch.Tensor], list]:
    """``(meta, blobs, layout)``: scalars, one 1-D tensor per dtype, and where each array lies.

    ``layout`` lists ``(name, dtype, shape, offset)``; names are ``"L.<level>.<field>"``
    for level steps and ``"R.<key>"`` for result arrays.
    """
    arrays: dict[str, np.ndarray] = {}
    for level, steps in record.levels.items():
        for name, value in steps.arrays().items():
            arrays[f"L.{level}.{name}"] = value
    meta_result = {}
    for key, value in record.result.items():
        if isinstance(value, np.ndarray):
            arrays[f"R.{key}"] = value
        else:
            meta_result[key] = value
    groups: dict[str, list] = collections.defaultdict(list)
    layout = []
    sizes: dict[str, int] = collections.defaultdict(int)
    for name, value in arrays.items():
        value = np.ascontiguousarray(value)
        dt = value.dtype.str
        layout.append((name, dt, tuple(value.shape), sizes[dt]))
        groups[dt].append(value.reshape(-1))
        sizes[dt] += value.size
    blobs = {dt: torch.from_numpy(np.concatenate(parts)) for dt, parts in groups.items()}
    meta = {"metric": record.metric, "levels": list(record.levels), "result": meta_result, "stats": record.stats}
    return meta, blobs, layout


def unpack_record(meta: dict[str, Any], blobs: dict[str, torch.Tensor], layout: list) -> EpisodeRecord:
    """Inverse of :func:`pack_record` (the arrays are copied out of the blobs)."""
    flat = {dt: t.numpy() for dt, t in blobs.items()}
    arrays = {}
    for name, dt, shape, offset in layout:
        size = int(np.prod(shape))
        arrays[name] = flat[dt][offset:offset + size].reshape(shape).copy()
    levels = {}
    for level in meta["levels"]:
        prefix = f"L.{level}."
        fields = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
        levels[level] = LevelSteps(obs=fields["obs"], nf=fields.get("nf"), mask=fields.get("mask"),
                                   obs_index=fields["obs_index"], actions=fields["actions"],
                                   logp=fields["logp"], ends=fields["ends"])
    result = dict(meta["result"])
    result.update({k[2:]: v for k, v in arrays.items() if k.startswith("R.")})
    return EpisodeRecord(float(meta["metric"]), levels, result, dict(meta["stats"]))


# --------------------------------------------------------------------------------------
# The actor's side, the same on every backend
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ActorSpec:
    """What an actor needs besides its env and the channel it gets weights through.

    Attributes:
        actor_id: slot of this actor (0..num_actors-1; -1 in the learner's process).
        seed: the agent's seed.
        ablation: the run's ablation.
        layout, n_layers: the numpy policies' shape
            (:class:`~agents.hierarchical.policies.NumpyPolicies`).
        single_stream: one actor in the run: episode ``e`` is seeded from ``e`` and acts
            with :func:`acting_version` ``(e)``.
        first_episode: in a single stream, the index of this actor's first episode.
        launch_episode: episodes the learner had used when this actor started.
        generation: actor restarts so far in the agent's life (a replacement's seed
            differs from the actor it replaces).
        max_in_flight: see :class:`~agents.hierarchical.config.HierarchicalConfig`.
    """

    actor_id: int
    seed: int
    ablation: str
    layout: tuple
    n_layers: int
    single_stream: bool
    first_episode: int
    launch_episode: int
    generation: int
    max_in_flight: int


class EpisodePlayer:
    """One actor's work, whatever runs it: hold the acting weights, seed and play episodes.

    The in-process runner, the actor processes and the Ray actors all play through this
    class, so a seed gives the same episodes on every backend; the backends differ only
    in how weights reach :meth:`load` and how records reach the learner.

    Args:
        spec: the actor's settings.
        env: its own copy of the (unwrapped) environment.
    """

    def __init__(self, spec: ActorSpec, env):
        self.spec = spec
        self.env = env
        self.policies = NumpyPolicies(spec.layout, spec.n_layers) if spec.layout else None
        self.version: int | None = None
        # With several actors, one generator for all the episodes of this actor.
        self._stream = None if spec.single_stream else episode_rng(
            spec.seed, 1, spec.actor_id, spec.launch_episode, spec.generation)

    def load(self, version: int, weights) -> None:
        """Act with weights ``version`` (a flat float32 vector, copied) from now on."""
        if version != self.version and self.policies is not None:
            self.policies.load(weights)
        self.version = int(version)

    def play(self, episode: int | None = None) -> EpisodeRecord:
        """Play one episode with the loaded weights.

        Args:
            episode: in a single stream the episode's index, which seeds it; None with
                several actors (this actor's own generator seeds it).
        """
        if episode is None:
            rng = self._stream
        else:
            rng = episode_rng(self.spec.seed, 0, self.spec.generation, episode)
        record = play_episode(self.env, self.policies, rng, self.spec.ablation)
        record.stats.update(actor=self.spec.actor_id, policy_version=self.version,
                            actor_generation=self.spec.generation)
        return record


def limit_threads() -> None:
    """One compute thread per actor: torch, and BLAS/OpenMP pools (classifier fits)."""
    torch.set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except Exception:  # threadpoolctl comes with scikit-learn; without it keep the defaults
        pass


# --------------------------------------------------------------------------------------
# The learner's side: the pool interface and what every actor pool shares
# --------------------------------------------------------------------------------------
class ActorError(RuntimeError):
    """An actor raised; the message holds its traceback."""


class EpisodePool(abc.ABC):
    """Where the learner gets episodes from (see the module docstring).

    Implementations: :class:`InProcessRunner` (``num_actors=0``), :class:`ActorPool`
    (processes, ``backend="local"``) and
    :class:`~agents.hierarchical.ray_pool.RayActorPool` (``backend="ray"``).

    Attributes:
        restarts: actors replaced so far by this pool.
    """

    restarts: int = 0

    @abc.abstractmethod
    def next_episode(self) -> EpisodeRecord:
        """Block until an episode is ready and return it (episode order in a single stream)."""

    @abc.abstractmethod
    def episode_done(self, record: EpisodeRecord, weights: np.ndarray, version: int) -> None:
        """The learner used ``record``; ``weights`` (flat float32) are now version ``version``."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop every actor; the pool cannot be used afterwards."""

    @property
    def pids(self) -> list[int]:
        """Process ids of the running actors (on their own machines for Ray)."""
        return []


class RemoteActorPool(EpisodePool):
    """Bookkeeping every pool of actors shares, whatever runs them.

    Episodes received and not yet used wait in order; which episode a (re)started actor
    plays first, with which seed generation, and how lost actors are counted and
    replaced are decided here, so the backends differ only in :meth:`_start` (launch
    actor ``i``), :meth:`_collect` (wait for messages) and in how they publish weights.
    """

    def __init__(self, num_actors: int, *, seed: int, ablation: str, layout, n_layers: int, max_in_flight: int,
                 num_episodes: int, generation: int, max_restarts: int):
        self.num_actors = int(num_actors)
        self.single_stream = self.num_actors == 1
        self.max_in_flight = int(max_in_flight)
        self.restarts = 0
        self.max_restarts = int(max_restarts)
        self.generation = int(generation)
        self.num_episodes = int(num_episodes)
        self._common = dict(seed=int(seed), ablation=ablation, layout=tuple(layout), n_layers=int(n_layers),
                            single_stream=self.single_stream, max_in_flight=self.max_in_flight)
        self._pending: collections.deque = collections.deque()

    def _spec(self, i: int) -> ActorSpec:
        """Settings of a (re)started actor ``i``."""
        # In a single stream, received-but-unused episodes keep their indices.
        first = self.num_episodes + (len(self._pending) if self.single_stream else 0)
        return ActorSpec(actor_id=i, first_episode=first, launch_episode=self.num_episodes,
                         generation=self.generation, **self._common)

    @abc.abstractmethod
    def _start(self, i: int) -> None:
        """Start (or restart) actor ``i`` with :meth:`_spec` ``(i)``."""

    @abc.abstractmethod
    def _collect(self) -> None:
        """Wait (up to about a second) for actors' messages; deliver episodes, handle losses."""

    def _deliver(self, i: int, record: EpisodeRecord) -> None:
        record.stats["actor"] = i
        self._pending.append(record)

    def _lost(self, i: int, what: str) -> None:
        """Actor ``i`` is gone and its unread episodes dropped: replace it, or give up."""
        self.restarts += 1
        if self.restarts > self.max_restarts:
            raise RuntimeError(
                f"actor {i} {what}; {self.restarts} actors were lost in this run, more than "
                f"HierarchicalConfig.max_actor_restarts={self.max_restarts}"
            )
        self.generation += 1
        self._start(i)

    def _used_by(self, record: EpisodeRecord) -> int | None:
        """The running actor that played ``record`` (None: one since replaced, or none)."""
        i = record.stats.get("actor")
        if i is None or not 0 <= i < self.num_actors:
            return None
        return i if record.stats.get("actor_generation") == self._generation_of(i) else None

    @abc.abstractmethod
    def _generation_of(self, i: int) -> int | None:
        """Seed generation of the running actor ``i`` (None when there is none)."""

    def next_episode(self) -> EpisodeRecord:
        """Block until an actor delivers an episode; replace lost actors meanwhile.

        Raises:
            ActorError: an actor raised (its traceback is in the message).
            RuntimeError: more than ``max_restarts`` actors were lost.
        """
        while not self._pending:
            self._collect()
        return self._pending.popleft()


# --------------------------------------------------------------------------------------
# Actor processes (backend="local")
# --------------------------------------------------------------------------------------
class _Stop(Exception):
    """The learner asked the actor to stop, or went away."""


def actor_main(spec: ActorSpec, env, weights: torch.Tensor, version: torch.Tensor,
               consumed: torch.Tensor, stop: torch.Tensor, conn) -> None:
    """Body of an actor process: play episodes with the newest allowed weights, send them.

    Args:
        spec: the actor's settings.
        env: its own copy of the (unwrapped) environment.
        weights: shared ``[2, P]`` float32 ring of weight versions (slot ``v % 2``).
        version: shared int64 ``[1]``, newest published version.
        consumed: shared int64 ``[num_actors]``, episodes of each actor the learner used.
        stop: shared int64 ``[1]``, nonzero when the actor must exit.
        conn: the write end of this actor's pipe to the learner.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the learner's to handle
    limit_threads()
    parent = os.getppid()
    try:
        player = EpisodePlayer(spec, env)
        shared = weights.numpy()

        def wait_until(ready) -> None:
            while not ready():
                if int(stop[0]) or os.getppid() != parent:
                    raise _Stop
                time.sleep(_POLL_S)

        sent = 0
        while True:
            if int(stop[0]) or os.getppid() != parent:
                break
            if spec.single_stream:
                episode = spec.first_episode + sent
                v = acting_version(episode)
                wait_until(lambda: int(version[0]) >= v)
                player.load(v, shared[v % 2])  # slot v % 2 is not rewritten before this episode is used
            else:
                episode = None
                wait_until(lambda: sent - int(consumed[spec.actor_id]) < spec.max_in_flight)
                while True:  # sequence lock: the copy is good if no version was published meanwhile
                    v = int(version[0])
                    player.load(v, shared[v % 2])
                    if int(version[0]) == v:
                        break
            conn.send(("episode",) + pack_record(player.play(episode)))
            sent += 1
    except (_Stop, BrokenPipeError, ConnectionError, EOFError):
        pass
    except BaseException:
        if not int(stop[0]):
            try:
                conn.send(("error", spec.actor_id, traceback.format_exc()))
            except Exception:
                pass
        sys.exit(1)
    finally:
        try:
            conn.close()
        except Exception:
            pass


@dataclass
class _Actor:
    process: Any
    conn: Any
    generation: int


class ActorPool(RemoteActorPool):
    """Actor processes playing episodes for the learner (``backend="local"``; see the module docstring).

    Args:
        env: the environment to copy into every actor (unwrapped).
        num_actors: number of processes (>= 1).
        seed, ablation, layout, n_layers, max_in_flight: as in
            :class:`ActorSpec`.
        weights: ``(previous, current)`` flat weight vectors (versions
            ``num_episodes - 1`` and ``num_episodes``).
        num_episodes: episodes the learner has used so far (the current version).
        generation: actor restarts so far (replacements count on from here).
        max_restarts: replacements allowed before :meth:`next_episode` raises.
        start_method: ``"fork"``, ``"spawn"`` or ``"forkserver"``.
    """

    def __init__(self, env, num_actors: int, *, seed: int, ablation: str, layout, n_layers: int,
                 max_in_flight: int, weights: tuple[np.ndarray, np.ndarray],
                 num_episodes: int, generation: int, max_restarts: int, start_method: str):
        super().__init__(num_actors, seed=seed, ablation=ablation, layout=layout, n_layers=n_layers,
                         max_in_flight=max_in_flight, num_episodes=num_episodes, generation=generation,
                         max_restarts=max_restarts)
        self.ctx = mp.get_context(start_method)
        self.env = env
        size = max(1, int(weights[1].size))
        self.weights = torch.zeros(2, size, dtype=torch.float32).share_memory_()
        self.version = torch.zeros(1, dtype=torch.int64).share_memory_()
        self.consumed = torch.zeros(self.num_actors, dtype=torch.int64).share_memory_()
        self.stop = torch.zeros(1, dtype=torch.int64).share_memory_()
        prev, cur = weights
        n = self.num_episodes
        if cur.size:
            self.weights[(n - 1) % 2, : cur.size] = torch.from_numpy(np.asarray(prev, dtype=np.float32))
            self.weights[n % 2, : cur.size] = torch.from_numpy(np.asarray(cur, dtype=np.float32))
        self.version[0] = n
        self.actors: list[_Actor | None] = [None] * self.num_actors
        try:
            for i in range(self.num_actors):
                self._start(i)
        except BaseException:
            self.close()
            raise

    def _start(self, i: int) -> None:
        spec = self._spec(i)
        self.consumed[i] = 0
        reader, writer = self.ctx.Pipe(duplex=False)
        process = self.ctx.Process(
            target=actor_main, name=f"autosmote-actor-{i}",
            args=(spec, self.env, self.weights, self.version, self.consumed, self.stop, writer), daemon=True,
        )
        try:
            process.start()
        finally:
            writer.close()  # the learner keeps only the read end: EOF when the actor dies
        self.actors[i] = _Actor(process, reader, self.generation)

    def _generation_of(self, i: int) -> int | None:
        actor = self.actors[i]
        return None if actor is None else actor.generation

    @property
    def pids(self) -> list[int]:
        """Process ids of the running actors."""
        return [a.process.pid for a in self.actors if a is not None and a.process.pid is not None]

    def _collect(self) -> None:
        live = [a for a in self.actors if a is not None]
        handles = [a.conn for a in live] + [a.process.sentinel for a in live]
        for ready in wait(handles, timeout=1.0):
            for i, a in enumerate(self.actors):
                if a is None:
                    continue
                if ready is a.conn:
                    self._receive(i, a)
                elif ready == a.process.sentinel and not a.process.is_alive():
                    self._replace(i, a)

    def _receive(self, i: int, actor: _Actor) -> None:
        """Read one message of actor ``i`` (an episode or an error)."""
        try:
            msg = actor.conn.recv()
        except (EOFError, OSError):  # the actor is gone (or going): wait for its exit, then replace it
            actor.process.join(timeout=5.0)
            self._replace(i, actor)
            return
        if msg[0] == "error":
            raise ActorError(f"actor {msg[1]} failed:\n{msg[2]}")
        _, meta, blobs, layout = msg
        try:
            record = unpack_record(meta, blobs, layout)
        except Exception:  # a torn message of a dying actor: dropped, never counted
            return
        self._deliver(i, record)

    def _replace(self, i: int, actor: _Actor) -> None:
        """Actor ``i`` exited unasked: report its error if it sent one, else restart it."""
        while True:  # an error message sent before exiting can still be read
            try:
                if not actor.conn.poll():
                    break
                msg = actor.conn.recv()
            except (EOFError, OSError):
                break
            except Exception:  # an episode whose shared tensors died with the actor
                continue
            if msg[0] == "error":
                self._reap(actor)
                self.actors[i] = None
                raise ActorError(f"actor {msg[1]} failed:\n{msg[2]}")
        self._reap(actor)
        self.actors[i] = None
        self._lost(i, f"died (exit code {actor.process.exitcode})")

    @staticmethod
    def _reap(actor: _Actor) -> None:
        try:
            actor.conn.close()
        except Exception:
            pass
        actor.process.join(timeout=5.0)
        if actor.process.is_alive():
            actor.process.kill()
            actor.process.join()

    def episode_done(self, record: EpisodeRecord, weights: np.ndarray, version: int) -> None:
        """The learner used ``record``: count it for its actor and publish ``weights`` as ``version``."""
        if weights.size:
            self.weights[version % 2, : weights.size] = torch.from_numpy(weights)
        self.version[0] = version  # after the slot is written (readers check it again after copying)
        self.num_episodes = version
        actor = self._used_by(record)
        if actor is not None:
            self.consumed[actor] += 1  # after the version: an actor that sees it also sees the weights

    def close(self, timeout: float = 2.0) -> None:
        """Stop every actor and reap it (SIGTERM, then SIGKILL, after ``timeout`` seconds)."""
        self.stop[0] = 1
        deadline = time.monotonic() + timeout
        for a in self.actors:
            if a is None:
                continue
            a.process.join(timeout=max(0.0, deadline - time.monotonic()))
        for a in self.actors:
            if a is None:
                continue
            if a.process.is_alive():
                a.process.terminate()
                a.process.join(timeout=1.0)
            if a.process.is_alive():
                a.process.kill()
                a.process.join()
            try:
                a.conn.close()
            except Exception:
                pass
            a.process.close()
        self.actors = [None] * self.num_actors
        self._pending.clear()


# --------------------------------------------------------------------------------------
# Episodes in the learner's process (num_actors=0)
# --------------------------------------------------------------------------------------
class InProcessRunner(EpisodePool):
    """Episodes played in the learner's process, one at a time (``num_actors=0``).

    Same seeds and same acting weights as a single actor (:func:`acting_version`), so
    both give the same numbers.
    """

    def __init__(self, env, *, seed: int, ablation: str, layout, n_layers: int,
                 weights: tuple[np.ndarray, np.ndarray], num_episodes: int, generation: int):
        n = int(num_episodes)
        spec = ActorSpec(actor_id=-1, seed=int(seed), ablation=ablation, layout=tuple(layout),
                         n_layers=int(n_layers), single_stream=True, first_episode=n, launch_episode=n,
                         generation=int(generation), max_in_flight=1)
        self.player = EpisodePlayer(spec, env)
        self.restarts = 0
        self._versions = {n - 1: np.array(weights[0], dtype=np.float32), n: np.array(weights[1], dtype=np.float32)}
        self.next_index = n

    def next_episode(self) -> EpisodeRecord:
        e = self.next_index
        v = acting_version(e)
        self.player.load(v, self._versions[v])
        self.next_index += 1
        return self.player.play(e)

    def episode_done(self, record: EpisodeRecord, weights: np.ndarray, version: int) -> None:
        self._versions[version] = np.array(weights, dtype=np.float32)
        for old in [k for k in self._versions if k < version - 1]:
            del self._versions[old]

    def close(self) -> None:
        pass
