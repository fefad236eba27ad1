"""Fixtures of the SB3 adapter tests: tiny seeded data and small, fast settings."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def short_episodes():
    """12 rows, 2 of them minority: random labelling often finishes a pass (truncation)
    and often misclassifies a minority row first (termination)."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(12, 3)).astype(np.float32)
    y = np.zeros(12, np.int64)
    y[[3, 8]] = 1
    return X, y


@pytest.fixture
def tiny_tokens():
    """40 token sequences of length 6 over ids 0..19; class 1 (6 rows) uses high ids."""
    rng = np.random.default_rng(4)
    X = rng.integers(0, 10, size=(40, 6), dtype=np.int64)
    y = np.zeros(40, np.int64)
    y[:6] = 1
    X[:6] += 10
    return X, y


def make_smote_data(seed: int = 0):
    """60 / 8 training rows and a 30 / 4 validation split, 3 features (seeded blobs)."""
    rng = np.random.default_rng(seed)

    def blobs(n0, n1):
        X = np.vstack([rng.normal(0.0, 1.0, size=(n0, 3)), rng.normal(1.5, 1.0, size=(n1, 3))])
        y = np.r_[np.zeros(n0, np.int64), np.ones(n1, np.int64)]
        order = rng.permutation(y.size)
        return X[order], y[order]

    X, y = blobs(60, 8)
    X_val, y_val = blobs(30, 4)
    return X, y, X_val, y_val


@pytest.fixture
def smote_kwargs():
    """AutoSMOTE env arguments on tiny data with a fast classifier (episodes of ~15 steps)."""
    X, y, X_val, y_val = make_smote_data()
    return dict(X=X, y=y, X_val=X_val, y_val=y_val, classifier="dt", K=3, G1=2, G2=3)
