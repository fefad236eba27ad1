"""AutoSMOTE's learner (Zha et al., CIKM'22, sec. 3.3): three-level policies trained with V-trace.

* :class:`HierarchicalConfig` -- hyperparameters (paper defaults, sec. 4.1) and run settings;
* :class:`HierarchicalAgent` -- actors + learner (Algorithm 2), best synthetic set, ablations;
* :func:`autosmote_search` / :class:`SearchResult` -- the search from arrays (sampler engine);
* :mod:`~agents.hierarchical.policies` -- the policy-value networks (torch and numpy);
* :mod:`~agents.hierarchical.rollout` -- batched acting and the trajectory format;
* :mod:`~agents.hierarchical.learner` -- step buffers and the V-trace update;
* :mod:`~agents.hierarchical.actors` -- actor processes and the in-process runner;
* :func:`vtrace`, :func:`vtrace_loss` -- IMPALA eq. (1) and AutoSMOTE eq. (2) (pure).
"""

from agents.hierarchical.agent import BestResult, HierarchicalAgent
from agents.hierarchical.config import ABLATIONS, HierarchicalConfig
from agents.hierarchical.policies import DiscretePolicy, PairScoringPolicy
from agents.hierarchical.search import SearchResult, autosmote_search
from agents.hierarchical.vtrace import VTraceReturns, vtrace, vtrace_loss

__all__ = [
    "ABLATIONS",
    "BestResult",
    "DiscretePolicy",
    "HierarchicalAgent",
    "HierarchicalConfig",
    "PairScoringPolicy",
    "SearchResult",
    "VTraceReturns",
    "autosmote_search",
    "vtrace",
    "vtrace_loss",
]
