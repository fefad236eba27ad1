"""``imbalance-gym resample``, ``bench`` and ``demo``: end to end on tiny budgets, and their errors."""

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imbalance_gym.classifiers import make_classifier
from imbalance_gym.datasets import load_task
from imbalance_gym.metrics import classification_report

ROOT = Path(__file__).resolve().parents[3]

PROVENANCE = ["provenance", "source_row", "neighbour_row", "weight"]


def _ok(out):
    assert out.returncode == 0, out.stderr
    return out


def _check_provenance(frame: pd.DataFrame, features: list[str], n_original: int, atol: float) -> pd.DataFrame:
    """Original rows first and unmarked; every synthetic row is the interpolation its columns name."""
    assert list(frame.columns[-4:]) == PROVENANCE
    original, synthetic = frame.iloc[:n_original], frame.iloc[n_original:]
    assert (original["provenance"] == "original").all()
    assert original[["source_row", "neighbour_row", "weight"]].isna().all().all()
    assert len(synthetic) > 0 and (synthetic["provenance"] == "synthetic").all()
    assert set(synthetic["weight"]) <= {0.0, 0.25, 0.5, 0.75, 1.0}
    src = synthetic["source_row"].to_numpy(int)
    nb = synthetic["neighbour_row"].to_numpy(int)
    assert src.max() < n_original and nb.max() < n_original
    X = frame[features].to_numpy(float)
    w = synthetic["weight"].to_numpy()[:, None]
    assert np.allclose(X[n_original:], X[src] + w * (X[nb] - X[src]), atol=atol)
    return synthetic


def test_resample_named_dataset_random_search(cli, tmp_path):
    out_csv = tmp_path / "resampled.csv"
    out = _ok(cli("resample", "--dataset", "breast_cancer", "--imbalance-ratio", "10", "--search", "random",
                  "--budget", "4", "--classifier", "dt", "--seed", "1", "--out", out_csv, "--no-progress"))
    frame = pd.read_csv(out_csv)
    # train + validation splits of the IR-10 task: 236 + 78 rows, 21 + 7 of them minority
    n = 314
    features = [c for c in frame.columns if c not in PROVENANCE and c != "target"]
    assert len(features) == 30 and features[0] == "mean radius"
    synthetic = _check_provenance(frame, features, n, atol=1e-5)
    assert int(frame["target"][:n].sum()) == 28 and (synthetic["target"] == 1).all()
    assert (frame["target"][synthetic["source_row"].to_numpy(int)] == 1).all()  # sources are minority rows
    assert f"+ {len(synthetic)} synthetic rows" in out.stdout


def test_resample_csv_keeps_columns_and_labels(cli, tmp_path):
    rng = np.random.default_rng(0)
    n_maj, n_min = 60, 12
    frame = pd.DataFrame({
        "count": np.concatenate([rng.integers(0, 5, n_maj), rng.integers(8, 12, n_min)]),
        "label": ["no"] * n_maj + ["yes"] * n_min,
        "score": np.concatenate([rng.normal(0, 1, n_maj), rng.normal(3, 1, n_min)]),
    })
    src_csv, out_csv = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(src_csv, index=False)
    _ok(cli("resample", "--csv", src_csv, "--target", "label", "--budget", "2", "--classifier", "dt",
            "--G2", "2", "--K", "3", "--device", "cpu",
            "--out", out_csv, "--no-progress"))
    result = pd.read_csv(out_csv)
    assert list(result.columns) == ["count", "label", "score", *PROVENANCE]
    pd.testing.assert_frame_equal(result.iloc[:len(frame)][["count", "label", "score"]], frame,
                                  check_dtype=False)
    synthetic = _check_provenance(result, ["count", "score"], len(frame), atol=1e-9)
    assert (synthetic["label"] == "yes").all()


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("--csv", "{data}"), "--csv needs --target"),
        (("--csv", "{data}", "--target", "y"), "--target 'y' is not a column"),
        (("--csv", "{text}", "--target", "label"), "['name'] of"),
        (("--csv", "{data}", "--target", "label", "--imbalance-ratio", "5"), "a --csv file is used as it is"),
        (("--dataset", "breast_cancer", "--classifier", "forest"), "unknown classifier 'forest'"),
        (("--dataset", "mnist", "--data-home", "{home}"), "train-images-idx3-ubyte.gz"),
        (("--dataset", "breast_cancer", "--budget", "0"), "argument --budget"),
    ],
)
def test_resample_bad_input(cli, usage_error, tmp_path, args, fragment):
    data, text, home = tmp_path / "data.csv", tmp_path / "text.csv", tmp_path / "home"
    home.mkdir()
    pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "label": [0, 0, 0, 1]}).to_csv(data, index=False)
    pd.DataFrame({"name": list("abcd"), "label": [0, 0, 0, 1]}).to_csv(text, index=False)
    args = [a.format(data=data, text=text, home=home) for a in args]
    usage_error(cli("resample", *args, "--out", tmp_path / "out.csv"), fragment)
    assert not (tmp_path / "out.csv").exists()


def test_bench_runs_the_script_with_its_preset(cli, tmp_path):
    out = _ok(cli("bench", "throughput", "--preset", "quick", "--out", tmp_path, cwd=tmp_path))
    assert "benchmarks.throughput --quick --out" in out.stderr
    table = pd.read_csv(tmp_path / "throughput.csv")
    assert len(table) > 0

    dry = _ok(cli("bench", "crcen", "--dry-run", "--datasets", "ecoli", "--max-epochs", "3"))
    assert dry.stdout.strip() == "python -m benchmarks.crcen_table --seeds 0 --datasets ecoli --max-epochs 3"
    dry = _ok(cli("bench", "autosmote", "--preset", "paper", "--dry-run", "--plan"))
    assert dry.stdout.strip() == "python -m benchmarks.autosmote_ranks --preset paper --plan"


def test_bench_outside_a_checkout_is_a_clear_error(cli, usage_error, tmp_path):
    # The packages without the checkout around them, as a wheel would install them.
    site = tmp_path / "site"
    for package in ("agents", "imbalance_gym"):
        shutil.copytree(ROOT / package, site / package, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(site)}
    usage_error(cli("bench", "dqnimb", env=env, cwd=tmp_path), "source checkout")
    usage_error(cli("bench", "nosuch", cwd=tmp_path), "argument name: invalid choice")


def test_demo_prints_one_table(cli):
    out = _ok(cli("demo", "--dataset", "breast_cancer", "--ratio", "0.1", "--seed", "2", "--steps", "300",
                  "--episodes", "2", "--device", "cpu", "--no-progress"))
    assert out.stderr == ""  # --no-progress: no bars, no stage lines
    lines = out.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("method"))
    assert lines[header].split()[1:] == ["G-mean", "F-measure", "Macro-F1", "MCC", "fit", "(s)"]
    cells = [re.split(r"\s{2,}", line.strip()) for line in lines[header + 2:header + 8]]
    rows = {row[0]: row[1:] for row in cells}
    names = list(rows)
    assert names[0] == "SVM, no resampling" and names[1].startswith("SVM + SMOTE (ratio ")
    assert names[2:] == ["SVM + AutoSMOTE (RL, 2 episodes)", "DNN, no resampling", "CRCEN (reweighted loss)",
                         "DQNimb (RL, 300 steps)"]

    # The first row is reproducible by hand: the same split (seed 2) and an SVM seeded with it.
    task = load_task("breast_cancer", ratio=0.1, seed=2, val_size=0.2)
    pred = make_classifier("svm", 2).fit(task.X_train, task.y_train).predict(task.X_test)
    report = classification_report(task.y_test, pred)
    assert rows["SVM, no resampling"][:4] == [f"{report[k]:.3f}" for k in ("g_mean", "f_measure", "macro_f1", "mcc")]


def test_main_help_lists_every_subcommand(cli):
    out = _ok(cli("--help"))
    for name in ("train", "evaluate", "resample", "bench", "demo", "plot", "envs", "datasets"):
        assert name in out.stdout
