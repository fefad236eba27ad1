"""Environment throughput: ICMDP single env and native vector env against CartPole-v1.

Measures env-steps per second under uniformly random actions (drawn before timing):

- the single :class:`ICMDPEnv` called directly and through ``gym.make``, beside
  ``CartPole-v1`` through ``gym.make`` in the same run (goal: >= 5x CartPole);
- :class:`ICMDPVectorEnv` at ``num_envs`` in {1024, 16384} for D = 64 and D = 784 float32
  features and for 28x28 uint8 images (784 pixels, the MNIST tasks' observation)
  (goals: >= 10M env-steps/s at D = 64, >= 2M at D = 784).

Every configuration is timed ``--repeats`` times in interleaved rounds and the median is
reported, so a burst of machine noise hits all configurations alike.

Usage::

    python -m benchmarks.throughput                # writes benchmarks/results/throughput.*
    python -m benchmarks.throughput --quick        # a smoke run (seconds)
"""

from __future__ import annotations

import argparse
import csv
import platform
import statistics
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import imbalance_gym  # noqa: F401  (registers the env ids)
from benchmarks import _stats
from imbalance_gym.envs import ICMDPEnv, ICMDPVectorEnv

RESULTS = Path(__file__).resolve().parent / "results"


def make_data(n_rows: int, shape: tuple[int, ...], dtype, minority: float, seed: int):
    """Synthetic features (or uint8 images) with a ``minority`` fraction of label 1."""
    rng = np.random.default_rng(seed)
    if dtype == np.uint8:
        X = rng.integers(0, 256, size=(n_rows, *shape), dtype=np.uint8)
    else:
        X = rng.normal(size=(n_rows, *shape)).astype(dtype)
    y = (rng.random(n_rows) < minority).astype(np.int64)
    y[:2] = (0, 1)
    return X, y


def time_single(env, actions: list[int]) -> float:
    """Steps/s of a single env over ``actions``, resetting on episode end."""
    env.reset(seed=0)
    step, reset = env.step, env.reset
    start = time.perf_counter()
    for a in actions:
        _, _, terminated, truncated, _ = step(a)
        if terminated or truncated:
            reset()
    return len(actions) / (time.perf_counter() - start)


def time_vector(venv, actions: np.ndarray) -> float:
    """Env-steps/s of a vector env over ``actions`` ``[T, num_envs]``."""
    venv.reset(seed=0)
    step = venv.step
    start = time.perf_counter()
    for a in actions:
        step(a)
    return actions.size / (time.perf_counter() - start)


def run(args: argparse.Namespace) -> list[dict]:
    rng = np.random.default_rng(0)
    rows: list[dict] = []

    # ---- single env vs CartPole ---------------------------------------------------------
    X, y = make_data(4096, (64,), np.float32, args.minority, seed=1)
    single_actions = rng.integers(0, 2, args.single_steps).tolist()
    singles = {
        "ICMDPEnv direct (D=64)": ICMDPEnv(X=X, y=y),
        "ICMDP-v0 via gym.make (D=64)": gym.make("imbalance_gym/ICMDP-v0", X=X, y=y),
        "CartPole-v1 via gym.make": gym.make("CartPole-v1"),
    }
    results = {name: [] for name in singles}
    for _ in range(args.repeats):
        for name, env in singles.items():
            results[name].append(time_single(env, single_actions))
    cart = statistics.median(results["CartPole-v1 via gym.make"])
    for name, values in results.items():
        med = statistics.median(values)
        rows.append({"group": "single", "config": name, "num_envs": 1,
                     "median_steps_per_s": med, "ratio_vs_cartpole": med / cart,
                     "runs": ";".join(f"{v:.0f}" for v in values)})

    # ---- vector env -----------------------------------------------------------------------
    configs = [("D=64 float32", (64,), np.float32), ("D=784 float32", (784,), np.float32),
               ("28x28 uint8 images", (1, 28, 28), np.uint8)]
    for label, shape, dtype in configs:
        X, y = make_data(args.vector_rows, shape, dtype, args.minority, seed=2)
        for num_envs in args.num_envs:
            venv = ICMDPVectorEnv(num_envs=num_envs, X=X, y=y)
            steps = max(3, args.vector_env_steps // num_envs)
            actions = rng.integers(0, 2, size=(steps, num_envs))
            time_vector(venv, actions[:2])  # warm up caches and allocations
            values = [time_vector(venv, actions) for _ in range(args.repeats)]
            rows.append({"group": "vector", "config": label, "num_envs": num_envs,
                         "median_steps_per_s": statistics.median(values),
                         "ratio_vs_cartpole": statistics.median(values) / cart,
                         "runs": ";".join(f"{v:.0f}" for v in values)})
            venv.close()
    return rows


def write(rows: list[dict], args: argparse.Namespace, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "throughput.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)

    single = {r["config"]: r for r in rows if r["group"] == "single"}
    make_ratio = single["ICMDP-v0 via gym.make (D=64)"]["ratio_vs_cartpole"]
    vec = {(r["config"], r["num_envs"]): r["median_steps_per_s"] for r in rows if r["group"] == "vector"}
    best64 = max(v for (c, _), v in vec.items() if c == "D=64 float32")
    best784f = max(v for (c, _), v in vec.items() if c == "D=784 float32")
    best784u = max(v for (c, _), v in vec.items() if c == "28x28 uint8 images")

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    lines = [
        "# ICMDP environment throughput",
        "",
        f"Command: `{args.command}`  ",
        f"Machine: {platform.machine()}, {platform.system()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}, gymnasium {gym.__version__}; CPU only.  ",
        f"Medians of {args.repeats} interleaved runs; uniformly random actions drawn before "
        f"timing; {args.minority:.0%} minority rows, so training episodes end early as they do "
        "while an agent learns.",
        "",
        "## Goals",
        "",
        "| goal | measured | status |",
        "|---|---|---|",
        f"| single env through `gym.make` >= 5x CartPole-v1 through `gym.make` | "
        f"{make_ratio:.2f}x | {verdict(make_ratio >= 5)} |",
        f"| vector env, D = 64: >= 10M env-steps/s | {best64 / 1e6:.1f}M | {verdict(best64 >= 10e6)} |",
        f"| vector env, D = 784: >= 2M env-steps/s | float32 {best784f / 1e6:.2f}M, "
        f"uint8 images {best784u / 1e6:.2f}M | float32 {verdict(best784f >= 2e6)}, "
        f"uint8 {verdict(best784u >= 2e6)} |",
        "",
        "## Single environment (same run)",
        "",
        "| configuration | steps/s (median) | x CartPole |",
        "|---|---:|---:|",
    ]
    for r in rows:
        if r["group"] == "single":
            lines.append(f"| {r['config']} | {r['median_steps_per_s']:,.0f} | {r['ratio_vs_cartpole']:.2f} |")
    lines += ["", "## Native vector environment", "",
              "| observation | num_envs | env-steps/s (median) | x CartPole |", "|---|---:|---:|---:|"]
    for r in rows:
        if r["group"] == "vector":
            lines.append(f"| {r['config']} | {r['num_envs']} | {r['median_steps_per_s']:,.0f} | "
                         f"{r['ratio_vs_cartpole']:.0f} |")
    lines += [
        "",
        "A vector step gathers one row per lane, so at D = 784 float32 (3 KB a row) the copy of "
        "the observations dominates and memory bandwidth sets the ceiling; image tasks store "
        "pixels as uint8, a quarter of the bytes. Per-lane shuffles are lazy Fisher-Yates steps "
        "from a counter-based generator (see `imbalance_gym/envs/_shuffle.py`).",
        "",
        "![throughput](throughput.png)",
        "",
    ]
    (out / "throughput.md").write_text("\n".join(lines))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    labels = [f"{r['config']}\nN={r['num_envs']}" if r["group"] == "vector" else r["config"].replace(" via ", "\nvia ")
              for r in rows]
    values = [r["median_steps_per_s"] for r in rows]
    ax.barh(range(len(rows)), values, color=["tab:gray" if "CartPole" in lab else "tab:blue" for lab in labels])
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("env-steps per second (median, log scale)")
    ax.invert_yaxis()
    ax.set_title("ICMDP throughput")
    fig.tight_layout()
    fig.savefig(out / "throughput.png", dpi=120)
    plt.close(fig)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5, help="interleaved runs per configuration")
    p.add_argument("--single-steps", type=int, default=200_000, help="steps per single-env run")
    p.add_argument("--vector-env-steps", type=int, default=8_000_000,
                   help="env-steps per vector-env run (divided over the lanes)")
    p.add_argument("--num-envs", type=int, nargs="+", default=[1024, 16384])
    p.add_argument("--vector-rows", type=int, default=4096, help="rows of the synthetic data")
    p.add_argument("--minority", type=float, default=0.05, help="fraction of minority rows")
    p.add_argument("--quick", action="store_true", help="tiny smoke run")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    if args.quick:
        args.repeats, args.single_steps, args.vector_env_steps = 1, 2000, 20_000
        args.num_envs = [64]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    args.command = _stats.command_line(argv, module="benchmarks.throughput")
    rows = run(args)
    write(rows, args, args.out)
    print((args.out / "throughput.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
