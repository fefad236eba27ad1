"""The command line: listing commands, the demo, and one-line errors with exit status 2."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "agents.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=ROOT, env=env)


def test_envs_lists_registered_ids():
    out = cli("envs")
    assert out.returncode == 0
    assert "imbalance_gym/ICMDP-v0" in out.stdout


@pytest.mark.data
def test_datasets_shows_what_is_present(data_home):
    out = cli("datasets", "--present", "--data-home", str(data_home))
    assert out.returncode == 0
    names = {line.split()[0] for line in out.stdout.splitlines()[2:]}
    assert {"phoneme", "mnist", "mozilla4", "breast_cancer"} <= names


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("demo", "--dataset", "phoneme"), "bundled dataset"),
        (("demo", "--ratio", "1.5"), "ratio"),
    ],
)
def test_bad_values_are_one_line_exit_2(args, fragment):
    out = cli(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in out.stderr


def test_bad_flag_is_argparse_exit_2():
    out = cli("demo", "--no-such-flag")
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_empty_data_home_lists_only_bundled_sets(tmp_path):
    env = {**os.environ, "IMBALANCE_GYM_DATA": str(tmp_path)}
    out = cli("datasets", "--present", env=env)
    assert out.returncode == 0 and "phoneme" not in out.stdout  # empty home: only bundled sets
