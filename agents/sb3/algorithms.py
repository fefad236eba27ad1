"""Registry of the SB3 / sb3-contrib algorithms used with imbalance-gym, and a one-call builder.

Which algorithm is a table lookup, which policy follows from the observation space, and
the policy kwargs come from :func:`~agents.sb3.extractors.policy_kwargs_for`::

    venv = make_vec_env("imbalance_gym/AutoSMOTE-v0", n_envs=2, seed=0, X=X, y=y)
    model = make_model("maskable_ppo", venv, seed=0, n_steps=64)
    model.learn(2_000)
"""

from __future__ import annotations

import inspect
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import torch
from gymnasium import spaces
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.utils import is_masking_supported
from stable_baselines3 import A2C, DQN, PPO
from stable_baselines3.common.base_class import BaseAlgorithm

from agents.sb3.extractors import observation_space_of, policy_kwargs_for

__all__ = ["ALGORITHMS", "MASKED_ALGORITHMS", "POLICIES", "load_model", "make_model", "policy_name"]

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {
    "dqn": DQN,
    "ppo": PPO,
    "a2c": A2C,
    "maskable_ppo": MaskablePPO,
}
"""Algorithm class by name."""

POLICIES: dict[type[spaces.Space], str] = {
    spaces.Box: "MlpPolicy",
    spaces.Dict: "MultiInputPolicy",
}
"""Policy name by observation space type; every algorithm of :data:`ALGORITHMS` registers
both names. Image and token spaces use ``"MlpPolicy"`` too: the features extractor from
:func:`policy_kwargs_for` replaces SB3's default one (SB3's ``CnnPolicy`` would only swap
in ``NatureCNN``, which cannot take 28x28 images)."""

MASKED_ALGORITHMS = frozenset({"maskable_ppo"})
"""Algorithms that need the env's ``action_masks()`` (AutoSMOTE-v0 provides it)."""


def _algorithm(algo: Any) -> type[BaseAlgorithm]:
    if not isinstance(algo, str) or algo not in ALGORITHMS:
        raise ValueError(f"algo must be one of {sorted(ALGORITHMS)}, got {algo!r}")
    return ALGORITHMS[algo]


def policy_name(env_or_space: Any) -> str:
    """SB3 policy name for an observation space (or an env / ``VecEnv`` holding one).

    Raises:
        ValueError: a space type no policy here handles (naming the known ones).
    """
    space = observation_space_of(env_or_space)
    name = POLICIES.get(type(space))
    if name is None:
        known = [t.__name__ for t in POLICIES]
        raise ValueError(f"no SB3 policy for observation space {space}; supported space types: {known}")
    return name


def make_model(algo: str, env: Any, *, seed: int | None = None, network: str = "auto",
               policy_kwargs: dict[str, Any] | None = None, **algo_kwargs: Any) -> BaseAlgorithm:
    """Build an SB3 algorithm with the policy and ``policy_kwargs`` that fit ``env``.

    Args:
        algo: a key of :data:`ALGORITHMS` (``"dqn"``, ``"ppo"``, ``"a2c"``, ``"maskable_ppo"``).
        env: an SB3 ``VecEnv`` (e.g. from :func:`agents.sb3.make_vec_env`) or a Gymnasium env.
        seed: seeds the network, the algorithm's sampling and the env's first reset
            (SB3 calls ``env.seed(seed)``: env ``i`` starts from ``seed + i``).
        network: body for Box observations, see :func:`policy_kwargs_for` (``"auto"``,
            ``"mlp"``, ``"cnn"``, ``"text"``).
        policy_kwargs: merged over :func:`policy_kwargs_for` ``(env, network)`` (yours win).
        **algo_kwargs: the algorithm's own arguments (``learning_rate``, ``n_steps``,
            ``buffer_size``, ``gamma``, ``device``, ``verbose`` ...).

    Returns:
        The unfitted model; call ``model.learn(total_timesteps)``.

    Raises:
        ValueError: unknown ``algo`` or ``network``, or a masked algorithm on an env
            without ``action_masks()``.
    """
    cls = _algorithm(algo)
    if algo in MASKED_ALGORITHMS and not is_masking_supported(env):
        raise ValueError(
            f"algo={algo!r} needs an env with action_masks() (e.g. imbalance_gym/AutoSMOTE-v0 "
            f"through make_vec_env); {type(env).__name__} has none"
        )
    kwargs = {**policy_kwargs_for(env, network), **(policy_kwargs or {})}
    return cls(policy_name(env), env, seed=seed, policy_kwargs=kwargs, **algo_kwargs)


_RUNTIME_STATE = ("_last_obs", "_last_original_obs", "_last_episode_starts", "ep_info_buffer",
                  "ep_success_buffer", "lr_schedule", "exploration_schedule", "replay_buffer_class",
                  "rollout_buffer_class")
"""Pickled entries of an SB3 zip that ``_setup_model`` / ``learn`` rebuild when they are None:
the collection state (the envs are reset on the next ``learn``), episode statistics,
schedules rebuilt from their plain fields, and the default buffer classes."""

_CONSTANT_SCHEDULE = re.compile(r"ConstantSchedule\(val=([-+0-9.eE]+|inf|nan)\)")


def _saved_entries(path: Path) -> dict[str, Any]:
    """The ``data`` JSON of an SB3 zip (read as text; nothing in it is unpickled)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("data"))
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as err:
        raise ValueError(f"{str(path)!r} is not a Stable-Baselines3 model zip ({err})") from None


def _rebuilt_entries(cls: type[BaseAlgorithm], data: dict[str, Any], observation_space, action_space,
                     network: str, policy_kwargs: dict | None, given: dict[str, Any]) -> dict[str, Any]:
    """Replacements for every pickled entry of ``data``, made from plain values only.

    Raises:
        ValueError: an entry that cannot be rebuilt (its name, and how to supply it).
    """
    out: dict[str, Any] = {}
    for key, item in data.items():
        if key in given or not (isinstance(item, dict) and ":serialized:" in item):
            continue
        if key == "observation_space":
            out[key] = observation_space
        elif key == "action_space":
            out[key] = action_space
        elif key == "policy_class":
            policy = cls.policy_aliases[policy_name(observation_space)]
            if item.get("__module__") not in (None, policy.__module__):
                raise ValueError(f"the saved policy class comes from {item.get('__module__')!r}, not "
                                 f"{policy.__module__!r} ({policy.__name__}); load it with trusted=True if you "
                                 "made this file")
            out[key] = policy
        elif key == "policy_kwargs":
            kwargs = {**policy_kwargs_for(observation_space, network), **(policy_kwargs or {})}
            rms_prop = inspect.signature(cls.__init__).parameters.get("use_rms_prop")
            if rms_prop is not None and rms_prop.default and "optimizer_class" not in kwargs:  # as A2C adds it
                kwargs["optimizer_class"] = torch.optim.RMSprop
                kwargs["optimizer_kwargs"] = {"alpha": 0.99, "eps": 1e-5, "weight_decay": 0}
            out[key] = kwargs
        elif key in _RUNTIME_STATE:
            out[key] = None
        elif key == "train_freq":  # stored only pickled: the constructor's default unless given
            out[key] = inspect.signature(cls.__init__).parameters["train_freq"].default
        elif key in ("clip_range", "clip_range_vf"):
            match = _CONSTANT_SCHEDULE.search(str(item.get("value_schedule", "")))
            if match is None:
                raise ValueError(f"{key} of the saved model is not a constant; pass custom_objects={{{key!r}: ...}}")
            out[key] = float(match.group(1))
        else:
            raise ValueError(f"the saved model's {key!r} is pickled Python; pass custom_objects={{{key!r}: ...}} "
                             "to supply it, or trusted=True to unpickle a file you made yourself")
    return out


def load_model(algo: str, path: str | Path, env: Any = None, *, network: str = "auto",
               policy_kwargs: dict[str, Any] | None = None, custom_objects: dict[str, Any] | None = None,
               trusted: bool = False, **kwargs: Any) -> BaseAlgorithm:
    """Load a model saved with ``model.save(path)`` without unpickling anything.

    An SB3 zip stores the network weights as tensors (read with
    ``torch.load(..., weights_only=True)``) and some entries of its ``data`` JSON as
    pickled Python (spaces, the policy class, schedules, the last observations), which
    ``Algorithm.load`` would unpickle -- code execution for a file from elsewhere. Here
    those entries are rebuilt instead: the spaces from ``env``, the policy class and
    ``policy_kwargs`` as :func:`make_model` chose them (give the same ``network`` and
    ``policy_kwargs``), constant schedules from their text, and the collection state
    left empty (the next ``learn`` resets the envs); ``train_freq``, stored only
    pickled, is the algorithm's default unless ``custom_objects`` gives it. A shape
    that does not fit the weights fails loudly when they are loaded.

    Args:
        algo: a key of :data:`ALGORITHMS`.
        path: the zip.
        env: the env (or ``VecEnv``) to attach; its spaces rebuild the saved ones.
            Required unless ``trusted=True``.
        network, policy_kwargs: as given to :func:`make_model` for this model (A2C's
            RMSprop default is added as A2C adds it).
        custom_objects: entries to use as given (e.g. ``{"train_freq": 1}``), as in SB3.
        trusted: ``True`` unpickles the pickled entries (``Algorithm.load``); only for
            files you made yourself.
        **kwargs: ``device`` and the other arguments of ``Algorithm.load``.

    Raises:
        ValueError: unknown ``algo``, not an SB3 zip, no ``env`` (untrusted), or a
            pickled entry that cannot be rebuilt (named, with how to supply it).
    """
    cls = _algorithm(algo)
    path = Path(path)
    if not path.suffix and not path.exists():
        path = path.with_suffix(".zip")
    given = dict(custom_objects or {})
    if not trusted:
        if env is None:
            raise ValueError("load_model needs env= to rebuild the model's spaces without unpickling; pass "
                             "trusted=True to unpickle a file you made yourself")
        data = _saved_entries(path)
        given = {**_rebuilt_entries(cls, data, observation_space_of(env), env.action_space, network,
                                    policy_kwargs, given), **given}
    return cls.load(path, env=env, custom_objects=given or None, **kwargs)
