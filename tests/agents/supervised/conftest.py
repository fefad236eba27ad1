"""Fixtures of the supervised-baseline tests: small, fast training settings."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny networks train fastest on one thread, and a shared 2-core box stays responsive."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def fast():
    """Hyperparameters for a quick fit on the tiny datasets of tests/conftest.py."""
    return {"hidden_sizes": (16,), "max_epochs": 4, "batch_size": 16, "device": "cpu"}
