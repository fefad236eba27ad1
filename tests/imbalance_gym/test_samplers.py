"""imbalance_gym.samplers: the AutoSMOTE imbalanced-learn sampler and its search registry (issue #5)."""

from __future__ import annotations

import importlib.metadata
import importlib.util

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline, make_pipeline
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import check_estimator

from imbalance_gym import samplers
from imbalance_gym.envs.smote_space import WEIGHTS
from imbalance_gym.samplers import (
    AutoSMOTE,
    get_searcher,
    list_searchers,
    random_autosmote_search,
    search_history,
)


def _fast(**kw) -> AutoSMOTE:
    """A sampler that runs in milliseconds: random search, a tree, a few episodes."""
    args = dict(search="random", budget=4, classifier="dt", random_state=0)
    args.update(kw)
    return AutoSMOTE(**args)


def _expected_rows(X, prov):
    """SMOTE rows written out literally: x_src + w (x_nb - x_src), from the original X."""
    src, nb, w = prov["source"], prov["neighbour"], prov["weight"]
    return X[src] + w[:, None] * (X[nb] - X[src])


# ---- what fit_resample returns --------------------------------------------------------
def test_provenance_reproduces_the_synthetic_rows_exactly(tiny_binary):
    X, y = tiny_binary  # float64, 10 minority rows
    sampler = _fast(budget=6)
    X_res, y_res = sampler.fit_resample(X, y)
    n = X.shape[0]
    m = X_res.shape[0] - n
    assert m > 0 and m == sampler.sampling_strategy_[1]
    # every original row first, unchanged and in order; then the synthetic minority rows
    assert np.array_equal(X_res[:n], X) and np.array_equal(y_res[:n], y)
    assert np.all(y_res[n:] == 1) and X_res.dtype == np.float64
    prov = sampler.provenance_
    assert np.array_equal(X_res[n:], _expected_rows(X, prov))
    # sources and neighbours are minority rows of the training part (never held-out rows)
    train = set(sampler.train_index_.tolist())
    for idx in (prov["source"], prov["neighbour"]):
        assert np.all(y[idx] == 1) and set(idx.tolist()) <= train
    assert np.all(prov["source"] != prov["neighbour"])
    assert set(np.unique(prov["weight"]).tolist()) <= set(WEIGHTS.tolist())
    # counts_ are rows per minority training instance, aligned with minority_index_
    assert np.array_equal(sampler.minority_index_, np.intersect1d(sampler.train_index_, np.flatnonzero(y == 1)))
    for row, count in zip(sampler.minority_index_, sampler.counts_):
        assert count == np.count_nonzero(prov["source"] == row)
    # the split partitions the rows and is stratified
    assert np.array_equal(np.sort(np.r_[sampler.train_index_, sampler.val_index_]), np.arange(n))
    assert np.count_nonzero(y[sampler.val_index_] == 1) == 3  # round(0.25 * 10), half up


def test_history_is_the_per_episode_score_and_its_running_best(tiny_binary):
    X, y = tiny_binary
    sampler = _fast(budget=7, random_state=3).fit(X, y)
    assert not hasattr(sampler, "history_")  # fit() only validates; the search runs in fit_resample
    sampler.fit_resample(X, y)
    h = sampler.history_
    assert h["metric"].shape == h["best"].shape == (7,)
    assert np.array_equal(h["best"], np.maximum.accumulate(h["metric"]))
    assert sampler.best_score_ == h["best"][-1] == h["metric"].max()


def test_same_seed_same_rows_and_another_seed_another_split(tiny_binary):
    X, y = tiny_binary
    a = _fast(random_state=11).fit_resample(X, y)
    b = _fast(random_state=11).fit_resample(X, y)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    s1, s2 = _fast(random_state=11), _fast(random_state=12)
    s1.fit_resample(X, y)
    s2.fit_resample(X, y)
    assert not np.array_equal(s1.val_index_, s2.val_index_)


def test_minority_label_dtype_and_pandas_are_kept():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)  # 212 malignant (0) vs 357 benign (1)
    names = y.map({0: "malignant", 1: "benign"}).rename("diagnosis")
    sampler = _fast(budget=3)
    X_res, y_res = sampler.fit_resample(X, names)
    assert isinstance(X_res, pd.DataFrame) and list(X_res.columns) == list(X.columns)
    assert isinstance(y_res, pd.Series) and y_res.name == "diagnosis"
    assert sampler.minority_class_ == "malignant"
    m = len(X_res) - len(X)
    assert m > 0 and sampler.sampling_strategy_ == {"malignant": m}
    assert (y_res.iloc[len(X):] == "malignant").all()
    assert np.array_equal(X_res.to_numpy()[len(X):], _expected_rows(X.to_numpy(), sampler.provenance_))


def test_integer_features_give_exact_float64_rows(tiny_binary):
    X, y = tiny_binary
    X_int = np.round(X * 10).astype(np.int64)
    sampler = _fast()
    X_res, _ = sampler.fit_resample(X_int, y)
    assert X_res.dtype == np.float64
    assert np.array_equal(X_res[: len(X)], X_int)
    assert np.array_equal(X_res[len(X):], _expected_rows(X_int.astype(np.float64), sampler.provenance_))


def test_float32_input_stays_float32(tiny_binary):
    X, y = tiny_binary
    X32 = X.astype(np.float32)
    sampler = _fast()
    X_res, _ = sampler.fit_resample(X32, y)
    assert X_res.dtype == np.float32
    prov = sampler.provenance_
    # float32 rows are the float64 interpolation rounded once
    assert np.array_equal(X_res[len(X):], _expected_rows(X32.astype(np.float64), prov).astype(np.float32))


# ---- scikit-learn / imbalanced-learn integration ----------------------------------------
def test_pipeline_with_cross_validate(tiny_binary):
    X, y = tiny_binary
    pipe = Pipeline([("autosmote", _fast(budget=3)), ("tree", DecisionTreeClassifier(random_state=0))])
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    out = cross_validate(pipe, X, y, cv=cv, scoring="f1_macro", return_estimator=True, return_indices=True)
    assert out["test_score"].shape == (3,) and np.all((0.0 <= out["test_score"]) & (out["test_score"] <= 1.0))
    for fitted, train_rows in zip(out["estimator"], out["indices"]["train"]):
        sampler = fitted.named_steps["autosmote"]
        m = int(sampler.counts_.sum())
        # provenance indexes the fold's training rows, and the tree saw them plus the new rows
        assert sampler.provenance_["source"].max() < train_rows.size
        assert fitted.named_steps["tree"].tree_.n_node_samples[0] == train_rows.size + m


def test_readme_pipeline_example():
    # the README's example, verbatim but for a smaller budget
    X, y = load_breast_cancer(return_X_y=True)  # 212 malignant (minority) vs 357 benign
    pipe = make_pipeline(
        StandardScaler(),
        AutoSMOTE(classifier="svm", metric="macro_f1", budget=10, search="random", random_state=0),
        SVC(random_state=0),
    )
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    scores = cross_validate(pipe, X, y, cv=cv, scoring=["f1_macro", "matthews_corrcoef"])
    assert scores["test_f1_macro"].mean() > 0.9 and scores["test_matthews_corrcoef"].mean() > 0.8


def test_check_estimator_passes():
    # No check is expected to fail: fit() validates only (like every imblearn sampler), and
    # the binary-target tag makes scikit-learn's checks pass two-class targets.
    outcome = {}

    def record(*, estimator, check_name, exception, status, expected_to_fail, expected_to_fail_reason):
        outcome[check_name] = status

    check_estimator(_fast(budget=2), expected_failed_checks={}, on_skip=None, on_fail=None, callback=record)
    assert len(outcome) > 30 and "check_fit2d_1sample" in outcome
    # the only skip is scikit-learn's array-API check, which needs SCIPY_ARRAY_API=1
    assert {name for name, status in outcome.items() if status != "passed"} <= {"check_array_api_input"}


# ---- errors, raised before any search starts --------------------------------------------
class _SpySearch:
    """A search that records calls and delegates to the random search."""

    def __init__(self):
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return random_autosmote_search(*args, **kwargs)


def _data(n0=40, n1=6, n_classes=2):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(n0 + n1, 3))
    y = np.r_[np.zeros(n0, int), np.ones(n1, int)]
    if n_classes == 3:
        y[:5] = 2
    if n_classes == 1:
        y[:] = 0
    return X, y


@pytest.mark.parametrize(
    ("params", "data", "error", "match"),
    [
        ({}, _data(n_classes=1), ValueError, "class"),
        ({}, _data(n_classes=3), ValueError, "one-vs-rest"),
        ({}, _data(n1=2), ValueError, "2 minority row.*at least 2 to interpolate"),
        ({"budget": 0}, _data(), ValueError, "'budget' parameter.*Got 0"),
        ({"budget": 2.5}, _data(), ValueError, "'budget' parameter.*Got 2.5"),
        ({"budget": True}, _data(), TypeError, "budget must be an integer.*True"),
        ({"G2": 0}, _data(), ValueError, "'G2' parameter.*Got 0"),
        ({"K": True}, _data(), TypeError, "K must be an integer"),
        ({"n_jobs": 0}, _data(), ValueError, "n_jobs.*got 0"),
        ({"val_size": 1.0}, _data(), ValueError, "'val_size' parameter.*Got 1.0"),
        ({"classifier": "forest"}, _data(), ValueError,
         r"unknown classifier 'forest'; known classifiers: \['adaboost', .*'svm'\]"),
        ({"classifier": DecisionTreeClassifier}, _data(), TypeError,
         r"estimator \*instance\*.*DecisionTreeClassifier\(\)"),
        ({"classifier": DecisionTreeClassifier()}, _data(n_classes=3), ValueError, "one-vs-rest"),
        ({"metric": "accuracy"}, _data(), ValueError,
         r"unknown metric 'accuracy'; known metrics: \[.*'macro_f1', 'mcc'"),
        ({"sampling_strategy": 0.5}, _data(), ValueError, "'sampling_strategy' parameter.*Got 0.5"),
        ({"search": "bayesian"}, _data(), ValueError,
         "unknown search 'bayesian'; known searches: .*'hierarchical'.*'random'"),
        ({"search": 3}, _data(), ValueError, "'search' parameter"),
        ({"backend": "dask"}, _data(), ValueError, "'backend' parameter.*Got 'dask'"),
        ({"ray_address": 6379}, _data(), ValueError, "'ray_address' parameter.*Got 6379"),
        ({"ray_address": "auto"}, _data(), ValueError, "ray_address='auto' is only used with backend='ray'"),
    ],
)
def test_bad_input_fails_before_the_search(params, data, error, match):
    spy = _SpySearch()
    args = {"search": spy, **params}
    X, y = data
    with pytest.raises(error, match=match):
        _fast(**args).fit_resample(X, y)
    assert spy.calls == 0


class _KwargsSpy(_SpySearch):
    """A search that keeps the keyword arguments of its last call."""

    def __call__(self, *args, **kwargs):
        self.kwargs = kwargs
        kwargs = {k: v for k, v in kwargs.items() if k not in ("backend", "ray_address")}
        return super().__call__(*args, **kwargs)


def test_backend_and_ray_address_reach_the_search_issue_7():
    X, y = _data()
    spy = _KwargsSpy()
    _fast(search=spy).fit_resample(X, y)
    # defaults are not passed: searches written before these options keep working
    assert "backend" not in spy.kwargs and "ray_address" not in spy.kwargs
    _fast(search=spy, backend="ray", ray_address="10.0.0.1:6379").fit_resample(X, y)
    assert spy.kwargs["backend"] == "ray" and spy.kwargs["ray_address"] == "10.0.0.1:6379"
    _fast(search=spy, backend="ray").fit_resample(X, y)
    assert spy.kwargs["backend"] == "ray" and "ray_address" not in spy.kwargs
    # the built-in random search accepts and ignores them
    a, _ = _fast(backend="ray").fit_resample(X, y)
    b, _ = _fast().fit_resample(X, y)
    assert np.array_equal(a, b)


def test_backend_ray_without_ray_says_what_to_install(monkeypatch):
    spy = _SpySearch()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    with pytest.raises(ImportError, match=r"pip install \"imbalance-gym\[distributed\]\""):
        _fast(search="hierarchical", backend="ray").fit_resample(*_data())
    # a search of your own decides what backend="ray" means to it
    _fast(search=spy, backend="ray").fit_resample(*_data())
    assert spy.calls == 1


def test_two_minority_rows_are_one_too_few_but_three_suffice():
    spy = _SpySearch()
    X, y = _data(n1=3)
    _fast(search=spy, budget=2).fit_resample(X, y)
    assert spy.calls == 1


def test_unknown_ablation_of_the_random_search():
    X, y = _data()
    with pytest.raises(ValueError, match="ablation must be 'random'.*'flat'"):
        random_autosmote_search(X, y, X, y, ablation="flat")


class _Corrupt:
    """The random search with one field of its result broken."""

    def __init__(self, what):
        self.what = what

    def __call__(self, *args, **kwargs):
        res = random_autosmote_search(*args, **kwargs)
        prov = dict(res.provenance)
        synthetic, counts = res.synthetic, res.counts
        assert synthetic.shape[0] > 0  # else there would be nothing to corrupt
        if self.what == "weight":
            prov["weight"] = np.where(prov["weight"] == 1.0, 0.5, 1.0)
        elif self.what == "counts":
            counts = counts + 1
        elif self.what == "majority":
            prov["source"] = np.zeros_like(prov["source"])  # row 0 of _data() is a majority row
        return samplers.SearchResult(res.metric, synthetic, prov, counts, res.history)


@pytest.mark.parametrize(("what", "match"), [("weight", "not the rows its provenance"),
                                             ("counts", "counts disagree"),
                                             ("majority", "majority row")])
def test_an_inconsistent_search_result_is_refused(what, match):
    X, y = _data(n0=60, n1=12)
    with pytest.raises(RuntimeError, match=match):
        _fast(search=_Corrupt(what), budget=3, random_state=0).fit_resample(X, y)


def test_progress_bar_is_optional(tiny_binary, capsys):
    X, y = tiny_binary
    _fast(budget=2).fit_resample(X, y)
    assert "random search" not in capsys.readouterr().err
    _fast(budget=2, progress_bar=True).fit_resample(X, y)
    assert "random search" in capsys.readouterr().err


# ---- the search registry ---------------------------------------------------------------
def test_hierarchical_is_registered_as_an_entry_point():
    eps = {ep.name: ep for ep in importlib.metadata.entry_points(group=samplers.SEARCHER_GROUP)}
    assert eps["hierarchical"].value == "agents.hierarchical.search:autosmote_search"
    assert {"hierarchical", "random"} <= set(list_searchers())


def test_hierarchical_resolves_to_the_learner_or_says_how_to_get_it(tiny_binary):
    if importlib.util.find_spec("agents.hierarchical.search") is not None:
        from agents.hierarchical.search import autosmote_search

        assert get_searcher("hierarchical") is autosmote_search
        # the default search honours the contract: its provenance rebuilds its rows
        X, y = tiny_binary
        sampler = AutoSMOTE(budget=3, classifier="dt", random_state=0, device="cpu")
        X_res, _ = sampler.fit_resample(X, y)
        assert sampler.search_ == "hierarchical" and sampler.history_["metric"].shape == (3,)
        assert np.array_equal(X_res[len(X):], _expected_rows(X, sampler.provenance_))
        again, _ = AutoSMOTE(budget=3, classifier="dt", random_state=0, device="cpu").fit_resample(X, y)
        assert np.array_equal(X_res, again)
    else:  # the learner is not installed (yet): a clear ImportError naming the alternative
        with pytest.raises(ImportError, match="'hierarchical'.*agents.hierarchical.search.*'random'"):
            get_searcher("hierarchical")


def test_builtin_and_plugin_searches(monkeypatch, tiny_binary):
    assert get_searcher("random") is random_autosmote_search
    assert get_searcher(_SpySearch) is _SpySearch  # callables pass through
    plugin = importlib.metadata.EntryPoint(
        name="plugin", value="imbalance_gym.samplers:random_autosmote_search", group=samplers.SEARCHER_GROUP
    )
    broken = importlib.metadata.EntryPoint(
        name="broken", value="no_such_package.search:fn", group=samplers.SEARCHER_GROUP
    )
    monkeypatch.setattr(samplers, "_registered_searchers", lambda: {"plugin": plugin, "broken": broken})
    assert list_searchers() == ["broken", "plugin", "random"]
    assert get_searcher("plugin") is random_autosmote_search
    with pytest.raises(ImportError, match="'broken' is registered as 'no_such_package.search:fn'"):
        get_searcher("broken")
    with pytest.raises(ValueError, match=r"known searches: \['broken', 'plugin', 'random'\]"):
        get_searcher("hierarchical")
    X, y = tiny_binary
    a = _fast(search="plugin").fit_resample(X, y)
    b = _fast(search="random").fit_resample(X, y)
    assert np.array_equal(a[0], b[0])


# ---- search_history ---------------------------------------------------------------------
def test_search_history_forms():
    scores = [0.2, 0.5, 0.4]
    expected_best = [0.2, 0.5, 0.5]
    for form in (scores, np.array(scores), {"metric": scores}, pd.DataFrame({"metric": scores}),
                 {"metric": scores, "best_so_far": expected_best},
                 [{"episode": e, "metric": m} for e, m in enumerate(scores)],
                 [{"metric": m, "best": b} for m, b in zip(scores, expected_best)]):
        h = search_history(form)
        assert h["metric"].tolist() == scores and h["best"].tolist() == expected_best
    with pytest.raises(ValueError, match="decrease"):
        search_history({"metric": scores, "best": [0.2, 0.5, 0.4]})
    with pytest.raises(ValueError, match="3 episode scores but 2"):
        search_history({"metric": scores, "best": [0.2, 0.5]})
    with pytest.raises(TypeError, match="history"):
        search_history(0.5)
    with pytest.raises(ValueError, match="'metric' entry"):
        search_history([{"metric": 0.2}, {"score": 0.5}])
