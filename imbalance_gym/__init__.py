"""imbalance-gym: imbalanced classification as Gymnasium environments.

Importing the package registers the environment ids with Gymnasium::

    import gymnasium as gym
    import imbalance_gym  # noqa: F401  (registers the ids)

    env = gym.make("imbalance_gym/ICMDP-v0", dataset="phoneme", ratio=0.05, seed=0)
    venv = gym.make_vec("imbalance_gym/ICMDP-v0", num_envs=1024, X=X, y=y)

``gym.make("imbalance_gym:imbalance_gym/ICMDP-v0", ...)`` imports it on demand.
This package needs numpy, scikit-learn and Gymnasium only; learners live in ``agents``.
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

__version__ = "0.1.0"

__all__ = ["ENV_IDS", "__version__"]

ENV_IDS: tuple[str, ...] = (
    "imbalance_gym/ICMDP-v0",
    "imbalance_gym/AutoSMOTE-v0",
    "imbalance_gym/AutoSMOTE-Flat-v0",
)
"""Every environment id this package registers."""


def _register() -> None:
    """Register the environment ids (idempotent, so re-imports are harmless)."""
    if "imbalance_gym/ICMDP-v0" not in registry:
        register(
            id="imbalance_gym/ICMDP-v0",
            entry_point="imbalance_gym.envs.icmdp:ICMDPEnv",
            vector_entry_point="imbalance_gym.envs.icmdp:ICMDPVectorEnv",
            # The env raises ResetNeeded itself and rejects bad actions, and the test
            # suite runs Gymnasium's and SB3's env checkers on it, so the generic
            # OrderEnforcing / PassiveEnvChecker wrappers would only add per-step cost.
            order_enforce=False,
            disable_env_checker=True,
        )
    # AutoSMOTE (three-level and flat ablation): same reasoning, the envs raise
    # ResetNeeded and reject invalid actions themselves.
    for env_id, cls in (("imbalance_gym/AutoSMOTE-v0", "AutoSMOTEEnv"),
                        ("imbalance_gym/AutoSMOTE-Flat-v0", "AutoSMOTEFlatEnv")):
        if env_id not in registry:
            register(id=env_id, entry_point=f"imbalance_gym.envs.autosmote:{cls}",
                     order_enforce=False, disable_env_checker=True)


_register()
