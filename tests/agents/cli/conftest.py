"""Helpers of the command-line tests: run ``python -m agents.cli`` and check one-line errors."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def run_cli(*args, env=None, cwd=ROOT, timeout=300):
    """``imbalance-gym ARGS`` in a subprocess (``python -m agents.cli``); the CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "agents.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env)


def check_usage_error(out, fragment: str) -> str:
    """Exit status 2, exactly one line on stderr that contains ``fragment``, no traceback."""
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    assert len(lines) == 1, out.stderr
    assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def usage_error():
    return check_usage_error
