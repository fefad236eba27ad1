"""HierarchicalConfig: paper defaults, validation that names the field, round trips."""

from __future__ import annotations

import pytest

from agents.hierarchical import ABLATIONS, HierarchicalConfig


def test_defaults_follow_the_paper_and_the_authors_code():
    cfg = HierarchicalConfig()
    assert cfg.learning_rate == 5e-3                 # sec. 4.1
    assert cfg.hidden_sizes == (128, 128)            # sec. 4.1
    assert cfg.buffer_sizes == (2, 300, 300)         # sec. 4.1: B_h1, B_h2, B_l
    assert cfg.gamma == 1.0 and cfg.max_grad_norm == 40.0 and cfg.entropy_coef == 6e-4
    assert cfg.ablation == "full" and cfg.device == "auto" and cfg.num_actors is None
    assert cfg.resolved_num_actors >= 1
    assert HierarchicalConfig(num_actors=0).resolved_num_actors == 0


@pytest.mark.parametrize("field, value", [
    ("learning_rate", 0.0), ("learning_rate", float("nan")), ("hidden_sizes", ()), ("hidden_sizes", (128, 0)),
    ("score_hidden_sizes", "128"), ("buffer_sizes", (2, 300)), ("buffer_sizes", (2, 0, 300)),
    ("gamma", 1.5), ("rho_bar", -1.0), ("c_bar", 0.0), ("baseline_coef", -0.1), ("entropy_coef", float("inf")),
    ("max_grad_norm", 0.0), ("num_actors", -1), ("num_actors", 1.5), ("max_in_flight", 0),
    ("ablation", "no_policy"), ("start_method", "thread"), ("device", ""), ("checkpoint_every", 0),
    ("checkpoint_path", ""), ("log_dir", 3), ("progress_bar", "yes"), ("max_actor_restarts", -1),
    ("learner_threads", 0), ("history_limit", 0), ("history_limit", 2.0), ("backend", "dask"),
    ("backend", None), ("ray_address", ""), ("ray_address", 6379),
])
def test_bad_values_name_the_field_and_the_value(field, value):
    with pytest.raises(ValueError, match=field) as info:
        HierarchicalConfig(**{field: value})
    assert repr(value) in str(info.value) or str(value) in str(info.value)


def test_rho_bar_below_c_bar_is_rejected():
    with pytest.raises(ValueError, match="rho_bar"):
        HierarchicalConfig(rho_bar=0.5, c_bar=1.0)


def test_round_trip_and_replace():
    cfg = HierarchicalConfig(hidden_sizes=[64, 64], ablation="flat", num_actors=2)
    assert cfg.hidden_sizes == (64, 64)  # lists become tuples
    assert HierarchicalConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.replace(num_actors=0).num_actors == 0
    with pytest.raises(ValueError, match="'lr'"):
        HierarchicalConfig.from_dict({"lr": 1e-3})


def test_every_ablation_of_table_4_is_offered():
    assert set(ABLATIONS) == {"full", "no_cross_instance", "no_instance_specific", "no_low_level", "flat", "random"}


def test_backend_fields_issue_7():
    cfg = HierarchicalConfig(backend="ray", ray_address="auto", num_actors=4)
    assert HierarchicalConfig.from_dict(cfg.to_dict()) == cfg
    assert HierarchicalConfig().backend == "local" and HierarchicalConfig().ray_address is None
    assert HierarchicalConfig().history_limit == 1000 and HierarchicalConfig(history_limit=None).history_limit is None
    with pytest.raises(ValueError, match="ray_address='auto' is only used with backend='ray'"):
        HierarchicalConfig(ray_address="auto")
    with pytest.raises(ValueError, match="num_actors=0.*backend='ray'"):
        HierarchicalConfig(backend="ray", num_actors=0)
    # checkpoints written before these fields existed still load their config
    old = {k: v for k, v in HierarchicalConfig().to_dict().items()
           if k not in ("backend", "ray_address", "history_limit")}
    assert HierarchicalConfig.from_dict(old) == HierarchicalConfig()
