"""AutoSMOTE as an imbalanced-learn over-sampler (Zha et al., CIKM'22).

:class:`AutoSMOTE` holds out a stratified validation part of the data it is given, runs
a *search* in the SMOTE space of the AutoSMOTE environment (sec. 3) for a budget of
episodes, and returns every original row plus the synthetic minority rows of the
episode with the best validation score. It works wherever an imbalanced-learn sampler
does, e.g. as a step of :class:`imblearn.pipeline.Pipeline`::

    from imblearn.pipeline import make_pipeline
    from sklearn.model_selection import cross_validate
    from sklearn.svm import SVC
    from imbalance_gym.samplers import AutoSMOTE

    pipe = make_pipeline(AutoSMOTE(classifier="svm", budget=100, random_state=0), SVC())
    cross_validate(pipe, X, y, scoring="f1_macro")

Searches
--------
A search is a function with the signature of the hierarchical learner's
``agents.hierarchical.search.autosmote_search``::

    search(X_train, y_train, X_val, y_val, *, classifier, metric, budget, G1, G2, K,
           n_jobs, device, seed, progress_bar[, backend, ray_address]) -> result

whose result has ``metric`` (best validation score), ``synthetic`` (``[M, D]``),
``provenance`` (``source`` / ``neighbour`` rows of ``X_train`` and ``weight`` per row),
``counts`` (rows per minority instance) and ``history`` (per-episode scores; see
:func:`search_history`). Searches are found by name: the built-in ones in
:data:`BUILTIN_SEARCHERS` (``"random"``, the random-search baseline of sec. 4.4), then
those registered under the entry-point group :data:`SEARCHER_GROUP`. The project
registers ``"hierarchical"`` (the three-level RL learner) there, so this module never
imports the torch-based ``agents`` package itself. ``backend`` and ``ray_address`` are
passed only when they differ from ``"local"`` and None, so searches written before
they existed keep working.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import numbers
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from imblearn.over_sampling.base import BaseOverSampler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from tqdm.auto import tqdm

from imbalance_gym.baselines import random_search
from imbalance_gym.classifiers import check_classifier, check_metric
from imbalance_gym.datasets._split import stratified_split
from imbalance_gym.envs.autosmote import AutoSMOTEEnv
from imbalance_gym.envs.smote_space import interpolate

__all__ = [
    "BUILTIN_SEARCHERS",
    "SEARCHER_GROUP",
    "AutoSMOTE",
    "SearchResult",
    "get_searcher",
    "list_searchers",
    "random_autosmote_search",
    "search_history",
]

SEARCHER_GROUP = "imbalance_gym.searchers"
"""Entry-point group under which packages register AutoSMOTE searches by name."""

_SEED_HIGH = 2**31 - 1


# --------------------------------------------------------------------------------------
# Search results and the built-in random search
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchResult:
    """What a search returns (the attributes :class:`AutoSMOTE` reads).

    Attributes:
        metric: best validation score found.
        synthetic: the best episode's synthetic rows, ``[M, D]``.
        provenance: ``source`` and ``neighbour`` (row indices into ``X_train``, ``[M]``)
            and ``weight`` (``[M]``) of each row: row ``j`` is
            ``X_train[source[j]] + weight[j] * (X_train[neighbour[j]] - X_train[source[j]])``.
        counts: synthetic rows started from each minority training row, in row order,
            ``[N_min]``.
        history: ``{"metric": [E], "best": [E]}``, the validation score of every episode
            and the best so far.
    """

    metric: float
    synthetic: np.ndarray = field(repr=False)
    provenance: dict = field(repr=False)
    counts: np.ndarray = field(repr=False)
    history: dict = field(repr=False)


def search_history(history: Any) -> dict[str, np.ndarray]:
    """Normalise a search's ``history`` to ``{"metric": [E], "best": [E]}`` float arrays.

    Accepted forms: a mapping or DataFrame with a ``metric`` column (and optionally
    ``best`` or ``best_so_far``); a sequence of per-episode records (mappings with
    ``metric`` and optionally ``best``, as the hierarchical learner keeps them); or a 1-D
    sequence of per-episode scores. A missing best-so-far is the running maximum of
    ``metric``.

    Raises:
        TypeError: any other form.
        ValueError: columns of different lengths, or a best-so-far that decreases.
    """
    if isinstance(history, (list, tuple)) and history and all(hasattr(r, "keys") for r in history):
        if not all("metric" in r for r in history):
            raise ValueError("every per-episode record of a search's history needs a 'metric' entry")
        has_best = all("best" in r for r in history)
        history = {"metric": [r["metric"] for r in history],
                   **({"best": [r["best"] for r in history]} if has_best else {})}
    if hasattr(history, "keys") and "metric" in history.keys():
        metric = np.asarray(history["metric"], dtype=np.float64).ravel()
        best = next((history[k] for k in ("best", "best_so_far") if k in history.keys()), None)
    elif isinstance(history, (list, tuple, np.ndarray)) and np.ndim(history) == 1:
        metric, best = np.asarray(history, dtype=np.float64), None
    else:
        raise TypeError(
            "a search's history must be a mapping with a 'metric' entry (and optionally 'best') "
            f"or a 1-D sequence of per-episode scores, got {type(history).__name__}"
        )
    best = np.maximum.accumulate(metric) if best is None else np.asarray(best, dtype=np.float64).ravel()
    if best.shape != metric.shape:
        raise ValueError(f"history has {metric.size} episode scores but {best.size} best-so-far values")
    if np.any(np.diff(best) < 0):
        raise ValueError("history's best-so-far scores decrease; expected a running maximum")
    return {"metric": metric, "best": best}


class _EpisodeCountingEnv(AutoSMOTEEnv):
    """The AutoSMOTE env calling ``on_episode_end()`` when a batched episode ends (progress bars)."""

    def __init__(self, *, on_episode_end: Callable[[], Any], **kwargs):
        super().__init__(**kwargs)
        self._on_episode_end = on_episode_end

    def step_batch(self, actions):
        out = super().step_batch(actions)
        if out[2]:
            self._on_episode_end()
        return out


def _check_budget(budget: Any) -> int:
    """An integer episode budget >= 1."""
    if isinstance(budget, (bool, np.bool_)) or not isinstance(budget, numbers.Integral):
        raise TypeError(f"budget must be an integer >= 1 (episodes), got {budget!r}")
    if budget < 1:
        raise ValueError(f"budget must be an integer >= 1 (episodes), got {budget!r}")
    return int(budget)


def random_autosmote_search(X_train, y_train, X_val, y_val, *, classifier: Any = "svm",
                            metric: Any = "macro_f1", budget: int = 100, G1: int | None = None,
                            G2: int = 10, K: int = 30, n_jobs: int | None = None,
                            device: str = "auto", seed: int = 0, ablation: str = "random",
                            progress_bar: bool = False, backend: str = "local",
                            ray_address: str | None = None) -> SearchResult:
    """Random search in the AutoSMOTE space (sec. 4.4), with the learner's search signature.

    Wraps :func:`imbalance_gym.baselines.random_search` on an
    ``imbalance_gym/AutoSMOTE-v0`` environment built from the arrays: every episode draws
    ``g1``, each ``g2`` and every (neighbour, weight) uniformly among the valid actions,
    and the synthetic set with the best validation score is kept.

    Args:
        X_train, y_train: training data ``[N, D]``, labels in {0, 1} with 1 = minority.
        X_val, y_val: validation data the reward is measured on.
        classifier, metric: the reward (:func:`imbalance_gym.classifiers.evaluate`).
        budget: episodes.
        G1, G2, K: the search space (defaults as in the environment, sec. 4.1).
        n_jobs, device, backend, ray_address: accepted for signature compatibility;
            random search runs in this process on the CPU.
        seed: non-negative integer seeding every episode and classifier fit.
        ablation: must be ``"random"`` (the only search this function performs).
        progress_bar: show a tqdm bar over episodes.

    Returns:
        A :class:`SearchResult`.

    Raises:
        ValueError / TypeError: bad arguments, before the first episode.
    """
    if ablation != "random":
        raise ValueError(
            f"ablation must be 'random' for the built-in random search, got {ablation!r}; the "
            "learner's ablations need the 'hierarchical' search"
        )
    budget = _check_budget(budget)
    if not isinstance(progress_bar, (bool, np.bool_)):
        raise TypeError(f"progress_bar must be a bool, got {progress_bar!r}")
    with tqdm(total=budget, desc="random search", unit="episode", disable=not progress_bar) as bar:
        env = _EpisodeCountingEnv(
            on_episode_end=bar.update, X=X_train, y=y_train, X_val=X_val, y_val=y_val,
            G1=G1, G2=G2, K=K, classifier=classifier, metric=metric, seed=seed,
        )
        res = random_search(env, budget, seed=seed)
    return SearchResult(
        metric=res.best_score, synthetic=res.X_synthetic, provenance=res.provenance,
        counts=res.counts, history=search_history(res.scores),
    )


BUILTIN_SEARCHERS: dict[str, Callable[..., Any]] = {"random": random_autosmote_search}
"""Searches that ship with :mod:`imbalance_gym` (no torch needed), by name."""


def _registered_searchers() -> dict[str, importlib.metadata.EntryPoint]:
    """Entry points of :data:`SEARCHER_GROUP` by name."""
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=SEARCHER_GROUP)}


def list_searchers() -> list[str]:
    """Names :func:`get_searcher` knows: the built-in ones and every registered entry point."""
    return sorted(set(BUILTIN_SEARCHERS) | set(_registered_searchers()))


def get_searcher(search: Any) -> Callable[..., Any]:
    """Resolve a search name (or callable) to the search function.

    Built-in names (:data:`BUILTIN_SEARCHERS`) come first, then the entry points of
    :data:`SEARCHER_GROUP` (loaded on demand). A callable is returned as it is.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
        TypeError: neither a string nor a callable, or an entry point that is not callable.
        ImportError: a registered search whose package cannot be imported.
    """
    if callable(search) and not isinstance(search, str):
        return search
    if not isinstance(search, str):
        raise TypeError(f"search must be a search name or a callable, got {type(search).__name__}")
    if search in BUILTIN_SEARCHERS:
        return BUILTIN_SEARCHERS[search]
    registered = _registered_searchers()
    if search not in registered:
        raise ValueError(f"unknown search {search!r}; known searches: {list_searchers()}")
    entry = registered[search]
    try:
        func = entry.load()
    except ImportError as err:
        raise ImportError(
            f"search {search!r} is registered as {entry.value!r} (entry-point group "
            f"{SEARCHER_GROUP!r}) but cannot be imported: {err}. Install the package that "
            f"provides it, or choose a built-in search: {sorted(BUILTIN_SEARCHERS)}"
        ) from err
    if not callable(func):
        raise TypeError(f"search {search!r} ({entry.value!r}) is not callable: {func!r}")
    return func


# --------------------------------------------------------------------------------------
# The sampler
# --------------------------------------------------------------------------------------
def _check_optional_int(value: Any, name: str, minimum: int | None, allow_none: bool) -> None:
    """Reject bools and non-integers (sklearn's ``Interval(Integral)`` accepts ``True``)."""
    if value is None and allow_none:
        return
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


class AutoSMOTE(BaseOverSampler):
    """AutoSMOTE over-sampling: synthetic minority rows searched for validation score.

    Zha et al., "Towards Automated Imbalanced Learning with Deep Hierarchical
    Reinforcement Learning", CIKM'22. ``fit_resample(X, y)``:

    1. holds out a stratified ``val_size`` of the rows (seeded by ``random_state``); the
       rest is the *training part*;
    2. runs ``search`` on the training part for ``budget`` episodes; each episode makes a
       set of SMOTE rows ``x_i + w (x_nb - x_i)`` between minority training rows (the
       three levels of the AutoSMOTE MDP: a global factor ``g1 <= G1``, a factor
       ``g2 <= G2`` per instance, a neighbour among its ``K`` nearest minority rows and
       ``w`` in {0, .25, .5, .75, 1} per row), fits ``classifier`` on training part +
       rows and scores ``metric`` on the held-out part;
    3. returns **all** rows of ``X`` (training and held-out part, in their order) followed
       by the synthetic rows of the best episode, labelled with the minority class.

    The synthetic rows are recomputed from ``X`` itself with the provenance the search
    reports, so ``X_res[n:] == X[src] + w (X[nb] - X[src])`` holds exactly (in ``X``'s
    float dtype; float64 for integer ``X``), while the search itself ran on a float32
    copy.

    Binary problems only; the minority class is the rarer label (on a tie, the larger
    one). For multi-class data, resample one class against the rest (one-vs-rest).

    Args:
        sampling_strategy: ``"auto"`` or ``"minority"`` (the same for two classes): the
            minority class is over-sampled and **the search decides how many rows** to
            make. Ratios, dicts and callables are refused because they would contradict
            the search. After fitting, ``sampling_strategy_`` is
            ``{minority label: rows generated}``.
        classifier: the base classifier whose validation score is the reward: a name of
            :data:`imbalance_gym.classifiers.CLASSIFIERS` (``"svm"``, ``"knn"``, ``"dt"``,
            ``"adaboost"``, ...) or a scikit-learn estimator (cloned for every fit).
            Use the classifier you will train on the resampled data.
        metric: reward metric, a name of :data:`imbalance_gym.metrics.METRICS`
            (``"macro_f1"``, ``"mcc"``, ...) or a callable ``(y_true, y_pred) -> float``
            with 1 = minority.
        budget: search episodes (the paper's ``I``; it uses 1000). Each fits the classifier
            once.
        G1: largest cross-instance factor; None: ``max(1, round(4 IR / G2))`` with IR the
            training part's ``N_maj / N_min`` (sec. 4.1).
        G2: largest instance-specific factor (paper: 10).
        K: nearest minority neighbours per instance (paper: 30; capped at ``N_min - 1``).
        val_size: fraction of each class held out for the reward, in (0, 1); the
            default 0.25 is the paper's 60/20 train/validation proportion.
        search: ``"hierarchical"`` (the RL learner, needs the ``agents`` package and
            torch), ``"random"`` (random search, no torch), any name registered under
            the entry-point group ``imbalance_gym.searchers`` (:func:`list_searchers`),
            or a callable with the same signature.
        n_jobs: parallel workers of the search (the learner's actors); None lets the
            search choose (the learner: in this process with ``backend="local"``, one
            actor per CPU of the cluster with ``backend="ray"``). The random search
            ignores it.
        device: torch device of the learner (``"auto"``, ``"cpu"``, ``"cuda"``); ignored
            by the random search.
        backend: where the search's actors run: ``"local"`` (processes on this machine)
            or ``"ray"`` (Ray actors; needs ``pip install imbalance-gym[distributed]``).
            The random search ignores it.
        ray_address: with ``backend="ray"``, the Ray cluster to use (``"auto"``,
            ``"HOST:PORT"``, ``"ray://HOST:PORT"``); None: a local Ray instance, or the
            cluster ``ray.init`` already connected to. Only valid with ``backend="ray"``.
        random_state: int, ``numpy.random.RandomState`` or None; seeds the split and the
            search. The same int gives the same rows.
        progress_bar: show the search's tqdm progress bar.

    Attributes:
        sampling_strategy_: ``{minority label: number of synthetic rows}``.
        minority_class_: the minority label.
        train_index_, val_index_: rows of ``X`` in the training and held-out part.
        minority_index_: rows of ``X`` of the minority training instances, ``[N_min]``.
        provenance_: dict of ``source``, ``neighbour`` (row indices into the ``X`` given to
            ``fit_resample``) and ``weight`` (``[M]``), one entry per synthetic row.
        counts_: synthetic rows started from each row of ``minority_index_``, ``[N_min]``.
        best_score_: validation score of the returned rows.
        history_: ``{"metric": [budget], "best": [budget]}``, each episode's validation
            score and the best so far.
        search_: name (or the callable) of the search that ran.
        n_features_in_, feature_names_in_: as in scikit-learn.

    Raises:
        ValueError / TypeError / ImportError (from ``fit_resample``, before any search):
            a bad parameter (the message names it and lists the allowed values), more
            than two classes, a single class, too few minority rows to keep 2 in the
            training part and 1 in the held-out part, a search that is not installed,
            or ``backend="ray"`` without ray installed.
    """

    _parameter_constraints: dict = {
        "sampling_strategy": [StrOptions({"auto", "minority"})],
        # names are checked by check_classifier / check_metric, whose messages list the
        # known names in a stable order
        "classifier": [str, HasMethods(["fit", "predict"])],
        "metric": [str, callable],
        "budget": [Interval(numbers.Integral, 1, None, closed="left")],
        "G1": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "G2": [Interval(numbers.Integral, 1, None, closed="left")],
        "K": [Interval(numbers.Integral, 1, None, closed="left")],
        "val_size": [Interval(numbers.Real, 0, 1, closed="neither")],
        "search": [str, callable],
        "n_jobs": [numbers.Integral, None],
        "device": [str],
        "backend": [StrOptions({"local", "ray"})],
        "ray_address": [str, None],
        "random_state": ["random_state"],
        "progress_bar": ["boolean"],
    }

    def __init__(self, *, sampling_strategy="auto", classifier="svm", metric="macro_f1",
                 budget=100, G1=None, G2=10, K=30, val_size=0.25, search="hierarchical",
                 n_jobs=None, device="auto", backend="local", ray_address=None, random_state=None,
                 progress_bar=False):
        super().__init__(sampling_strategy=sampling_strategy)
        self.classifier = classifier
        self.metric = metric
        self.budget = budget
        self.G1 = G1
        self.G2 = G2
        self.K = K
        self.val_size = val_size
        self.search = search
        self.n_jobs = n_jobs
        self.device = device
        self.backend = backend
        self.ray_address = ray_address
        self.random_state = random_state
        self.progress_bar = progress_bar

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags

        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False  # SMOTE rows are built on dense features
        # Binary targets only: the tag scikit-learn's checks read to pass two-class y.
        tags.classifier_tags = ClassifierTags(multi_class=False)
        return tags

    def _check_X_y(self, X, y, accept_sparse=None):
        # fit() and fit_resample() both pass here, after the parameter constraints and
        # before any search: every error of the docstring's Raises is raised by now.
        self._check_params()
        X, y, binarize_y = super()._check_X_y(X, y, accept_sparse=False)
        self._binary_classes(y)
        return X, y, binarize_y

    # ---- checks ----------------------------------------------------------------------
    def _check_params(self) -> Callable[..., Any]:
        """What ``_parameter_constraints`` cannot say; returns the resolved search."""
        for name, minimum, allow_none in (("budget", 1, False), ("G1", 1, True), ("G2", 1, False),
                                          ("K", 1, False), ("n_jobs", None, True)):
            _check_optional_int(getattr(self, name), name, minimum, allow_none)
        if self.n_jobs == 0:
            raise ValueError("n_jobs must be None, a positive number of workers or negative "
                             "(joblib style), got 0")
        if self.ray_address is not None and self.backend != "ray":
            raise ValueError(f"ray_address={self.ray_address!r} is only used with backend='ray', "
                             f"got backend={self.backend!r}")
        if self.backend == "ray" and self.search == "hierarchical" and importlib.util.find_spec("ray") is None:
            raise ImportError("backend='ray' needs the ray package, which is not installed; install it with "
                              'pip install "imbalance-gym[distributed]"')
        check_classifier(self.classifier)
        check_metric(self.metric)
        return get_searcher(self.search)

    @staticmethod
    def _binary_classes(y: np.ndarray) -> tuple[Any, Any]:
        """``(majority, minority)`` labels of two-class ``y``; errors otherwise."""
        labels, counts = np.unique(y, return_counts=True)
        if labels.size != 2:
            raise ValueError(
                f"AutoSMOTE needs exactly 2 classes in y, got {labels.size}: {labels.tolist()[:10]}. "
                "For multi-class data resample one class against the rest (one-vs-rest), "
                "e.g. fit_resample(X, (y == c).astype(int)) per class c"
            )
        minority = 1 if counts[1] <= counts[0] else 0  # a tie takes the larger label
        return labels[1 - minority], labels[minority]

    def _split(self, y01: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Stratified training / held-out rows; errors when too few minority rows remain."""
        train_rows, val_rows = stratified_split(y01, [float(self.val_size)], rng)
        n_min = int(np.count_nonzero(y01))
        n_min_train = int(np.count_nonzero(y01[train_rows]))
        n_min_val = n_min - n_min_train
        if n_min_train < 2 or n_min_val < 1:
            raise ValueError(
                f"y has {n_min} minority row(s); holding out val_size={self.val_size!r} leaves "
                f"{n_min_train} in the training part and {n_min_val} in the held-out part, but "
                "AutoSMOTE needs at least 2 to interpolate between and 1 to score on "
                "(at least 3 minority rows; a smaller or larger val_size may help)"
            )
        if not np.any(y01[val_rows] == 0) or not np.any(y01[train_rows] == 0):
            raise ValueError(
                f"val_size={self.val_size!r} leaves no majority row in the training or held-out "
                "part; use more data or another val_size"
            )
        return train_rows, val_rows

    def _seed(self) -> int:
        """An int seed from ``random_state`` (fresh entropy when it is None)."""
        if self.random_state is None:
            return int(np.random.default_rng().integers(0, _SEED_HIGH))
        if isinstance(self.random_state, numbers.Integral):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(0, _SEED_HIGH))

    # ---- resampling ------------------------------------------------------------------
    def _fit_resample(self, X, y):
        searcher = get_searcher(self.search)  # validated in _check_X_y
        majority, minority = self._binary_classes(y)
        y01 = (y == minority).astype(np.int64)
        rng = np.random.default_rng(self._seed())
        train_rows, val_rows = self._split(y01, rng)

        # Passed only when set, so that searches written before these options exist keep working.
        where = {} if self.backend == "local" else {"backend": self.backend}
        if self.ray_address is not None:
            where["ray_address"] = self.ray_address
        result = searcher(
            X[train_rows], y01[train_rows], X[val_rows], y01[val_rows],
            classifier=self.classifier, metric=self.metric, budget=int(self.budget),
            G1=self.G1, G2=int(self.G2), K=int(self.K), n_jobs=self.n_jobs, device=self.device,
            seed=int(rng.integers(0, _SEED_HIGH)), progress_bar=bool(self.progress_bar), **where,
        )
        source, neighbour, weight = self._read_provenance(result, train_rows, y01)
        X_syn = interpolate(X[source], X[neighbour], weight)
        self._check_rows(result, X_syn, X)

        minority_index = train_rows[y01[train_rows] == 1]
        counts = np.zeros(minority_index.size, dtype=np.int64)
        np.add.at(counts, np.searchsorted(minority_index, source), 1)
        reported = np.asarray(getattr(result, "counts"), dtype=np.int64).ravel()
        if not np.array_equal(reported, counts):
            raise RuntimeError("the search's counts disagree with its provenance (rows per source instance)")

        self.minority_class_ = minority
        self.train_index_, self.val_index_ = train_rows, val_rows
        self.minority_index_ = minority_index
        self.provenance_ = {"source": source, "neighbour": neighbour, "weight": weight}
        self.counts_ = counts
        self.best_score_ = float(result.metric)
        self.history_ = search_history(result.history)
        self.search_ = self.search
        self.sampling_strategy_ = {minority: int(source.size)}

        X_res = np.concatenate([X, X_syn.astype(np.result_type(X.dtype, X_syn.dtype), copy=False)])
        y_res = np.concatenate([y, np.full(source.size, minority, dtype=y.dtype)])
        return X_res, y_res

    @staticmethod
    def _read_provenance(result, train_rows: np.ndarray, y01: np.ndarray):
        """Provenance of the search result mapped to rows of ``X``, checked for sense."""
        prov = result.provenance
        source = np.asarray(prov["source"], dtype=np.int64).ravel()
        neighbour = np.asarray(prov["neighbour"], dtype=np.int64).ravel()
        weight = np.asarray(prov["weight"], dtype=np.float64).ravel()
        if not source.size == neighbour.size == weight.size:
            raise RuntimeError(
                f"the search's provenance has {source.size} sources, {neighbour.size} neighbours "
                f"and {weight.size} weights"
            )
        n_train = train_rows.size
        for name, idx in (("source", source), ("neighbour", neighbour)):
            if idx.size and (idx.min() < 0 or idx.max() >= n_train):
                raise RuntimeError(f"the search's provenance {name} indices leave 0..{n_train - 1}")
        source, neighbour = train_rows[source], train_rows[neighbour]
        if not (np.all(y01[source] == 1) and np.all(y01[neighbour] == 1)):
            raise RuntimeError("the search interpolated from or towards a majority row")
        return source, neighbour, weight

    @staticmethod
    def _check_rows(result, X_syn: np.ndarray, X: np.ndarray) -> None:
        """The search's own rows must match the ones rebuilt from ``X`` (up to float32 rounding)."""
        reported = np.asarray(result.synthetic, dtype=np.float64)
        if reported.shape != X_syn.shape:
            raise RuntimeError(
                f"the search returned {reported.shape} synthetic rows but its provenance gives {X_syn.shape}"
            )
        scale = float(np.abs(X).max()) if X.size else 1.0
        if not np.allclose(reported, X_syn, rtol=1e-5, atol=1e-5 * max(scale, 1.0)):
            raise RuntimeError("the search's synthetic rows are not the rows its provenance describes")
