"""``imbalance-gym demo``: the project's main job, in a few minutes, on data that ships with the install.

On an imbalanced split of scikit-learn's bundled digits (digit 2 vs the rest, DQNimb's
MNIST task in miniature) or breast-cancer data, it trains the two RL methods briefly and
prints their test metrics next to the classic remedies, in two groups that share a
classifier:

* an SVM: without resampling, with SMOTE (ratio tuned on validation), and with
  AutoSMOTE's synthetic rows (the hierarchical RL search, reward = validation Macro-F1);
* a neural network: plain cross-entropy (DNN), CRCEN's reweighted loss, and DQNimb
  (a DQN trained on the ICMDP, the weights picked on validation G-mean).

Every method sees the same training and validation splits and is scored on the same
test split, kept at its natural ratio. Seeded: the same seed prints the same numbers.
"""

from __future__ import annotations

import argparse
import time

from agents.cli._common import (
    UsageError,
    check_device,
    format_table,
    load_task,
    nonnegative_int,
    positive_int,
    ratio_value,
    status,
    task_summary,
)
from agents.cli._runs import autosmote_env, icmdp_env, metric_report, score_synthetic

BUNDLED = ("digits", "breast_cancer")
COLUMNS = ("g_mean", "f_measure", "macro_f1", "mcc")


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="train DQNimb and AutoSMOTE briefly on bundled data; compare with baselines",
                       description="Train DQNimb and AutoSMOTE briefly on an imbalanced split of bundled "
                       "data and print their test metrics next to SVM / SMOTE and DNN / CRCEN baselines.")
    p.add_argument("--dataset", default="digits", help="a bundled dataset: digits (default) or breast_cancer")
    p.add_argument("--ratio", type=ratio_value, default=0.02,
                   help="rho = N_min / N_maj of the training split (default 0.02)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the split and every method (default 0)")
    p.add_argument("--steps", type=positive_int, default=16_000, help="DQNimb transitions (default 16000)")
    p.add_argument("--episodes", type=positive_int, default=100, help="AutoSMOTE episodes (default 100)")
    p.add_argument("--device", default="auto", help="torch device of the networks (default auto)")
    p.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(handler=run)


def _svm_methods(task, seed: int, episodes: int, progress: bool):
    """SVM without resampling, with tuned SMOTE, with AutoSMOTE's best synthetic rows."""
    from agents.hierarchical import HierarchicalAgent, HierarchicalConfig
    from imbalance_gym.baselines import sampler_grid_search
    from imbalance_gym.classifiers import make_classifier

    t = time.perf_counter()
    clf = make_classifier("svm", seed).fit(task.X_train, task.y_train)
    yield "SVM, no resampling", metric_report(task.y_test, clf.predict(task.X_test)), time.perf_counter() - t

    t = time.perf_counter()
    smote = sampler_grid_search(task.X_train, task.y_train, task.X_val, task.y_val, "SMOTE", classifier="svm",
                                metric="macro_f1", seed=seed)
    clf = make_classifier("svm", seed).fit(smote.X_resampled, smote.y_resampled)
    report = metric_report(task.y_test, clf.predict(task.X_test))
    yield f"SVM + SMOTE (ratio {smote.best_ratio:g} on val)", report, time.perf_counter() - t

    t = time.perf_counter()
    env = autosmote_env(task, classifier="svm", metric="macro_f1", seed=seed)
    config = HierarchicalConfig(num_actors=0, device="cpu", progress_bar=progress)
    agent = HierarchicalAgent(env, config, seed=seed).learn(episodes)
    scores = score_synthetic(env.unwrapped, agent.best_.synthetic, agent.best_.random_state,
                             task.X_test, task.y_test)
    yield f"SVM + AutoSMOTE (RL, {episodes} episodes)", scores["resampled"], time.perf_counter() - t


def _network_methods(task, seed: int, steps: int, device: str, progress: bool):
    """DNN and CRCEN (supervised) and DQNimb (RL on the ICMDP), on the same MLP body."""
    from agents.dqn import DQNImb, DQNImbConfig
    from agents.supervised import CRCEN, DNN

    for name, cls in (("DNN, no resampling", DNN), ("CRCEN (reweighted loss)", CRCEN)):
        t = time.perf_counter()
        clf = cls(random_state=seed, device=device).fit(task.X_train, task.y_train, task.X_val, task.y_val)
        yield name, metric_report(task.y_test, clf.predict(task.X_test)), time.perf_counter() - t

    t = time.perf_counter()
    config = DQNImbConfig(total_timesteps=steps, learning_starts=min(1_000, steps // 4), eval_freq=1_000,
                          device=device, progress_bar=progress)
    agent = DQNImb(icmdp_env(task, config.num_envs), config, seed=seed, eval_data=(task.X_val, task.y_val))
    agent.learn()
    report = metric_report(task.y_test, agent.predict(task.X_test)[0])
    yield f"DQNimb (RL, {steps} steps)", report, time.perf_counter() - t


def run(args: argparse.Namespace) -> int:
    if args.dataset not in BUNDLED:
        raise UsageError(f"--dataset must be a bundled dataset ({' or '.join(BUNDLED)}), got {args.dataset!r}")
    check_device(args.device)
    progress = not args.no_progress
    start = time.perf_counter()
    task = load_task(args.dataset, ratio=args.ratio, seed=args.seed, val_size=0.2)

    import torch

    torch.set_num_threads(args.threads)
    print(f"demo: {task_summary(task)}", flush=True)
    stages = (("SVM group: SMOTE and AutoSMOTE", _svm_methods(task, args.seed, args.episodes, progress)),
              ("network group: DNN, CRCEN and DQNimb",
               _network_methods(task, args.seed, args.steps, args.device, progress)))
    rows = []
    for title, methods in stages:
        status(f"-- {title}", enabled=progress)
        for name, report, seconds in methods:
            status(f"   {name}: test G-mean {report['g_mean']:.3f}", enabled=progress)
            rows.append([name, *(report[c] for c in COLUMNS), seconds])
    print()
    print(format_table(["method", "G-mean", "F-measure", "Macro-F1", "MCC", "fit (s)"], rows, floatfmt=".3f"))
    print("\nTest split at its natural ratio; the validation split picks SMOTE's ratio, AutoSMOTE's synthetic")
    print(f"rows and DQNimb's weights. Total {time.perf_counter() - start:.0f} s.")
    return 0
