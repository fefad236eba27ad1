"""Environments: the DQNimb ICMDP (single and native vector) and its pure core."""

from imbalance_gym.envs.icmdp import (
    ICMDPEnv,
    ICMDPVectorEnv,
    default_class_weights,
    icmdp_reward,
    icmdp_reward_table,
    icmdp_transition,
)

__all__ = [
    "ICMDPEnv",
    "ICMDPVectorEnv",
    "default_class_weights",
    "icmdp_reward",
    "icmdp_reward_table",
    "icmdp_transition",
]
