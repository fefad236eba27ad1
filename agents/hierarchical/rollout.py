"""Playing AutoSMOTE episodes with the current policies, in batches (Algorithm 1).

One episode of ``imbalance_gym/AutoSMOTE-v0`` costs ``1 + 2 N_min`` small forward passes
and ``1 + N_min`` environment calls:

1. level 0: one forward pass on the reset observation, sample ``g1``, ``env.step(g1)``;
2. per minority instance ``i``: one forward pass of the instance-specific policy on the
   instance's level-1 observation, sample ``g2``; if ``g = g1 g2 > 0``, one forward pass
   of the low-level policy on the observation at the start of the instance's low-level
   segment (:func:`~agents.hierarchical.policies.low_level_input`), and all ``g``
   (neighbour, weight) actions are drawn at once from that distribution; then one
   ``env.step_batch([g2, a_1, .., a_g])`` applies them and returns the next instance's
   level-1 observation (or ends the episode with the classifier's validation score).

**Batched low level.** Within a segment, the low-level policy conditions on the
observation at the segment's start: later steps of the same segment differ from it only
in ``left`` and in the usage one-hots (bins of 10 uses), which the policy does not see
until the next instance. That observation is recorded as the policy input of all ``g``
steps, so the behaviour log-probabilities stored here and the target log-probabilities
the learner recomputes are taken on the same inputs and V-trace stays exact.

**Trajectory format** (:class:`LevelSteps`, no per-step copies of observations): level 0
keeps one input, ``g1`` and its log-prob; level 1 ``N_min`` inputs, actions, log-probs and
action masks; the low level one input + neighbour table per instance with ``g > 0`` and
its ``g`` actions and log-probs. Rewards follow the paper (sec. 3.2): 0 everywhere except
the last step of every level's episode -- the level-0 episode (1 step), the level-1
episode (``N_min`` steps), and each instance's low-level segment -- which gets the
episode's metric.

The flat ablation (``imbalance_gym/AutoSMOTE-Flat-v0``) is played the same way: one
forward pass per instance, the actions of the instance drawn at once up to the first
"next instance" (or the per-instance cap), stepped one by one (that env has no batch
step). Randomness comes only from the ``np.random.Generator`` passed in.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agents.hierarchical.policies import (
    CROSS_INSTANCE,
    FLAT,
    INSTANCE_SPECIFIC,
    LOW_LEVEL,
    NumpyPolicies,
    low_level_input,
    policy_input,
)
from imbalance_gym.baselines import random_episode_actions
from imbalance_gym.envs.smote_space import N_WEIGHTS

__all__ = [
    "LEARNED_LEVELS",
    "EpisodeRecord",
    "LevelSteps",
    "episode_rng",
    "fixed_factor",
    "play_episode",
]

_SEED_HIGH = 2**31 - 1

LEARNED_LEVELS: dict[str, tuple[str, ...]] = {
    "full": (CROSS_INSTANCE, INSTANCE_SPECIFIC, LOW_LEVEL),
    "no_cross_instance": (INSTANCE_SPECIFIC, LOW_LEVEL),
    "no_instance_specific": (CROSS_INSTANCE, LOW_LEVEL),
    "no_low_level": (CROSS_INSTANCE, INSTANCE_SPECIFIC),
    "flat": (FLAT,),
    "random": (),
}
"""The policies each ablation trains (sec. 4.4)."""


@dataclass
class LevelSteps:
    """One level's steps from one environment episode (compact: inputs once per state).

    Attributes:
        obs: distinct policy inputs, float32 ``[M, F]``.
        nf: their neighbour tables ``[M, K, 10 + D]`` (low level / flat), else None.
        mask: valid actions per input, bool ``[M, A]``, or None (all valid).
        obs_index: input of each step, nondecreasing int64 ``[n]`` (rows of ``obs``).
        actions: int64 ``[n]``.
        logp: behaviour log-probabilities ``log mu(a_t|s_t)``, float32 ``[n]``.
        ends: bool ``[n]``, True at the last step of each of this level's episodes
            (where the reward, the episode's metric, is paid).
    """

    obs: np.ndarray
    nf: np.ndarray | None
    mask: np.ndarray | None
    obs_index: np.ndarray
    actions: np.ndarray
    logp: np.ndarray
    ends: np.ndarray

    def __len__(self) -> int:
        return int(self.actions.shape[0])

    def arrays(self) -> dict[str, np.ndarray]:
        """The fields that are set, by name."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class EpisodeRecord:
    """Everything the learner needs from one episode.

    Attributes:
        metric: the validation score (the reward of every level's last step).
        levels: :class:`LevelSteps` of each learned level that acted.
        result: the synthetic set: ``synthetic`` ``[M, D]``, ``source``/``neighbour``
            training rows and ``weight`` per row, ``counts`` ``[N_min]``, and for the
            hierarchical env ``g1`` and ``g2`` ``[N_min]``; plus ``random_state``.
        stats: wall-clock timings (``policy_s`` forward passes and sampling, ``env_s``
            environment calls before the last, ``reward_s`` the last call: row generation,
            classifier fit and validation score), CPU seconds of the acting process
            (``reward_cpu_s`` in the last call, ``cpu_s`` for the whole episode),
            ``t_end`` (``time.time()`` at the episode's end), ``n_forward``, and the
            acting ``actor`` and ``policy_version`` (filled in by the caller).
    """

    metric: float
    levels: dict[str, LevelSteps]
    result: dict[str, Any]
    stats: dict[str, Any] = field(default_factory=dict)


def episode_rng(seed: int, *key: int) -> np.random.Generator:
    """A generator for one stream of episodes: ``SeedSequence(seed, spawn_key=key)``.

    Single-stream runs (0 or 1 actor) use ``key = (0, generation, episode)``, so episode
    ``e`` draws the same numbers whichever process plays it; actor ``a`` of a multi-actor
    run uses one generator for all its episodes, ``key = (1, a, launch_episode, generation)``.
    """
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in key)))


def fixed_factor(G: int) -> int:
    """The factor an ablation fixes a removed level to: ``ceil(G / 2)`` (sec. 4.4).

    The paper sets ``g1 = G1 / 2`` (the mean of ``0..G1``) and ``g2 = G2 / 2``; rounding up
    keeps it >= 1 when ``G`` is 1.
    """
    return max(1, math.ceil(G / 2))


def _sample(rng: np.random.Generator, logits: np.ndarray, mask: np.ndarray | None = None,
            size: int | None = None) -> tuple[Any, Any]:
    """Draw action(s) from ``softmax(logits)`` over the valid actions; return them and their log-probs.

    Inverse-CDF sampling (``rng.random`` + ``searchsorted``) on the unnormalised
    probabilities, in float64: an invalid action (probability 0) owns an empty interval
    and is never drawn. ``log p(a) = z_a - max(z) - log(sum(exp(z - max(z))))``.
    """
    z = logits.astype(np.float64)
    if mask is not None:
        z[~mask] = -np.inf
    z -= z.max()
    cdf = np.exp(z)
    np.cumsum(cdf, out=cdf)
    total = cdf[-1]
    actions = np.minimum(np.searchsorted(cdf, rng.random(size) * total, side="right"), cdf.size - 1)
    log_total = np.log(total)
    if size is None:
        a = int(actions)
        return a, float(z[a] - log_total)
    return actions.astype(np.int64), (z[actions] - log_total).astype(np.float32)


def _result(info: dict, hierarchical: bool) -> dict[str, Any]:
    """The synthetic set of a final ``info``."""
    prov = info["provenance"]
    out = {"synthetic": np.asarray(info["synthetic"], dtype=np.float32),
           "source": np.asarray(prov["source"], dtype=np.int64),
           "neighbour": np.asarray(prov["neighbour"], dtype=np.int64),
           "weight": np.asarray(prov["weight"], dtype=np.float64),
           "counts": np.asarray(info["counts"], dtype=np.int64),
           "random_state": int(info["random_state"])}
    if hierarchical:
        out["g1"] = int(info["g1"])
        out["g2"] = np.asarray(info["g2"], dtype=np.int64)
    return out


class _Recorder:
    """Accumulates one level's steps while an episode is played."""

    def __init__(self, with_nf: bool, with_mask: bool):
        self.obs: list = []
        self.nf: list | None = [] if with_nf else None
        self.mask: list | None = [] if with_mask else None
        self.counts: list = []
        self.actions: list = []
        self.logp: list = []
        self.ends: list = []

    def add(self, x, actions, logp, ends, nf=None, mask=None) -> None:
        """One input and the step(s) taken from it (``actions``/``logp``/``ends`` arrays)."""
        self.obs.append(x)
        if self.nf is not None:
            self.nf.append(nf)
        if self.mask is not None:
            self.mask.append(mask)
        self.counts.append(len(actions))
        self.actions.append(actions)
        self.logp.append(logp)
        self.ends.append(ends)

    def steps(self) -> LevelSteps | None:
        if not self.obs:
            return None
        return LevelSteps(
            obs=np.stack(self.obs).astype(np.float32, copy=False),
            nf=None if self.nf is None else np.stack(self.nf).astype(np.float32, copy=False),
            mask=None if self.mask is None else np.stack(self.mask).astype(bool, copy=False),
            obs_index=np.repeat(np.arange(len(self.obs), dtype=np.int64), self.counts),
            actions=np.concatenate(self.actions).astype(np.int64, copy=False),
            logp=np.concatenate(self.logp).astype(np.float32, copy=False),
            ends=np.concatenate(self.ends).astype(bool, copy=False),
        )


def play_episode(env, policies: NumpyPolicies | None, rng: np.random.Generator,
                 ablation: str = "full") -> EpisodeRecord:
    """Play one episode of an AutoSMOTE env with the policies (see the module docstring).

    Args:
        env: ``AutoSMOTEEnv`` (the flat ablation: ``AutoSMOTEFlatEnv``), unwrapped.
        policies: numpy policies holding the learned levels of ``ablation`` (None for
            ``"random"``).
        rng: source of every random number of the episode: the env's reset seed (which
            also seeds its classifier) and all sampled actions.
        ablation: one of :data:`~agents.hierarchical.config.ABLATIONS`.

    Returns:
        The :class:`EpisodeRecord`.
    """
    start, cpu = time.perf_counter(), time.process_time()
    n_forward0 = 0 if policies is None else policies.n_forward
    if ablation == "flat":
        record = _play_flat(env, policies, rng)
    elif ablation == "random":
        env.reset(seed=int(rng.integers(0, _SEED_HIGH)))
        actions = random_episode_actions(rng, env.G1, env.G2, env.K, env.n_minority, env.max_synthetic)
        t = time.perf_counter()
        (_, reward, terminated, _, info), wall, cpu_last = _timed(env.step_batch, actions)
        if not terminated:
            raise RuntimeError("a whole episode of random actions did not end the episode")
        record = EpisodeRecord(float(reward), {}, _result(info, True),
                               {"policy_s": t - start, "env_s": 0.0, "reward_s": wall, "reward_cpu_s": cpu_last})
    else:
        record = _play_hierarchical(env, policies, rng, ablation)
    record.stats["n_forward"] = 0 if policies is None else policies.n_forward - n_forward0
    record.stats["cpu_s"] = time.process_time() - cpu
    record.stats["t_end"] = time.time()  # wall clock, comparable between processes
    return record


def _timed(fn, arg):
    """``fn(arg)``, its wall-clock seconds and this process's CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(arg)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def _play_hierarchical(env, policies: NumpyPolicies, rng: np.random.Generator, ablation: str) -> EpisodeRecord:
    """Algorithm 1 with one forward pass per level decision (see the module docstring)."""
    learned = LEARNED_LEVELS[ablation]
    n_min, G1, G2, K = env.n_minority, env.G1, env.G2, env.K
    n_low, per_instance = N_WEIGHTS * K, G1 * G2
    rec_cross = _Recorder(with_nf=False, with_mask=False)
    rec_inst = _Recorder(with_nf=False, with_mask=True)
    rec_low = _Recorder(with_nf=True, with_mask=False)
    policy_s = env_s = 0.0
    one = np.ones(1, dtype=bool)

    t0 = time.perf_counter()
    obs, _ = env.reset(seed=int(rng.integers(0, _SEED_HIGH)))
    t1 = time.perf_counter()
    if CROSS_INSTANCE in learned:
        x = policy_input(obs)
        logits, _ = policies.discrete(CROSS_INSTANCE, x)
        g1, lp = _sample(rng, logits)
        rec_cross.add(x, [g1], [lp], one)
    else:
        g1 = min(fixed_factor(G1), G1)
    t2 = time.perf_counter()
    obs, reward, terminated, _, info = env.step(g1)
    t3 = time.perf_counter()
    policy_s += t2 - t1
    env_s += (t1 - t0) + (t3 - t2)

    for i in range(n_min):
        ta = time.perf_counter()
        mask = obs["action_mask"][:G2 + 1].astype(bool)
        if INSTANCE_SPECIFIC in learned:
            x = policy_input(obs)
            logits, _ = policies.discrete(INSTANCE_SPECIFIC, x)
            g2, lp = _sample(rng, logits, mask)
            rec_inst.add(x, [g2], [lp], np.array([i == n_min - 1]), mask=mask)
        else:
            g2 = min(fixed_factor(G2), int(np.flatnonzero(mask)[-1]))
        g = g1 * g2
        batch = np.empty(1 + g, dtype=np.int64)
        batch[0] = g2
        if g:
            if LOW_LEVEL in learned:
                x = low_level_input(obs, g, per_instance)
                nf = obs["neighbour_features"]
                logits, _ = policies.pairs(LOW_LEVEL, x, nf)
                acts, lps = _sample(rng, logits, size=g)
                ends = np.zeros(g, dtype=bool)
                ends[-1] = True
                rec_low.add(x, acts, lps, ends, nf=nf)
            else:
                acts = rng.integers(0, n_low, size=g)
            batch[1:] = acts
        tb = time.perf_counter()
        (obs, reward, terminated, _, info), wall, cpu = _timed(env.step_batch, batch)
        policy_s += tb - ta
        if terminated:
            reward_s, reward_cpu_s = wall, cpu  # the last call: rows, classifier fit, validation score
            break
        env_s += wall
    if not terminated:
        raise RuntimeError("the episode did not end after the last minority instance")

    levels = {}
    for name, rec in ((CROSS_INSTANCE, rec_cross), (INSTANCE_SPECIFIC, rec_inst), (LOW_LEVEL, rec_low)):
        steps = rec.steps()
        if steps is not None:
            levels[name] = steps
    return EpisodeRecord(float(reward), levels, _result(info, True),
                         {"policy_s": policy_s, "env_s": env_s, "reward_s": reward_s, "reward_cpu_s": reward_cpu_s})


def _play_flat(env, policies: NumpyPolicies, rng: np.random.Generator) -> EpisodeRecord:
    """The flat ablation: per instance one forward pass, then its actions one env step each."""
    n_pairs = N_WEIGHTS * env.K
    cap = env.G1 * env.G2  # rows per instance before the env moves on by itself
    rec = _Recorder(with_nf=True, with_mask=False)
    policy_s = env_s = 0.0
    t0 = time.perf_counter()
    obs, _ = env.reset(seed=int(rng.integers(0, _SEED_HIGH)))
    env_s += time.perf_counter() - t0
    terminated = False
    while not terminated:
        ta = time.perf_counter()
        x = policy_input(obs)
        nf = obs["neighbour_features"]
        logits, _ = policies.pairs(FLAT, x, nf)
        draws, lps = _sample(rng, logits, size=cap)
        stop = np.flatnonzero(draws == n_pairs)
        run = draws[: stop[0] + 1] if stop.size else draws  # up to "next", else the cap moves on
        tb = time.perf_counter()
        taken = 0
        for a in run.tolist():
            (obs, reward, terminated, _, info), wall, cpu = _timed(env.step, a)
            taken += 1
            if terminated:
                reward_s, reward_cpu_s = wall, cpu
                break
            env_s += wall
        policy_s += tb - ta
        ends = np.zeros(taken, dtype=bool)
        ends[-1] = terminated
        rec.add(x, run[:taken], lps[:taken], ends, nf=nf)
    return EpisodeRecord(float(reward), {FLAT: rec.steps()}, _result(info, False),
                         {"policy_s": policy_s, "env_s": env_s, "reward_s": reward_s, "reward_cpu_s": reward_cpu_s})
