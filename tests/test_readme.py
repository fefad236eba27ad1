"""The README's set-up commands and its examples stay true."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _setup_block() -> list[str]:
    section = README.split("## Set up", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.strip().splitlines() if line.strip()]


def test_setup_is_two_commands_install_demo_then_tests():
    first, second = _setup_block()
    assert "pip install torch==2.13.0" in first and first.rstrip().endswith("imbalance-gym demo")
    assert "pytest" in second


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    command = _setup_block()[1]
    assert command in ci.splitlines(), f"{command!r} is not a line of .ci/run"
    assert "pip install --quiet torch==2.13.0" in ci


EXAMPLES = ["## The ICMDP environment", "## The AutoSMOTE environment", "### DQNimb",
            "### Supervised baselines", "### The AutoSMOTE agent", "### Stable-Baselines3",
            "## Over-sampling with AutoSMOTE"]


@pytest.mark.parametrize("heading", EXAMPLES)
def test_section_example_runs(heading, tmp_path):
    section = README.split(heading, 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=600, cwd=tmp_path)  # examples may write files
    assert result.returncode == 0, result.stderr


def test_demo_runs_and_prints_metrics():
    result = subprocess.run([sys.executable, "-m", "agents.cli", "demo"], capture_output=True,
                            text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "G-mean" in result.stdout and "DQNimb (RL" in result.stdout and "SVM + AutoSMOTE (RL" in result.stdout
