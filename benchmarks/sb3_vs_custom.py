"""Stable-Baselines3 against the project's own agents, at equal budgets (issue #6).

Two comparisons, every method on the same data, seeds and budget, in the same run:

* **ICMDP** (DQNimb): SB3 ``DQN`` and ``PPO`` through :mod:`agents.sb3` against
  :class:`agents.dqn.DQNImb`, each for the same number of environment transitions on the
  same number of lanes, with the same validation schedule (every ``eval_every``
  transitions the greedy policy is scored on the validation split and the best weights
  by G-mean are kept). Reported: test G-mean and F-measure of the kept weights, and
  training throughput (transitions per second of wall time, validation included).
  Tasks: a tabular one (``phoneme`` at rho = 5%) and ``mnist`` (rho = 1%) with an MLP:
  its pixels are scaled to [0, 1] and flattened to 784 features, the same arrays for
  every method, so that each MLP sees the same inputs.
* **AutoSMOTE**: sb3-contrib ``MaskablePPO`` on ``imbalance_gym/AutoSMOTE-v0`` against
  :class:`agents.hierarchical.HierarchicalAgent` for the same number of episodes.
  Reported: the best validation Macro-F1 of the search (the reward) and the test
  Macro-F1 of the classifier refit on train + the best episode's synthetic rows.

SB3's DQN gets DQNimb's hyperparameters where SB3 exposes them (replay 50k, batch 64,
gamma 0.1, Adam 2.5e-4, epsilon 1.0 -> 0.01 over 10% of the run, target copy every
1000 gradient steps, 1000 warm-up transitions, one gradient step per transition, no
gradient clipping, 256-256 MLP); it keeps SB3's Huber loss (DQNImb: squared error).
PPO uses the same discount and MLP width.

Usage::

    python -m benchmarks.sb3_vs_custom --preset quick     # about 20 minutes on 2 CPU cores
    python -m benchmarks.sb3_vs_custom --preset full      # about 6 hours on 2 CPU cores
    python -m benchmarks.sb3_vs_custom --preset quick --seeds 1 --icmdp-steps 3000 \\
        --episodes 2 --methods sb3_dqn sb3_ppo dqnimb maskable_ppo   # smoke run

Results: ``benchmarks/results/sb3_vs_custom.{md,csv}`` (``--out`` to change the folder).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
import numpy as np
import pandas as pd
import torch
from stable_baselines3.common.callbacks import BaseCallback, CallbackList, StopTrainingOnMaxEpisodes

from agents.dqn import DQNImb, DQNImbConfig
from agents.hierarchical import HierarchicalAgent, HierarchicalConfig
from agents.sb3 import AutoSMOTEMetricCallback, ICMDPEvalCallback, make_model, make_vec_env
from benchmarks import _stats
from imbalance_gym import classifiers
from imbalance_gym.datasets import load_task
from imbalance_gym.envs import ICMDPEnv
from imbalance_gym.metrics import classification_report

RESULTS = Path(__file__).resolve().parent / "results"
ICMDP = "imbalance_gym/ICMDP-v0"
AUTOSMOTE = "imbalance_gym/AutoSMOTE-v0"


# --------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ICMDPCase:
    """One ICMDP task: a named dataset at imbalance rho, optionally flattened to an MLP's input."""

    dataset: str
    ratio: float
    flatten_pixels: bool = False
    """Scale uint8 images to [0, 1] and flatten them (the MLP variant of an image task)."""


@dataclass(frozen=True)
class AutoSMOTECase:
    """One AutoSMOTE task: a named dataset at IR = N_maj / N_min, a base classifier and metric."""

    dataset: str
    imbalance_ratio: float
    classifier: str = "svm"
    metric: str = "macro_f1"


@dataclass(frozen=True)
class Preset:
    """Budgets of one benchmark run."""

    seeds: int
    """Seeds per (case, method): 0..seeds-1."""
    icmdp_steps: int
    """Environment transitions per ICMDP run (DQNimb: about 120 000)."""
    episodes: int
    """AutoSMOTE search episodes per run."""
    n_envs: int = 16
    """ICMDP lanes for every method (DQNImbConfig.num_envs default)."""
    eval_every: int = 2_000
    """Transitions between validation passes (DQNImbConfig.eval_freq default)."""
    icmdp_cases: tuple[ICMDPCase, ...] = (ICMDPCase("phoneme", 0.05), ICMDPCase("mnist", 0.01, True))
    autosmote_cases: tuple[AutoSMOTECase, ...] = (AutoSMOTECase("phoneme", 20),)


PRESETS = {
    "quick": Preset(seeds=2, icmdp_steps=20_000, episodes=20),
    "full": Preset(seeds=5, icmdp_steps=120_000, episodes=200),
}

ICMDP_METHODS = ("sb3_dqn", "sb3_ppo", "dqnimb")
AUTOSMOTE_METHODS = ("maskable_ppo", "hierarchical")
METHOD_LABELS = {"sb3_dqn": "SB3 DQN", "sb3_ppo": "SB3 PPO", "dqnimb": "DQNImb",
                 "maskable_ppo": "SB3-contrib MaskablePPO", "hierarchical": "HierarchicalAgent"}


def sb3_dqn_kwargs() -> dict[str, Any]:
    """SB3 DQN with DQNimb's hyperparameters (sec. IV-D) where SB3 exposes them."""
    return dict(buffer_size=50_000, batch_size=64, gamma=0.1, learning_rate=2.5e-4,
                exploration_initial_eps=1.0, exploration_final_eps=0.01, exploration_fraction=0.1,
                learning_starts=1_000, train_freq=1,
                gradient_steps=-1,  # one gradient step per transition, whatever n_envs is
                target_update_interval=1_000,  # env steps = gradient steps at this replay ratio
                max_grad_norm=1e10,  # no clipping, as DQNImb
                policy_kwargs={"net_arch": [256, 256]})


def sb3_ppo_kwargs() -> dict[str, Any]:
    """SB3 PPO on the same MDP discount and MLP width; rollouts of 128 steps per lane."""
    return dict(gamma=0.1, learning_rate=2.5e-4, n_steps=128, batch_size=256, n_epochs=4,
                policy_kwargs={"net_arch": [256, 256]})


# --------------------------------------------------------------------------------------
# ICMDP runs
# --------------------------------------------------------------------------------------
def icmdp_arrays(case: ICMDPCase, seed: int) -> dict[str, np.ndarray]:
    """Train / val / test arrays of a case, identical for every method."""
    task = load_task(case.dataset, ratio=case.ratio, seed=seed)
    out = {}
    for split in ("train", "val", "test"):
        X = getattr(task, f"X_{split}")
        if case.flatten_pixels:
            X = X.reshape(X.shape[0], -1).astype(np.float32) / np.float32(255.0)
        out[f"X_{split}"], out[f"y_{split}"] = X, getattr(task, f"y_{split}")
    return out


class StopAtTimesteps(BaseCallback):
    """End training at the first vector step that reaches ``budget`` transitions.

    SB3's on-policy algorithms otherwise finish their last rollout, overshooting the
    budget by up to ``n_steps * n_envs``; with this every method collects the same
    number of transitions (the budget rounded up to whole vector steps).
    """

    def __init__(self, budget: int):
        super().__init__()
        self.budget = budget

    def _on_step(self) -> bool:
        return self.num_timesteps < self.budget


def run_sb3(algo: str, hyperparameters: Callable[[], dict[str, Any]], data: dict, preset: Preset,
            seed: int, device: str, on_policy: bool = False) -> dict[str, Any]:
    """Train an SB3 algorithm with validation-based selection; test metrics of the best weights.

    ``on_policy``: stop collecting at the budget (:class:`StopAtTimesteps`). Off-policy
    SB3 stops there by itself, after training on the last transitions.
    """
    venv = make_vec_env(ICMDP, n_envs=preset.n_envs, seed=seed, X=data["X_train"], y=data["y_train"])
    model = make_model(algo, venv, seed=seed, device=device, **hyperparameters())
    callback = ICMDPEvalCallback(data["X_val"], data["y_val"],
                                 eval_freq=max(1, preset.eval_every // preset.n_envs))
    start = time.perf_counter()
    callbacks = [callback, StopAtTimesteps(preset.icmdp_steps)] if on_policy else [callback]
    model.learn(preset.icmdp_steps, callback=CallbackList(callbacks))
    wall = time.perf_counter() - start
    callback.restore_best()
    pred = model.predict(data["X_test"], deterministic=True)[0]
    scores = classification_report(data["y_test"], pred, n_classes=int(model.action_space.n))
    venv.close()
    return dict(steps=int(model.num_timesteps), wall_s=wall, val_g_mean=callback.best_score,
                test_g_mean=scores["g_mean"], test_f_measure=scores["f_measure"])


def run_dqnimb(data: dict, preset: Preset, seed: int, device: str) -> dict[str, Any]:
    """DQNImb (agents.dqn) with the same lanes, budget and validation schedule."""
    config = DQNImbConfig(total_timesteps=preset.icmdp_steps, num_envs=preset.n_envs,
                          eval_freq=preset.eval_every, network="mlp", device=device, progress_bar=False)
    env = ICMDPEnv(X=data["X_train"], y=data["y_train"])
    agent = DQNImb(env, config=config, seed=seed, eval_data=(data["X_val"], data["y_val"]))
    start = time.perf_counter()
    agent.learn(preset.icmdp_steps)
    wall = time.perf_counter() - start
    scores = agent.evaluate(data["X_test"], data["y_test"])
    best = agent.best_score[0] if isinstance(agent.best_score, tuple) else agent.best_score
    agent.close()
    return dict(steps=int(agent.num_timesteps), wall_s=wall, val_g_mean=best,
                test_g_mean=scores["g_mean"], test_f_measure=scores["f_measure"])


ICMDP_RUNNERS: dict[str, Callable[[dict, Preset, int, str], dict[str, Any]]] = {
    "sb3_dqn": partial(run_sb3, "dqn", sb3_dqn_kwargs),
    "sb3_ppo": partial(run_sb3, "ppo", sb3_ppo_kwargs, on_policy=True),
    "dqnimb": run_dqnimb,
}


# --------------------------------------------------------------------------------------
# AutoSMOTE runs
# --------------------------------------------------------------------------------------
def refit_test_score(X_train: np.ndarray, y_train: np.ndarray, task: Any, case: AutoSMOTECase,
                     best_info: dict) -> float:
    """Test metric of the classifier refit on train + the best episode's synthetic rows."""
    return classifiers.evaluate(X_train, y_train, best_info["synthetic"], task.X_test, task.y_test,
                                classifier=case.classifier, metric=case.metric,
                                random_state=best_info["random_state"])


def run_maskable_ppo(case: AutoSMOTECase, episodes: int, seed: int, device: str) -> dict[str, Any]:
    """MaskablePPO for exactly ``episodes`` search episodes (one env)."""
    venv = make_vec_env(AUTOSMOTE, n_envs=1, seed=seed, dataset=case.dataset,
                        imbalance_ratio=case.imbalance_ratio, classifier=case.classifier,
                        metric=case.metric)
    model = make_model("maskable_ppo", venv, seed=seed, device=device, n_steps=512, batch_size=128,
                       policy_kwargs={"net_arch": [128, 128]})  # AutoSMOTE's 128-128 MLPs
    tracker = AutoSMOTEMetricCallback()
    start = time.perf_counter()
    model.learn(10**12, callback=CallbackList([tracker, StopTrainingOnMaxEpisodes(episodes)]))
    wall = time.perf_counter() - start
    X_train, y_train, task = (venv.get_attr(name)[0] for name in ("X_train", "y_train", "task"))
    result = dict(episodes=tracker.n_episodes, steps=int(model.num_timesteps), wall_s=wall,
                  val_best=tracker.best_score,
                  test_score=refit_test_score(X_train, y_train, task, case, tracker.best_info))
    venv.close()
    return result


def run_hierarchical(case: AutoSMOTECase, episodes: int, seed: int, device: str) -> dict[str, Any]:
    """AutoSMOTE's own learner (:class:`agents.hierarchical.HierarchicalAgent`), one actor."""
    env = gym.make(AUTOSMOTE, dataset=case.dataset, imbalance_ratio=case.imbalance_ratio,
                   classifier=case.classifier, metric=case.metric, seed=seed)
    agent = HierarchicalAgent(env, HierarchicalConfig(num_actors=1, device=device, progress_bar=False),
                              seed=seed)
    start = time.perf_counter()
    agent.learn(episodes)
    wall = time.perf_counter() - start
    u = env.unwrapped
    best = agent.best_
    score = refit_test_score(u.X_train, u.y_train, u.task, case,
                             {"synthetic": best.synthetic, "random_state": best.random_state})
    return dict(episodes=agent.num_episodes, steps=np.nan, wall_s=wall, val_best=best.metric,
                test_score=score)


AUTOSMOTE_RUNNERS: dict[str, Callable[[AutoSMOTECase, int, int, str], dict[str, Any]]] = {
    "maskable_ppo": run_maskable_ppo,
    "hierarchical": run_hierarchical,
}


# --------------------------------------------------------------------------------------
# Driver and report
# --------------------------------------------------------------------------------------
def run(preset: Preset, methods: tuple[str, ...], device: str, log: Callable[[str], None] = print) -> pd.DataFrame:
    """All runs of a preset as one long frame (one row per part, case, method, seed)."""
    rows: list[dict[str, Any]] = []
    for case in preset.icmdp_cases:
        for seed in range(preset.seeds):
            data = icmdp_arrays(case, seed)
            for method in (m for m in ICMDP_METHODS if m in methods):
                result = ICMDP_RUNNERS[method](data, preset, seed, device)
                result["steps_per_s"] = result["steps"] / result["wall_s"]
                rows.append(dict(part="icmdp", dataset=case.dataset, level=case.ratio,
                                 method=METHOD_LABELS[method], seed=seed, **result))
                log(f"icmdp {case.dataset} rho={case.ratio} {method} seed={seed}: "
                    f"test G-mean {result['test_g_mean']:.3f}, {result['steps_per_s']:.0f} steps/s")
    for case in preset.autosmote_cases:
        for seed in range(preset.seeds):
            for method in (m for m in AUTOSMOTE_METHODS if m in methods):
                result = AUTOSMOTE_RUNNERS[method](case, preset.episodes, seed, device)
                rows.append(dict(part="autosmote", dataset=case.dataset, level=case.imbalance_ratio,
                                 method=METHOD_LABELS[method], seed=seed, **result))
                log(f"autosmote {case.dataset} IR={case.imbalance_ratio} {method} seed={seed}: "
                    f"best val {case.metric} {result['val_best']:.3f}, test {result['test_score']:.3f}")
    return pd.DataFrame(rows)


def report(runs: pd.DataFrame, preset: Preset, args: argparse.Namespace, out: Path) -> tuple[Path, Path]:
    """Write the CSV of all runs and the markdown summary with the exact command."""
    csv_path = _stats.write_csv(runs, out / "sb3_vs_custom.csv")
    sections: list[tuple[str, str]] = []
    cases = ["dataset", "level"]
    icmdp = runs[runs["part"] == "icmdp"]
    if len(icmdp):
        body = []
        for column, title in (("test_g_mean", "Test G-mean"), ("test_f_measure", "Test F-measure"),
                              ("steps_per_s", "Training transitions per second")):
            cells = _stats.format_cells(icmdp, cases, "method", column,
                                        digits=0 if column == "steps_per_s" else 3)
            body.append(f"**{title}** (mean ± std over seeds; level = rho)\n\n" + _stats.markdown_table(cells))
        sections.append((f"ICMDP at {preset.icmdp_steps} transitions ({preset.n_envs} lanes)", "\n".join(body)))
    autosmote = runs[runs["part"] == "autosmote"]
    if len(autosmote):
        body = []
        for column, title in (("val_best", "Best validation metric (search reward)"),
                              ("test_score", "Test metric, classifier refit with the best synthetic rows")):
            cells = _stats.format_cells(autosmote, cases, "method", column)
            body.append(f"**{title}** (mean ± std over seeds; level = IR)\n\n" + _stats.markdown_table(cells))
        sections.append((f"AutoSMOTE at {preset.episodes} episodes", "\n".join(body)))
    overridden = [name for name in ("seeds", "icmdp_steps", "episodes") if getattr(args, name) is not None]
    if overridden:
        sections.insert(0, ("", f"> Budgets overridden on the command line ({', '.join(overridden)}): "
                                "a smoke run of the pipeline, not a comparison to read results from."))
    config = {"preset": args.preset, "resolved": dataclasses.asdict(preset), "methods": list(args.methods),
              "device": args.device, "threads": torch.get_num_threads(),
              "sb3_dqn": sb3_dqn_kwargs(), "sb3_ppo": sb3_ppo_kwargs(),
              "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}"}
    sections.append(("Configuration", "```json\n" + json.dumps(config, indent=2, default=str) + "\n```"))
    md_path = _stats.write_markdown(out / "sb3_vs_custom.md", "SB3 against the project's agents",
                                    sections, command=_stats.command_line(module="benchmarks.sb3_vs_custom"))
    return csv_path, md_path


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", choices=sorted(PRESETS), default="quick", help="budgets (default: quick)")
    p.add_argument("--seeds", type=_positive, help="override the preset's number of seeds")
    p.add_argument("--icmdp-steps", type=_positive, help="override the ICMDP transitions per run")
    p.add_argument("--episodes", type=_positive, help="override the AutoSMOTE episodes per run")
    p.add_argument("--methods", nargs="+", choices=ICMDP_METHODS + AUTOSMOTE_METHODS,
                   default=list(ICMDP_METHODS + AUTOSMOTE_METHODS), help="methods to run (default: all)")
    p.add_argument("--device", default="auto", help="torch device of every learner (default: auto)")
    p.add_argument("--threads", type=_positive, default=1, help="torch CPU threads (default: 1)")
    p.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    preset = PRESETS[args.preset]
    overrides = {k: v for k, v in (("seeds", args.seeds), ("icmdp_steps", args.icmdp_steps),
                                   ("episodes", args.episodes)) if v is not None}
    preset = dataclasses.replace(preset, **overrides)
    torch.set_num_threads(args.threads)
    runs = run(preset, tuple(args.methods), args.device)
    csv_path, md_path = report(runs, preset, args, args.out)
    print(f"wrote {csv_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
