"""``imbalance-gym evaluate RUN_DIR...``: test-split metrics of saved runs, as one table.

The task is rebuilt from the run's saved config (dataset, protocol, seed: the same
splits as in training) and the checkpoint is loaded with the agent's own ``load``:
``torch.load(..., weights_only=True)`` for DQNimb and AutoSMOTE runs; SB3 runs load
through :func:`agents.sb3.load_model`, which never unpickles the zip's serialized
entries (they are rebuilt from the run's config). A DQNimb or SB3 ICMDP run labels the test
split with its selected policy; an AutoSMOTE run refits its base classifier on the
training split plus the best synthetic rows (with the seed of the episode that found
them) and scores the test split, next to the same classifier without resampling.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from agents.cli._common import METRIC_LABELS, check_device, format_table, load_task, status, task_summary
from agents.cli._runs import read_run, trainer_of


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="test metrics of saved runs, as a table",
                       description="Score saved runs (from `imbalance-gym train`) on their task's test split.")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run directories written by `train --out`")
    p.add_argument("--data-home", help="dataset folder, if not the one the run was trained with")
    p.add_argument("--device", help="torch device to load on (default: the run's; cpu when it has no GPU here)")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON instead of a table")
    p.set_defaults(handler=run)


def evaluate_run(run_dir: Path, data_home: str | None, device: str | None, quiet: bool) -> dict[str, dict]:
    """``{column label: classification report}`` of one run on its test split."""
    config = read_run(run_dir)
    trainer = trainer_of(config)
    trainer.require_checkpoint(run_dir)
    r = config.run
    task = load_task(r["dataset"], ratio=r["ratio"], imbalance_ratio=r["imbalance_ratio"], seed=r["seed"],
                     data_home=data_home if data_home is not None else r["data_home"])
    status(f"{run_dir}: {task_summary(task)}", enabled=not quiet)
    if device is None and str(config.agent.get("device", "")).startswith("cuda"):
        import torch

        if not torch.cuda.is_available():  # a run trained on a GPU, scored on a machine without one
            device = "cpu"
    return trainer.evaluate(run_dir, config, task, device)


def run(args: argparse.Namespace) -> int:
    dirs = [Path(d) for d in args.run_dirs]
    for d in dirs:  # every run is checked before any is loaded
        read_run(d)
    check_device(args.device)
    results = {str(d): evaluate_run(d, args.data_home, args.device, args.json) for d in dirs}
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    columns = [(f"{d}: {label}" if len(dirs) > 1 else label, report)
               for d, per_run in results.items() for label, report in per_run.items()]
    rows = [[METRIC_LABELS[key], *(report.get(key) for _, report in columns)] for key in METRIC_LABELS]
    rows.append(["confusion [[TN FP] [FN TP]]",
                 *(str(report["confusion_matrix"]).replace(",", "") for _, report in columns)])
    print(format_table(["test split", *(label for label, _ in columns)], rows))
    return 0
