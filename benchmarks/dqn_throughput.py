"""DQNimb training throughput against Stable-Baselines3's DQN on the same problem.

Both learners train on the ICMDP of the same seeded data with the same Q-network (our
body from :mod:`agents.networks`, handed to SB3 through a small feature-extractor
adapter with ``net_arch=[]``, so both nets are body + one linear head), the same batch
size (64), replay size (50 000), learning rate, discount, epsilon schedule, Huber loss,
gradient clipping (norm 10, SB3's default) and target period (1 000 gradient steps), and
the same replay ratio: one gradient step per collected transition (Algorithm 1; SB3 with
``train_freq=1`` and ``gradient_steps=-1``, i.e. one step per transition of every lane).
Training starts at once (``learning_starts=0``), and there is no validation pass, so the
timed loop is collection plus updates on both sides.

At ``num_envs = E`` our agent steps the native :class:`~imbalance_gym.envs.ICMDPVectorEnv`
and SB3 a ``DummyVecEnv`` of ``E`` :class:`~imbalance_gym.envs.ICMDPEnv` lanes over the
same data. Cases: tabular features through the MLP body (256, 256) and MNIST-shaped
uint8 images through DQNimb's CNN (Table III). Every configuration runs ``--repeats``
times in interleaved rounds in one process with the same torch thread count; the
tables report medians and the ours / SB3 ratio of those medians.

Usage::

    python -m benchmarks.dqn_throughput                 # writes benchmarks/results/dqn_throughput.*
    python -m benchmarks.dqn_throughput --quick --out runs/throughput   # smoke run (seconds)
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from benchmarks import _stats

RESULTS = Path(__file__).resolve().parent / "results"
GOAL = 2.0  # ours >= 2x SB3 env steps/s


@dataclass(frozen=True)
class Case:
    """One throughput problem: data shape, network and how many transitions to time."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    network: str
    steps: int


def make_data(case: Case, n_rows: int, rho: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded synthetic data of the case's shape with minority share ``rho / (1 + rho)``."""
    rng = np.random.default_rng(seed)
    n_min = max(2, int(round(n_rows * rho / (1 + rho))))
    y = np.zeros(n_rows, np.int64)
    y[rng.choice(n_rows, n_min, replace=False)] = 1
    if case.dtype == "uint8":
        X = rng.integers(0, 200, size=(n_rows, *case.shape), dtype=np.uint8)
        X[y == 1] += 55  # brighter minority images
    else:
        X = rng.normal(size=(n_rows, *case.shape)).astype(np.float32)
        X[y == 1] += 1.0
    return X, y


def shared_hyperparameters(network: str) -> dict:
    """Settings both learners get (SB3 names)."""
    return dict(learning_rate=2.5e-4, buffer_size=50_000, batch_size=64, gamma=0.1,
                exploration_fraction=0.1, exploration_initial_eps=1.0, exploration_final_eps=0.01,
                target_update_interval=1_000, learning_starts=0, max_grad_norm=10.0,
                hidden_sizes=(256, 256), network=network)


def run_ours(X, y, case: Case, num_envs: int, seed: int) -> tuple[float, int, int]:
    """Train DQNImb for ``case.steps`` transitions; returns (seconds, transitions, updates)."""
    import gymnasium as gym

    import imbalance_gym  # noqa: F401
    from agents.dqn import DQNImb, DQNImbConfig

    h = shared_hyperparameters(case.network)
    cfg = DQNImbConfig(total_timesteps=case.steps, learning_rate=h["learning_rate"],
                       buffer_size=h["buffer_size"], batch_size=h["batch_size"], gamma=h["gamma"],
                       exploration_fraction=h["exploration_fraction"], epsilon_start=h["exploration_initial_eps"],
                       epsilon_end=h["exploration_final_eps"], target_update_interval=h["target_update_interval"],
                       learning_starts=h["learning_starts"], max_grad_norm=h["max_grad_norm"], loss="huber",
                       hidden_sizes=h["hidden_sizes"], network=h["network"], num_envs=num_envs,
                       device="cpu", progress_bar=False)
    env = gym.make_vec("imbalance_gym/ICMDP-v0", num_envs=num_envs, X=X, y=y)
    agent = DQNImb(env, cfg, seed=seed)
    start = time.perf_counter()
    agent.learn()
    elapsed = time.perf_counter() - start
    return elapsed, agent.num_timesteps, agent.num_updates


def _sb3_extractor():
    """SB3 feature extractor that is exactly our network body (defined lazily: SB3 import)."""
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

    from agents.networks import make_body

    class BodyExtractor(BaseFeaturesExtractor):
        """Our :func:`agents.networks.make_body` as an SB3 features extractor."""

        def __init__(self, observation_space, network: str = "auto", hidden_sizes=(256, 256)):
            body = make_body(observation_space, network, hidden_sizes)
            super().__init__(observation_space, body.out_features)
            self.body = body

        def forward(self, observations: torch.Tensor) -> torch.Tensor:
            return self.body(observations)

    return BodyExtractor


def run_sb3(X, y, case: Case, num_envs: int, seed: int) -> tuple[float, int, int]:
    """Train SB3's DQN for ``case.steps`` transitions; returns (seconds, transitions, updates)."""
    from stable_baselines3 import DQN
    from stable_baselines3.common.vec_env import DummyVecEnv

    from imbalance_gym.envs import ICMDPEnv

    h = shared_hyperparameters(case.network)
    venv = DummyVecEnv([lambda i=i: ICMDPEnv(X=X, y=y, seed=seed + i) for i in range(num_envs)])
    policy_kwargs = dict(features_extractor_class=_sb3_extractor(),
                         features_extractor_kwargs=dict(network=h["network"], hidden_sizes=h["hidden_sizes"]),
                         net_arch=[])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = DQN("MlpPolicy", venv, learning_rate=h["learning_rate"], buffer_size=h["buffer_size"],
                    learning_starts=h["learning_starts"], batch_size=h["batch_size"], gamma=h["gamma"],
                    train_freq=1, gradient_steps=-1, target_update_interval=h["target_update_interval"],
                    exploration_fraction=h["exploration_fraction"],
                    exploration_initial_eps=h["exploration_initial_eps"],
                    exploration_final_eps=h["exploration_final_eps"], max_grad_norm=h["max_grad_norm"],
                    policy_kwargs=policy_kwargs, device="cpu", seed=seed, verbose=0)
        start = time.perf_counter()
        model.learn(case.steps)
        elapsed = time.perf_counter() - start
    return elapsed, int(model.num_timesteps), int(model._n_updates)


RUNNERS = {"DQNImb (ours)": run_ours, "SB3 DQN": run_sb3}


def measure(cases: Sequence[Case], num_envs: Sequence[int], repeats: int, n_rows: int, seed: int,
            progress: bool = True) -> pd.DataFrame:
    """Interleaved rounds: every (case, num_envs, learner) once per round; one row per run."""
    from tqdm.auto import tqdm

    data = {c.name: make_data(c, n_rows, 0.05, seed) for c in cases}
    jobs = [(c, e, name) for c in cases for e in num_envs for name in RUNNERS]
    rows = []
    with tqdm(total=repeats * len(jobs), disable=not progress, desc="throughput", unit="run") as bar:
        for r in range(repeats):
            for case, e, name in jobs:
                X, y = data[case.name]
                elapsed, steps, updates = RUNNERS[name](X, y, case, e, seed)
                rows.append({"case": case.name, "network": case.network, "num_envs": e, "learner": name,
                             "repeat": r, "seconds": elapsed, "env_steps": steps, "grad_steps": updates,
                             "env_steps_per_s": steps / elapsed, "grad_steps_per_s": updates / elapsed})
                bar.update(1)
    return pd.DataFrame(rows)


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Median env / gradient steps per second per (case, num_envs, learner) and the ratio."""
    out = []
    for (case, e), grp in runs.groupby(["case", "num_envs"], sort=False):
        med = {name: g for name, g in grp.groupby("learner", sort=False)}
        ours, sb3 = med["DQNImb (ours)"], med["SB3 DQN"]
        row = {"case": case, "network": grp["network"].iloc[0], "num_envs": e, "repeats": len(ours)}
        for label, g in (("ours", ours), ("sb3", sb3)):
            row[f"{label}_env_steps_per_s"] = statistics.median(g["env_steps_per_s"])
            row[f"{label}_grad_steps_per_s"] = statistics.median(g["grad_steps_per_s"])
            row[f"{label}_grad_per_env_step"] = float(g["grad_steps"].sum() / g["env_steps"].sum())
        # Ratio of paired runs (same round) is robust to drifting machine load.
        paired = ours["env_steps_per_s"].to_numpy() / sb3["env_steps_per_s"].to_numpy()
        row["ratio_env_steps"] = row["ours_env_steps_per_s"] / row["sb3_env_steps_per_s"]
        row["ratio_grad_steps"] = row["ours_grad_steps_per_s"] / row["sb3_grad_steps_per_s"]
        row["median_paired_ratio"] = float(np.median(paired))
        row["goal_met"] = bool(row["median_paired_ratio"] >= GOAL)
        out.append(row)
    return pd.DataFrame(out)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--mlp-steps", type=int, default=None, help="transitions per MLP run (default 10000; quick 200)")
    p.add_argument("--cnn-steps", type=int, default=None, help="transitions per CNN run (default 500; quick 64)")
    p.add_argument("--num-envs", type=int, nargs="+", default=[1, 16], help="lanes per learner")
    p.add_argument("--repeats", type=int, default=None, help="interleaved rounds, median reported (default 3; quick 1)")
    p.add_argument("--rows", type=int, default=5_000, help="rows of the synthetic data")
    p.add_argument("--features", type=int, default=64, help="tabular feature count")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (both learners)")
    p.add_argument("--cases", nargs="+", default=["mlp", "cnn"], choices=["mlp", "cnn"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=RESULTS, help="output folder")
    p.add_argument("--quick", action="store_true", help="smoke run: 200 MLP / 64 CNN steps, 1 round by default")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = p.parse_args(argv)
    defaults = (200, 64, 1) if args.quick else (10_000, 500, 3)
    for name, value in zip(("mlp_steps", "cnn_steps", "repeats"), defaults):
        if getattr(args, name) is None:
            setattr(args, name, value)
    for name in ("mlp_steps", "cnn_steps", "repeats", "rows", "features", "threads"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if any(e < 1 for e in args.num_envs):
        p.error(f"--num-envs must be >= 1, got {args.num_envs}")
    return args


def write_results(runs: pd.DataFrame, args: argparse.Namespace, command: str) -> pd.DataFrame:
    """Summarise the runs and write ``dqn_throughput{.md,.csv,_runs.csv}`` under ``args.out``."""
    table = summarize(runs)
    out = Path(args.out)
    _stats.write_csv(runs, out / "dqn_throughput_runs.csv")
    _stats.write_csv(table, out / "dqn_throughput.csv")
    shown = table[["case", "num_envs", "ours_env_steps_per_s", "sb3_env_steps_per_s", "ours_grad_steps_per_s",
                   "sb3_grad_steps_per_s", "ratio_env_steps", "median_paired_ratio", "goal_met"]]
    shown = shown.rename(columns={
        "ours_env_steps_per_s": "ours env steps/s", "sb3_env_steps_per_s": "SB3 env steps/s",
        "ours_grad_steps_per_s": "ours grad steps/s", "sb3_grad_steps_per_s": "SB3 grad steps/s",
        "ratio_env_steps": "ratio of medians", "median_paired_ratio": "median paired ratio",
        "goal_met": f">= {GOAL:g}x"})
    met = table["goal_met"].all()
    verdict = (f"Goal (ours >= {GOAL:g}x SB3 env steps/s, median of paired runs): "
               f"**{'met' if met else 'not met'}** in {int(table['goal_met'].sum())} of {len(table)} configurations.")
    setup = (
        f"- Machine: {platform.machine()}, {platform.system()}, torch {torch.__version__}, "
        f"{args.threads} torch thread(s), CPU learner on both sides.\n"
        f"- Data: {args.rows} seeded synthetic rows, rho = 0.05; tabular {args.features} float32 "
        "features (MLP 256-256), images 1x28x28 uint8 (DQNimb CNN, Table III).\n"
        f"- Transitions per run: MLP {args.mlp_steps}, CNN {args.cnn_steps}; {args.repeats} interleaved "
        "round(s), medians reported.\n"
        "- Same network, batch 64, replay 50 000, Adam 2.5e-4, gamma 0.1, Huber loss, grad-norm clip 10, "
        "target copy every 1 000 gradient steps, epsilon 1.0 -> 0.01 over 10%, learning_starts 0, "
        "one gradient step per transition (column `grad_per_env_step` in the csv).\n"
        "- Timings are wall-clock on a shared machine; compare the ratios, not the absolute numbers.\n"
    )
    notes = (
        "Both learners do the same arithmetic per gradient step (one forward and backward pass of the "
        "same network on 64 rows, one target pass, one Adam step). What ours saves is the work around it: "
        "one forward pass for all lanes when acting, transitions written to preallocated tensors in one "
        "slice per step, mini-batches gathered on the learner device without a numpy round trip, the fused "
        "Adam kernel, and target passes shared by the updates of a step (MLP bodies). Where that "
        "arithmetic dominates -- the CNN on a CPU -- the ratio is bounded near 1; the MLP gains grow as "
        "the network's share of the step shrinks (more lanes per step: compare num_envs 1 and 16).\n"
    )
    _stats.write_markdown(out / "dqn_throughput.md", "DQNimb training throughput vs Stable-Baselines3 DQN", [
        ("", verdict),
        ("Setup", setup),
        ("Medians", _stats.markdown_table(shown, index=False, floatfmt=".2f")),
        ("Reading the numbers", notes),
        ("All runs", "Raw timings: `dqn_throughput_runs.csv`."),
    ], command=command)
    if not args.no_progress:
        print(_stats.markdown_table(shown, index=False, floatfmt=".2f"))
        print(verdict)
    return table


def main(argv: Sequence[str] | None = None) -> pd.DataFrame:
    args = parse_args(argv)
    command = _stats.command_line(argv, module="benchmarks.dqn_throughput")
    torch.set_num_threads(args.threads)
    cases = []
    if "mlp" in args.cases:
        cases.append(Case(f"tabular D={args.features}", (args.features,), "float32", "mlp", args.mlp_steps))
    if "cnn" in args.cases:
        cases.append(Case("images 1x28x28 uint8", (1, 28, 28), "uint8", "cnn", args.cnn_steps))
    runs = measure(cases, args.num_envs, args.repeats, args.rows, args.seed, progress=not args.no_progress)
    return write_results(runs, args, command)


if __name__ == "__main__":
    main()
