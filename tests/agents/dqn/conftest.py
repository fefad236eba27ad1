"""Fixtures of the DQNimb tests: small seeded toy sets and a fast agent configuration."""

from __future__ import annotations

import numpy as np
import pytest

from agents.dqn import DQNImbConfig


def make_toy(n_major: int, n_minor: int, n_features: int = 6, shift: float = 2.5, seed: int = 0):
    """Two Gaussian classes (label 1 = minority) whose means differ by ``shift`` per feature."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0.0, 1.0, (n_major, n_features)),
                   rng.normal(shift, 1.0, (n_minor, n_features))]).astype(np.float32)
    y = np.concatenate([np.zeros(n_major, np.int64), np.ones(n_minor, np.int64)])
    order = rng.permutation(y.size)
    return X[order], y[order]


@pytest.fixture
def toy_split():
    """Imbalanced train (rho = 0.05) and validation sets, natural-ratio-free balanced test set."""
    X_tr, y_tr = make_toy(1000, 50, seed=10)
    X_va, y_va = make_toy(200, 10, seed=11)
    X_te, y_te = make_toy(500, 500, seed=12)
    return X_tr, y_tr, X_va, y_va, X_te, y_te


@pytest.fixture
def fast_config() -> DQNImbConfig:
    """Small network and budget: a few hundred steps run in about a second on a CPU."""
    return DQNImbConfig(total_timesteps=320, learning_starts=64, batch_size=32, buffer_size=1_000,
                        hidden_sizes=(16,), num_envs=8, eval_freq=160, target_update_interval=50,
                        learning_rate=1e-3, device="cpu", progress_bar=False)


@pytest.fixture
def toy_maker():
    """The :func:`make_toy` generator, for tests that need other sizes."""
    return make_toy
