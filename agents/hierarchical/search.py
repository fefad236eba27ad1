"""AutoSMOTE search from arrays: the engine behind ``imbalance_gym.samplers.AutoSMOTE``.

:func:`autosmote_search` builds an ``imbalance_gym/AutoSMOTE-v0`` env from training and
validation arrays, runs :class:`~agents.hierarchical.HierarchicalAgent` for a budget of
episodes and returns the synthetic set with the best validation score. It is registered
as the ``hierarchical`` entry point of the ``imbalance_gym.searchers`` group, so that
``imbalance_gym`` can find it without importing torch.
"""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agents.hierarchical.agent import HierarchicalAgent
from agents.hierarchical.config import ABLATIONS, BACKENDS, HierarchicalConfig
from imbalance_gym.envs.autosmote import AutoSMOTEEnv, AutoSMOTEFlatEnv

__all__ = ["SearchResult", "autosmote_search", "resolve_n_jobs", "resolve_ray_actors"]


@dataclass(frozen=True)
class SearchResult:
    """The best synthetic set of an AutoSMOTE search.

    Attributes:
        metric: its validation score.
        synthetic: the synthetic minority rows, float32 ``[N_syn, D]`` (built from the
            float32 copy of ``X_train`` the environment works on).
        provenance: ``source`` and ``neighbour`` (row indices into ``X_train``) and
            ``weight`` (in {0, .25, .5, .75, 1}) of every synthetic row.
        counts: synthetic rows per minority instance (minority rows of ``X_train`` in
            ascending row order), ``[N_min]``.
        history: one dict per episode (``metric``, ``best``, ... as
            :attr:`HierarchicalAgent.history`), for learning curves.
        episode: the episode that found the best set.
        g1, g2: its factors (None for the flat ablation).
        random_state: the classifier seed of that episode.
        ablation: which variant ran.
    """

    metric: float
    synthetic: np.ndarray = field(repr=False)
    provenance: dict = field(repr=False)
    counts: np.ndarray = field(repr=False)
    history: list = field(repr=False)
    episode: int = 0
    g1: int | None = None
    g2: np.ndarray | None = field(default=None, repr=False)
    random_state: int = 0
    ablation: str = "full"


def resolve_n_jobs(n_jobs: Any) -> int:
    """Actor processes for ``n_jobs`` (scikit-learn's convention).

    None -> 0 (episodes run in this process); ``k >= 1`` -> ``k`` actor processes;
    ``-1`` -> one per CPU core, ``-2`` all but one, and so on (at least 1).

    Raises:
        ValueError: 0, or not an int.
    """
    if n_jobs is None:
        return 0
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(f"n_jobs must be None, an int >= 1 or a negative int (-1 = all cores), got {n_jobs!r}")
    if n_jobs > 0:
        return int(n_jobs)
    return max(1, (os.cpu_count() or 1) + 1 + int(n_jobs))


def resolve_ray_actors(n_jobs: Any) -> int | None:
    """Ray actors for ``n_jobs`` with ``backend="ray"``.

    None or ``-1`` -> None (one actor per CPU of the Ray cluster); ``k >= 1`` -> ``k``.

    Raises:
        ValueError: anything else (the cluster's size is not known before connecting,
            so ``-2``, ``-3``, ... are refused rather than guessed).
    """
    if n_jobs is None or (isinstance(n_jobs, numbers.Integral) and not isinstance(n_jobs, bool) and n_jobs == -1):
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs < 1:
        raise ValueError(f"with backend='ray', n_jobs must be None or -1 (one actor per CPU of the cluster) "
                         f"or an int >= 1, got {n_jobs!r}")
    return int(n_jobs)


def autosmote_search(X_train, y_train, X_val, y_val, *, classifier: Any = "svm", metric: Any = "macro_f1",
                     budget: int = 100, G1: int | None = None, G2: int = 10, K: int = 30,
                     n_jobs: int | None = None, device: str = "auto", seed: int = 0, ablation: str = "full",
                     progress_bar: bool = False, backend: str = "local",
                     ray_address: str | None = None) -> SearchResult:
    """Search AutoSMOTE's space for the synthetic set that maximises the validation metric.

    Args:
        X_train, y_train: training data ``[N, D]``, binary labels with 1 = minority.
        X_val, y_val: validation data the reward is measured on.
        classifier: base classifier name (:data:`imbalance_gym.classifiers.CLASSIFIERS`)
            or scikit-learn estimator.
        metric: ``"macro_f1"``, ``"mcc"``, ... or a callable ``(y_true, y_pred) -> float``.
        budget: episodes (classifier fits); the paper uses 1000.
        G1, G2, K: the search space (sec. 4.1 defaults: ``G1 = 4 IR / G2``, 10, 30).
        n_jobs: actors. ``backend="local"``: see :func:`resolve_n_jobs` (None: in this
            process; 1: one actor process, same numbers; -1: one per core).
            ``backend="ray"``: see :func:`resolve_ray_actors` (None or -1: one per CPU
            of the cluster; 1: one Ray actor, the numbers of ``n_jobs=None`` locally).
        device: learner device (``"auto"``: CUDA when present).
        seed: seeds the environment and the agent; the result is reproducible with one
            stream of episodes: ``n_jobs`` None or 1 (``backend="local"``), 1 (``"ray"``).
        ablation: ``"full"`` or an ablation of Table 4 (:data:`ABLATIONS`).
        progress_bar: show a tqdm bar.
        backend: ``"local"`` (processes on this machine) or ``"ray"`` (Ray actors; needs
            ``pip install imbalance-gym[distributed]``).
        ray_address: with ``backend="ray"``, the cluster (``"auto"``, ``"HOST:PORT"``);
            None: a local Ray instance (or the one ``ray.init`` already connected to).

    Returns:
        A :class:`SearchResult` (its ``history`` has one row per episode).

    Raises:
        ValueError / TypeError: bad arguments (before any search).
        ImportError: ``backend="ray"`` without ray installed (before any search).
    """
    if ablation not in ABLATIONS:
        raise ValueError(f"ablation must be one of {ABLATIONS}, got {ablation!r}")
    if isinstance(budget, bool) or not isinstance(budget, numbers.Integral) or budget < 1:
        raise ValueError(f"budget must be an int >= 1 (episodes), got {budget!r}")
    if X_val is None or y_val is None:
        raise ValueError("X_val and y_val are required: the search maximises the score on them")
    if not isinstance(progress_bar, bool):
        raise ValueError(f"progress_bar must be a bool, got {progress_bar!r}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    num_actors = resolve_ray_actors(n_jobs) if backend == "ray" else resolve_n_jobs(n_jobs)
    config = HierarchicalConfig(num_actors=num_actors, device=device, ablation=ablation, progress_bar=progress_bar,
                                backend=backend, ray_address=ray_address, history_limit=int(budget))
    env_cls = AutoSMOTEFlatEnv if ablation == "flat" else AutoSMOTEEnv
    env = env_cls(X=X_train, y=y_train, X_val=X_val, y_val=y_val, G1=G1, G2=G2, K=K,
                  classifier=classifier, metric=metric, seed=seed)
    agent = HierarchicalAgent(env, config, seed=seed).learn(int(budget))
    best = agent.best_
    return SearchResult(metric=best.metric, synthetic=best.synthetic, provenance=best.provenance,
                        counts=best.counts, history=agent.history, episode=best.episode, g1=best.g1,
                        g2=best.g2, random_state=best.random_state, ablation=ablation)
