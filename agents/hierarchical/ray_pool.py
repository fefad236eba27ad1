"""The Ray backend of the actor pool: Ray core actors play episodes for one learner (issue #7).

``HierarchicalConfig(backend="ray", ray_address=...)`` runs the actors of
:class:`~agents.hierarchical.HierarchicalAgent` as Ray actors (``ray.remote`` classes,
one CPU each) on the cluster at ``ray_address``, or on a local Ray instance. Only where
episodes run changes: every actor plays through the same
:class:`~agents.hierarchical.actors.EpisodePlayer` as an actor process, the bookkeeping
(first episode of a started actor, seed generations, in-flight bound, lost actors) is
the shared :class:`~agents.hierarchical.actors.RemoteActorPool`, records travel in the
same packed format (:func:`~agents.hierarchical.actors.pack_record`), and the learner
is the same. With one actor a run gives the numbers of ``num_actors=0``.

**Weights** go through the object store: each new version is ``ray.put`` once and
actors read it by reference (one copy per node, zero-copy for actors on the same node).

* One actor (single stream): the learner hands the actor episode ``e`` together with the
  reference of version :func:`~agents.hierarchical.actors.acting_version` ``(e)`` as
  soon as that version exists -- the rule the process actors follow by waiting on the
  shared version counter.
* Several actors: a small asynchronous board actor (:func:`weights_board_class`) holds the reference
  of the newest version; an actor asks it at the start of every episode (as a process
  actor reads the shared ring), so each episode acts with the newest weights at its
  start. The learner hands actor ``i`` a new episode while fewer than
  ``max_in_flight`` of its episodes are unused, the bound the process actors keep.

Only the newest two versions are referenced by the learner (and the newest by the
board), so old weights leave the object store as soon as no episode needs them.

**Lost actors.** An actor whose episode fails with a Ray system error (the actor was
killed -- ``ray.kill`` included --, its worker crashed or ran out of memory, its node
died) is killed for good, its unread episodes are dropped (never counted) and a
replacement starts with a new seed generation, up to
``HierarchicalConfig.max_actor_restarts``. An exception raised inside an episode stops
the learner with an :class:`~agents.hierarchical.actors.ActorError` holding the remote
traceback. ``ray`` is imported only when this backend is used; without it,
``backend="ray"`` is an ``ImportError`` that says what to install.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import functools
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agents.hierarchical.actors import (
    ActorError,
    ActorSpec,
    EpisodePlayer,
    RemoteActorPool,
    acting_version,
    limit_threads,
    pack_record,
    unpack_record,
)

__all__ = ["INSTALL_HINT", "RayActorPool", "RayEpisodeActor", "require_ray", "weights_board_class"]

INSTALL_HINT = 'pip install "imbalance-gym[distributed]"'
"""How to get the optional Ray dependency."""


def require_ray():
    """The ``ray`` module, or an ``ImportError`` that names the extra to install."""
    try:
        import ray
    except ImportError as err:
        raise ImportError(
            f"backend='ray' needs the ray package, which is not installed; install it with {INSTALL_HINT}"
        ) from err
    return ray


# --------------------------------------------------------------------------------------
# What runs inside Ray (plain classes, wrapped by ray.remote when a pool starts)
# --------------------------------------------------------------------------------------
@functools.cache
def weights_board_class() -> type:
    """``WeightsBoard``: the newest weights version and its object-store reference.

    An asynchronous Ray actor: ``publish(version, [ObjectRef])`` announces a version
    (older ones are forgotten) and ``newest(at_least)`` answers ``(version, [ObjectRef])``
    once the newest version is ``>= at_least``. The reference travels inside a
    one-element list so that Ray hands it on instead of fetching the array.

    The class is made here, not at module level, so that Ray ships it by value: its
    process then never imports this package (torch and scikit-learn take seconds to
    import, and the board needs neither).
    """

    class WeightsBoard:
        def __init__(self):
            self.version = -1
            self.holder = None
            self.changed = asyncio.Condition()

        async def publish(self, version, holder):
            async with self.changed:
                if version > self.version:
                    self.version, self.holder = int(version), holder
                    self.changed.notify_all()

        async def newest(self, at_least):
            async with self.changed:
                await self.changed.wait_for(lambda: self.version >= at_least)
                return self.version, self.holder

    return WeightsBoard


class RayEpisodeActor:
    """One Ray actor: an :class:`~agents.hierarchical.actors.EpisodePlayer` on its own env copy.

    Args:
        spec: the actor's settings.
        env: the (unwrapped) environment, as the object store hands it out.
        board: the weights board's handle (:func:`weights_board_class`) with several actors, else None.
    """

    def __init__(self, spec: ActorSpec, env, board=None):
        limit_threads()
        # The object store hands out read-only views of the env's arrays; the env writes
        # to its own (usage counts, synthetic rows), so each actor works on a private copy.
        self.player = EpisodePlayer(spec, copy.deepcopy(env))
        self.board = board

    def pid(self) -> int:
        """Process id of this actor on its node."""
        return os.getpid()

    def play(self, episode: int, version: int, weights: np.ndarray):
        """Single stream: play episode ``episode`` with weights ``version``; the packed record."""
        self.player.load(version, weights)
        return pack_record(self.player.play(episode))

    def play_newest(self, at_least: int):
        """Several actors: play one episode with the newest weights at its start (>= ``at_least``)."""
        import ray

        version, holder = ray.get(self.board.newest.remote(at_least))
        if version != self.player.version:
            self.player.load(version, ray.get(holder[0]))
        return pack_record(self.player.play())


# --------------------------------------------------------------------------------------
# The learner's side
# --------------------------------------------------------------------------------------
@dataclass
class _Slot:
    handle: Any
    generation: int
    pid_ref: Any
    pid: int | None = None
    submitted: int = 0
    consumed: int = 0
    in_flight: collections.deque = field(default_factory=collections.deque)  # ObjectRefs, oldest first


class RayActorPool(RemoteActorPool):
    """Ray actors playing episodes for the learner (``backend="ray"``; see the module docstring).

    Args:
        env: the environment every actor gets a copy of (unwrapped; put in the object
            store once).
        num_actors: number of Ray actors (one CPU each); None = one per CPU of the
            cluster.
        address: the cluster to connect to when Ray is not initialised yet (None: a
            local Ray instance, stopped again by :meth:`close`).
        seed, ablation, layout, n_layers, max_in_flight, weights, num_episodes,
        generation, max_restarts: as in :class:`~agents.hierarchical.actors.ActorPool`.

    Raises:
        ImportError: ray is not installed.
        ValueError: the cluster has fewer CPUs than ``num_actors`` (before any actor starts).
    """

    def __init__(self, env, num_actors: int | None, *, address: str | None, seed: int, ablation: str, layout,
                 n_layers: int, max_in_flight: int, weights: tuple[np.ndarray, np.ndarray], num_episodes: int,
                 generation: int, max_restarts: int):
        ray = require_ray()
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        self._ray = ray
        self._lost_errors = (ray.exceptions.RayActorError, ray.exceptions.ObjectLostError,
                             ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                             ray.exceptions.OutOfMemoryError)
        self._owns_ray = not ray.is_initialized()
        self.slots: list[_Slot | None] = []
        self._board = None
        self._versions: dict[int, Any] = {}                  # version -> ObjectRef (the newest two)
        self._last_put: tuple[Any, Any] | None = None        # (weights array, its ObjectRef)
        if self._owns_ray:
            ray.init(address=address, include_dashboard=False)
        try:
            cpus = int(ray.cluster_resources().get("CPU", 0))
            n = cpus if num_actors is None else int(num_actors)
            if not 1 <= n <= cpus:
                raise ValueError(
                    f"num_actors={num_actors!r}: {n} Ray actors need {n} CPUs (one each), and the Ray cluster has "
                    f"{cpus}; use fewer actors, or give the cluster more (logical) CPUs, e.g. "
                    f"`ray start --head --num-cpus {max(n, 1)}` and ray_address='auto'"
                )
            super().__init__(n, seed=seed, ablation=ablation, layout=layout, n_layers=n_layers,
                             max_in_flight=max_in_flight, num_episodes=num_episodes, generation=generation,
                             max_restarts=max_restarts)
            self.slots = [None] * self.num_actors
            self._actor_class = ray.remote(RayEpisodeActor).options(num_cpus=1, max_restarts=0, max_task_retries=0)
            self._env = ray.put(env)
            prev, cur = weights
            n_ep = self.num_episodes
            self._versions = {n_ep - 1: ray.put(np.asarray(prev, dtype=np.float32)), n_ep: self._put(cur)}
            if not self.single_stream:
                # On the learner's node: the board lives as long as the learner does.
                here = NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=True)
                self._board = ray.remote(weights_board_class()).options(num_cpus=0, scheduling_strategy=here).remote()
                self._board.publish.remote(n_ep, [self._versions[n_ep]])
            self._next_episode = n_ep
            for i in range(self.num_actors):
                self._start(i)
            self._submit()
        except BaseException:
            self.close()
            raise

    # ---- actors -------------------------------------------------------------------------
    def _start(self, i: int) -> None:
        spec = self._spec(i)
        handle = self._actor_class.remote(spec, self._env, self._board)
        self.slots[i] = _Slot(handle, spec.generation, handle.pid.remote())
        if self.single_stream:
            self._next_episode = spec.first_episode

    def _generation_of(self, i: int) -> int | None:
        slot = self.slots[i]
        return None if slot is None else slot.generation

    @property
    def handles(self) -> list:
        """Ray actor handles of the running actors (by slot)."""
        return [s.handle for s in self.slots if s is not None]

    @property
    def pids(self) -> list[int]:
        """Process ids of the running actors (each on its own node), once they are known."""
        out = []
        for slot in self.slots:
            if slot is None:
                continue
            if slot.pid is None:
                ready, _ = self._ray.wait([slot.pid_ref], timeout=0)
                if ready:
                    try:
                        slot.pid = int(self._ray.get(ready[0]))
                    except self._ray.exceptions.RayError:
                        slot.pid = -1  # died before it said; its loss is handled with its episodes
            if slot.pid is not None and slot.pid >= 0:
                out.append(slot.pid)
        return out

    def _put(self, weights: np.ndarray):
        """Object-store reference of ``weights`` (the same array object is put only once)."""
        if self._last_put is not None and self._last_put[0] is weights:
            return self._last_put[1]
        ref = self._ray.put(np.asarray(weights, dtype=np.float32))
        self._last_put = (weights, ref)
        return ref

    def _submit(self) -> None:
        """Hand out every episode the rules allow now (see the module docstring)."""
        if self.single_stream:
            slot = self.slots[0]
            while acting_version(self._next_episode) <= self.num_episodes:
                e = self._next_episode
                v = acting_version(e)
                slot.in_flight.append(slot.handle.play.remote(e, v, self._versions[v]))
                self._next_episode += 1
            return
        for i, slot in enumerate(self.slots):
            while slot.submitted - slot.consumed < self.max_in_flight:
                slot.in_flight.append(slot.handle.play_newest.remote(self.num_episodes))
                slot.submitted += 1

    # ---- episodes -----------------------------------------------------------------------
    def _collect(self) -> None:
        ray = self._ray
        # Each actor's oldest episode only: an actor's episodes reach the learner in the
        # order it played them (its generator's order), as through a process's pipe.
        oldest = {slot.in_flight[0]: i for i, slot in enumerate(self.slots) if slot is not None and slot.in_flight}
        if not oldest:  # cannot happen while the rules of _submit hold; never wait forever
            raise RuntimeError("the Ray actor pool has no episode in flight and none waiting")
        ready, _ = ray.wait(list(oldest), num_returns=1, timeout=1.0)
        for ref in ready:
            i = oldest[ref]
            self.slots[i].in_flight.popleft()
            try:
                meta, blobs, layout = ray.get(ref)
            except self._lost_errors as err:
                if getattr(err, "actor_init_failed", False):  # e.g. a node without the package: a restart fails too
                    raise ActorError(f"actor {i} could not start:\n{err}") from None
                self._replace(i, err)
                continue
            except ray.exceptions.RayTaskError as err:
                raise ActorError(f"actor {i} failed:\n{err}") from None
            self._deliver(i, unpack_record(meta, blobs, layout))

    def _replace(self, i: int, err: BaseException) -> None:
        """Actor ``i`` is lost: end it for good, drop its episodes, start a replacement."""
        slot, self.slots[i] = self.slots[i], None
        try:
            self._ray.kill(slot.handle)
        except Exception:  # already gone
            pass
        reason = str(err).strip().splitlines()[0] if str(err).strip() else ""
        self._lost(i, f"was lost ({type(err).__name__}: {reason[:300]})")
        self._submit()

    def episode_done(self, record, weights: np.ndarray, version: int) -> None:
        """The learner used ``record``: publish ``weights`` as ``version`` and hand out more episodes."""
        self.num_episodes = version
        ref = self._put(weights)
        self._versions[version] = ref
        for old in [v for v in self._versions if v < version - 1]:
            del self._versions[old]
        if self._board is not None:
            self._board.publish.remote(version, [ref])
        i = self._used_by(record)
        if i is not None:
            self.slots[i].consumed += 1
        self._submit()

    def close(self) -> None:
        """Kill every actor (and the board); stop Ray if this pool started it."""
        ray = self._ray
        for slot in self.slots:
            if slot is not None:
                try:
                    ray.kill(slot.handle)
                except Exception:
                    pass
        if self._board is not None:
            try:
                ray.kill(self._board)
            except Exception:
                pass
        self.slots = [None] * len(self.slots)
        self._board = None
        self._versions.clear()
        self._last_put = None
        if hasattr(self, "_pending"):  # not before the checks of __init__ passed
            self._pending.clear()
        self._env = None
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()
