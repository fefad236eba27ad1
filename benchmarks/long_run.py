"""Memory of a long AutoSMOTE search: resident memory over 5 000 episodes on each backend.

One :class:`agents.hierarchical.HierarchicalAgent` per backend (``local``: one actor
process; ``ray``: one Ray actor on a local Ray instance) runs ``--episodes`` short
episodes in a single ``learn`` call, with the run's defaults for everything that could
grow: ``history_limit`` (1 000 rows in memory), a per-episode log on disk and a
checkpoint every ``--checkpoint-every`` episodes. Every ``--every`` episodes the
learner's resident set size (``VmRSS``) is sampled, and with the local backend the
actor process's too.

The verdict compares the growth over the second half of the run with the first half's
level: memory that is flat stays within a few MB once caches have filled, whereas a
per-episode leak grows linearly with the episodes.

Usage::

    python -m benchmarks.long_run                  # 5 000 episodes per backend
    python -m benchmarks.long_run --episodes 300   # a quick look
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

import imbalance_gym  # noqa: F401  (registers the env ids)
from agents.hierarchical import HierarchicalAgent, HierarchicalConfig
from benchmarks import _stats
from imbalance_gym.datasets import load_task
from imbalance_gym.envs import AutoSMOTEEnv

RESULTS = Path(__file__).resolve().parent / "results"


def rss_mb(pid: int | None = None) -> float:
    """Resident set size of a process in MB (Linux ``/proc``); NaN where unavailable."""
    try:
        with open(f"/proc/{pid or 'self'}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def run_backend(backend: str, episodes: int, every: int, checkpoint_every: int, seed: int) -> list[dict]:
    task = load_task("breast_cancer", imbalance_ratio=10, seed=seed)
    env = AutoSMOTEEnv(X=task.X_train, y=task.y_train, X_val=task.X_val, y_val=task.y_val, classifier="dt",
                       G2=3, K=5, seed=seed)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        cfg = HierarchicalConfig(num_actors=1, backend=backend, device="cpu", progress_bar=False,
                                 log_dir=str(Path(tmp) / "log"), checkpoint_path=str(Path(tmp) / "run.pt"),
                                 checkpoint_every=checkpoint_every)
        agent = HierarchicalAgent(env, cfg, seed=seed)
        consume = agent._consume
        start = time.perf_counter()

        def sample(record, t0):
            row = consume(record, t0)
            e = agent.num_episodes
            if e == 1 or e % every == 0:
                actor = agent.actor_pids[0] if backend == "local" and agent.actor_pids else None
                rows.append({"backend": backend, "episode": e, "learner_rss_mb": rss_mb(),
                             "actor_rss_mb": rss_mb(actor) if actor else float("nan"),
                             "history_rows": len(agent.history), "elapsed_s": time.perf_counter() - start})
            return row

        agent._consume = sample
        agent.learn(episodes)
        log_rows = sum(1 for _ in open(Path(tmp) / "log" / "progress.csv")) - 1
        for r in rows:
            r["log_rows_at_end"] = log_rows
    return rows


def verdict(frame: pd.DataFrame) -> pd.DataFrame:
    out = []
    for backend, g in frame.groupby("backend", sort=False):
        g = g.sort_values("episode")
        half = g[g["episode"] >= g["episode"].max() / 2]
        for col in ("learner_rss_mb", "actor_rss_mb"):
            if g[col].isna().all():
                continue
            first, last = half[col].iloc[0], half[col].iloc[-1]
            out.append({"backend": backend, "process": col.split("_")[0], "rss_at_start_mb": g[col].iloc[0],
                        "rss_at_half_mb": first, "rss_at_end_mb": last,
                        "growth_second_half_mb": last - first,
                        "growth_per_1000_episodes_kb": 1024 * (last - first) / max(1, g["episode"].max() / 2) * 1000})
    return pd.DataFrame(out)


def plot(frame: pd.DataFrame, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for backend, g in frame.groupby("backend", sort=False):
        ax.plot(g["episode"], g["learner_rss_mb"], label=f"{backend}: learner")
        if not g["actor_rss_mb"].isna().all():
            ax.plot(g["episode"], g["actor_rss_mb"], linestyle="--", label=f"{backend}: actor process")
    ax.set_xlabel("episode")
    ax.set_ylabel("resident memory (MB)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None) -> pd.DataFrame:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--episodes", type=int, default=5000)
    p.add_argument("--every", type=int, default=250, help="sample memory every this many episodes")
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--backends", nargs="+", choices=("local", "ray"), default=["local", "ray"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(RESULTS))
    args = p.parse_args(argv)
    if args.episodes < 2 * args.every:
        p.error("--episodes must be at least twice --every")
    command = _stats.command_line(argv, module="benchmarks.long_run")
    torch.set_num_threads(1)
    ray = None
    if "ray" in args.backends:
        from agents.hierarchical.ray_pool import require_ray

        ray = require_ray()
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    rows = []
    try:
        for backend in args.backends:
            rows += run_backend(backend, args.episodes, args.every, args.checkpoint_every, args.seed)
            print(f"{backend}: {rows[-1]['learner_rss_mb']:.0f} MB learner after {rows[-1]['episode']} episodes",
                  flush=True)
    finally:
        if ray is not None:
            ray.shutdown()
    frame = pd.DataFrame(rows)
    out = Path(args.out)
    _stats.write_csv(frame, out / "long_run.csv")
    summary = verdict(frame)
    png = plot(frame, out / "long_run.png")
    setup = (f"breast_cancer at IR 10, decision tree, G2 3, K 5, one actor; {args.episodes} episodes per backend "
             f"in one `learn` call; history_limit 1000 (default), per-episode log on disk, a checkpoint every "
             f"{args.checkpoint_every} episodes; memory sampled every {args.every} episodes. "
             f"{platform.machine()}, {os.cpu_count()} CPU core(s), torch {torch.__version__}. "
             f"The log on disk ended with {int(frame['log_rows_at_end'].iloc[-1])} rows for the last backend.")
    sections = [("Setup", setup),
                ("Resident memory", _stats.markdown_table(summary, index=False, floatfmt=".1f")
                 + "\n\n*growth_second_half*: resident memory at the end minus at the middle of the run. "
                 f"\n\n![memory]({png.name})"),
                ("Files", "`long_run.csv` (every sample).")]
    path = _stats.write_markdown(out / "long_run.md", "AutoSMOTE search: memory over a long run", sections,
                                 command=command)
    print(f"wrote {path}")
    return frame


if __name__ == "__main__":
    main()
