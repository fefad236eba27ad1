"""Fixtures for the hierarchical agent tests: small seeded AutoSMOTE problems, one local Ray."""

from __future__ import annotations

import numpy as np
import pytest

import torch

from agents.hierarchical import HierarchicalConfig
from agents.hierarchical.policies import NumpyPolicies, PolicySpec, flat_parameters, make_policies, parameter_layout
from agents.hierarchical.rollout import LEARNED_LEVELS
from imbalance_gym.envs import AutoSMOTEEnv, AutoSMOTEFlatEnv


def make_split(n_major: int = 80, n_minor: int = 10, n_features: int = 3, seed: int = 0, shift: float = 1.5):
    """Seeded Gaussian blobs (1 = minority), two thirds for training and one third for validation."""
    rng = np.random.default_rng(seed)
    n_val_major, n_val_minor = n_major // 2, max(2, n_minor // 2)
    y_all = np.r_[np.zeros(n_major + n_val_major, np.int64), np.ones(n_minor + n_val_minor, np.int64)]
    X_all = rng.normal(0.0, 1.0, size=(y_all.size, n_features)) + shift * y_all[:, None]
    is_val = np.r_[np.arange(n_major + n_val_major) >= n_major, np.arange(n_minor + n_val_minor) >= n_minor]
    train, val = rng.permutation(np.flatnonzero(~is_val)), rng.permutation(np.flatnonzero(is_val))
    return X_all[train], y_all[train], X_all[val], y_all[val]


def make_env(flat: bool = False, **kwargs):
    """A small AutoSMOTE env with a fast classifier (80 / 10 rows, K = 4, G1 = 3, G2 = 3)."""
    split = kwargs.pop("split", None) or make_split()
    X, y, X_val, y_val = split
    settings = dict(classifier="dt", K=4, G1=3, G2=3, seed=0)
    settings.update(kwargs)
    cls = AutoSMOTEFlatEnv if flat else AutoSMOTEEnv
    return cls(X=X, y=y, X_val=X_val, y_val=y_val, **settings)


def fast_config(**changes) -> HierarchicalConfig:
    """In-process, no bar, small buffers so that every level updates within a few episodes."""
    settings = dict(num_actors=0, progress_bar=False, buffer_sizes=(2, 10, 20), hidden_sizes=(32, 32),
                    score_hidden_sizes=(32,))
    settings.update(changes)
    return HierarchicalConfig(**settings)


def acting_policies(env, ablation: str = "full", seed: int = 0):
    """Seeded torch policies (32-32 bodies) of an ablation and their numpy mirror (None for "random")."""
    torch.manual_seed(seed)
    nets = make_policies(PolicySpec.from_env(env), LEARNED_LEVELS[ablation], (32, 32), (16,))
    if not LEARNED_LEVELS[ablation]:
        return None, nets
    return NumpyPolicies(parameter_layout(nets), 2, flat_parameters(nets)), nets


@pytest.fixture
def small_env():
    return make_env()


@pytest.fixture
def small_flat_env():
    return make_env(flat=True)


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray instance (2 CPUs, no dashboard) for the whole session; yields its address.

    Started on first use only (Ray takes seconds to start), shut down at the session's end.
    ``address="local"`` always starts a fresh instance: a ``RAY_ADDRESS`` or ``ray start``
    cluster on the machine is never touched.
    """
    ray = pytest.importorskip("ray", reason="the distributed extra (ray) is not installed")
    ray.init(address="local", num_cpus=2, include_dashboard=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
