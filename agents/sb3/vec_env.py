"""Stable-Baselines3 vector environments for the imbalance-gym environments.

SB3 steps a :class:`~stable_baselines3.common.vec_env.VecEnv`; Gymnasium 1.x vector envs
speak a different dialect. :class:`VectorEnvAdapter` translates a natively vectorised
Gymnasium env (such as :class:`~imbalance_gym.envs.ICMDPVectorEnv`) into SB3's, batch for
batch, and :func:`make_vec_env` builds the right ``VecEnv`` for an environment id: the
adapter around the native vector env where the id registers one, otherwise SB3's
``DummyVecEnv`` / ``SubprocVecEnv`` over ``gym.make`` copies.

The two dialects differ in how lanes report (Gymnasium side with SAME_STEP autoreset):

- episode end: ``terminated`` and ``truncated`` arrays -> ``dones = terminated | truncated``;
- bootstrap or not: ``truncated and not terminated`` -> ``info["TimeLimit.truncated"]``;
- last observation of a lane: ``info["final_obs"][i]`` -> ``info["terminal_observation"]``;
- last step info of a lane: ``info["final_info"]`` (masked arrays) -> the lane's ``info``;
- info of the lane's new episode: its entries of ``info`` -> ``reset_infos[i]``;
- infos: one dict of arrays with ``"_key"`` masks -> a list of ``num_envs`` dicts.
"""

from __future__ import annotations

import numbers
from functools import partial
from typing import Any, Callable, Iterable, Mapping, Sequence

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecMonitor

import imbalance_gym
from agents.sb3._checks import positive_int
from imbalance_gym.envs._inputs import check_seed

__all__ = ["VectorEnvAdapter", "make_vec_env", "split_vector_info"]

_TRUNCATED = "TimeLimit.truncated"
_TERMINAL_OBS = "terminal_observation"
_SAME_STEP = (AutoresetMode.SAME_STEP, "same_step")
# Keyword arguments make_vec_env sets itself; passing them as env kwargs is an error.
_RESERVED_KWARGS = ("num_envs", "autoreset_mode", "vectorization_mode", "vector_kwargs", "wrappers")


# --------------------------------------------------------------------------------------
# Gymnasium vector infos -> SB3 per-env infos
# --------------------------------------------------------------------------------------
def split_vector_info(info: Mapping[str, Any], n_envs: int) -> list[dict[str, Any]]:
    """Split a Gymnasium vector ``info`` dict into one dict per lane.

    Gymnasium batches infos as ``info[key]`` (an array over lanes) plus a boolean mask
    ``info["_" + key]`` saying which lanes have the key; nested dicts are batched the same
    way. Lane ``i`` gets ``key`` only where its mask is set. One-dimensional numeric
    arrays become Python scalars (as a single env reports them); other entries are
    copied per lane.

    Args:
        info: the info dict of a vector ``reset`` or ``step``.
        n_envs: number of lanes.

    Returns:
        ``n_envs`` dicts, one per lane.
    """
    return _fill_lanes(info, np.arange(n_envs), [{} for _ in range(n_envs)])


def _fill_lanes(info: Mapping[str, Any], lanes: np.ndarray, out: list[dict]) -> list[dict]:
    """Add the entries of ``lanes`` (``[k]`` lane ids) to ``out`` (``k`` dicts, in that order)."""
    every = range(len(lanes))
    for key, value in info.items():
        if key.startswith("_") and key[1:] in info:
            continue  # a mask
        mask = info.get("_" + key)
        has = None if mask is None else np.asarray(mask, dtype=bool)[lanes]
        if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype != object:
            # Most lanes have most keys: set all (as Python scalars, as a single env
            # reports them), then drop the few the mask excludes.
            for lane, item in zip(out, value[lanes].tolist()):
                lane[key] = item
            if has is not None:
                for j in np.flatnonzero(~has).tolist():
                    del out[j][key]
            continue
        picked = every if has is None else np.flatnonzero(has).tolist()
        if isinstance(value, Mapping):
            inner = _fill_lanes(value, lanes, [{} for _ in every])
            for j in picked:
                out[j][key] = inner[j]
        elif isinstance(value, np.ndarray) and value.dtype != object:
            for j in picked:
                out[j][key] = value[lanes[j]].copy()
        else:
            for j in picked:
                out[j][key] = value[lanes[j]]
    return out


def _find_attr(venv: gym.vector.VectorEnv, name: str) -> Any:
    """``name`` on the vector env or, through Gymnasium vector wrappers, on the env inside."""
    obj = venv
    while True:
        try:
            return getattr(obj, name)
        except AttributeError:
            if not isinstance(obj, gym.vector.VectorWrapper):
                raise AttributeError(
                    f"{type(venv).__name__} has no attribute {name!r}"
                ) from None
            obj = obj.env


class VectorEnvAdapter(VecEnv):
    """A Gymnasium vector env with same-step autoreset, as a Stable-Baselines3 ``VecEnv``.

    Stepping is one call of the Gymnasium vector env for all lanes; only the per-lane
    ``infos`` list SB3 expects is built in Python. For a lane whose episode ended in this
    step (SB3's ``dones[i]``):

    * ``infos[i]`` is the info of that last step (Gymnasium's ``final_info``) plus
      ``"terminal_observation"`` (Gymnasium's ``final_obs``) and
      ``"TimeLimit.truncated" = truncated and not terminated``. SB3's algorithms
      bootstrap from the terminal observation exactly when that flag is set: PPO/A2C add
      ``gamma * V(terminal_observation)`` to the reward, DQN's replay buffer marks the
      transition as a timeout. For the ICMDP this makes running out of data (a
      truncation) bootstrap and a misclassified minority sample (a termination) not;
    * the returned observation is the first of the next episode, and the info of that
      reset goes to ``reset_infos[i]``.

    Every other lane's ``infos[i]`` is its step info with ``"TimeLimit.truncated": False``,
    as SB3's ``DummyVecEnv`` reports it.

    Lanes share one environment object, so the attribute and method helpers act on it
    once: ``get_attr`` returns the vector env's attribute for every requested lane,
    ``env_method`` calls the method once and returns its result for every requested lane,
    ``set_attr`` sets it on the shared env (all lanes only), and ``env_is_wrapped`` is
    False (lanes carry no per-env Gymnasium wrappers). Seeds set with :meth:`seed` reach
    the lanes at the next :meth:`reset` (lane ``i`` gets ``seed + i``, SB3's convention,
    which for the ICMDP replays a single env seeded with ``seed + i``).

    Args:
        venv: a Gymnasium ``VectorEnv`` whose ``metadata["autoreset_mode"]`` is
            same-step, e.g. ``gym.make_vec("imbalance_gym/ICMDP-v0", num_envs=8, X=X, y=y)``.

    Raises:
        TypeError: ``venv`` is not a Gymnasium vector env.
        ValueError: it autoresets in the next step (SB3 needs the same-step convention).
    """

    def __init__(self, venv: gym.vector.VectorEnv):
        if not isinstance(venv, gym.vector.VectorEnv):
            raise TypeError(
                f"venv must be a gymnasium.vector.VectorEnv (e.g. from gym.make_vec), "
                f"got {type(venv).__name__}"
            )
        mode = (getattr(venv, "metadata", None) or {}).get("autoreset_mode")
        if mode not in _SAME_STEP:
            raise ValueError(
                "venv must autoreset in the same step (metadata['autoreset_mode'] == "
                f"AutoresetMode.SAME_STEP), as SB3 expects; got {mode!r}. Build it with "
                "autoreset_mode='same_step'."
            )
        self.vector_env = venv
        self._actions: np.ndarray | None = None
        super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)

    # ---- stepping ----------------------------------------------------------------------
    def reset(self):
        """Reset every lane (with the seeds and options set since the last reset)."""
        options = self._options[0]
        if any(o != options for o in self._options[1:]):
            raise ValueError(
                "lanes of a native vector env share one reset: set_options() must give every "
                f"lane the same options, got {self._options}"
            )
        seeds = None if all(s is None for s in self._seeds) else list(self._seeds)
        obs, info = self.vector_env.reset(seed=seeds, options=options or None)
        self.reset_infos = split_vector_info(info, self.num_envs)
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self):
        if self._actions is None:
            raise RuntimeError("step_wait() called without step_async()")
        actions, self._actions = self._actions, None
        obs, reward, terminated, truncated, info = self.vector_env.step(actions)
        terminated = np.asarray(terminated, dtype=bool)
        truncated = np.asarray(truncated, dtype=bool)
        dones = terminated | truncated

        info = dict(info)
        final_obs = info.pop("final_obs", None)
        final_info = info.pop("final_info", None)
        info.pop("_final_obs", None)
        info.pop("_final_info", None)
        n = self.num_envs
        infos = _fill_lanes(info, np.arange(n), [{_TRUNCATED: False} for _ in range(n)])
        done_lanes = np.flatnonzero(dones)
        if done_lanes.size:
            if final_obs is None:
                raise RuntimeError(
                    f"{type(self.vector_env).__name__} ended episodes without info['final_obs']; "
                    "it does not follow same-step autoreset"
                )
            bootstrap = (truncated & ~terminated)[done_lanes].tolist()
            last = _fill_lanes(final_info or {}, done_lanes,
                               [{_TRUNCATED: b} for b in bootstrap])
            for i, lane in zip(done_lanes.tolist(), last):
                reset_info = infos[i]
                del reset_info[_TRUNCATED]
                self.reset_infos[i] = reset_info
                lane[_TERMINAL_OBS] = final_obs[i]
                infos[i] = lane
        return obs, np.asarray(reward, dtype=np.float32), dones, infos

    def close(self) -> None:
        self.vector_env.close()

    # ---- attributes and methods (lanes share one env) -------------------------------------
    def _lanes(self, indices) -> list[int]:
        lanes = list(self._get_indices(indices))
        for i in lanes:
            if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not 0 <= i < self.num_envs:
                raise ValueError(f"indices must be lanes in 0..{self.num_envs - 1}, got {i!r}")
        return lanes

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        """The shared vector env's ``attr_name``, once per requested lane."""
        value = _find_attr(self.vector_env, attr_name)
        return [value for _ in self._lanes(indices)]

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        """Set ``attr_name`` on the shared vector env; ``indices`` must cover every lane."""
        lanes = self._lanes(indices)
        if sorted(set(lanes)) != list(range(self.num_envs)):
            raise ValueError(
                f"the {self.num_envs} lanes share one vector env: set_attr({attr_name!r}) can "
                f"only target all of them, got indices={indices!r}"
            )
        setattr(self.vector_env, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list[Any]:
        """Call ``method_name`` once on the shared vector env; its result for every requested lane."""
        lanes = self._lanes(indices)
        result = _find_attr(self.vector_env, method_name)(*method_args, **method_kwargs)
        return [result for _ in lanes]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices=None) -> list[bool]:
        """Always False: the lanes are not ``gym.Env`` objects and carry no Gymnasium wrappers."""
        return [False for _ in self._lanes(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None for _ in range(self.num_envs)]


# --------------------------------------------------------------------------------------
# make_vec_env
# --------------------------------------------------------------------------------------
def _make_env(env_id: str, rank: int, seed: int | None, monitor: bool,
              env_kwargs: dict[str, Any]) -> gym.Env:
    """One environment of a per-env ``VecEnv`` (module level, so subprocesses can pickle it)."""
    env = gym.make(env_id, seed=seed, **env_kwargs)
    if seed is not None:
        env.action_space.seed(seed + rank)
    return Monitor(env) if monitor else env


def make_vec_env(
    env_id: str,
    n_envs: int = 1,
    seed: int | None = None,
    *,
    vec_env_cls: type[VecEnv] | None = None,
    vec_env_kwargs: dict[str, Any] | None = None,
    monitor: bool = True,
    **env_kwargs: Any,
) -> VecEnv:
    """An SB3 ``VecEnv`` of ``n_envs`` copies of an imbalance-gym environment.

    Environments that register a native vector env (``imbalance_gym/ICMDP-v0``) are
    stepped by it through :class:`VectorEnvAdapter`: one numpy call per step for all
    lanes. The others (``imbalance_gym/AutoSMOTE-v0``, ``-Flat-v0``) become ``n_envs``
    ``gym.make`` copies in SB3's ``DummyVecEnv`` (default) or ``vec_env_cls``; their
    methods, such as AutoSMOTE's ``action_masks()`` that sb3-contrib's ``MaskablePPO``
    calls through ``env_method``, stay reachable. Passing ``vec_env_cls`` forces the
    per-env path for any id.

    Seeding follows SB3: env ``i`` is reset with ``seed + i`` at the first reset. The
    environments are also built with ``seed=seed``, so a named dataset is split the same
    way in every copy (as ``gym.make(env_id, seed=seed, ...)`` splits it).

    Args:
        env_id: one of :data:`imbalance_gym.ENV_IDS` (a ``"module:"`` prefix is allowed).
        n_envs: number of environments (lanes).
        seed: seed of the first reset (env ``i``: ``seed + i``) and of the data split.
        vec_env_cls: ``DummyVecEnv``, ``SubprocVecEnv`` or another per-env ``VecEnv``
            class taking a list of env factories; None picks the native vector env when
            the id has one, else ``DummyVecEnv``.
        vec_env_kwargs: keyword arguments of ``vec_env_cls`` (e.g. ``start_method``).
        monitor: record episode returns and lengths (``info["episode"]``) for SB3's
            logger and ``evaluate_policy``: ``VecMonitor`` around the native vector env,
            SB3's ``Monitor`` around each per-env copy.
        **env_kwargs: the environment's own arguments (``dataset=``, ``X=``, ``y=``,
            ``ratio=``, ``classifier=`` ...).

    Returns:
        The ``VecEnv``, not yet reset.

    Raises:
        ValueError: unknown ``env_id`` (the message lists the known ones), bad ``n_envs``
            or ``seed``, or a keyword this function sets itself.
        TypeError: ``env_id`` is not a string or ``vec_env_cls`` is not a ``VecEnv`` class.

    Example::

        venv = make_vec_env("imbalance_gym/ICMDP-v0", n_envs=16, seed=0,
                            dataset="phoneme", ratio=0.05)
    """
    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a string such as {imbalance_gym.ENV_IDS[0]!r}, got {env_id!r}")
    name = env_id.rsplit(":", 1)[-1]
    if name not in imbalance_gym.ENV_IDS:
        raise ValueError(f"unknown env_id {env_id!r}; known ids: {list(imbalance_gym.ENV_IDS)}")
    n_envs = positive_int(n_envs, "n_envs")
    seed = check_seed(seed)
    reserved = sorted(set(env_kwargs) & set(_RESERVED_KWARGS))
    if reserved:
        raise ValueError(
            f"make_vec_env sets {reserved} itself; use n_envs= for the number of environments"
        )
    if vec_env_cls is not None and not (isinstance(vec_env_cls, type) and issubclass(vec_env_cls, VecEnv)):
        raise TypeError(
            f"vec_env_cls must be a VecEnv class such as DummyVecEnv or SubprocVecEnv, got {vec_env_cls!r}"
        )
    vec_env_kwargs = dict(vec_env_kwargs or {})
    native = gym.spec(name).vector_entry_point is not None

    if vec_env_cls is None and native:
        if vec_env_kwargs:
            raise ValueError(
                f"vec_env_kwargs apply to vec_env_cls; {name} is stepped by its native vector env, "
                f"got vec_env_kwargs={vec_env_kwargs}"
            )
        venv = gym.make_vec(name, num_envs=n_envs, vectorization_mode="vector_entry_point",
                            autoreset_mode="same_step", seed=seed, **env_kwargs)
        vec: VecEnv = VectorEnvAdapter(venv)
        if monitor:
            vec = VecMonitor(vec)
    else:
        cls = DummyVecEnv if vec_env_cls is None else vec_env_cls
        factories: list[Callable[[], gym.Env]] = [
            partial(_make_env, name, rank, seed, monitor, dict(env_kwargs)) for rank in range(n_envs)
        ]
        vec = cls(factories, **vec_env_kwargs)
    if seed is not None:
        vec.seed(seed)
    return vec
