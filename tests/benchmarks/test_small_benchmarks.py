"""Seconds-long runs of the benchmark scripts without a test file of their own.

Each checks that the script runs end to end on bundled data, writes its markdown + csv
(+ png) with the command that made them, and that its numbers are the ones it claims.
"""

from __future__ import annotations

import pandas as pd
import pytest

from benchmarks import autosmote_speed, crcen_table, scaling, throughput


def test_throughput_quick_writes_ratios_to_the_reference(tmp_path):
    throughput.main(["--quick", "--out", str(tmp_path)])
    text = (tmp_path / "throughput.md").read_text()
    assert "python -m benchmarks.throughput --quick" in text and "CartPole" in text
    assert list(tmp_path.glob("throughput*.csv")) and list(tmp_path.glob("throughput*.png"))


def test_crcen_table_on_bundled_data(tmp_path):
    code = crcen_table.main(["--datasets", "breast_cancer", "--seeds", "0", "--max-epochs", "2", "--patience", "1",
                             "--hidden", "8", "--out", str(tmp_path), "--no-progress"])
    assert code == 0
    runs = pd.read_csv(tmp_path / "crcen_table.runs.csv")
    assert set(runs["dataset"]) == {"breast_cancer"} and set(runs["seed"]) == {0}
    assert len(set(runs["method"])) == len(runs) >= 3          # one row per method
    assert "python -m benchmarks.crcen_table" in (tmp_path / "crcen_table.md").read_text()


def test_autosmote_speed_quick(tmp_path):
    autosmote_speed.main(["--quick", "--classifiers", "dt", "--actors", "0", "--settings", "paper", "--out", str(tmp_path / "speed")])
    rows = pd.read_csv(tmp_path / "speed.csv")
    assert len(rows) == 1 and rows["episodes"].iloc[0] >= 1
    assert 0.0 < rows["fit_cpu_share"].iloc[0] <= 1.0
    assert "python -m benchmarks.autosmote_speed --quick" in (tmp_path / "speed.md").read_text()


def test_scaling_quick_on_the_local_backend(tmp_path):
    runs = scaling.main(["--quick", "--backends", "local", "--actors", "1", "2", "--episodes", "3", "--warmup", "1",
                         "--out", str(tmp_path)])
    assert list(runs["actors"]) == [1, 2] and (runs["episodes"] == 3).all() and list(runs["warmup"]) == [1, 2]
    assert (runs["episodes_per_min"] > 0).all() and (runs["window_s"] > 0).all()
    assert (runs["episodes_per_min"] == 60 * 3 / runs["window_s"]).all()
    summary = pd.read_csv(tmp_path / "scaling.csv")
    two = summary.set_index("actors")
    assert two.loc[2, "speedup_vs_1"] == pytest.approx(two.loc[2, "episodes_per_min"] / two.loc[1, "episodes_per_min"])
    text = (tmp_path / "scaling.md").read_text()
    assert "python -m benchmarks.scaling --quick" in text and (tmp_path / "scaling.png").is_file()


def test_long_run_samples_memory_and_writes_the_report(tmp_path):
    from benchmarks import long_run

    frame = long_run.main(["--episodes", "20", "--every", "5", "--checkpoint-every", "5", "--backends", "local",
                           "--out", str(tmp_path)])
    assert list(frame["episode"]) == [1, 5, 10, 15, 20]
    assert (frame["learner_rss_mb"] > 0).all() and (frame["actor_rss_mb"] > 0).all()
    assert (frame["log_rows_at_end"] == 20).all()
    assert "python -m benchmarks.long_run --episodes 20" in (tmp_path / "long_run.md").read_text()
