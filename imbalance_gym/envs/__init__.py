"""Environments: the DQNimb ICMDP (single and native vector), the AutoSMOTE MDP, their pure cores."""

from imbalance_gym.envs.autosmote import AutoSMOTEConfig, AutoSMOTEEnv, AutoSMOTEFlatEnv
from imbalance_gym.envs.icmdp import (
    ICMDPEnv,
    ICMDPVectorEnv,
    default_class_weights,
    icmdp_reward,
    icmdp_reward_table,
    icmdp_transition,
)

__all__ = [
    "AutoSMOTEConfig",
    "AutoSMOTEEnv",
    "AutoSMOTEFlatEnv",
    "ICMDPEnv",
    "ICMDPVectorEnv",
    "default_class_weights",
    "icmdp_reward",
    "icmdp_reward_table",
    "icmdp_transition",
]
