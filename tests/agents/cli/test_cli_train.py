"""``imbalance-gym train / evaluate / plot``: run directories, config resolution, resume, errors.

Every run is tiny (a few hundred transitions, a handful of episodes) on the bundled
breast-cancer data; the numbers are not the point, the bookkeeping is.
"""

import json
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

import imbalance_gym  # noqa: F401  (registers the env ids)
from agents.hierarchical import HierarchicalAgent, HierarchicalConfig
from imbalance_gym.datasets import load_task

ROOT = Path(__file__).resolve().parents[3]
BC_DQN = ("--dataset", "breast_cancer", "--ratio", "0.1")
AUTOSMOTE_TINY = ("--dataset", "breast_cancer", "--imbalance-ratio", "10", "--classifier", "dt", "--G2", "3",
                  "--K", "5", "--num-actors", "0", "--set", "buffer_sizes=[2, 20, 20]", "--device", "cpu",
                  "--no-progress")


def _ok(out):
    assert out.returncode == 0, out.stderr
    return out


def test_dqnimb_config_file_flags_resume_evaluate(cli, usage_error, tmp_path):
    config = tmp_path / "dqn.toml"
    config.write_text(
        'dataset = "breast_cancer"\nratio = 0.1\nseed = 3\nsteps = 5000\n'
        "[agent]\nhidden_sizes = [32, 32]\nlearning_starts = 64\neval_freq = 64\nnum_envs = 8\n"
    )
    run = tmp_path / "run"
    _ok(cli("train", "dqnimb", "--config", config, "--steps", "192", "--out", run, "--no-progress"))

    saved = json.loads((run / "config.json").read_text())
    assert saved["trainer"] == "dqnimb"
    assert saved["agent"]["total_timesteps"] == 192          # the flag beats the file's 5000
    assert saved["agent"]["hidden_sizes"] == [32, 32]        # [agent] table of the file
    assert saved["agent"]["num_envs"] == 8
    assert saved["agent"]["gamma"] == 0.1                    # DQNImbConfig's own default, resolved
    assert saved["run"] == {"dataset": "breast_cancer", "ratio": 0.1, "imbalance_ratio": None, "seed": 3,
                            "data_home": None, "threads": 1}
    curve = pd.read_csv(run / "metrics.csv")
    assert list(curve["step"]) == [64, 128, 192]             # 8 lanes x 24 vector steps, eval every 64
    assert {"g_mean", "f_measure", "best_g_mean"} <= set(curve.columns)

    # The run directory is not overwritten by accident.
    usage_error(cli("train", "dqnimb", "--config", config, "--out", run), "--resume")

    # Resume towards a larger total: the counters and the curve continue.
    _ok(cli("train", "dqnimb", "--out", run, "--resume", "--steps", "320", "--no-progress"))
    resumed = pd.read_csv(run / "metrics.csv")
    assert list(resumed["step"]) == [64, 128, 192, 256, 320]
    assert np.allclose(resumed["g_mean"][:3], curve["g_mean"])
    with zipfile.ZipFile(run / "checkpoint.zip") as zf:
        meta = json.loads(zf.read("metadata.json"))
    assert meta["num_timesteps"] == 320 and meta["seed"] == 3
    assert json.loads((run / "config.json").read_text())["agent"]["total_timesteps"] == 320

    # A resumed run keeps its task.
    usage_error(cli("train", "dqnimb", "--out", run, "--resume", "--seed", "4"), "--seed (saved: 3)")

    out = _ok(cli("evaluate", run, "--json"))
    report = json.loads(out.stdout)[str(run)]["DQNimb"]
    cm = np.array(report["confusion_matrix"])
    assert cm.sum() == 113 and cm[1].sum() == 42             # breast_cancer's natural test split
    recall = cm[1, 1] / cm[1].sum()
    specificity = cm[0, 0] / cm[0].sum()
    assert report["g_mean"] == pytest.approx(np.sqrt(recall * specificity))


def _interrupt_after_episodes(tmp_path, run, n_rows: int) -> subprocess.CompletedProcess:
    """Start a long AutoSMOTE run, press Ctrl-C once it has logged ``n_rows`` episodes."""
    log = run / "logs" / "progress.csv"
    proc = subprocess.Popen([sys.executable, "-m", "agents.cli", "train", "autosmote", *AUTOSMOTE_TINY,
                             "--episodes", "100000", "--out", str(run)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(1200):  # a bound on the wait, not a timing assertion
            if log.is_file() and len(log.read_text().splitlines()) > n_rows or proc.poll() is not None:
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def test_autosmote_ctrl_c_then_resume_continues_exactly(cli, tmp_path):
    run = tmp_path / "autosmote"
    stopped = _interrupt_after_episodes(tmp_path, run, 2)
    assert stopped.returncode == 130, stopped.stderr
    assert "checkpoint saved" in stopped.stderr and "--resume" in stopped.stderr
    assert "Traceback" not in stopped.stderr
    done = len(pd.read_csv(run / "metrics.csv"))
    assert done >= 2 and (run / "checkpoint.pt").is_file()

    _ok(cli("train", "autosmote", "--out", run, "--resume", "--episodes", done + 2, "--no-progress"))
    curve = pd.read_csv(run / "metrics.csv")
    assert list(curve["episode"]) == list(range(done + 2))
    assert json.loads((run / "config.json").read_text())["run"]["episodes"] == done + 2

    # The same episodes through the Python API, uninterrupted: stopping and resuming changed nothing.
    task = load_task("breast_cancer", imbalance_ratio=10, seed=0)
    env = gym.make("imbalance_gym/AutoSMOTE-v0", X=task.X_train, y=task.y_train, X_val=task.X_val,
                   y_val=task.y_val, classifier="dt", metric="macro_f1", G2=3, K=5, seed=0)
    config = HierarchicalConfig(num_actors=0, buffer_sizes=(2, 20, 20), device="cpu", progress_bar=False)
    agent = HierarchicalAgent(env, config, seed=0).learn(done + 2)
    for column in ("metric", "best", "n_synthetic", "g1"):
        assert list(curve[column]) == [row[column] for row in agent.history], column

    out = _ok(cli("evaluate", run))
    lines = out.stdout.splitlines()
    assert lines[0].split()[-6:] == ["dt", "+", "AutoSMOTE", "dt,", "no", "resampling"]
    assert lines[2].startswith("G-mean") and len(lines[2].split()) == 3


def test_autosmote_on_a_local_ray_instance(cli, tmp_path):
    pytest.importorskip("ray", reason="the distributed extra is not installed")
    run = tmp_path / "ray"
    args = [a if a != "0" else "1" for a in AUTOSMOTE_TINY]        # one Ray actor
    _ok(cli("train", "autosmote", *args, "--backend", "ray", "--episodes", 3, "--out", run, timeout=600))
    assert json.loads((run / "config.json").read_text())["agent"]["backend"] == "ray"
    assert list(pd.read_csv(run / "metrics.csv")["episode"]) == [0, 1, 2]
    # the backend is where episodes run, not part of the run: resume it on local processes
    _ok(cli("train", "autosmote", "--out", run, "--resume", "--episodes", 4, "--backend", "local", "--no-progress"))
    assert list(pd.read_csv(run / "metrics.csv")["episode"]) == [0, 1, 2, 3]


def test_sb3_on_icmdp_and_autosmote(cli, tmp_path):
    ppo = tmp_path / "ppo"
    tiny_ppo = ("--set", "n_steps=16", "--set", "batch_size=32", "--n-envs", "4", "--eval-freq", "32")
    _ok(cli("train", "sb3", "--algo", "ppo", *BC_DQN, *tiny_ppo, "--steps", "128", "--out", ppo, "--no-progress"))
    assert (ppo / "best.zip").is_file() and (ppo / "checkpoint.zip").is_file()
    saved = json.loads((ppo / "config.json").read_text())
    assert saved["agent"]["n_steps"] == 16 and saved["agent"]["gamma"] == 0.1 and saved["agent"]["n_epochs"] == 10
    _ok(cli("train", "sb3", "--out", ppo, "--resume", "--steps", "192", "--no-progress"))
    assert list(pd.read_csv(ppo / "metrics.csv")["step"]) == [32, 64, 96, 128, 160, 192]

    masked = tmp_path / "masked"
    _ok(cli("train", "sb3", "--algo", "maskable_ppo", "--dataset", "breast_cancer", "--imbalance-ratio", "10",
            "--classifier", "dt", "--G1", "1", "--G2", "2", "--K", "5", "--steps", "160", "--set", "n_steps=32",
            "--set", "batch_size=32", "--out", masked, "--no-progress"))
    curve = pd.read_csv(masked / "metrics.csv")
    assert list(curve["episode"]) == list(range(len(curve))) and len(curve) >= 2
    assert (curve["best"] == curve["metric"].cummax()).all()
    with np.load(masked / "best_synthetic.npz") as best:
        assert float(best["metric"]) == curve["metric"].max()
        assert best["synthetic"].shape[0] == best["source"].shape[0] == best["weight"].shape[0]

    png = tmp_path / "curves.png"
    _ok(cli("plot", ppo, masked, "--out", png))  # a panel over steps, one over episodes
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    out = _ok(cli("evaluate", ppo, masked, "--json"))
    result = json.loads(out.stdout)
    assert set(result[str(ppo)]) == {"SB3 ppo"}
    assert set(result[str(masked)]) == {"dt + MaskablePPO", "dt, no resampling"}
    assert np.array(result[str(masked)]["dt + MaskablePPO"]["confusion_matrix"]).sum() == 78  # IR-10 test split


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("train", "dqnimb", *BC_DQN, "--steps", "0"), "argument --steps: must be an int >= 1"),
        (("train", "sb3", "--algo", "ppo", *BC_DQN, "--n-envs", "x"), "argument --n-envs"),
        (("train", "dqnimb", "--dataset", "phonem"), "Did you mean 'phoneme'"),
        (("train", "sb3", "--dataset", "breast_cancer"), "--algo must be"),
        (("train", "sb3", "--algo", "dqn", "--classifier", "dt", *BC_DQN), "only apply to --algo maskable_ppo"),
        (("train", "autosmote", "--dataset", "breast_cancer", "--classifier", "forest"), "unknown classifier"),
        (("train", "dqnimb", "--dataset", "breast_cancer", "--set", "lr"), "--set takes FIELD=VALUE"),
        (("train", "autosmote", "--dataset", "breast_cancer", "--backend", "dask"), "argument --backend"),
        (("evaluate", "."), "is not a run directory"),
    ],
)
def test_bad_input_is_one_line_exit_2(cli, usage_error, tmp_path, args, fragment):
    out = tmp_path / "run"
    usage_error(cli(*args, *(("--out", out) if args[0] == "train" else ())), fragment)
    assert not out.exists()  # nothing is written before the checks pass


def test_missing_data_file_names_the_file(cli, usage_error, tmp_path):
    empty = tmp_path / "home"
    empty.mkdir()
    line = usage_error(cli("train", "autosmote", "--dataset", "phoneme", "--data-home", empty, "--out",
                           tmp_path / "run"), "phoneme.csv")
    assert str(empty / "phoneme") in line
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "text, fragment",
    [
        (None, "does not exist"),
        ('dataset = "breast_cancer\n', "is not valid TOML"),
        ('dataset = "breast_cancer"\nlearning_rate = 0.1\n', "unknown key(s) ['learning_rate']"),
        ('dataset = "breast_cancer"\n[agent]\nlearning_rat = 0.1\n', "unknown agent config field(s) ['learning_rat']"),
        ('dataset = "breast_cancer"\n[agent]\nlearning_rate = -1\n', "DQNImbConfig.learning_rate"),
        ('trainer = "autosmote"\ndataset = "breast_cancer"\n', "is for trainer 'autosmote'"),
    ],
)
def test_unreadable_config_is_one_line_exit_2(cli, usage_error, tmp_path, text, fragment):
    path = tmp_path / "run.toml"
    if text is not None:
        path.write_text(text)
    usage_error(cli("train", "dqnimb", "--config", path, "--out", tmp_path / "run"), fragment)
    assert not (tmp_path / "run").exists()


def test_resume_needs_a_run_of_the_same_trainer(cli, usage_error, tmp_path):
    usage_error(cli("train", "dqnimb", "--out", tmp_path, "--resume"), "is not a run directory")
    (tmp_path / "config.json").write_text(json.dumps(
        {"format": "imbalance_gym.run", "version": 1, "trainer": "autosmote", "run": {}, "agent": {}}))
    usage_error(cli("train", "dqnimb", "--out", tmp_path, "--resume"), "holds a `train autosmote` run")
    usage_error(cli("train", "autosmote", "--out", tmp_path, "--resume"), "has no checkpoint")


def test_plot_needs_the_metric_column(cli, usage_error, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(
        {"format": "imbalance_gym.run", "version": 1, "trainer": "autosmote",
         "run": {"metric": "macro_f1"}, "agent": {}}))
    usage_error(cli("plot", run, "--out", tmp_path / "x.png"), "no learning curve yet")
    pd.DataFrame({"episode": [0, 1], "metric": [0.5, 0.7]}).to_csv(run / "metrics.csv", index=False)
    usage_error(cli("plot", run, "--out", tmp_path / "x.png", "--metric", "g_mean"), "no column 'g_mean'")
    usage_error(cli("plot", run, "--out", tmp_path / "x.txt"), "must name an image file")
    assert not (tmp_path / "x.png").exists()


def test_backend_ray_without_ray_installed_is_one_line(monkeypatch, capsys, tmp_path):
    import importlib.util

    from agents.cli import main

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else find_spec(name, *a))
    out = tmp_path / "run"
    code = main(["train", "autosmote", "--dataset", "breast_cancer", "--backend", "ray", "--out", str(out)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1, lines
    assert "pip install 'imbalance-gym[distributed]'" in lines[0] and not out.exists()


def test_set_none_gives_none():
    from agents.cli._common import parse_assignments

    assert parse_assignments(["num_actors=none", "ray_address=NULL", "device=cpu"]) == {
        "num_actors": None, "ray_address": None, "device": "cpu"}
