"""CRCEN Table 3: F1 and G-mean of CRCEN against sampling, ensemble and cost-sensitive baselines.

Protocol of CRCEN sec. 4 (Li and Zhu): each dataset is split 0.75 / 0.25 into training and
test rows by a stratified split, repeated with 4 seeds; every model is trained on the
training rows and scored on the test rows (F1 and G-mean of the minority class). Tabular
preprocessing (standardise, impute, one-hot) is fit on the training rows only.

Methods (paper names):

* ``MLP``: plain cross-entropy network (``agents.supervised.DNN``);
* ``CSMLP``: class-weighted squared error, weights inversely proportional to class
  frequency (``CSM(loss="squared_error")``, Castro and Braga 2013);
* ``CRCEN``: class-wise reweighted cross-entropy, lambda = N_0 / (N_0 + N_1) (eq. 1);
* ``ADASYN`` / ``SMOTE``: imbalanced-learn oversampling of the training rows, then MLP;
* ``RUSB`` / ``EE`` / ``BRF``: imbalanced-learn's RUSBoost, EasyEnsemble and balanced
  random forest with their default base learners;
* ``DTA`` / ``DTA-tuned``: the MLP with its threshold moved to the class prior, or tuned for
  validation G-mean (DQNimb's DTA baseline; not in the paper's table).

Every network is one hidden layer ("MLPs are fixed with 3 layers"), trained with the
project's shared loop: Adam 5e-4, batch 64, up to 100 epochs, early stopping on a
stratified 10% of the training rows. The paper picks the width and L2 penalty per dataset
by 4-fold cross-validation; here they are fixed (``--hidden``, ``--weight-decay``).

Usage (from the repository root, with the data home holding the datasets)::

    python -m benchmarks.crcen_table --data-home ../shared/datasets
    python -m benchmarks.crcen_table --datasets solar_flare_m0 --seeds 0 --max-epochs 5 --out smoke

Datasets missing from the data home (the paper's ``us_crime`` and ``scene`` are not in the
shared folder) are skipped with a line saying which files to place where.
"""

from __future__ import annotations

import argparse
import json
import math
import numbers
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import imblearn
import numpy as np
import pandas as pd
import sklearn
import torch
from imblearn.ensemble import BalancedRandomForestClassifier, EasyEnsembleClassifier, RUSBoostClassifier
from imblearn.over_sampling import ADASYN, SMOTE
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from agents.supervised import CRCEN, CSM, DNN, DTA, ResampledDNN, TrainingConfig
from benchmarks import _stats
from imbalance_gym.datasets import DatasetNotFoundError, dataset_spec, load_task
from imbalance_gym.datasets import preprocess_splits, stratified_split
from imbalance_gym.metrics import f_measure, g_mean, recall, specificity

RESULTS = Path(__file__).resolve().parent / "results"
STEM = "crcen_table"

PAPER_DATASETS = ("abalone", "coil_2000", "satimage", "scene", "solar_flare_m0", "us_crime")
"""CRCEN Table 2 / 3 datasets (imbalanced-learn names), in the paper's column order."""

PAPER_NAMES = {"abalone": "Abalone", "coil_2000": "Coil", "satimage": "Satimage", "scene": "Scene",
               "solar_flare_m0": "Solar", "us_crime": "UScrime"}

PAPER_TABLE3 = {
    # method: {dataset: (F1, G-mean)}, CRCEN Table 3 ("Predictive performance on the testing data")
    "MLP": {"abalone": (0.0, 0.0), "coil_2000": (0.107, 0.273), "satimage": (0.554, 0.668),
            "scene": (0.211, 0.341), "solar_flare_m0": (0.0, 0.0), "us_crime": (0.475, 0.597)},
    "CSMLP": {"abalone": (0.392, 0.798), "coil_2000": (0.200, 0.658), "satimage": (0.611, 0.890),
              "scene": (0.259, 0.662), "solar_flare_m0": (0.240, 0.655), "us_crime": (0.472, 0.707)},
    "CRCEN": {"abalone": (0.400, 0.808), "coil_2000": (0.205, 0.678), "satimage": (0.626, 0.894),
              "scene": (0.298, 0.701), "solar_flare_m0": (0.264, 0.690), "us_crime": (0.525, 0.726)},
    "ADASYN": {"abalone": (0.389, 0.804), "coil_2000": (0.166, 0.411), "satimage": (0.583, 0.898),
               "scene": (0.253, 0.512), "solar_flare_m0": (0.240, 0.643), "us_crime": (0.448, 0.652)},
    "SMOTE": {"abalone": (0.400, 0.808), "coil_2000": (0.161, 0.406), "satimage": (0.624, 0.891),
              "scene": (0.234, 0.487), "solar_flare_m0": (0.232, 0.647), "us_crime": (0.466, 0.675)},
    "RUSB": {"abalone": (0.385, 0.792), "coil_2000": (0.163, 0.624), "satimage": (0.518, 0.874),
             "scene": (0.163, 0.561), "solar_flare_m0": (0.174, 0.705), "us_crime": (0.407, 0.831)},
    "EE": {"abalone": (0.377, 0.789), "coil_2000": (0.200, 0.670), "satimage": (0.537, 0.869),
           "scene": (0.256, 0.707), "solar_flare_m0": (0.169, 0.670), "us_crime": (0.434, 0.858)},
    "BRF": {"abalone": (0.393, 0.794), "coil_2000": (0.196, 0.674), "satimage": (0.579, 0.890),
            "scene": (0.256, 0.709), "solar_flare_m0": (0.180, 0.699), "us_crime": (0.459, 0.865)},
}

METRICS = {"f1": ("F1", f_measure), "g_mean": ("G-mean", g_mean)}


# --------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableConfig:
    """Everything that defines a run of the table (saved with the results)."""

    datasets: tuple[str, ...] = PAPER_DATASETS
    """Catalog names; missing files are skipped, unknown names are an error."""
    seeds: tuple[int, ...] = (0, 1, 2, 3)
    """One stratified train / test split (and model seed) per value (the paper: 4 repeats)."""
    methods: tuple[str, ...] = ()
    """Methods to run; empty means all of :data:`METHODS`."""
    test_size: float = 0.25
    """Test fraction of the stratified split (paper: 0.75 / 0.25)."""
    hidden_sizes: tuple[int, ...] = (64,)
    """Hidden layer widths of every network (one layer: the paper's 3-layer MLP)."""
    max_epochs: int = 100
    """Epochs at most (DQNimb sec. IV-D, the project's protocol for every network)."""
    batch_size: int = 64
    """Rows per Adam step (DQNimb sec. IV-D)."""
    learning_rate: float = 5e-4
    """Adam step size (DQNimb sec. IV-D)."""
    weight_decay: float = 0.0
    """L2 penalty on the weights (the paper tunes it by CV; fixed here)."""
    patience: int = 10
    """Early-stopping patience in epochs on the validation loss."""
    threads: int = 1
    """torch, BLAS and OpenMP threads (small networks are fastest on one; see :func:`run`)."""

    def __post_init__(self):
        if not self.datasets:
            raise ValueError("datasets must name at least one dataset, got ()")
        for name in self.datasets:
            check_binary_table(name)
        if not self.seeds or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0
                                 for s in self.seeds) or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct ints >= 0, got {self.seeds!r}")
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown:
            raise ValueError(f"methods {unknown} are unknown; choose from {list(METHODS)}")
        if not 0.0 < self.test_size < 1.0:
            raise ValueError(f"test_size must be in (0, 1), got {self.test_size!r}")
        if not self.hidden_sizes or any(h < 1 for h in self.hidden_sizes):
            raise ValueError(f"hidden_sizes must be ints >= 1, got {self.hidden_sizes!r}")
        if isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 1:
            raise ValueError(f"threads must be an int >= 1, got {self.threads!r}")
        TrainingConfig(self.max_epochs, self.batch_size, self.learning_rate, self.weight_decay, self.patience)

    @property
    def method_names(self) -> tuple[str, ...]:
        """The methods that run, in table order."""
        return tuple(m for m in METHODS if not self.methods or m in self.methods)


# --------------------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------------------
def _network_args(config: TableConfig, seed: int) -> dict:
    """Shared arguments of every network baseline."""
    return dict(random_state=seed, hidden_sizes=config.hidden_sizes, max_epochs=config.max_epochs,
                batch_size=config.batch_size, learning_rate=config.learning_rate,
                weight_decay=config.weight_decay, patience=config.patience)


METHODS: dict[str, Callable[[TableConfig, int], object]] = {
    "MLP": lambda c, s: DNN(**_network_args(c, s)),
    "CSMLP": lambda c, s: CSM(loss="squared_error", **_network_args(c, s)),
    "CRCEN": lambda c, s: CRCEN(**_network_args(c, s)),
    "ADASYN": lambda c, s: ResampledDNN(ADASYN(), **_network_args(c, s)),
    "SMOTE": lambda c, s: ResampledDNN(SMOTE(), **_network_args(c, s)),
    "RUSB": lambda c, s: RUSBoostClassifier(random_state=s),
    "EE": lambda c, s: EasyEnsembleClassifier(random_state=s),
    "BRF": lambda c, s: BalancedRandomForestClassifier(random_state=s),
    "DTA": lambda c, s: DTA(**_network_args(c, s)),
    "DTA-tuned": lambda c, s: DTA(threshold="tuned", **_network_args(c, s)),
}
"""Table columns -> factory(config, seed) of an unfitted estimator."""


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BinaryTable:
    """A whole dataset as raw features and {0, 1} labels (1 = minority)."""

    name: str
    X: pd.DataFrame
    y: np.ndarray

    @property
    def imbalance_ratio(self) -> float:
        """N_0 / N_1."""
        return float(np.sum(self.y == 0) / np.sum(self.y == 1))


def check_binary_table(name: str):
    """The catalog entry of ``name``; ValueError unless it is a known binary table."""
    spec = dataset_spec(name)  # ValueError naming an unknown dataset, with suggestions
    if spec.kind != "tabular" or not spec.is_binary:
        raise ValueError(f"dataset {name!r} is of kind {spec.kind!r} with {spec.n_classes} classes; "
                         "this table needs binary tables")
    return spec


def load_binary_table(name: str, data_home) -> BinaryTable:
    """All rows of a binary tabular dataset with the catalog's label coding.

    Raises:
        DatasetNotFoundError: The files are not in the data home.
        ValueError: The dataset is not a binary table.
    """
    spec = check_binary_table(name)
    task = load_task(name, seed=0, data_home=data_home, preprocess=False)  # natural ratio, raw frames
    X = pd.concat([task.X_train, task.X_val, task.X_test], ignore_index=True)
    y = np.concatenate([task.y_train, task.y_val, task.y_test])
    return BinaryTable(spec.name, X, y)


def split_and_preprocess(table: BinaryTable, seed: int, test_size: float):
    """Stratified train / test split (seeded), preprocessing fit on the training rows only."""
    train, test = stratified_split(table.y, [test_size], np.random.default_rng(seed))
    X_train, (X_test,), _ = preprocess_splits(table.X.iloc[train], [table.X.iloc[test]],
                                              dataset_spec(table.name).categorical)
    return X_train, table.y[train], X_test, table.y[test]


# --------------------------------------------------------------------------------------
# Run
# --------------------------------------------------------------------------------------
def run(config: TableConfig, data_home=None, progress: bool = True) -> tuple[pd.DataFrame, list[str], pd.DataFrame]:
    """Fit and score every (dataset, seed, method) with ``config.threads`` torch, BLAS and OpenMP threads.

    The thread count is part of the result: nearest-neighbour samplers (ADASYN on the
    many duplicate rows of coil_2000) break distance ties differently with other BLAS
    thread counts, so the same seeds give the same numbers only at the same ``--threads``.

    Returns:
        ``(runs, skipped, datasets)``: one row per run (``f1``, ``g_mean``, ``recall``,
        ``specificity``, ``fit_s``, ``error``), the lines explaining skipped datasets,
        and one row per dataset used.
    """
    torch.set_num_threads(config.threads)
    with threadpool_limits(config.threads):
        return _run(config, data_home, progress)


def _run(config: TableConfig, data_home, progress: bool):
    """Body of :func:`run` (inside the thread limits)."""
    tables, skipped = [], []
    for name in config.datasets:
        try:
            tables.append(load_binary_table(name, data_home))
        except DatasetNotFoundError as err:
            line = (f"skipped {name}: not in the data home; place {', '.join(err.files)} in "
                    f"<data home>/{err.folder.name}/")
            skipped.append(line)
            print(line, file=sys.stderr)
    methods = config.method_names
    rows, n_features = [], {}
    bar = tqdm(total=len(tables) * len(config.seeds) * len(methods), disable=not progress, desc="crcen_table")
    for table in tables:
        for seed in config.seeds:
            X_train, y_train, X_test, y_test = split_and_preprocess(table, seed, config.test_size)
            n_features.setdefault(table.name, X_train.shape[1])
            for method in methods:
                bar.set_postfix_str(f"{table.name} seed={seed} {method}")
                row = {"dataset": table.name, "seed": seed, "method": method, "error": ""}
                start = time.perf_counter()
                try:
                    y_pred = METHODS[method](config, seed).fit(X_train, y_train).predict(X_test)
                except (ValueError, RuntimeError) as err:  # keep the other runs of a long table
                    row["error"] = f"{type(err).__name__}: {err}"
                    print(f"{table.name} seed={seed} {method} failed: {row['error']}", file=sys.stderr)
                    y_pred = None
                row["fit_s"] = time.perf_counter() - start
                for key, fn in (("f1", f_measure), ("g_mean", g_mean), ("recall", recall),
                                ("specificity", specificity)):
                    row[key] = math.nan if y_pred is None else fn(y_test, y_pred)
                rows.append(row)
                bar.update()
    bar.close()
    datasets = pd.DataFrame([
        {"dataset": t.name, "rows": t.y.size, "minority": int(t.y.sum()), "IR": round(t.imbalance_ratio, 1),
         "features": n_features[t.name]}
        for t in tables
    ])
    return pd.DataFrame(rows), skipped, datasets


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------
def paper_runs(datasets, methods) -> pd.DataFrame:
    """CRCEN Table 3 as a long frame (one 'seed'), for the datasets and methods given."""
    rows = [{"dataset": d, "method": m, "seed": 0, "f1": PAPER_TABLE3[m][d][0], "g_mean": PAPER_TABLE3[m][d][1]}
            for d in datasets for m in methods if m in PAPER_TABLE3 and d in PAPER_TABLE3[m]]
    return pd.DataFrame(rows, columns=["dataset", "method", "seed", "f1", "g_mean"])


def side_by_side(runs: pd.DataFrame, metric: str, methods) -> pd.DataFrame:
    """Rows ``dataset (ours)`` with mean ± std and ``dataset (paper)`` with Table 3's number."""
    ours = _stats.format_cells(runs, ["dataset"], "method", metric, methods)
    paper = paper_runs(list(ours.index), methods)
    blocks = []
    for dataset in ours.index:
        blocks.append(ours.loc[[dataset]].rename(index={dataset: f"{dataset} (ours)"}))
        values = paper[paper["dataset"] == dataset].set_index("method")[metric]
        if not values.empty:
            cells = [f"{values[m]:.3f}" if m in values.index else "" for m in methods]
            blocks.append(pd.DataFrame([cells], index=[f"{dataset} (paper)"], columns=list(methods)))
    table = pd.concat(blocks)
    table.index.name = "dataset"
    return table


def rank_table(runs: pd.DataFrame, methods) -> pd.DataFrame:
    """Average ranks over datasets: ours (all methods), ours and the paper's (paper's methods only)."""
    ok = runs[runs["error"] == ""]
    datasets = list(dict.fromkeys(ok["dataset"]))
    shared = [m for m in methods if m in PAPER_TABLE3]
    paper = paper_runs(datasets, shared)
    columns = {}
    for metric, (label, _) in METRICS.items():
        columns[f"{label} ours"] = _stats.average_ranks(_stats.score_matrix(ok, ["dataset"], "method", metric, methods))
        columns[f"{label} ours (paper's methods)"] = _stats.average_ranks(
            _stats.score_matrix(ok, ["dataset"], "method", metric, shared))
        if not paper.empty:
            columns[f"{label} paper"] = _stats.average_ranks(
                _stats.score_matrix(paper, ["dataset"], "method", metric, shared))
    table = pd.DataFrame(columns).reindex(list(methods))
    table.index.name = "method"
    return table


def friedman_lines(runs: pd.DataFrame, methods) -> str:
    """Friedman / Iman-Davenport test over datasets for each metric (or why it is not run)."""
    ok = runs[runs["error"] == ""]
    lines = []
    for metric, (label, _) in METRICS.items():
        scores = _stats.score_matrix(ok, ["dataset"], "method", metric, methods)
        try:
            res = _stats.friedman_test(scores)
        except ValueError as err:
            lines.append(f"- {label}: not run ({err})")
            continue
        cd = _stats.nemenyi_critical_difference(res.n_methods, res.n_cases)
        lines.append(f"- {label}: Friedman chi2 = {res.statistic:.2f} (p = {res.p_value:.3g}), Iman-Davenport "
                     f"F = {res.iman_davenport:.2f} (p = {res.iman_davenport_p:.3g}) over {res.n_cases} datasets "
                     f"and {res.n_methods} methods; Nemenyi CD (alpha 0.05) = {cd:.2f} ranks")
    return "\n".join(lines)


def summary_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, method): means, stds, run counts, fit time and the paper's numbers."""
    ok = runs[runs["error"] == ""]
    summary = _stats.summarize(ok, ["dataset", "method"], ["f1", "g_mean", "fit_s"])
    paper = paper_runs(PAPER_DATASETS, list(PAPER_TABLE3)).rename(columns={"f1": "paper_f1", "g_mean": "paper_g_mean"})
    summary = summary.merge(paper.drop(columns="seed"), on=["dataset", "method"], how="left")
    return summary.drop(columns=["fit_s_n"]).rename(columns={"f1_n": "n_runs"}).drop(columns=["g_mean_n"])


def plot(runs: pd.DataFrame, methods, path: Path) -> Path:
    """Grouped bars of our mean score per dataset and method, the paper's numbers as dots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = runs[runs["error"] == ""]
    fig, axes = plt.subplots(2, 1, figsize=(max(6, 1.6 * ok["dataset"].nunique() + 3), 7), sharex=True)
    for ax, (metric, (label, _)) in zip(axes, METRICS.items()):
        means = _stats.score_matrix(ok, ["dataset"], "method", metric, methods)
        stds = ok.groupby(["dataset", "method"])[metric].std().unstack().reindex(index=means.index, columns=methods)
        width = 0.8 / len(methods)
        x = np.arange(len(means.index))
        for j, m in enumerate(methods):
            pos = x - 0.4 + width * (j + 0.5)
            ax.bar(pos, means[m].to_numpy(), width, yerr=stds[m].to_numpy(), label=m, capsize=1.5)
            paper = [PAPER_TABLE3.get(m, {}).get(d, (np.nan, np.nan))[0 if metric == "f1" else 1] for d in means.index]
            ax.plot(pos, paper, "k.", markersize=4, label="paper" if j == 0 else None)
        ax.set_ylabel(f"{label} (test)")
        ax.set_ylim(0, 1)
        ax.grid(axis="y", alpha=0.3)
    axes[-1].set_xticks(np.arange(len(means.index)), [PAPER_NAMES.get(d, d) for d in means.index])
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, ncol=6, fontsize=8, loc="lower center")
    axes[0].set_title("CRCEN Table 3: ours (bars, mean ± std over seeds), paper (dots)")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write(runs, skipped, datasets, config: TableConfig, out: Path, command: str, elapsed: float) -> list[Path]:
    """crcen_table.md / .csv / .runs.csv / .png under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    methods = list(config.method_names)
    paths = [
        _stats.write_csv(summary_frame(runs), out / f"{STEM}.csv"),
        _stats.write_csv(runs, out / f"{STEM}.runs.csv"),
    ]
    if (runs["error"] == "").any():
        paths.append(plot(runs, methods, out / f"{STEM}.png"))
    setup = (
        f"Stratified {1 - config.test_size:.2f} / {config.test_size:.2f} train / test splits, seeds "
        f"{list(config.seeds)} (the same seed seeds the models); preprocessing fit on the training rows; "
        f"networks with hidden layers {list(config.hidden_sizes)}, Adam {config.learning_rate}, batch "
        f"{config.batch_size}, at most {config.max_epochs} epochs, early stopping (patience {config.patience}) "
        "on a stratified 10% of the training rows. Rows marked *paper* are CRCEN Table 3 (Li and Zhu) as "
        "published; DTA / DTA-tuned have no paper number. Best mean per dataset in bold. "
        f"Total wall time {elapsed / 60:.1f} min on {torch.get_num_threads()} torch thread(s); "
        f"torch {torch.__version__}, scikit-learn {sklearn.__version__}, imbalanced-learn {imblearn.__version__}."
    )
    sections = [("Setup", setup + "\n\n```json\n" + json.dumps(asdict(config)) + "\n```")]
    if skipped:
        sections.append(("Skipped datasets", "\n".join(f"- {line}" for line in skipped)))
    if not datasets.empty:
        sections.append(("Datasets", _stats.markdown_table(datasets, index=False, floatfmt=".1f")))
    failed = runs[runs["error"] != ""]
    if not failed.empty:
        failures = _stats.markdown_table(failed[["dataset", "seed", "method", "error"]], index=False)
        sections.append(("Failed runs", failures))
    if (runs["error"] == "").any():
        for metric, (label, _) in METRICS.items():
            sections.append((f"{label} on the test split", _stats.markdown_table(side_by_side(runs, metric, methods))))
        ranks = _stats.markdown_table(rank_table(runs, methods), floatfmt=".2f")
        sections.append(("Average ranks over datasets (1 = best)", ranks))
        sections.append(("Friedman test", friedman_lines(runs, methods)))
        silent = runs[(runs["error"] == "") & (runs["recall"] == 0)]
        if not silent.empty:
            listed = ", ".join(f"{r.method} on {r.dataset} (seed {r.seed})" for r in silent.itertuples())
            sections.append(("Runs that predicted no minority row", f"F1 = G-mean = 0 for: {listed}."))
        fit = runs.groupby("method", sort=False)["fit_s"].mean().reindex(methods).to_frame("mean fit + predict (s)")
        sections.append(("Time per run", _stats.markdown_table(fit, floatfmt=".2f")))
        sections.append(("Figure", f"![F1 and G-mean per dataset]({STEM}.png)"))
    paths.append(_stats.write_markdown(out / f"{STEM}.md", "CRCEN Table 3: imbalanced benchmarks", sections, command))
    return paths


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------
def parse_args(argv=None) -> tuple[TableConfig, argparse.Namespace]:
    """Command line -> (validated config, raw namespace)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-home", type=Path, default=None,
                   help="folder holding <dataset>/ folders (default: IMBALANCE_GYM_DATA, then ~/.cache)")
    p.add_argument("--datasets", nargs="+", default=list(PAPER_DATASETS), help="catalog names of binary tables")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3], help="one train/test split per seed")
    p.add_argument("--methods", nargs="+", default=[], help=f"subset of {list(METHODS)} (default all)")
    p.add_argument("--hidden", nargs="+", type=int, default=[64], help="hidden layer widths")
    p.add_argument("--max-epochs", type=int, default=100)
    p.add_argument("--patience", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--learning-rate", type=float, default=5e-4)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--out", type=Path, default=RESULTS, help="folder for crcen_table.{md,csv,runs.csv,png}")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = p.parse_args(argv)
    try:
        config = TableConfig(
            datasets=tuple(args.datasets), seeds=tuple(args.seeds), methods=tuple(args.methods),
            hidden_sizes=tuple(args.hidden), max_epochs=args.max_epochs, batch_size=args.batch_size,
            learning_rate=args.learning_rate, weight_decay=args.weight_decay, patience=args.patience,
            threads=args.threads,
        )
    except ValueError as err:
        p.error(str(err))
    return config, args


def main(argv=None) -> int:
    config, args = parse_args(argv)
    command = _stats.command_line(argv, module="benchmarks.crcen_table")
    start = time.perf_counter()
    runs, skipped, datasets = run(config, args.data_home, progress=not args.no_progress)
    if runs.empty:
        print("no dataset could be loaded; nothing to write", file=sys.stderr)
        return 1
    for path in write(runs, skipped, datasets, config, args.out, command, time.perf_counter() - start):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
