"""autosmote_search: the sampler's engine (entry point, result layout, ablations, argument checks)."""

from __future__ import annotations

from importlib.metadata import entry_points

import numpy as np
import pytest

from agents.hierarchical import ABLATIONS, SearchResult, autosmote_search
from agents.hierarchical.search import resolve_n_jobs, resolve_ray_actors
from imbalance_gym.envs.smote_space import interpolate

from .conftest import make_split


def test_registered_as_the_hierarchical_searcher():
    (ep,) = [e for e in entry_points(group="imbalance_gym.searchers") if e.name == "hierarchical"]
    assert ep.load() is autosmote_search


def test_result_layout_refers_to_the_given_training_rows():
    X, y, X_val, y_val = make_split(seed=3)
    res = autosmote_search(X, y, X_val, y_val, classifier="dt", budget=4, G1=2, G2=3, K=4, seed=0)
    assert isinstance(res, SearchResult) and res.ablation == "full"
    assert len(res.history) == 4 and res.metric == max(h["metric"] for h in res.history)
    src, nb, w = (res.provenance[k] for k in ("source", "neighbour", "weight"))
    assert res.synthetic.shape == (src.size, X.shape[1]) and res.synthetic.dtype == np.float32
    assert np.all(y[src] == 1) and np.all(y[nb] == 1) and np.all(src != nb)
    assert set(np.unique(w)) <= {0.0, 0.25, 0.5, 0.75, 1.0}
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(res.synthetic, interpolate(X32[src], X32[nb], w))
    minority_rows = np.flatnonzero(y == 1)
    np.testing.assert_array_equal(res.counts, [np.sum(src == r) for r in minority_rows])
    assert res.g2.shape == (minority_rows.size,) and res.counts.sum() == res.g1 * res.g2.sum()
    again = autosmote_search(X, y, X_val, y_val, classifier="dt", budget=4, G1=2, G2=3, K=4, seed=0)
    assert [h["metric"] for h in again.history] == [h["metric"] for h in res.history]


@pytest.mark.parametrize("ablation", ABLATIONS)
def test_every_ablation_runs(ablation):
    X, y, X_val, y_val = make_split(seed=1)
    res = autosmote_search(X, y, X_val, y_val, classifier="dt", budget=2, G1=2, G2=2, K=3, ablation=ablation)
    assert res.ablation == ablation and len(res.history) == 2 and 0.0 <= res.metric <= 1.0
    assert (res.g1 is None) == (ablation == "flat")


def test_n_jobs_follows_scikit_learn():
    assert resolve_n_jobs(None) == 0 and resolve_n_jobs(3) == 3 and resolve_n_jobs(-1) >= 1
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="n_jobs"):
            resolve_n_jobs(bad)


def test_n_jobs_with_ray_is_one_actor_per_cluster_cpu_or_a_count():
    assert resolve_ray_actors(None) is None and resolve_ray_actors(-1) is None and resolve_ray_actors(3) == 3
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="backend='ray', n_jobs"):
            resolve_ray_actors(bad)


@pytest.mark.parametrize("kwargs, match", [({"budget": 0}, "budget"), ({"ablation": "none"}, "ablation"),
                                           ({"n_jobs": 0}, "n_jobs"), ({"classifier": "nope"}, "classifier"),
                                           ({"progress_bar": 1}, "progress_bar"), ({"backend": "dask"}, "backend"),
                                           ({"backend": "ray", "n_jobs": -3}, "n_jobs"),
                                           ({"ray_address": "auto"}, "ray_address")])
def test_bad_arguments(kwargs, match):
    X, y, X_val, y_val = make_split()
    with pytest.raises(ValueError, match=match):
        autosmote_search(X, y, X_val, y_val, **kwargs)
    with pytest.raises(ValueError, match="X_val"):
        autosmote_search(X, y, None, None)
