"""``imbalance-gym demo``: the ICMDP on data that ships with the install.

Runs in seconds on any machine: an imbalanced split of scikit-learn's bundled
breast-cancer data (no data home needed), a few fixed policies played through the
evaluation-mode ICMDP on the test split, and their G-mean / F-measure.
"""

from __future__ import annotations

import argparse

import numpy as np


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="run the ICMDP on bundled data and print test metrics")
    p.add_argument("--dataset", default="breast_cancer",
                   help="a bundled dataset: breast_cancer (default) or digits")
    p.add_argument("--ratio", type=float, default=0.1,
                   help="rho = N_min / N_maj of the training split (default 0.1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split and the policies")
    p.set_defaults(handler=run)


def _play(env, policy) -> dict:
    """One evaluation pass through an eval-mode ICMDP; returns the episode's metrics."""
    from imbalance_gym import metrics

    obs, _ = env.reset(seed=0)
    total = 0.0
    while True:
        obs, reward, terminated, truncated, info = env.step(policy(obs))
        total += reward
        if terminated or truncated:
            break
    cm = info["confusion_matrix"]
    return {"g_mean": metrics.g_mean(confusion=cm), "f_measure": metrics.f_measure(confusion=cm),
            "return": total}


def run(args: argparse.Namespace) -> int:
    import gymnasium as gym

    import imbalance_gym  # noqa: F401  (registers the env ids)
    from imbalance_gym.datasets import load_task

    if args.dataset not in ("breast_cancer", "digits"):
        raise ValueError(f"--dataset must be a bundled dataset (breast_cancer or digits), got {args.dataset!r}")
    task = load_task(args.dataset, ratio=args.ratio, seed=args.seed)
    n_min = int(task.y_train.sum())
    print(f"task {task.info['name']}: train {len(task.y_train)} rows ({n_min} minority, "
          f"rho={task.info['ratio']:.3f}), test {len(task.y_test)} rows")

    # A nearest-class-mean rule from the training split: the simplest non-trivial policy.
    means = np.stack([task.X_train[task.y_train == c].mean(axis=0) for c in (0, 1)])
    rng = np.random.default_rng(args.seed)
    policies = {
        "always majority": lambda obs: 0,
        "always minority": lambda obs: 1,
        "uniform random": lambda obs: int(rng.integers(2)),
        "nearest class mean": lambda obs: int(np.argmin(((means - obs) ** 2).sum(axis=1))),
    }
    env = gym.make("imbalance_gym/ICMDP-v0", X=task.X_test, y=task.y_test, mode="eval",
                   reward_lambda=task.info["ratio"])
    print(f"\n{'policy':22s} {'G-mean':>7s} {'F-measure':>9s} {'return':>8s}")
    for name, policy in policies.items():
        m = _play(env, policy)
        print(f"{name:22s} {m['g_mean']:7.3f} {m['f_measure']:9.3f} {m['return']:8.2f}")
    return 0
