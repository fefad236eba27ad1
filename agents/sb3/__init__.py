"""Stable-Baselines3 adapters: vector envs, features extractors, algorithms and callbacks.

These modules only translate between imbalance-gym and SB3 / sb3-contrib; the learning is
SB3's. The only package of the library that imports SB3 (benchmarks and tests may too).

* :func:`make_vec_env` -- an SB3 ``VecEnv`` for an env id: the native ICMDP vector env
  through :class:`VectorEnvAdapter`, AutoSMOTE through ``DummyVecEnv`` / ``SubprocVecEnv``;
* :func:`policy_kwargs_for` -- DQNimb's CNN / text bodies as features extractors
  (:class:`ImageCNNExtractor`, :class:`TokenExtractor`), picked from the space;
* :data:`ALGORITHMS`, :func:`make_model`, :func:`load_model` -- DQN, PPO, A2C and
  MaskablePPO with the policy their observation space needs;
* :class:`ICMDPEvalCallback`, :class:`AutoSMOTEMetricCallback` -- validation G-mean /
  F-measure on the ICMDP and AutoSMOTE's episode metric, logged, with the best model kept.

Example::

    from agents.sb3 import ICMDPEvalCallback, make_model, make_vec_env

    venv = make_vec_env("imbalance_gym/ICMDP-v0", n_envs=8, seed=0, dataset="phoneme", ratio=0.05)
    model = make_model("dqn", venv, seed=0, gamma=0.1)
    model.learn(20_000, callback=ICMDPEvalCallback(X_val, y_val, eval_freq=500))
"""

from agents.sb3.algorithms import ALGORITHMS, MASKED_ALGORITHMS, POLICIES, load_model, make_model, policy_name
from agents.sb3.callbacks import SELECTION_METRICS, AutoSMOTEMetricCallback, ICMDPEvalCallback
from agents.sb3.extractors import ImageCNNExtractor, TokenExtractor, observation_space_of, policy_kwargs_for
from agents.sb3.vec_env import VectorEnvAdapter, make_vec_env, split_vector_info

__all__ = [
    "ALGORITHMS",
    "MASKED_ALGORITHMS",
    "POLICIES",
    "SELECTION_METRICS",
    "AutoSMOTEMetricCallback",
    "ICMDPEvalCallback",
    "ImageCNNExtractor",
    "TokenExtractor",
    "VectorEnvAdapter",
    "load_model",
    "make_model",
    "make_vec_env",
    "observation_space_of",
    "policy_kwargs_for",
    "policy_name",
    "split_vector_info",
]
