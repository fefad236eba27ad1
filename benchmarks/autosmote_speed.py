"""Throughput of the AutoSMOTE learner: episodes per minute and the classifier's share of wall time.

For each dataset (AutoSMOTE protocol, IR 50), base classifier and number of actor
processes, :class:`agents.hierarchical.HierarchicalAgent` runs ``--episodes`` episodes
(learner on the CPU) and its per-episode log gives:

- *episodes/min*: episodes finished per minute of wall time between the end of the
  ``--warmup``-th episode (process start, first fits) and the end of the last;
- *fit share (wall)*: time in the episodes' last environment call -- synthetic rows,
  classifier fit, validation prediction and score -- summed over the measured episodes,
  over ``actors x wall time`` (with ``--actors 0`` the episodes run in the learner's
  process: one lane). Goal: at least 80%; the rest is the agent's overhead (policy
  forward passes and sampling, the other environment calls, the learner's updates and
  the waits between). On a machine with fewer free cores than processes, a fit's wall
  time includes waiting for a core, which this share counts as fitting;
- *fit share (CPU)*: CPU seconds of those calls over all CPU seconds of the run (actors'
  episodes + the learner's updates): what fraction of the compute goes to classifier
  fits, whatever else runs on the machine;
- the same shares for acting (*policy*) and the other env calls (*env*), and the
  learner's time per episode (*learner ms*, V-trace updates included).

Two learner settings are measured: ``paper`` (steps per update ``B_h1, B_h2, B_l`` =
2, 300, 300, sec. 4.1, the agent's default) and ``batch8`` (16, 2400, 2400: the authors'
released code updates on 8 unrolls of those lengths at a time), which shows what the
number of updates costs.

A micro-benchmark of one policy forward pass in numpy (what actors use) and in torch
(``inference_mode``, one thread) on the same weights is reported alongside.

Usage::

    python -m benchmarks.autosmote_speed --data-home ../shared/datasets
    python -m benchmarks.autosmote_speed --quick          # bundled breast_cancer, seconds
    python -m benchmarks.autosmote_speed --datasets mozilla4 --classifiers svm --append

``--append`` keeps the rows of earlier runs in the csv (replacing those measured again)
and rewrites the markdown from all of them, so a long benchmark can run in parts.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import imbalance_gym  # noqa: F401  (registers the env ids)
from agents.hierarchical import HierarchicalAgent, HierarchicalConfig
from agents.hierarchical.policies import (
    CROSS_INSTANCE,
    INSTANCE_SPECIFIC,
    LOW_LEVEL,
    NumpyPolicies,
    PolicySpec,
    flat_parameters,
    make_policies,
    parameter_layout,
)
from imbalance_gym.envs import AutoSMOTEEnv

RESULTS = Path(__file__).resolve().parent / "results"
SETTINGS = {"paper": (2, 300, 300), "batch8": (16, 2400, 2400)}
KEY = ("setting", "dataset", "classifier", "actors")


def run_case(dataset: str, classifier: str, ir: float, actors: int, setting: str, episodes: int, warmup: int,
             seed: int, data_home) -> dict:
    """One agent run; shares and rates over the episodes after ``warmup``."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    env = AutoSMOTEEnv(dataset=dataset, imbalance_ratio=ir, data_home=data_home, classifier=classifier, seed=seed)
    cfg = HierarchicalConfig(num_actors=actors, buffer_sizes=SETTINGS[setting], device="cpu", progress_bar=False)
    agent = HierarchicalAgent(env, cfg, seed=seed)
    start = time.perf_counter()
    agent.learn(episodes)
    total = time.perf_counter() - start
    h = agent.history
    measured = h[warmup:]
    # The window runs from the end of the last warm-up episode to the end of the last episode
    # (actors' wall clocks). Each episode's phases are laid out backwards from its end: the
    # last call (classifier) just before it, the acting before that (policy and env calls
    # interleaved, split in proportion); what falls inside the window counts.
    t0 = h[warmup - 1]["t_end"]
    t1 = max(r["t_end"] for r in h)
    window = t1 - t0
    lanes = max(1, actors)

    def overlap(end: float, length: float) -> float:
        return max(0.0, min(end, t1) - max(end - length, t0))

    fit = policy = env_calls = 0.0
    for r in h:
        fit += overlap(r["t_end"], r["reward_s"])
        acting = r["policy_s"] + r["env_s"]
        if acting > 0:
            frac = overlap(r["t_end"] - r["reward_s"], acting) / acting
            policy += frac * r["policy_s"]
            env_calls += frac * r["env_s"]
    n_inside = sum(1 for r in h if t0 < r["t_end"] <= t1)

    return {
        "setting": setting, "dataset": dataset, "classifier": classifier, "actors": actors,
        "n_train": int(env.X_train.shape[0]), "n_min": int(env.n_minority), "G1": int(env.G1),
        "episodes": n_inside, "warmup": warmup, "wall_s": window, "total_s": total,
        "episodes_per_min": 60.0 * n_inside / window, "fit_share": fit / (lanes * window),
        "fit_cpu_share": sum(r["reward_cpu_s"] for r in measured)
        / sum(r["cpu_s"] + r["learner_cpu_s"] for r in measured),
        "policy_share": policy / (lanes * window), "env_share": env_calls / (lanes * window),
        "fit_ms": 1e3 * statistics.mean(r["reward_s"] for r in measured),
        "learner_ms": 1e3 * statistics.mean(r["learner_s"] for r in measured),
        "rows": statistics.mean(r["n_synthetic"] for r in measured),
        "updates_per_episode": (h[-1]["updates"] - h[warmup - 1]["updates"]) / len(measured),
        "policy_lag": statistics.mean(r["policy_lag"] for r in measured),
        "best": agent.best_.metric, "load_avg": load,
    }


def forward_costs(D: int = 5, K: int = 30, G1: int = 20, G2: int = 10, repeats: int = 2000) -> dict[str, float]:
    """Microseconds per forward pass of one state, numpy vs torch, on the same weights."""
    spec = PolicySpec(state_features=D + 14, neighbour_features=10 + D, K=K, n_g1=G1 + 1, n_g2=G2 + 1, flat=False)
    torch.manual_seed(0)
    nets = make_policies(spec, (CROSS_INSTANCE, INSTANCE_SPECIFIC, LOW_LEVEL))
    acting = NumpyPolicies(parameter_layout(nets), 2, flat_parameters(nets))
    rng = np.random.default_rng(0)
    x = rng.normal(size=D + 14).astype(np.float32)
    nf = rng.normal(size=(K, 10 + D)).astype(np.float32)
    xt, nft = torch.as_tensor(x[None]), torch.as_tensor(nf[None])

    def per_call(fn) -> float:
        for _ in range(50):
            fn()
        t = time.perf_counter()
        for _ in range(repeats):
            fn()
        return 1e6 * (time.perf_counter() - t) / repeats

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            return {
                "numpy_discrete_us": per_call(lambda: acting.discrete(INSTANCE_SPECIFIC, x)),
                "torch_discrete_us": per_call(lambda: nets[INSTANCE_SPECIFIC](xt)),
                "numpy_pairs_us": per_call(lambda: acting.pairs(LOW_LEVEL, x, nf)),
                "torch_pairs_us": per_call(lambda: nets[LOW_LEVEL](xt, nft)),
            }
    finally:
        torch.set_num_threads(threads)


def read_rows(path: Path) -> list[dict]:
    """Rows of an earlier csv (``--append``)."""
    return pd.read_csv(path).to_dict("records") if path.exists() else []


def write(rows: list[dict], costs: dict[str, float], stem: Path) -> None:
    stem.parent.mkdir(parents=True, exist_ok=True)
    rows = sorted(rows, key=lambda r: (list(SETTINGS).index(r["setting"]), r["dataset"], r["classifier"], r["actors"]))
    pd.DataFrame(rows).to_csv(stem.with_suffix(".csv"), index=False)
    lines = [
        "# AutoSMOTE learner throughput",
        "",
        "Commands (the csv's rows came from these runs):",
        "",
        *[f"    {c}" for c in dict.fromkeys(r["command"] for r in rows)],
        "",
        f"Machine: {platform.machine()}, {torch.get_num_threads()} torch threads available, Python "
        f"{platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}, {os.cpu_count()} "
        "CPU cores shared with other jobs (*load*: the 1-minute load average when a run started; above the "
        "core count, processes wait for a core, and 2 actors cannot run twice as fast as 1). Learner on the CPU.",
        "",
        "*ep/min*: episodes finished per minute between the end of the warm-up episodes (2 per actor) and the "
        "end of the last. *fit wall*: share of `actors x wall time` spent "
        "in the episodes' last env call (rows + classifier fit + validation score; on an oversubscribed machine "
        "this includes waiting for a core); *fit CPU*: CPU seconds of those calls over all CPU seconds of the "
        "actors' episodes and the learner's updates; *policy*: forward passes and sampling (wall share); *env*: "
        "the other env calls (wall share). *learner ms*: learner time per episode (buffers, V-trace updates, "
        "publishing weights). *upd/ep*: gradient steps per episode (all levels). *lag*: mean policy lag "
        "(episodes between the weights an episode acted with and the learner's). With 0 actors the episodes run "
        "in the learner's process.",
        "",
    ]
    for setting, sizes in SETTINGS.items():
        sub = [r for r in rows if r["setting"] == setting]
        if not sub:
            continue
        lines += [f"## `{setting}`: steps per update (B_h1, B_h2, B_l) = {sizes}", "",
                  "| dataset | clf | N_min | G1 | actors | episodes | ep/min | fit wall | fit CPU | policy | env "
                  "| fit ms | learner ms | upd/ep | rows | lag | load |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in sub:
            lines.append(
                f"| {r['dataset']} | {r['classifier']} | {r['n_min']} | {r['G1']} | {r['actors']} | {r['episodes']} "
                f"| {r['episodes_per_min']:.1f} | {100 * r['fit_share']:.0f}% | {100 * r['fit_cpu_share']:.0f}% "
                f"| {100 * r['policy_share']:.0f}% "
                f"| {100 * r['env_share']:.0f}% | {r['fit_ms']:.0f} | {r['learner_ms']:.0f} "
                f"| {r['updates_per_episode']:.1f} | {r['rows']:.0f} | {r['policy_lag']:.1f} | {r['load_avg']:.1f} |"
            )
        lines.append("")
    lines += ["## Goal: fit share >= 80% (CPU share; wall share in brackets)", ""]
    for setting in SETTINGS:
        sub = [r for r in rows if r["setting"] == setting]
        if sub:
            def name(r):
                return (f"{r['dataset']}/{r['classifier']}/{r['actors']} actors "
                        f"({100 * r['fit_cpu_share']:.0f}% [{100 * r['fit_share']:.0f}%])")
            met = [name(r) for r in sub if r["fit_cpu_share"] >= 0.8]
            missed = [name(r) for r in sub if r["fit_cpu_share"] < 0.8]
            lines.append(f"- `{setting}`: met for {', '.join(met) or 'none'}; missed for {', '.join(missed) or 'none'}.")
    lines += [
        "",
        "Where the rest goes: per minority instance an episode makes two forward passes and one env call "
        "(*policy*, *env*); per episode the learner makes one gradient step per `B` buffered steps of each "
        "level (*upd/ep*), each with a V-trace pass whose loop runs over the longest low-level episode in "
        "the batch (up to `G1 G2` = 200 steps at IR 50). With classifiers whose fits take tens of "
        "milliseconds (dt) that work outweighs the fits; with fits of a second (svm, the environments' "
        "default base classifier) it does not. Fewer, larger updates (`batch8`) cut the learner's share.",
        "",
        "## One policy forward pass (one state; mozilla4 sizes D = 5, K = 30, G1 = 20)",
        "",
        "| network | numpy us | torch us |",
        "|---|---|---|",
        f"| instance-specific (128-128 MLP, 11 logits) | {costs['numpy_discrete_us']:.1f} | {costs['torch_discrete_us']:.1f} |",
        f"| low-level (body + pair scorer, 150 pairs) | {costs['numpy_pairs_us']:.1f} | {costs['torch_pairs_us']:.1f} |",
        "",
        "An episode takes 1 + 2 N_min of these (at most): actors use the numpy mirror.",
    ]
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["phoneme", "mozilla4"])
    parser.add_argument("--classifiers", nargs="+", default=["dt", "svm"])
    parser.add_argument("--actors", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--imbalance-ratio", type=float, default=50)
    parser.add_argument("--episodes", type=int, default=24, help="episodes per run (warm-up included)")
    parser.add_argument("--svm-episodes", type=int, default=None, help="episodes per svm run (default --episodes)")
    parser.add_argument("--warmup", type=int, default=None, help="episodes left out (default 2 x max(1, actors))")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--out", default=str(RESULTS / "autosmote_speed"))
    parser.add_argument("--append", action="store_true", help="keep earlier rows of the csv")
    parser.add_argument("--quick", action="store_true", help="bundled breast_cancer at IR 5, a few episodes")
    args = parser.parse_args(argv)
    if args.quick:
        args.datasets, args.imbalance_ratio, args.episodes = ["breast_cancer"], 5, 6
    command = "python -m benchmarks.autosmote_speed " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    stem = Path(args.out)
    rows = read_rows(stem.with_suffix(".csv")) if args.append else []
    for setting in args.settings:
        for dataset in args.datasets:
            for clf in args.classifiers:
                for actors in args.actors:
                    episodes = args.svm_episodes if clf == "svm" and args.svm_episodes else args.episodes
                    warmup = args.warmup if args.warmup is not None else 2 * max(1, actors)
                    if episodes <= warmup:
                        raise SystemExit(f"--episodes ({episodes}) must exceed the warm-up ({warmup})")
                    row = run_case(dataset, clf, args.imbalance_ratio, actors, setting, episodes, warmup,
                                   args.seed, args.data_home)
                    row["command"] = command
                    rows = [r for r in rows if tuple(r[k] for k in KEY) != tuple(row[k] for k in KEY)] + [row]
                    print(f"{setting} {dataset} {clf} actors={actors}: {row['episodes_per_min']:.1f} ep/min, "
                          f"fit {100 * row['fit_share']:.0f}% wall / {100 * row['fit_cpu_share']:.0f}% CPU, "
                          f"policy {100 * row['policy_share']:.0f}%, env {100 * row['env_share']:.0f}%, "
                          f"learner {row['learner_ms']:.0f} ms/ep", flush=True)
    write(rows, forward_costs(), stem)
    print(stem.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
