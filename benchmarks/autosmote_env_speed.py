"""AutoSMOTE environment overhead against the base classifier's fit, per episode.

For each dataset (AutoSMOTE protocol, IR 50) and classifier, ``--episodes`` random
episodes are drawn with :func:`imbalance_gym.baselines.random_episode_actions` (a
uniformly random *masked* policy: every action valid at its step; drawn before timing,
so the policy costs nothing). Each episode is played, side by side in the same round,
in three ways on an env whose classifier is a no-op (:class:`NoFit`: ``fit`` does
nothing, ``predict`` returns zeros), so the time measured is the environment alone --
bookkeeping, observations, the vectorised row generation, input checks and the stacking
of train + synthetic rows:

- ``step``: one :meth:`AutoSMOTEEnv.step` per action (what a one-action-per-call agent
  such as SB3 pays);
- ``instance``: one ``step`` for ``g1``, then one :meth:`AutoSMOTEEnv.step_batch` per
  instance with its ``g2`` and all its low-level actions (an agent acting in batches);
- ``episode``: the whole episode in one ``step_batch`` (random search).

Then :func:`imbalance_gym.classifiers.evaluate` is timed on the same rows with the real
classifier (fit + predict + metric): that is the classifier cost the env's final step
adds. The table reports medians over episodes of the times and of the per-episode ratio
overhead / classifier time (goal: below 5%).

Usage::

    python -m benchmarks.autosmote_env_speed --data-home ../shared/datasets
    python -m benchmarks.autosmote_env_speed --quick    # seconds; bundled breast_cancer
"""

from __future__ import annotations

import argparse
import csv
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import imbalance_gym  # noqa: F401  (registers the env ids)
from imbalance_gym.baselines import random_episode_actions
from imbalance_gym.classifiers import evaluate
from imbalance_gym.envs import AutoSMOTEEnv

RESULTS = Path(__file__).resolve().parent / "results"
MODES = ("step", "instance", "episode")


class NoFit:
    """A classifier that costs nothing: the env's own overhead is what remains."""

    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros(len(X), dtype=np.int64)


def play(env: AutoSMOTEEnv, actions: np.ndarray, mode: str, seed: int) -> tuple[float, dict]:
    """Seconds spent inside the env (reset included) for one episode, and its final info."""
    g1 = int(actions[0])
    start = time.perf_counter()
    env.reset(seed=seed)
    if mode == "step":
        step = env.step
        for a in actions.tolist():
            *_, info = step(a)
    elif mode == "episode":
        *_, info = env.step_batch(actions)
    else:
        env.step(g1)
        pos = 1
        while pos < len(actions):  # [g2, g1 * g2 low-level actions] per instance
            n = 1 + g1 * int(actions[pos])
            *_, info = env.step_batch(actions[pos : pos + n])
            pos += n
    return time.perf_counter() - start, info


def run_case(dataset: str, classifier: str, ir: float, episodes: int, seed: int, data_home) -> list[dict]:
    """Time ``episodes`` random episodes of one (dataset, classifier)."""
    env = AutoSMOTEEnv(dataset=dataset, imbalance_ratio=ir, data_home=data_home, seed=seed,
                       classifier=NoFit())
    rng = np.random.default_rng(seed)
    rows = []
    for e in range(episodes):
        actions = random_episode_actions(rng, env.G1, env.G2, env.K, env.n_minority, env.max_synthetic)
        ep_seed = seed * 1000 + e
        times = {}
        infos = {}
        for mode in MODES:
            times[mode], infos[mode] = play(env, actions, mode, ep_seed)
        for mode in MODES[1:]:  # the three ways make the same rows
            assert np.array_equal(infos[mode]["synthetic"], infos["step"]["synthetic"])
        info = infos["step"]
        start = time.perf_counter()
        evaluate(env.X_train, env.y_train, info["synthetic"], env.X_val, env.y_val,
                 classifier=classifier, metric="macro_f1", random_state=info["random_state"])
        fit = time.perf_counter() - start
        row = {"dataset": dataset, "classifier": classifier, "episode": e, "n_train": len(env.y_train),
               "n_min": env.n_minority, "G1": env.G1, "g1": int(actions[0]), "steps": len(actions),
               "n_synthetic": info["n_synthetic"], "fit_s": fit}
        for mode in MODES:
            row[f"env_{mode}_s"] = times[mode]
            row[f"ratio_{mode}"] = times[mode] / fit
        rows.append(row)
        print(f"{dataset} {classifier} ep {e}: steps {len(actions)} rows {info['n_synthetic']} "
              f"fit {fit * 1e3:.1f} ms, env " + ", ".join(f"{m} {times[m] * 1e3:.2f} ms" for m in MODES),
              flush=True)
    return rows


def summarize(rows: list[dict]) -> list[dict]:
    """Medians per (dataset, classifier)."""
    out = []
    keys = sorted({(r["dataset"], r["classifier"]) for r in rows}, key=lambda k: (k[0], k[1]))
    for dataset, clf in keys:
        sel = [r for r in rows if r["dataset"] == dataset and r["classifier"] == clf]
        med = {k: statistics.median(r[k] for r in sel)
               for k in ["steps", "n_synthetic", "fit_s"] + [f"env_{m}_s" for m in MODES] + [f"ratio_{m}" for m in MODES]}
        med.update(dataset=dataset, classifier=clf, episodes=len(sel), n_train=sel[0]["n_train"],
                   n_min=sel[0]["n_min"], G1=sel[0]["G1"])
        med["us_per_step"] = statistics.median(r["env_step_s"] / r["steps"] * 1e6 for r in sel)
        out.append(med)
    return out


def write(rows: list[dict], summary: list[dict], command: str, stem: Path) -> None:
    stem.parent.mkdir(parents=True, exist_ok=True)
    with open(stem.with_suffix(".csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        "# AutoSMOTE environment overhead vs. classifier fit",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}. "
        "Shared machine, timings noisy: every number is a median over episodes, and the ratios are "
        "per-episode ratios of env time to classifier time measured in the same round.",
        "",
        "Random masked policy (drawn before timing). *env* = time inside the environment with a no-op "
        "classifier (reset, steps, row generation, stacking); *fit* = `evaluate(...)` with the real "
        "classifier on the same rows (fit + predict + Macro-F1). Modes: `step` = one `step()` per action; "
        "`instance` = one `step_batch()` per minority instance; `episode` = one `step_batch()` per episode.",
        "",
        "| dataset | clf | N_train | N_min | G1 | steps | rows | fit ms | env ms step / instance / episode "
        "| us/step | overhead step | overhead instance | overhead episode |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summary:
        lines.append(
            f"| {s['dataset']} | {s['classifier']} | {s['n_train']} | {s['n_min']} | {s['G1']} | {s['steps']:.0f} "
            f"| {s['n_synthetic']:.0f} | {s['fit_s'] * 1e3:.1f} | {s['env_step_s'] * 1e3:.1f} / "
            f"{s['env_instance_s'] * 1e3:.2f} / {s['env_episode_s'] * 1e3:.2f} | {s['us_per_step']:.1f} "
            f"| {100 * s['ratio_step']:.1f}% | {100 * s['ratio_instance']:.2f}% | {100 * s['ratio_episode']:.2f}% |"
        )
    lines.append("")
    lines.append(f"Episodes per row: {summary[0]['episodes']}; per-episode numbers in `{stem.name}.csv`.")
    lines.append("")
    lines.append("Goal: env overhead below 5% of the classifier time (median per-episode ratio).")
    for mode in MODES:
        met = [f"{s['dataset']}/{s['classifier']}" for s in summary if s[f"ratio_{mode}"] < 0.05]
        missed = [f"{s['dataset']}/{s['classifier']} ({100 * s[f'ratio_{mode}']:.1f}%)"
                  for s in summary if s[f"ratio_{mode}"] >= 0.05]
        lines.append(f"- `{mode}`: met for {', '.join(met) or 'none'}; missed for {', '.join(missed) or 'none'}.")
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["phoneme", "mozilla4"])
    parser.add_argument("--classifiers", nargs="+", default=["svm", "dt"])
    parser.add_argument("--imbalance-ratio", type=float, default=50)
    parser.add_argument("--episodes", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--out", default=str(RESULTS / "autosmote_env"))
    parser.add_argument("--quick", action="store_true", help="bundled breast_cancer at IR 5, 2 episodes")
    args = parser.parse_args(argv)
    if args.quick:
        args.datasets, args.imbalance_ratio, args.episodes = ["breast_cancer"], 5, 2
    command = "python -m benchmarks.autosmote_env_speed " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    rows = []
    for dataset in args.datasets:
        for clf in args.classifiers:
            rows += run_case(dataset, clf, args.imbalance_ratio, args.episodes, args.seed, args.data_home)
    summary = summarize(rows)
    write(rows, summary, command, Path(args.out))
    print(Path(args.out).with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
