"""Baseline searches that AutoSMOTE is compared with (Zha et al., CIKM'22, sec. 4.1 and 4.4).

* :func:`sampler_grid_search` -- an imbalanced-learn sampler with its ratio chosen on the
  validation data. Sec. 4.1, "Guidance of Validation Set": every baseline grid-searches
  the desired ratio ``N_min / N_maj`` after resampling in ``{0.1, 0.2, ..., 1.0}``
  (:data:`RATIO_GRID`) and keeps the best validation score.
* :func:`random_search` -- sec. 4.4's random-search ablation: random decisions at all
  three levels of the AutoSMOTE space (``g1``, every ``g2``, every neighbour and weight)
  for a budget of episodes, keeping the synthetic set with the best validation score.

Both score with :func:`imbalance_gym.classifiers.evaluate`, as the environments do, and
draw every random number from ``np.random.default_rng(seed)``.

Samplers
--------
:data:`SAMPLERS` enumerates ``imblearn.over_sampling``, ``imblearn.under_sampling`` and
``imblearn.combine`` (their ``__all__``) at import time. With imbalanced-learn 0.14:

* over-sampling: ADASYN, BorderlineSMOTE, KMeansSMOTE, RandomOverSampler, SMOTE,
  SMOTEN, SMOTENC, SVMSMOTE;
* under-sampling: AllKNN, ClusterCentroids, CondensedNearestNeighbour,
  EditedNearestNeighbours, InstanceHardnessThreshold, NearMiss,
  NeighbourhoodCleaningRule, OneSidedSelection, RandomUnderSampler,
  RepeatedEditedNearestNeighbours, TomekLinks;
* combined: SMOTEENN, SMOTETomek.

The *cleaning* under-samplers (AllKNN, CondensedNearestNeighbour,
EditedNearestNeighbours, NeighbourhoodCleaningRule, OneSidedSelection,
RepeatedEditedNearestNeighbours, TomekLinks) decide by themselves how many rows to
drop and accept no ratio: they run once with their defaults (``best_ratio`` None).
InstanceHardnessThreshold takes the ratio but treats it as a target it may not reach.
SMOTENC needs ``categorical_features`` and is refused by name on all-numeric data:
pass ``SMOTENC(categorical_features=...)`` as an instance instead. SMOTEN treats every
feature as categorical, which on continuous features is the paper's (weak) baseline.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from imblearn import combine, over_sampling, under_sampling
from sklearn.base import clone

from imbalance_gym.classifiers import check_classifier, check_metric, evaluate
from imbalance_gym.envs._autosmote_core import _binary_labels, _float_features, _validation_labels
from imbalance_gym.envs.smote_space import N_WEIGHTS, max_g2

__all__ = [
    "RATIO_GRID",
    "SAMPLERS",
    "RandomSearchResult",
    "SamplerSearchResult",
    "SamplerSpec",
    "list_samplers",
    "random_episode_actions",
    "random_search",
    "sampler_grid_search",
]

RATIO_GRID: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
"""Desired ``N_min / N_maj`` after resampling, searched on validation (sec. 4.1)."""

_SEED_HIGH = 2**31 - 1


@dataclass(frozen=True)
class SamplerSpec:
    """One imbalanced-learn sampler.

    Attributes:
        name: class name, e.g. ``"SMOTE"``.
        cls: the sampler class.
        category: ``"over"``, ``"under"`` or ``"combine"``.
        takes_ratio: whether ``sampling_strategy`` accepts a float ratio (imblearn's
            ``_sampling_type`` is over- or under-sampling, not cleaning).
        numeric_ok: False for samplers that cannot run on all-numeric data by name
            (SMOTENC).
    """

    name: str
    cls: type
    category: str
    takes_ratio: bool
    numeric_ok: bool = True


def _enumerate_samplers() -> dict[str, SamplerSpec]:
    """Every sampler class exported by imblearn's three resampling modules."""
    found: dict[str, SamplerSpec] = {}
    for category, module in (("over", over_sampling), ("under", under_sampling), ("combine", combine)):
        for name in sorted(module.__all__):
            cls = getattr(module, name)
            if not hasattr(cls, "fit_resample"):
                continue
            kind = getattr(cls, "_sampling_type", "")
            found[name] = SamplerSpec(
                name=name, cls=cls, category=category,
                takes_ratio=kind in ("over-sampling", "under-sampling"),
                numeric_ok=name != "SMOTENC",
            )
    return found


SAMPLERS: dict[str, SamplerSpec] = _enumerate_samplers()
"""imbalanced-learn samplers by class name (see the module docstring for the list)."""


def list_samplers(category: str | None = None, *, numeric_only: bool = True) -> list[str]:
    """Names of the samplers in :data:`SAMPLERS`.

    Args:
        category: ``"over"``, ``"under"``, ``"combine"`` or None for all.
        numeric_only: leave out samplers that need categorical features (SMOTENC).

    Returns:
        Sorted sampler names.
    """
    if category not in (None, "over", "under", "combine"):
        raise ValueError(f"category must be None, 'over', 'under' or 'combine', got {category!r}")
    return sorted(n for n, s in SAMPLERS.items()
                  if (category is None or s.category == category) and (s.numeric_ok or not numeric_only))


@dataclass(frozen=True)
class SamplerSearchResult:
    """Outcome of :func:`sampler_grid_search`.

    Attributes:
        sampler: sampler name.
        best_ratio: the ratio with the best validation score; None when the sampler
            takes no ratio (ran once with its defaults).
        best_score: its validation score.
        scores: validation score per ratio tried (key None for ratio-free samplers).
        failures: message per ratio at which the sampler raised or that was skipped.
        X_resampled, y_resampled: the training data resampled at ``best_ratio``.
    """

    sampler: str
    best_ratio: float | None
    best_score: float
    scores: dict = field(repr=False)
    failures: dict = field(repr=False)
    X_resampled: np.ndarray = field(repr=False)
    y_resampled: np.ndarray = field(repr=False)


def _check_ratios(ratios) -> tuple[float, ...]:
    """A non-empty sequence of numbers in (0, 1]."""
    try:
        values = tuple(ratios)
    except TypeError:
        raise TypeError(f"ratios must be a sequence of numbers in (0, 1], got {ratios!r}") from None
    if not values:
        raise ValueError("ratios must not be empty")
    for r in values:
        if isinstance(r, (bool, np.bool_)) or not isinstance(r, numbers.Real) or not 0.0 < r <= 1.0:
            raise ValueError(f"ratios must hold numbers in (0, 1] (N_min / N_maj), got {r!r}")
    return tuple(float(r) for r in values)


def _check_seed(seed) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _resolve_sampler(sampler) -> tuple[str, Any, bool]:
    """(name, unfitted template, takes_ratio) of a sampler name or instance."""
    if isinstance(sampler, str):
        spec = SAMPLERS.get(sampler)
        if spec is None:
            raise ValueError(f"unknown sampler {sampler!r}; known samplers: {sorted(SAMPLERS)}")
        if not spec.numeric_ok:
            raise ValueError(
                f"{sampler} needs categorical_features; pass an instance, e.g. "
                f"{sampler}(categorical_features=[...]), instead of the name"
            )
        return sampler, spec.cls(), spec.takes_ratio
    if not callable(getattr(sampler, "fit_resample", None)) or isinstance(sampler, type):
        raise TypeError(
            f"sampler must be a name from SAMPLERS or an imbalanced-learn sampler instance, "
            f"got {sampler!r}"
        )
    kind = getattr(sampler, "_sampling_type", "")
    return type(sampler).__name__, sampler, kind in ("over-sampling", "under-sampling")


def sampler_grid_search(X_train, y_train, X_val, y_val, sampler, *, classifier: Any = "svm",
                        metric: Any = "macro_f1", ratios=RATIO_GRID, seed: int = 0) -> SamplerSearchResult:
    """Resample with an imbalanced-learn sampler, choosing its ratio on validation (sec. 4.1).

    For each desired ratio ``r = N_min / N_maj`` after resampling, the sampler resamples
    the training data, the classifier is fit on the result and scored on the validation
    data; the best ratio wins (ties: the first in ``ratios``). Ratios below the data's
    current ``N_min / N_maj`` cannot be reached by resampling and are skipped (listed in
    ``failures``); a ratio at which the sampler itself raises (e.g. KMeansSMOTE finding
    no minority cluster, ADASYN finding no majority neighbour) is recorded there too.
    Samplers that take no ratio run once with their defaults.

    Every ratio uses the same sampler and classifier seeds, drawn from
    ``np.random.default_rng(seed)``, so the comparison between ratios is paired.

    Args:
        X_train, y_train: training data ``[N, D]``, labels in {0, 1} with 1 = minority.
        X_val, y_val: validation data.
        sampler: a name of :data:`SAMPLERS` or an imbalanced-learn sampler instance
            (cloned; its ``sampling_strategy`` and ``random_state`` are set here).
        classifier, metric: as in :func:`imbalance_gym.classifiers.evaluate`.
        ratios: the grid, numbers in (0, 1]; default :data:`RATIO_GRID`.
        seed: non-negative integer.

    Returns:
        A :class:`SamplerSearchResult`.

    Raises:
        ValueError / TypeError: bad arguments (before any resampling).
        RuntimeError: the sampler failed at every ratio (the message lists why).
    """
    name, template, takes_ratio = _resolve_sampler(sampler)
    check_classifier(classifier)
    check_metric(metric)
    ratios = _check_ratios(ratios)
    seed = _check_seed(seed)
    X_train = _float_features(X_train, "X_train")
    y_train = _binary_labels(y_train, X_train.shape[0], "y_train", "X_train")
    X_val = _float_features(X_val, "X_val")
    if X_val.shape[1] != X_train.shape[1]:
        raise ValueError(f"X_val has {X_val.shape[1]} features but X_train has {X_train.shape[1]}")
    y_val = _validation_labels(y_val, X_val.shape[0])

    rng = np.random.default_rng(seed)
    sampler_seed = int(rng.integers(0, _SEED_HIGH))
    clf_seed = int(rng.integers(0, _SEED_HIGH))
    n_min = int(np.count_nonzero(y_train == 1))
    rho = n_min / (y_train.size - n_min)

    scores: dict = {}
    failures: dict = {}
    best = None
    for ratio in (ratios if takes_ratio else (None,)):
        if ratio is not None and ratio < rho:
            failures[ratio] = f"below the current ratio N_min / N_maj = {rho:.4f}"
            continue
        est = clone(template)
        params = est.get_params(deep=False)
        if ratio is not None:
            est.set_params(sampling_strategy=ratio)
        if "random_state" in params:
            est.set_params(random_state=sampler_seed)
        try:
            X_res, y_res = est.fit_resample(X_train, y_train)
        except (ValueError, RuntimeError) as err:
            failures[ratio] = f"{type(err).__name__}: {err}"
            continue
        score = evaluate(X_res, y_res, None, X_val, y_val, classifier=classifier, metric=metric,
                         random_state=clf_seed)
        scores[ratio] = score
        if best is None or score > best[1]:
            best = (ratio, score, np.asarray(X_res), np.asarray(y_res))
    if best is None:
        raise RuntimeError(f"{name} failed at every ratio: {failures}")
    return SamplerSearchResult(
        sampler=name, best_ratio=best[0], best_score=best[1], scores=scores, failures=failures,
        X_resampled=best[2], y_resampled=best[3],
    )


@dataclass(frozen=True)
class RandomSearchResult:
    """Outcome of :func:`random_search`.

    Attributes:
        best_score: best validation score over the episodes.
        best_episode: index of that episode (the first one on ties).
        scores: validation score of every episode, ``[n_episodes]``.
        g1, g2: the best episode's cross-instance factor and per-instance factors ``[N_min]``.
        counts: synthetic rows per minority instance in the best episode, ``[N_min]``.
        provenance: ``source``/``neighbour`` training rows and ``weight`` of each row.
        X_synthetic: the best synthetic rows, ``[M, D]``.
        X_resampled, y_resampled: training data plus those rows (labelled 1).
    """

    best_score: float
    best_episode: int
    scores: np.ndarray = field(repr=False)
    g1: int = 0
    g2: np.ndarray = field(default=None, repr=False)
    counts: np.ndarray = field(default=None, repr=False)
    provenance: dict = field(default=None, repr=False)
    X_synthetic: np.ndarray = field(default=None, repr=False)
    X_resampled: np.ndarray = field(default=None, repr=False)
    y_resampled: np.ndarray = field(default=None, repr=False)


def random_episode_actions(rng: np.random.Generator, G1: int, G2: int, K: int, n_min: int,
                           max_synthetic: int) -> np.ndarray:
    """A whole AutoSMOTE episode of uniformly random valid actions, in step order.

    ``g1`` is uniform on ``0..G1``; each instance's ``g2`` is uniform on the valid
    ``0..max_g2(g1, G2, rows left)``; each low-level action is uniform on ``0..5K-1``
    (neighbour and weight uniform and independent). The result can be fed to
    :meth:`AutoSMOTEEnv.step_batch <imbalance_gym.envs.AutoSMOTEEnv.step_batch>` in one call.

    Args:
        rng: the source of randomness.
        G1, G2, K, n_min, max_synthetic: the environment's search space.

    Returns:
        ``int64`` array ``[1 + N_min + g1 * sum(g2)]``.
    """
    g1 = int(rng.integers(0, G1 + 1))
    g2 = np.empty(n_min, dtype=np.int64)
    left = max_synthetic
    if g1 == 0:
        g2[:] = rng.integers(0, G2 + 1, size=n_min)
    else:
        for i in range(n_min):  # the row bound makes each draw depend on the previous ones
            g2[i] = rng.integers(0, max_g2(g1, G2, left) + 1)
            left -= g1 * int(g2[i])
    g = g1 * g2
    low = rng.integers(0, N_WEIGHTS * K, size=int(g.sum()))
    # Interleave: [g1, g2_0, low actions of 0, g2_1, low actions of 1, ...]
    out = np.empty(1 + n_min + low.size, dtype=np.int64)
    out[0] = g1
    starts = 1 + np.arange(n_min) + np.concatenate([[0], np.cumsum(g)[:-1]])
    out[starts] = g2
    is_low = np.ones(out.size, dtype=bool)
    is_low[0] = False
    is_low[starts] = False
    out[is_low] = low
    return out


def random_search(env, n_episodes: int, seed: int = 0) -> RandomSearchResult:
    """Random search in the AutoSMOTE space with an episode budget (sec. 4.4 ablation).

    Each episode draws :func:`random_episode_actions`, plays it through the
    environment in one :meth:`~imbalance_gym.envs.AutoSMOTEEnv.step_batch` call (so the
    rows, reward and masks are exactly the environment's), and the synthetic set with
    the best validation score is kept. Episode ``e`` resets the env with a seed drawn
    from ``np.random.default_rng(seed)``, which also seeds that episode's classifier.

    Args:
        env: an ``imbalance_gym/AutoSMOTE-v0`` environment (wrapped or not).
        n_episodes: budget, the number of episodes (the paper's ``I``).
        seed: non-negative integer.

    Returns:
        A :class:`RandomSearchResult`.
    """
    from imbalance_gym.envs.autosmote import AutoSMOTEEnv

    base = getattr(env, "unwrapped", env)
    if not isinstance(base, AutoSMOTEEnv):
        raise TypeError(f"env must be an imbalance_gym/AutoSMOTE-v0 environment, got {type(base).__name__}")
    if isinstance(n_episodes, (bool, np.bool_)) or not isinstance(n_episodes, numbers.Integral) or n_episodes < 1:
        raise ValueError(f"n_episodes must be a positive integer, got {n_episodes!r}")
    rng = np.random.default_rng(_check_seed(seed))
    scores = np.empty(int(n_episodes))
    best = None
    for e in range(int(n_episodes)):
        base.reset(seed=int(rng.integers(0, _SEED_HIGH)))
        actions = random_episode_actions(rng, base.G1, base.G2, base.K, base.n_minority, base.max_synthetic)
        _, reward, terminated, _, info = base.step_batch(actions)
        if not terminated:  # cannot happen: the actions cover every instance
            raise RuntimeError("a whole episode of actions did not end the episode")
        scores[e] = reward
        if best is None or reward > best[1]:
            best = (e, reward, info)
    e, score, info = best
    X_res = np.concatenate([base.X_train, info["synthetic"]])
    y_res = np.concatenate([base.y_train, np.ones(info["n_synthetic"], dtype=base.y_train.dtype)])
    return RandomSearchResult(
        best_score=float(score), best_episode=e, scores=scores, g1=int(info["g1"]),
        g2=info["g2"], counts=info["counts"], provenance=info["provenance"],
        X_synthetic=info["synthetic"], X_resampled=X_res, y_resampled=y_res,
    )
