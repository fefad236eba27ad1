"""Fixtures of the supervised-baseline tests: small, fast training settings."""

from __future__ import annotations

import pytest


@pytest.fixture
def fast():
    """Hyperparameters for a quick fit on the tiny datasets of tests/conftest.py."""
    return {"hidden_sizes": (16,), "max_epochs": 4, "batch_size": 16, "device": "cpu"}
