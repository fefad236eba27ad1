"""DQNimb (Lin et al.): a deep Q-network trained on the ICMDP is an imbalanced-data classifier.

* :class:`DQNImbConfig` -- hyperparameters (paper defaults, sec. IV-D);
* :class:`ReplayMemory` -- preallocated tensor replay memory with wrap-around;
* :func:`td_target` (eq. 9), :func:`linear_epsilon` (sec. IV-D), :func:`q_loss` (eq. 8);
* :class:`DQNImb` -- the agent (Algorithm 1) on an ICMDP vector env;
* :class:`DQNImbClassifier` -- a scikit-learn classifier that builds the env from arrays.
"""

from agents.dqn.classifier import DQNImbClassifier
from agents.dqn.config import DQNImbConfig
from agents.dqn.dqn import DQNImb, as_vector_env, linear_epsilon, q_loss, td_target
from agents.dqn.replay import ReplayBatch, ReplayMemory

__all__ = [
    "DQNImb",
    "DQNImbClassifier",
    "DQNImbConfig",
    "ReplayBatch",
    "ReplayMemory",
    "as_vector_env",
    "linear_epsilon",
    "q_loss",
    "td_target",
]
