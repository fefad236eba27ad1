"""Fixtures for the AutoSMOTE environment tests: small seeded binary splits."""

from __future__ import annotations

import numpy as np
import pytest


def make_split(n_major: int = 60, n_minor: int = 8, n_features: int = 3, seed: int = 0):
    """Seeded Gaussian blobs with a separate validation split (1 = minority, float64)."""
    rng = np.random.default_rng(seed)

    def blobs(n0, n1):
        X = np.vstack([rng.normal(0.0, 1.0, size=(n0, n_features)),
                       rng.normal(1.5, 1.0, size=(n1, n_features))])
        y = np.r_[np.zeros(n0, np.int64), np.ones(n1, np.int64)]
        order = rng.permutation(y.size)
        return X[order], y[order]

    X, y = blobs(n_major, n_minor)
    X_val, y_val = blobs(n_major // 2, max(2, n_minor // 2))
    return X, y, X_val, y_val


@pytest.fixture
def smote_split():
    """60 majority / 8 minority training rows, 3 features, and a 30 / 4 validation split."""
    return make_split()


@pytest.fixture
def smote_kwargs(smote_split):
    """Keyword arguments for an AutoSMOTE env on :func:`smote_split` with a fast classifier."""
    X, y, X_val, y_val = smote_split
    return dict(X=X, y=y, X_val=X_val, y_val=y_val, classifier="dt", K=3, G1=2, G2=3)
