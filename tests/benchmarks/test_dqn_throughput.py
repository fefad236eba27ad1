"""benchmarks.dqn_throughput: a seconds-long run checks both learners do the same work."""

from __future__ import annotations

import pandas as pd

from benchmarks import dqn_throughput as T


def test_quick_run_matches_replay_ratio_and_writes_results(tmp_path):
    table = T.main(["--quick", "--cases", "mlp", "--mlp-steps", "64", "--num-envs", "4", "--rows", "300",
                    "--features", "8", "--out", str(tmp_path), "--no-progress"])
    assert len(table) == 1 and table["num_envs"].tolist() == [4]
    runs = pd.read_csv(tmp_path / "dqn_throughput_runs.csv")
    assert set(runs["learner"]) == {"DQNImb (ours)", "SB3 DQN"}
    # Same transitions and one gradient step per transition on both sides.
    assert (runs["env_steps"] == 64).all() and (runs["grad_steps"] == runs["env_steps"]).all()
    assert table["ours_grad_per_env_step"].iloc[0] == table["sb3_grad_per_env_step"].iloc[0] == 1.0
    text = (tmp_path / "dqn_throughput.md").read_text()
    assert "python -m benchmarks.dqn_throughput --quick" in text and "Goal (ours >= 2x" in text


def test_synthetic_data_is_seeded_and_imbalanced():
    case = T.Case("img", (1, 28, 28), "uint8", "cnn", 10)
    X1, y1 = T.make_data(case, 200, 0.05, seed=3)
    X2, y2 = T.make_data(case, 200, 0.05, seed=3)
    assert (X1 == X2).all() and (y1 == y2).all() and X1.dtype.name == "uint8"
    assert y1.sum() == round(200 * 0.05 / 1.05)
