"""DQNimb Table V, Fig. 2 and Fig. 3 (Lin et al.): DQNimb against supervised baselines.

For every task (a dataset at an imbalance ratio rho = N_min / N_maj, DQNimb protocol: the
training fold made imbalanced, 10% of it held out for validation, the test fold natural)
and every seed, each method is trained on the training split, selected / tuned on the
validation split only, and scored once on the test split:

* ``DQNimb`` -- :class:`agents.dqn.DQNImbClassifier`, reward lambda = rho (eq. 1), the
  weights with the best validation G-mean kept (checked every ``eval_freq`` steps);
* ``DNN``, ``ROS``, ``RUS``, ``MFE``, ``CSM``, ``CRCEN`` -- :mod:`agents.supervised`
  (Adam 5e-4, batch 64, early stopping on the validation loss);
* ``DTA`` -- the paper's threshold adjustment by the class prior; ``DTA-tuned`` -- the
  threshold that maximises validation G-mean (an honest, stronger variant).

Every method uses the same network (the CNN of Table III for images in the ``paper``
preset; the same MLP for everything in ``quick``). Reported: test G-mean and F-measure as
mean +- std over seeds, the paper's Table V G-mean beside ours, average ranks with a
Friedman test and Wilcoxon tests of DQNimb against each baseline, an F-measure-vs-rho
figure per dataset (Fig. 2), a lambda sweep (Fig. 3) and DQNimb's validation curves.

Presets:
    quick   MLP (64, 64) bodies for every method (images flattened), 50k / 20k DQN steps
            (images / tables), up to 30 epochs with patience 5, 3 seeds, every dataset
            represented (MNIST at 0.1%, the others at two ratios), lambda sweep on satimage;
            estimated 25-30 minutes on a quiet 2-core machine with ``--jobs 2``.
    paper   DQNimb Table III CNN for images, MLP (256, 256) for tables, 120 000 DQN steps,
            up to 100 epochs with patience 10, all ratios, 5 seeds; meant for a GPU.

Usage::

    python -m benchmarks.dqnimb_table --preset quick --jobs 2 --data-home ../shared/datasets
    python -m benchmarks.dqnimb_table --preset paper --data-home ../shared/datasets
    python -m benchmarks.dqnimb_table --preset quick --datasets phoneme --methods DQNimb DNN --seeds 0
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from benchmarks import _stats

RESULTS = Path(__file__).resolve().parent / "results"

# --------------------------------------------------------------------------------------
# The paper's numbers (DQNimb, Table V: test G-mean, mean of 5 runs), labelled "paper"
# --------------------------------------------------------------------------------------
PAPER_METHODS = ("DQNimb", "DNN", "MFE", "ROS", "RUS", "CSM", "DTA")
"""Column order of Table V."""

_TABLE_V_ROWS = {
    "imdb": {0.10: (0.820, 0.548, 0.687, 0.681, 0.740, 0.743, 0.678),
             0.05: (0.781, 0.299, 0.589, 0.632, 0.622, 0.696, 0.599),
             0.02: (0.682, 0.034, 0.351, 0.343, 0.510, 0.559, 0.355)},
    "cifar10_1": {0.04: (0.956, 0.869, 0.939, 0.947, 0.945, 0.944, 0.946),
                  0.02: (0.941, 0.824, 0.908, 0.925, 0.929, 0.922, 0.928),
                  0.01: (0.917, 0.730, 0.859, 0.897, 0.896, 0.884, 0.912),
                  0.005: (0.890, 0.579, 0.759, 0.838, 0.866, 0.853, 0.901)},
    "cifar10_2": {0.04: (0.925, 0.815, 0.882, 0.904, 0.906, 0.911, 0.915),
                  0.02: (0.917, 0.758, 0.852, 0.894, 0.887, 0.886, 0.908),
                  0.01: (0.883, 0.677, 0.769, 0.854, 0.859, 0.850, 0.873),
                  0.005: (0.829, 0.513, 0.693, 0.792, 0.822, 0.816, 0.821)},
    "fashion_mnist_1": {0.04: (0.971, 0.921, 0.960, 0.962, 0.957, 0.964, 0.964),
                        0.02: (0.966, 0.885, 0.947, 0.957, 0.953, 0.956, 0.962),
                        0.01: (0.959, 0.853, 0.934, 0.948, 0.943, 0.946, 0.952),
                        0.005: (0.950, 0.757, 0.901, 0.927, 0.934, 0.924, 0.944)},
    "fashion_mnist_2": {0.04: (0.985, 0.951, 0.968, 0.972, 0.967, 0.973, 0.977),
                        0.02: (0.982, 0.926, 0.960, 0.963, 0.956, 0.966, 0.970),
                        0.01: (0.979, 0.872, 0.940, 0.949, 0.946, 0.958, 0.962),
                        0.005: (0.972, 0.821, 0.912, 0.935, 0.937, 0.950, 0.953)},
    "mnist": {0.01: (0.991, 0.967, 0.982, 0.981, 0.978, 0.982, 0.978),
              0.002: (0.983, 0.923, 0.949, 0.944, 0.953, 0.951, 0.961),
              0.001: (0.968, 0.856, 0.921, 0.911, 0.929, 0.942, 0.937),
              0.0005: (0.941, 0.694, 0.842, 0.858, 0.907, 0.921, 0.916)},
}
PAPER_TABLE_V: dict[tuple[str, float], dict[str, float]] = {
    (name, rho): dict(zip(PAPER_METHODS, values))
    for name, rows in _TABLE_V_ROWS.items() for rho, values in rows.items()
}
"""``(dataset, rho) -> {method: G-mean}`` transcribed from DQNimb Table V (the paper's numbers)."""

# --------------------------------------------------------------------------------------
# Tasks, methods and presets
# --------------------------------------------------------------------------------------
IMAGE_RATIOS = {
    "mnist": (0.01, 0.002, 0.001, 0.0005),
    "fashion_mnist_1": (0.04, 0.02, 0.01, 0.005),
    "fashion_mnist_2": (0.04, 0.02, 0.01, 0.005),
}
"""DQNimb Table I ratios of the image tasks."""
TABULAR_DATASETS = ("phoneme", "satimage", "abalone")
TABULAR_RATIOS = (0.05, 0.01)
METHODS = ("DQNimb", "DNN", "ROS", "RUS", "MFE", "CSM", "CRCEN", "DTA", "DTA-tuned")
LAMBDA_FACTORS = (0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 20.0)
"""Fig. 3: lambda in {0.05, 0.1, 0.5, 1, 5, 10, 20} x rho."""
METRICS = ("g_mean", "f_measure", "macro_f1", "mcc", "precision", "recall")


@dataclass(frozen=True)
class Preset:
    """Everything a run needs besides data and seeds (saved with the results)."""

    name: str
    tasks: tuple[tuple[str, float], ...]
    """(dataset, requested rho) rows of the table."""
    seeds: tuple[int, ...]
    image_network: str
    """Body for image tasks: ``"cnn"`` (Table III) or ``"mlp"`` (images flattened, scaled to [0, 1])."""
    hidden_sizes: tuple[int, ...]
    """MLP widths, the same for every method."""
    dqn_steps_image: int
    dqn_steps_tabular: int
    dqn_num_envs: int
    dqn_learning_starts: int
    dqn_eval_freq: int
    dqn_exploration_fraction: float
    dqn_target_update_interval: int
    max_epochs: int
    patience: int
    lambda_tasks: tuple[tuple[str, float], ...]
    """(dataset, rho) rows of the lambda sweep (Fig. 3)."""
    lambda_seeds: tuple[int, ...]
    data_seed: int | None = 0
    """Seed of the imbalanced split; None draws a new split per seed. The paper repeats
    each training 5 times on the same data set (sec. IV-E), hence 0."""

    def __post_init__(self):
        if not self.tasks:
            raise ValueError("Preset.tasks must name at least one (dataset, ratio)")
        for name, rho in self.tasks + self.lambda_tasks:
            if not isinstance(name, str) or not (isinstance(rho, float) and 0 < rho <= 1):
                raise ValueError(f"Preset.tasks entries must be (dataset name, ratio in (0, 1]), got {(name, rho)!r}")
        if not self.seeds or any(not isinstance(s, int) or s < 0 for s in self.seeds):
            raise ValueError(f"Preset.seeds must be ints >= 0, got {self.seeds!r}")
        if self.image_network not in ("cnn", "mlp"):
            raise ValueError(f"Preset.image_network must be 'cnn' or 'mlp', got {self.image_network!r}")
        for f in ("dqn_steps_image", "dqn_steps_tabular", "dqn_num_envs", "dqn_eval_freq",
                  "dqn_target_update_interval", "max_epochs", "patience"):
            if not isinstance(getattr(self, f), int) or getattr(self, f) < 1:
                raise ValueError(f"Preset.{f} must be an int >= 1, got {getattr(self, f)!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _tasks(datasets_ratios: dict[str, Sequence[float]]) -> tuple[tuple[str, float], ...]:
    return tuple((name, float(r)) for name, ratios in datasets_ratios.items() for r in ratios)


PRESETS: dict[str, Preset] = {
    "paper": Preset(
        name="paper",
        tasks=_tasks({**IMAGE_RATIOS, **{d: TABULAR_RATIOS for d in TABULAR_DATASETS}}),
        seeds=(0, 1, 2, 3, 4), image_network="cnn", hidden_sizes=(256, 256),
        dqn_steps_image=120_000, dqn_steps_tabular=120_000, dqn_num_envs=16, dqn_learning_starts=1_000,
        dqn_eval_freq=2_000, dqn_exploration_fraction=0.1, dqn_target_update_interval=1_000,
        max_epochs=100, patience=10,
        lambda_tasks=_tasks({"fashion_mnist_1": (0.04, 0.01), "mnist": (0.01,)}),
        lambda_seeds=(0, 1, 2),
    ),
    "quick": Preset(
        name="quick",
        # MNIST (49k training rows) costs 2-4x a Fashion-MNIST row: one ratio, the harder one.
        tasks=_tasks({"mnist": (0.001,), "fashion_mnist_1": (0.04, 0.01),
                      "fashion_mnist_2": (0.04, 0.005), **{d: TABULAR_RATIOS for d in TABULAR_DATASETS}}),
        seeds=(0, 1, 2), image_network="mlp", hidden_sizes=(64, 64),
        # About one pass over MNIST's 49k training rows; validation G-mean settles after ~40k.
        dqn_steps_image=50_000, dqn_steps_tabular=20_000, dqn_num_envs=16, dqn_learning_starts=1_000,
        dqn_eval_freq=1_000, dqn_exploration_fraction=0.1, dqn_target_update_interval=500,
        max_epochs=30, patience=5,
        lambda_tasks=_tasks({"satimage": (0.05, 0.01)}), lambda_seeds=(0,),
    ),
    # A seconds-long run on the bundled breast_cancer / digits data, for tests of this script.
    "smoke": Preset(
        name="smoke", tasks=(("breast_cancer", 0.2), ("digits", 0.05)), seeds=(0,), image_network="mlp",
        hidden_sizes=(16,), dqn_steps_image=256, dqn_steps_tabular=256, dqn_num_envs=16, dqn_learning_starts=64,
        dqn_eval_freq=128, dqn_exploration_fraction=0.3, dqn_target_update_interval=64, max_epochs=2, patience=1,
        lambda_tasks=(("breast_cancer", 0.2),), lambda_seeds=(0,),
    ),
}


@dataclass(frozen=True)
class Job:
    """One fit: a method on one (dataset, rho, seed); ``lam_factor`` for the lambda sweep."""

    dataset: str
    ratio: float
    seed: int
    method: str
    lam_factor: float | None = None


# --------------------------------------------------------------------------------------
# One job (runs in a worker process)
# --------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=2)
def _task(dataset: str, ratio: float, data_seed: int, data_home: str | None, flatten_images: bool):
    """Load a task once per worker; images flattened to [0, 1] floats for MLP bodies."""
    from imbalance_gym.datasets import load_task

    task = load_task(dataset, ratio=ratio, seed=data_seed, data_home=data_home)
    splits = [task.X_train, task.y_train, task.X_val, task.y_val, task.X_test, task.y_test]
    if flatten_images and task.kind == "image":
        for i in (0, 2, 4):
            splits[i] = (splits[i].reshape(splits[i].shape[0], -1).astype(np.float32) / np.float32(255.0))
    return tuple(splits), dict(task.info)


def natural_ratio(dataset: str, data_home: str | None) -> float:
    """rho of the training split of the natural task (seed 0)."""
    from imbalance_gym.datasets import load_task

    return float(load_task(dataset, seed=0, data_home=data_home).info["ratio"])


def make_estimator(method: str, preset: Preset, seed: int, kind: str, steps: int,
                   reward_lambda: float | None = None):
    """A fresh, unfitted estimator of ``method`` with the preset's shared network."""
    network = preset.image_network if kind == "image" else "mlp"
    if method == "DQNimb":
        from agents.dqn import DQNImbClassifier, DQNImbConfig

        config = DQNImbConfig(learning_starts=preset.dqn_learning_starts, eval_freq=preset.dqn_eval_freq,
                              exploration_fraction=preset.dqn_exploration_fraction,
                              target_update_interval=preset.dqn_target_update_interval)
        return DQNImbClassifier(total_timesteps=steps, network=network, hidden_sizes=preset.hidden_sizes,
                                num_envs=preset.dqn_num_envs, reward_lambda=reward_lambda, val_size=None,
                                selection_metric="g_mean", config=config, device="auto", random_state=seed)
    import agents.supervised as sup

    common = dict(random_state=seed, network=network, hidden_sizes=preset.hidden_sizes, device="auto",
                  max_epochs=preset.max_epochs, patience=preset.patience)
    if method == "DTA":
        return sup.DTA(threshold="prior", **common)
    if method == "DTA-tuned":
        return sup.DTA(threshold="tuned", metric="g_mean", **common)
    if method in ("DNN", "ROS", "RUS", "MFE", "CSM", "CRCEN"):
        return getattr(sup, method)(**common)
    raise ValueError(f"unknown method {method!r}; known: {METHODS}")


def run_job(job: Job, preset: Preset, data_home: str | None, threads: int = 1) -> dict[str, Any]:
    """Fit one method on one task and score it on the test split (one result row)."""
    import torch

    from imbalance_gym.metrics import classification_report

    torch.set_num_threads(threads)
    data_seed = job.seed if preset.data_seed is None else preset.data_seed
    flatten = preset.image_network == "mlp"
    (X_tr, y_tr, X_va, y_va, X_te, y_te), info = _task(job.dataset, job.ratio, data_seed, data_home, flatten)
    kind = info["kind"]
    steps = preset.dqn_steps_image if kind == "image" else preset.dqn_steps_tabular
    rho = float(info["ratio"])
    lam = None if job.lam_factor is None else job.lam_factor * rho
    est = make_estimator(job.method, preset, job.seed, kind, steps, reward_lambda=lam)
    start = time.perf_counter()
    est.fit(X_tr, y_tr, X_va, y_va)
    fit_s = time.perf_counter() - start
    scores = classification_report(y_te, est.predict(X_te), n_classes=2)
    row = {"dataset": job.dataset, "ratio": job.ratio, "train_ratio": rho, "method": job.method,
           "seed": job.seed, "data_seed": data_seed, "lam_factor": job.lam_factor,
           "n_train": int(len(y_tr)), "n_train_minority": int(np.sum(y_tr == 1)),
           "n_val_minority": int(np.sum(y_va == 1)), "fit_seconds": fit_s}
    row.update({m: float(scores[m]) for m in METRICS})
    if job.method == "DQNimb":
        row["history"] = est.history_
        row["best_step"] = est.agent_.best_step
    return row


# --------------------------------------------------------------------------------------
# Scheduling
# --------------------------------------------------------------------------------------
def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def run_jobs(jobs: Sequence[Job], preset: Preset, data_home: str | None, n_jobs: int, progress: bool,
             on_result: Callable[[dict], None] | None = None) -> list[dict]:
    """Run every job (in ``n_jobs`` processes, one torch thread each); rows in job order."""
    from tqdm.auto import tqdm

    rows: list[dict | None] = [None] * len(jobs)
    bar = tqdm(total=len(jobs), disable=not progress, desc="fits", unit="fit", dynamic_ncols=True)
    try:
        if n_jobs == 1:
            for i, job in enumerate(jobs):
                bar.set_postfix_str(f"{job.method} {job.dataset} {job.ratio:g} s{job.seed}", refresh=False)
                rows[i] = run_job(job, preset, data_home)
                if on_result:
                    on_result(rows[i])
                bar.update(1)
        else:
            import multiprocessing as mp

            ctx = mp.get_context("spawn")  # no forked torch thread pools
            with ProcessPoolExecutor(n_jobs, mp_context=ctx, initializer=_init_worker, initargs=(1,)) as pool:
                futures = {pool.submit(run_job, job, preset, data_home): i for i, job in enumerate(jobs)}
                for fut in as_completed(futures):
                    i = futures[fut]
                    rows[i] = fut.result()
                    if on_result:
                        on_result(rows[i])
                    bar.set_postfix_str(f"{jobs[i].method} {jobs[i].dataset} {jobs[i].ratio:g}", refresh=False)
                    bar.update(1)
    finally:
        bar.close()
    return rows  # type: ignore[return-value]


def build_jobs(preset: Preset, methods: Sequence[str], lambda_sweep: bool) -> tuple[list[Job], list[Job]]:
    """Main-table jobs (task-major, so a worker reuses its loaded task) and lambda-sweep jobs.

    A sweep point with lambda = rho whose DQNimb run is already in the main table is not run
    twice: :func:`sweep_rows` takes it from there (the default lambda *is* rho).
    """
    main = [Job(d, r, s, m) for d, r in preset.tasks for s in preset.seeds for m in methods]
    in_main = {(j.dataset, j.ratio, j.seed) for j in main if j.method == "DQNimb"}
    sweep = []
    if lambda_sweep:
        sweep = [Job(d, r, s, "DQNimb", f) for d, r in preset.lambda_tasks for s in preset.lambda_seeds
                 for f in LAMBDA_FACTORS if not (f == 1.0 and (d, r, s) in in_main)]
    return main, sweep


def sweep_rows(runs: pd.DataFrame, sweep: pd.DataFrame, preset: Preset) -> pd.DataFrame:
    """The lambda sweep with its lambda = rho points taken from the main-table DQNimb runs."""
    keys = {(d, r, s) for d, r in preset.lambda_tasks for s in preset.lambda_seeds}
    wanted = np.array([k in keys for k in zip(runs["dataset"], runs["ratio"], runs["seed"])], dtype=bool)
    reuse = runs[(runs["method"] == "DQNimb").to_numpy() & wanted].copy()
    reuse["lam_factor"] = 1.0
    reuse["from_main_table"] = True
    have = set(zip(sweep["dataset"], sweep["ratio"], sweep["seed"], sweep["lam_factor"])) if len(sweep) else set()
    reuse = reuse[np.array([(d, r, s, 1.0) not in have for d, r, s in
                            zip(reuse["dataset"], reuse["ratio"], reuse["seed"])], dtype=bool)]
    both = pd.concat([sweep, reuse], ignore_index=True) if len(sweep) else reuse
    return both.sort_values(["dataset", "ratio", "seed", "lam_factor"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------
def _pct(r: float) -> str:
    return f"{100 * r:g}%"


def results_tables(runs: pd.DataFrame, methods: Sequence[str]) -> dict[str, Any]:
    """Summary, formatted tables, ranks and tests of the main-table runs."""
    cases = ["dataset", "ratio"]
    out: dict[str, Any] = {}
    out["summary"] = _stats.summarize(runs, cases + ["method"], ["g_mean", "f_measure", "fit_seconds"])
    out["summary"]["paper_g_mean"] = [PAPER_TABLE_V.get((d, r), {}).get(m, math.nan)
                                      for d, r, m in out["summary"][["dataset", "ratio", "method"]].itertuples(index=False)]
    for metric in ("g_mean", "f_measure"):
        scores = _stats.score_matrix(runs, cases, "method", metric, methods)
        out[f"{metric}_scores"] = scores
        out[f"{metric}_cells"] = _stats.format_cells(runs, cases, "method", metric, methods)
        out[f"{metric}_ranks"] = _stats.average_ranks(scores)
        full = scores.dropna()
        out[f"{metric}_friedman"] = (_stats.friedman_test(full) if full.shape[0] >= 2 and full.shape[1] >= 3
                                     else None)
        out[f"{metric}_wilcoxon"] = (_stats.wilcoxon_test(full, "DQNimb") if "DQNimb" in full.columns
                                     and full.shape[1] >= 2 else None)
    return out


def _cells_with_rho(cells: pd.DataFrame) -> pd.DataFrame:
    t = cells.reset_index()
    t["ratio"] = t["ratio"].map(_pct)
    return t.rename(columns={"ratio": "rho"})


def paper_rows(index: pd.Index, methods: Sequence[str]) -> pd.DataFrame | None:
    """Table V G-means (the paper's) for the rows of ours the paper has."""
    rows = []
    shown = [m for m in methods if m in PAPER_METHODS]
    for dataset, ratio in index:
        ref = PAPER_TABLE_V.get((dataset, ratio))
        if ref:
            rows.append({"dataset": dataset, "rho": _pct(ratio), **{m: ref[m] for m in shown}})
    return pd.DataFrame(rows) if rows else None


def verdict(tables: dict[str, Any]) -> str:
    """Plain statement: does DQNimb have the best average G-mean rank, and where it loses."""
    ranks = tables["g_mean_ranks"]
    scores = tables["g_mean_scores"]
    if "DQNimb" not in ranks.index:
        return "DQNimb was not run, so no verdict on its rank."
    best = ranks.index[0]
    pos = list(ranks.index).index("DQNimb") + 1
    lines = []
    if best == "DQNimb":
        lines.append(f"**Yes: DQNimb has the best average G-mean rank** ({ranks['DQNimb']:.2f} over "
                     f"{len(scores.dropna())} rows; next: {ranks.index[1]} {ranks.iloc[1]:.2f}).")
    else:
        lines.append(f"**No: DQNimb does not have the best average G-mean rank.** It ranks {pos} of "
                     f"{len(ranks)} ({ranks['DQNimb']:.2f}); best: {best} ({ranks.iloc[0]:.2f}).")
    losses = []
    for idx, row in scores.dropna().iterrows():
        top = row.idxmax()
        if row["DQNimb"] < row.max():
            losses.append(f"{idx[0]} rho={_pct(idx[1])}: {top} {row.max():.3f} vs DQNimb {row['DQNimb']:.3f}")
    if losses:
        lines.append("Rows where DQNimb's mean test G-mean is not the best: " + "; ".join(losses) + ".")
    else:
        lines.append("DQNimb has the best mean test G-mean in every row.")
    return "\n\n".join(lines)


def _fmt_friedman(res) -> str:
    if res is None:
        return "not enough complete rows / methods for a Friedman test"
    cd = _stats.nemenyi_critical_difference(res.n_methods, res.n_cases)
    return (f"Friedman chi2 = {res.statistic:.2f}, p = {res.p_value:.3g} (Iman-Davenport F = "
            f"{res.iman_davenport:.2f}, p = {res.iman_davenport_p:.3g}); {res.n_cases} rows x {res.n_methods} "
            f"methods; Nemenyi critical difference of average ranks (alpha 0.05) = {cd:.2f}.")


def plot_fig2(runs: pd.DataFrame, methods: Sequence[str], out: Path) -> list[Path]:
    """F-measure vs rho, one PNG per dataset (DQNimb Fig. 2)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for dataset, grp in runs.groupby("dataset", sort=False):
        fig, ax = plt.subplots(figsize=(5.5, 4))
        for m in methods:
            g = grp[grp["method"] == m].groupby("ratio")["f_measure"]
            if g.ngroups == 0:
                continue
            mean, std = g.mean(), g.std(ddof=1).fillna(0.0)
            ax.errorbar(mean.index, mean.values, yerr=std.values, marker="o", capsize=3, label=m,
                        linewidth=2.2 if m == "DQNimb" else 1.2)
        ax.set_xscale("log")
        ax.set_xlabel("imbalance ratio rho (log)")
        ax.set_ylabel("test F-measure")
        ax.set_title(f"{dataset}: F-measure vs rho (cf. DQNimb Fig. 2)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        path = out / f"dqnimb_fig2_{dataset}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def plot_lambda(sweep: pd.DataFrame, out: Path) -> Path:
    """G-mean vs lambda / rho, one line per (dataset, rho) (DQNimb Fig. 3)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for (dataset, ratio), grp in sweep.groupby(["dataset", "ratio"], sort=False):
        g = grp.groupby("lam_factor")["g_mean"]
        mean, std = g.mean(), g.std(ddof=1).fillna(0.0)
        ax.errorbar(mean.index, mean.values, yerr=std.values, marker="o", capsize=3,
                    label=f"{dataset} rho={_pct(ratio)}")
    ax.set_xscale("log")
    ax.axvline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("lambda / rho (log)")
    ax.set_ylabel("test G-mean")
    ax.set_title("DQNimb reward lambda sweep (cf. Fig. 3)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = out / "dqnimb_fig3_lambda.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(runs: pd.DataFrame, sweep: pd.DataFrame | None, methods: Sequence[str], preset: Preset,
                 out: Path, command: str, wall_s: float, resolved: dict) -> Path:
    """Write csv, png and the markdown page; returns the markdown path."""
    out.mkdir(parents=True, exist_ok=True)
    tables = results_tables(runs, methods)
    _stats.write_csv(tables["summary"], out / "dqnimb_table.csv")
    curves = [dict(dataset=r["dataset"], ratio=r["ratio"], seed=r["seed"], lam_factor=r["lam_factor"], **h)
              for r in runs.to_dict("records") + ([] if sweep is None else sweep.to_dict("records"))
              if isinstance(r.get("history"), list) and r.get("from_main_table") is not True
              for h in r["history"]]
    if curves:
        _stats.write_csv(pd.DataFrame(curves), out / "dqnimb_learning_curves.csv")
    figs = plot_fig2(runs, methods, out)

    g_cells = _cells_with_rho(tables["g_mean_cells"])
    f_cells = _cells_with_rho(tables["f_measure_cells"])
    paper = paper_rows(tables["g_mean_scores"].index, methods)
    ranks = pd.DataFrame({"G-mean avg rank": tables["g_mean_ranks"],
                          "F-measure avg rank": tables["f_measure_ranks"]}).sort_values("G-mean avg rank")
    ranks.index.name = "method"
    sections = [("Verdict", verdict(tables))]
    setup = [
        f"- Preset `{preset.name}`; seeds {list(preset.seeds)}; data seed "
        f"{'= run seed' if preset.data_seed is None else preset.data_seed} (the paper repeats training on the same split).",
        f"- Network for every method: images {preset.image_network.upper()}"
        f"{' (Table III)' if preset.image_network == 'cnn' else ' on flattened pixels / 255'}, tables MLP "
        f"{list(preset.hidden_sizes)}{'; images use the same MLP' if preset.image_network == 'mlp' else ''}.",
        f"- DQNimb: {preset.dqn_steps_image} steps (images) / {preset.dqn_steps_tabular} (tables), "
        f"{preset.dqn_num_envs} lanes, lambda = rho, gamma 0.1, Adam 2.5e-4, replay 50 000, batch 64, "
        f"target copy every {preset.dqn_target_update_interval} updates, epsilon 1 -> 0.01 over "
        f"{preset.dqn_exploration_fraction:.0%} of the steps; weights with the best **validation** G-mean "
        f"(checked every {preset.dqn_eval_freq} steps) are the ones tested.",
        f"- Baselines: Adam 5e-4, batch 64, up to {preset.max_epochs} epochs, early stopping on the validation "
        f"loss (patience {preset.patience}); DTA = prior threshold (paper), DTA-tuned = threshold maximising "
        "validation G-mean. Nothing is tuned or selected on the test split.",
        "- Metrics on the natural test split; mean ± std (sample std) over seeds; best mean per row in bold.",
        f"- Wall time {wall_s / 60:.1f} min on {os.cpu_count()} CPU core(s), {platform.machine()}; resolved "
        "settings in `dqnimb_table_config.json`.",
    ]
    sections.append(("Setup", "\n".join(setup)))
    sections.append(("Test G-mean (ours)", _stats.markdown_table(g_cells, index=False)))
    if paper is not None:
        sections.append(("Test G-mean reported in the paper (DQNimb Table V, same rows)",
                         "The paper's numbers (CNN, 120k steps, its own splits), not ours:\n\n"
                         + _stats.markdown_table(paper, index=False)))
    sections.append(("Test F-measure (ours)", _stats.markdown_table(f_cells, index=False)))
    tests = [_stats.markdown_table(ranks, floatfmt=".2f"),
             f"G-mean: {_fmt_friedman(tables['g_mean_friedman'])}",
             f"F-measure: {_fmt_friedman(tables['f_measure_friedman'])}"]
    for metric in ("g_mean", "f_measure"):
        w = tables[f"{metric}_wilcoxon"]
        if w is not None:
            tests.append(f"Wilcoxon signed-rank, DQNimb vs each baseline on per-row mean test {metric} "
                         "(two-sided; Holm-adjusted over baselines):\n\n"
                         + _stats.markdown_table(w, floatfmt=".3g"))
    sections.append(("Average ranks and significance", "\n\n".join(tests)))
    sections.append(("F-measure vs rho (Fig. 2)", "\n".join(f"![{p.stem}]({p.name})" for p in figs)))
    if sweep is not None and len(sweep):
        lam_tab = _stats.format_cells(sweep, ["dataset", "ratio"], "lam_factor", "g_mean",
                                      sorted(sweep["lam_factor"].unique()))
        lam_tab.columns = [f"lambda={f:g} rho" for f in lam_tab.columns]
        lam_tab = _cells_with_rho(lam_tab)
        lam_summary = _stats.summarize(sweep, ["dataset", "ratio", "lam_factor"], ["g_mean", "f_measure"])
        _stats.write_csv(lam_summary, out / "dqnimb_lambda.csv")
        fig3 = plot_lambda(sweep, out)
        sections.append(("Reward lambda sweep (Fig. 3): DQNimb test G-mean",
                         _stats.markdown_table(lam_tab, index=False) + f"\n![lambda sweep]({fig3.name})"))
    timing = runs.groupby("method", sort=False)["fit_seconds"].median().reindex(methods)
    sections.append(("Fit time per run (median seconds)",
                     _stats.markdown_table(timing.to_frame("median fit s"), floatfmt=".1f")))
    sections.append(("Files", "`dqnimb_table.csv` (summary), `dqnimb_table_runs.csv` (every run), "
                     "`dqnimb_learning_curves.csv` (DQNimb validation curves), `dqnimb_lambda.csv`, "
                     "`dqnimb_table_config.json` (resolved settings)."))
    (out / "dqnimb_table_config.json").write_text(json.dumps(resolved, indent=1, default=str))
    return _stats.write_markdown(out / "dqnimb_table.md", "DQNimb Table V / Fig. 2 / Fig. 3 reproduction",
                                 sections, command=command)


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Reproduce DQNimb Table V, Fig. 2 and Fig. 3.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--preset", choices=sorted(PRESETS), default="quick")
    p.add_argument("--datasets", nargs="+", help="keep only these datasets of the preset")
    p.add_argument("--ratios", nargs="+", type=float, help="keep only these rho values of the preset")
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    p.add_argument("--seeds", nargs="+", type=int, help="seeds to run (default: the preset's)")
    p.add_argument("--dqn-steps", type=int, help="override DQNimb steps (images and tables)")
    p.add_argument("--no-lambda-sweep", action="store_true", help="skip Fig. 3")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (one torch thread each)")
    p.add_argument("--data-home", default=None, help="dataset folder (default: IMBALANCE_GYM_DATA)")
    p.add_argument("--out", type=Path, default=RESULTS, help="output folder")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error(f"--jobs must be >= 1, got {args.jobs}")
    if args.seeds is not None and any(s < 0 for s in args.seeds):
        p.error(f"--seeds must be >= 0, got {args.seeds}")
    if args.dqn_steps is not None and args.dqn_steps < 1:
        p.error(f"--dqn-steps must be >= 1, got {args.dqn_steps}")
    return args


def resolve_preset(args: argparse.Namespace) -> Preset:
    """The preset after the command-line filters and overrides (natural ratio when lower)."""
    preset = PRESETS[args.preset]
    tasks, lam_tasks = preset.tasks, preset.lambda_tasks
    if args.datasets:
        unknown = sorted(set(args.datasets) - {d for d, _ in tasks})
        if unknown:
            raise SystemExit(f"--datasets {unknown} are not in preset {preset.name!r}: {sorted({d for d, _ in tasks})}")
        tasks = tuple(t for t in tasks if t[0] in args.datasets)
        lam_tasks = tuple(t for t in lam_tasks if t[0] in args.datasets) or tasks[:1]
    if args.ratios:
        tasks = tuple(t for t in tasks if any(math.isclose(t[1], r) for r in args.ratios))
        if not tasks:
            raise SystemExit(f"--ratios {args.ratios} leave no task of preset {preset.name!r}")
    # A requested rho above the data's natural one becomes the natural one.
    resolved = []
    for name, rho in tasks:
        if (name, rho) not in PAPER_TABLE_V:
            rho = min(rho, natural_ratio(name, args.data_home))
        resolved.append((name, float(rho)))
    tasks = tuple(dict.fromkeys(resolved))
    changes: dict[str, Any] = {"tasks": tasks, "lambda_tasks": lam_tasks}
    if args.seeds:
        changes["seeds"] = tuple(args.seeds)
        changes["lambda_seeds"] = tuple(args.seeds[: len(preset.lambda_seeds)])
    if args.dqn_steps:
        changes["dqn_steps_image"] = changes["dqn_steps_tabular"] = args.dqn_steps
    return dataclasses.replace(preset, **changes)


def main(argv: Sequence[str] | None = None) -> pd.DataFrame:
    args = parse_args(argv)
    command = _stats.command_line(argv, module="benchmarks.dqnimb_table")
    data_home = None if args.data_home is None else str(args.data_home)
    preset = resolve_preset(args)
    methods = list(args.methods)
    main_jobs, sweep_jobs = build_jobs(preset, methods, lambda_sweep=not args.no_lambda_sweep
                                       and "DQNimb" in methods)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    done: list[dict] = []

    def checkpoint(row: dict) -> None:  # partial results survive an interrupted long run
        done.append(row)
        if len(done) % 10 == 0:
            _stats.write_csv(pd.DataFrame(done).drop(columns=["history"], errors="ignore"),
                             out / "dqnimb_table_runs.partial.csv")

    start = time.perf_counter()
    rows = run_jobs(main_jobs + sweep_jobs, preset, data_home, args.jobs, not args.no_progress, checkpoint)
    wall = time.perf_counter() - start
    frame = pd.DataFrame(rows)
    is_sweep = frame["lam_factor"].notna()
    runs, sweep = frame[~is_sweep].reset_index(drop=True), frame[is_sweep].reset_index(drop=True)
    if sweep_jobs:
        sweep = sweep_rows(runs, sweep, preset)
    _stats.write_csv(runs.drop(columns=["history"], errors="ignore"), out / "dqnimb_table_runs.csv")
    resolved = {"command": command, "preset": preset.to_dict(), "methods": methods, "jobs": args.jobs,
                "n_fits": len(rows), "wall_seconds": wall}
    path = write_report(runs, sweep if len(sweep) else None, methods, preset, out, command, wall, resolved)
    partial = out / "dqnimb_table_runs.partial.csv"
    if partial.exists():
        partial.unlink()
    if not args.no_progress:
        print(f"wrote {path} ({len(rows)} fits, {wall / 60:.1f} min)")
    return runs


if __name__ == "__main__":
    main()
