"""Shared fixtures: tiny seeded datasets and the data home of the real datasets.

Unit tests download nothing. Tests that need the real datasets take the ``data_home``
fixture: it points at ``IMBALANCE_GYM_DATA`` and such tests *fail* (not skip) when that
variable is set but a file is missing. With the variable unset they are skipped with
a reason, so a plain ``pytest`` on a laptop without the data still runs everything else.
"""

from __future__ import annotations

import os
from pathlib import Path

# One thread per process for torch and BLAS: tests run two workers on two cores
# (``-n 2``), and oversubscribed threads make small networks many times slower. Set
# before any test module imports torch, and inherited by subprocesses the tests start.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np
import pytest

DATA_ENV = "IMBALANCE_GYM_DATA"


def pytest_collection_modifyitems(config, items):
    if os.environ.get(DATA_ENV):
        return
    reason = f"needs the real datasets: set {DATA_ENV} (CI sets it to ../shared/datasets)"
    for item in items:
        if "data" in item.keywords:
            item.add_marker(pytest.mark.skipif(True, reason=reason))


@pytest.fixture(scope="session")
def data_home() -> Path:
    """Folder of the real datasets (``IMBALANCE_GYM_DATA``); fails loudly when it is missing."""
    value = os.environ.get(DATA_ENV)
    if not value:  # only reached by tests not marked ``data``
        pytest.fail(f"this test needs {DATA_ENV}; mark it with @pytest.mark.data")
    path = Path(value)
    if not path.is_dir():
        pytest.fail(f"{DATA_ENV}={value!r} is not a folder")
    return path


def make_binary(n_major: int = 90, n_minor: int = 10, n_features: int = 4, seed: int = 0,
                separation: float = 3.0):
    """Two Gaussian blobs, label 1 = minority, float64 features (seeded)."""
    rng = np.random.default_rng(seed)
    X0 = rng.normal(0.0, 1.0, size=(n_major, n_features))
    X1 = rng.normal(separation, 1.0, size=(n_minor, n_features))
    X = np.vstack([X0, X1])
    y = np.concatenate([np.zeros(n_major, np.int64), np.ones(n_minor, np.int64)])
    order = rng.permutation(X.shape[0])
    return X[order], y[order]


@pytest.fixture
def tiny_binary():
    """100 rows, 4 features, 10 minority rows (rho = 1/9)."""
    return make_binary()


@pytest.fixture
def tiny_multiclass():
    """Three classes with 50 / 30 / 10 rows, 3 features."""
    rng = np.random.default_rng(1)
    counts = (50, 30, 10)
    X = np.vstack([rng.normal(3.0 * c, 1.0, size=(n, 3)) for c, n in enumerate(counts)])
    y = np.concatenate([np.full(n, c, np.int64) for c, n in enumerate(counts)])
    order = rng.permutation(X.shape[0])
    return X[order], y[order]


@pytest.fixture
def tiny_images():
    """60 uint8 images of shape (1, 28, 28); 6 of class 1 are bright, the rest dark."""
    rng = np.random.default_rng(2)
    X = rng.integers(0, 60, size=(60, 1, 28, 28), dtype=np.uint8)
    y = np.zeros(60, np.int64)
    y[:6] = 1
    X[:6] += 150
    order = rng.permutation(60)
    return X[order], y[order]
