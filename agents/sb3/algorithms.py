"""Registry of the SB3 / sb3-contrib algorithms used with imbalance-gym, and a one-call builder.

Which algorithm is a table lookup, which policy follows from the observation space, and
the policy kwargs come from :func:`~agents.sb3.extractors.policy_kwargs_for`::

    venv = make_vec_env("imbalance_gym/AutoSMOTE-v0", n_envs=2, seed=0, X=X, y=y)
    model = make_model("maskable_ppo", venv, seed=0, n_steps=64)
    model.learn(2_000)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def load_model(algo: str, path: str | Path, env: Any = None, **kwargs: Any) -> BaseAlgorithm:
    """Load a model saved with ``model.save(path)``: ``ALGORITHMS[algo].load(path, env, **kwargs)``.

    Raises:
        ValueError: unknown ``algo``.
    """
    return _algorithm(algo).load(path, env=env, **kwargs)
