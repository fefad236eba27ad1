"""Scaling of the AutoSMOTE search: episodes per minute with 1, 2 and 4 actors on each backend.

For each repeat, number of actors and backend (``local``: actor processes;
``ray``: Ray core actors on a local Ray instance started once by this script), one
:class:`agents.hierarchical.HierarchicalAgent` on the same task and seed runs
``warmup x actors + episodes`` episodes in one ``learn`` call. The rate counts the
episodes the learner consumed between the end of the warm-up (actors started, first
fits done) and the end of the run, per minute of the learner's wall clock
(``history[i]["wall_s"]``); the first episode's time is reported apart as the start-up.

Backends run side by side inside every repeat (local, ray, local, ray, ...) so that
both see the same machine; the tables give medians over repeats, and the Ray overhead
is the median of the per-repeat ratios ``ray / local`` at equal actors.

The local Ray instance gets as many logical CPUs as the most actors measured, so that
4 actors on a 2-core machine oversubscribe the cores exactly as 4 actor processes do.

Usage::

    python -m benchmarks.scaling --data-home ../shared/datasets          # phoneme, IR 20, SVM
    python -m benchmarks.scaling --quick                                  # bundled data, a minute
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import imbalance_gym  # noqa: F401  (registers the env ids)
from agents.hierarchical import HierarchicalAgent, HierarchicalConfig
from benchmarks import _stats
from imbalance_gym.datasets import load_task
from imbalance_gym.envs import AutoSMOTEEnv

RESULTS = Path(__file__).resolve().parent / "results"
BACKENDS = ("local", "ray")


def make_env(dataset: str, imbalance_ratio: float, classifier: str, seed: int, data_home) -> AutoSMOTEEnv:
    """The AutoSMOTE env of a task (train + validation splits of the AutoSMOTE protocol)."""
    task = load_task(dataset, imbalance_ratio=imbalance_ratio, seed=seed, data_home=data_home)
    return AutoSMOTEEnv(X=task.X_train, y=task.y_train, X_val=task.X_val, y_val=task.y_val,
                        classifier=classifier, seed=seed)


def run_case(env: AutoSMOTEEnv, backend: str, actors: int, episodes: int, warmup: int, seed: int) -> dict:
    """One run; the steady rate over the episodes after ``warmup x actors``."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    first = warmup * actors
    cfg = HierarchicalConfig(num_actors=actors, backend=backend, device="cpu", progress_bar=False,
                             history_limit=None)
    agent = HierarchicalAgent(env, cfg, seed=seed)
    start = time.perf_counter()
    agent.learn(first + episodes)
    total = time.perf_counter() - start
    h = agent.history
    window = h[-1]["wall_s"] - h[first - 1]["wall_s"]
    return {"backend": backend, "actors": actors, "episodes": episodes, "warmup": first,
            "episodes_per_min": 60.0 * episodes / window, "window_s": window,
            "startup_s": h[0]["wall_s"], "total_s": total,
            "fit_ms": 1e3 * statistics.mean(r["reward_s"] for r in h[first:]),
            "best": agent.best_.metric, "load_avg": load}


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Medians per backend and actors; speed-up over 1 actor; Ray over local at equal actors."""
    med = runs.groupby(["backend", "actors"], sort=True).agg(
        episodes_per_min=("episodes_per_min", "median"), startup_s=("startup_s", "median"),
        fit_ms=("fit_ms", "median"), repeats=("episodes_per_min", "size")).reset_index()
    one = med[med["actors"] == 1].set_index("backend")["episodes_per_min"]
    med["speedup_vs_1"] = med["episodes_per_min"] / med["backend"].map(one)
    wide = runs.pivot_table(index=["repeat", "actors"], columns="backend", values="episodes_per_min")
    if set(BACKENDS) <= set(wide.columns):
        ratio = (wide["ray"] / wide["local"]).groupby(level="actors").median()
        med["ray_over_local"] = med["actors"].map(ratio)
    return med


def plot(summary: pd.DataFrame, path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for backend, group in summary.groupby("backend"):
        ax.plot(group["actors"], group["episodes_per_min"], marker="o", label=backend)
    ax.set_xlabel("actors")
    ax.set_xticks(sorted(summary["actors"].unique()))
    ax.set_ylabel("episodes / min (median)")
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write(runs: pd.DataFrame, args: argparse.Namespace, command: str, env: AutoSMOTEEnv) -> Path:
    out = Path(args.out)
    summary = summarize(runs)
    _stats.write_csv(runs, out / "scaling_runs.csv")
    _stats.write_csv(summary, out / "scaling.csv")
    task = (f"{args.dataset}, IR {args.imbalance_ratio:g}, classifier {args.classifier}: "
            f"{env.X_train.shape[0]} training rows ({env.n_minority} minority), G1 {env.G1}")
    png = plot(summary, out / "scaling.png", task)
    table = summary.rename(columns={"episodes_per_min": "ep/min", "speedup_vs_1": "x 1 actor",
                                    "ray_over_local": "ray / local", "startup_s": "first episode s"})
    cores = os.cpu_count()
    loads = runs["load_avg"]
    setup = "\n".join([
        f"- Task: {task}; seed {args.seed}; learner on the CPU (one torch thread).",
        f"- Each run: {args.warmup} warm-up episode(s) per actor, then {args.episodes} measured episodes; "
        f"{args.repeats} repeats, backends side by side in every repeat; medians over repeats.",
        f"- Machine: {platform.machine()}, {cores} CPU core(s), Python {platform.python_version()}, "
        f"torch {torch.__version__}; 1-minute load average when runs started: "
        f"{loads.min():.1f} to {loads.max():.1f}.",
        f"- Ray: a local instance with {int(runs['actors'].max())} logical CPUs (so that it oversubscribes "
        "the cores as the actor processes do).",
    ])
    notes = ("*ep/min*: episodes per minute after the warm-up. *x 1 actor*: over the same backend with one "
             "actor. *ray / local*: median over repeats of the ratio at equal actors (1.0 = no overhead). "
             "*first episode s*: from `learn()` to the first episode consumed (actor start-up included). "
             f"With {cores} cores, more than {cores} actors only share the cores (and the learner needs "
             "one too), so the rate flattens; a cluster adds cores, not speed per core.")
    sections = [("Setup", setup), ("Episodes per minute", _stats.markdown_table(table, index=False, floatfmt=".2f")
                                   + "\n\n" + notes + f"\n\n![scaling]({png.name})"),
                ("Files", "`scaling.csv` (medians), `scaling_runs.csv` (every run).")]
    return _stats.write_markdown(out / "scaling.md", "AutoSMOTE search: scaling over actors and backends",
                                 sections, command=command)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dataset", help="catalog name (default phoneme; --quick: breast_cancer)")
    p.add_argument("--imbalance-ratio", type=float, help="IR of the task (default 20; --quick: 10)")
    p.add_argument("--classifier", help="base classifier (default svm; --quick: dt)")
    p.add_argument("--actors", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    p.add_argument("--episodes", type=int, help="measured episodes per run (default 24; --quick: 8)")
    p.add_argument("--warmup", type=int, default=2, help="warm-up episodes per actor")
    p.add_argument("--repeats", type=int, help="repeats (default 3; --quick: 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-home", default=None, help="dataset folder (default: IMBALANCE_GYM_DATA)")
    p.add_argument("--quick", action="store_true", help="defaults for a minute on bundled data")
    p.add_argument("--out", default=str(RESULTS), help="output folder")
    args = p.parse_args(argv)
    defaults = ({"dataset": "breast_cancer", "imbalance_ratio": 10.0, "classifier": "dt", "repeats": 1, "episodes": 8}
                if args.quick else
                {"dataset": "phoneme", "imbalance_ratio": 20.0, "classifier": "svm", "repeats": 3, "episodes": 24})
    for name, value in defaults.items():  # flags given explicitly win over the preset
        if getattr(args, name) is None:
            setattr(args, name, value)
    if min(args.actors) < 1 or args.episodes < 2 or args.warmup < 1 or args.repeats < 1:
        p.error("--actors >= 1, --episodes >= 2, --warmup >= 1 and --repeats >= 1")
    return args


def main(argv=None) -> pd.DataFrame:
    args = parse_args(argv)
    command = _stats.command_line(argv, module="benchmarks.scaling")
    torch.set_num_threads(1)
    np.random.seed(args.seed)
    env = make_env(args.dataset, args.imbalance_ratio, args.classifier, args.seed, args.data_home)
    ray = None
    if "ray" in args.backends:
        from agents.hierarchical.ray_pool import require_ray

        ray = require_ray()
        ray.init(address="local", num_cpus=max(args.actors), include_dashboard=False, log_to_driver=False)
    rows = []
    try:
        for repeat in range(args.repeats):
            for actors in args.actors:
                for backend in args.backends:
                    row = run_case(env, backend, actors, args.episodes, args.warmup, args.seed)
                    rows.append({"repeat": repeat, **row})
                    print(f"repeat {repeat} {backend:5s} {actors} actor(s): {row['episodes_per_min']:.1f} ep/min "
                          f"(load {row['load_avg']:.1f})", flush=True)
    finally:
        if ray is not None:
            ray.shutdown()
    runs = pd.DataFrame(rows)
    path = write(runs, args, command, env)
    print(f"wrote {path}")
    return runs


if __name__ == "__main__":
    main()
