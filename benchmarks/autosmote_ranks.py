"""AutoSMOTE Table 2, Table 4 and Figure 5: average ranks of AutoSMOTE against every
imbalanced-learn sampler, the ablations on Mozilla4, and best validation score per episode.

Protocol of Zha et al. (CIKM'22), sec. 4.1, as implemented here:

* **Data**: each dataset is made imbalanced at IR = N_maj / N_min in {20, 50, 100} and split
  stratified 60/20/20 into train / validation / test (:func:`imbalance_gym.datasets.load_task`,
  one split per seed; preprocessing fit on the training split).
* **Base classifiers**: SVM, KNN, DecisionTree, AdaBoost with scikit-learn defaults
  (:mod:`imbalance_gym.classifiers`); a *configuration* is (dataset, classifier, IR).
* **Methods** (Table 2): no resampling; every imbalanced-learn under-, over- and combined
  sampler with its desired ratio ``N_min / N_maj`` after resampling grid-searched in
  {0.1, ..., 1.0} on validation (:func:`imbalance_gym.baselines.sampler_grid_search`; the
  cleaning samplers take no ratio and run once); and three searches in the AutoSMOTE space
  with the same episode budget and one code path, the hierarchical learner's
  ``autosmote_search(..., ablation=...)``: ``AutoSMOTE`` (``"full"``), ``Flat`` (``"flat"``)
  and ``RandomSearch`` (``"random"``). The paper's generative (CTGAN, TVAE) and
  meta-learning (MESA) baselines are not part of this project.
* **Validation guidance**: every method keeps the configuration with the best validation
  score (ratio, or synthetic set); the classifier is then refit on train + that resampled
  data and scored once on the test split (Macro-F1 and MCC). Nothing is tuned on test.
  A sampler that fails at every ratio (e.g. KMeansSMOTE finding no minority cluster) is
  recorded as *failed* for that run with the reason; in the ranks it scores what it
  leaves you with, the unresampled data (the ``NoResampling`` score of the same run), and
  the table counts its failures.
* **Statistics** (:mod:`benchmarks._stats`): ranks per configuration on the seed-averaged
  test score (1 = best, ties averaged), averaged per dataset and overall, as in Table 2.
  Significance uses the individual runs, i.e. (configuration, seed) pairs on the same
  split: a one-sided Wilcoxon signed-rank test per method, ▲ where AutoSMOTE is
  significantly better (p < 0.05, as the paper marks it) and ▼ where it is significantly
  worse; Holm-adjusted p-values are in the csv. A Friedman test (Iman-Davenport) asks
  whether the methods differ at all.
* **Ablations** (Table 4) on one dataset (Mozilla4): full AutoSMOTE, without the
  cross-instance / instance-specific / low-level policy, the flat policy and random
  search, ranked among themselves, Wilcoxon against full.
* **Figure 5**: best validation score so far against search episodes (mean over seeds).

Presets: ``--preset quick`` (phoneme and mozilla4, DecisionTree and KNN, IR 50, 3 seeds,
200 episodes, Macro-F1-tuned searches, InstanceHardnessThreshold left out; built to finish
within an hour on 2 cores) and ``--preset paper`` (the full grid, 1000 episodes, 5 seeds,
one search per metric). Every option can be overridden on the command line.

Usage (from the repository root)::

    python -m benchmarks.autosmote_ranks --preset quick --data-home ../shared/datasets
    python -m benchmarks.autosmote_ranks --preset paper --data-home ../shared/datasets --jobs 16
    python -m benchmarks.autosmote_ranks --preset quick --plan      # list the cells, run nothing

Results: ``<out>/autosmote_ranks.{md,csv,png}`` and ``<out>/autosmote_ablation.{md,csv,png}``.
Every finished cell (one method on one run) is appended to ``autosmote_ranks.runs.csv``
(search histories to ``autosmote_ranks.curves.csv``) as soon as it ends; a rerun with the
same settings skips the cells found there, so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import multiprocessing
import numbers
import os
import platform
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from benchmarks import _stats
from imbalance_gym.baselines import RATIO_GRID, SAMPLERS, list_samplers, sampler_grid_search
from imbalance_gym.classifiers import CLASSIFIERS, evaluate, make_classifier
from imbalance_gym.datasets import dataset_spec, get_data_home, list_datasets, load_task
from imbalance_gym.metrics import get_metric
from imbalance_gym.samplers import get_searcher, list_searchers, search_history

RESULTS = Path(__file__).resolve().parent / "results"
STEM = "autosmote_ranks"
ABLATION_STEM = "autosmote_ablation"
MODULE = "benchmarks.autosmote_ranks"

METRICS = {"macro_f1": "Macro-F1", "mcc": "MCC"}
"""Test metrics of Table 2 (sec. 4.1), by name in :mod:`imbalance_gym.metrics`."""

NO_RESAMPLING = "NoResampling"
REFERENCE = "AutoSMOTE"
FOCUS = ("SMOTE", "BorderlineSMOTE", "ADASYN")
"""Samplers the findings single out (the SMOTE family AutoSMOTE builds on)."""

SEARCH_METHODS = {"RandomSearch": "random", "Flat": "flat", "AutoSMOTE": "full"}
"""Table 2's searches -> ``ablation`` argument of ``autosmote_search`` (same budget, same code)."""

ABLATIONS = {
    "AutoSMOTE": "full",
    "NoCrossInstance": "no_cross_instance",
    "NoInstanceSpecific": "no_instance_specific",
    "NoLowLevel": "no_low_level",
    "Flat": "flat",
    "RandomSearch": "random",
}
"""Table 4's rows -> ``ablation`` argument (sec. 4.4)."""

ABLATION_LABELS = {
    "AutoSMOTE": "Full AutoSMOTE",
    "NoCrossInstance": "w/o cross-instance sub-policy",
    "NoInstanceSpecific": "w/o instance-specific sub-policy",
    "NoLowLevel": "w/o low-level policy",
    "Flat": "Flat policy",
    "RandomSearch": "Random search",
}

PAPER_DATASETS = ("phoneme", "phishing_websites", "eeg_eye_state", "mozilla4")
"""The paper's datasets that are in the shared data home (MagicTelescope and Electricity are not)."""

PAPER_COLUMNS = {"phoneme": "Phoneme", "phishing_websites": "PhishingWebsites",
                 "eeg_eye_state": "EEGEyeState", "mozilla4": "Mozilla4",
                 "magic_telescope": "MagicTelescope", "electricity": "Electricity"}

# Table 2 of the paper as printed: "Macro-F1 rank/MCC rank", ▲ = AutoSMOTE significantly
# better (Wilcoxon, p < 0.05). Checked against the text: every dataset column sums to
# 25 * 26 / 2 = 325 (25 methods) and every Overall is the mean of its six datasets,
# except two printed values that are inconsistent in the paper itself (kept as printed,
# flagged in PAPER_TABLE2_NOTES). "SVMMSMOTE" in the extracted text is SVMSMOTE.
_PAPER_TABLE2_TEXT = """
method                          | Phoneme       | PhishingWebsites | EEGEyeState   | Mozilla4      | MagicTelescope | Electricity   | Overall
NoResampling                    | 16.50▲/16.75▲ | 9.75/9.42        | 16.08▲/17.08▲ | 12.75▲/12.83▲ | 15.92▲/13.00▲  | 18.17▲/15.67▲ | 14.86▲/14.12▲
ClusterCentroids                | 13.25▲/14.58▲ | 19.50▲/19.58▲    | 13.67▲/14.33▲ | 15.67▲/15.42▲ | 16.42▲/19.58▲  | 15.25▲/18.25▲ | 15.62▲/14.58▲
CondensedNearestNeighbour       | 16.62▲/17.46▲ | 16.92▲/16.96▲    | 17.75▲/19.17▲ | 19.88▲/20.46▲ | 14.33▲/14.92▲  | 13.58▲/14.58▲ | 16.51▲/17.19▲
EditedNearestNeighbours         | 14.17▲/15.42▲ | 11.83/12.42      | 15.71▲/16.88▲ | 11.96▲/12.46▲ | 13.04▲/10.71   | 15.25▲/15.50▲ | 13.66▲/13.90▲
RepeatedEditedNearestNeighbours | 14.71▲/17.04▲ | 15.29▲/15.96▲    | 15.33▲/17.17▲ | 13.88▲/14.12▲ | 10.38▲/8.88    | 14.62▲/14.88▲ | 14.03▲/14.67▲
AllKNN                          | 14.04▲/15.46▲ | 13.46▲/13.46     | 15.50▲/16.75▲ | 13.88▲/14.29▲ | 10.71▲/8.38    | 16.08▲/17.17▲ | 13.94▲/14.25▲
InstanceHardnessThreshold       | 14.21▲/13.38▲ | 20.67▲/20.67▲    | 14.29▲/14.46▲ | 17.79▲/18.04▲ | 10.25/10.25    | 12.58▲/12.83▲ | 14.97▲/14.94▲
NearMiss                        | 24.42▲/24.75▲ | 24.17▲/24.42▲    | 22.58▲/20.92▲ | 23.25▲/23.33▲ | 25.00▲/25.00▲  | 19.58▲/21.08▲ | 23.17▲/23.25▲
NeighbourhoodCleaningRule       | 16.33▲/17.83▲ | 13.08/13.25▲     | 15.12▲/15.88  | 12.83▲/13.25▲ | 10.79/9.12     | 12.54▲/11.71▲ | 13.45▲/13.51▲
OneSidedSelection               | 17.21▲/18.21▲ | 11.08/10.67▲     | 15.92▲/16.17▲ | 13.83▲/14.17▲ | 15.62▲/13.21▲  | 17.12▲/15.71▲ | 15.13▲/14.69▲
RandomUnderSampler              | 12.50▲/10.00▲ | 17.42▲/17.58▲    | 11.00▲/9.25▲  | 12.83▲/12.92▲ | 10.17/11.67    | 10.83▲/12.25▲ | 12.46▲/12.28▲
TomekLinks                      | 16.88▲/17.46▲ | 10.04/9.38       | 14.12▲/14.04▲ | 14.12▲/14.29▲ | 15.62▲/12.96▲  | 17.38▲/16.21▲ | 14.69▲/14.06▲
RandomOverSampler               | 6.75/8.17     | 12.33▲/12.75▲    | 5.00/5.58     | 8.00▲/8.42▲   | 9.92▲/13.33    | 8.58▲/10.83▲  | 8.43▲/9.85▲
SMOTE                           | 7.25/8.67▲    | 10.42▲/10.67▲    | 7.00▲/6.67    | 12.00▲/12.00▲ | 11.42▲/14.17▲  | 7.17▲/7.42    | 9.21▲/9.93▲
SMOTEN                          | 16.83▲/18.25▲ | 10.71/10.54      | 12.42▲/15.58▲ | 9.58▲/10.08   | 18.17▲/17.33▲  | 17.83▲/18.67▲ | 14.26▲/15.08▲
ADASYN                          | 7.33/8.00     | 9.75/9.58        | 7.50▲/8.17▲   | 12.58▲/12.25▲ | 10.17/12.08▲   | 8.00▲/8.50▲   | 9.22▲/9.76▲
BorderlineSMOTE                 | 6.92/8.67     | 9.42▲/9.25       | 9.67▲/10.92▲  | 9.17▲/9.33▲   | 7.50/9.75      | 4.67/5.08     | 7.89▲/8.83▲
KMeansSMOTE                     | 15.92▲/16.67▲ | 10.00/9.83       | 16.08▲/16.92▲ | 12.83▲/12.79▲ | 14.92▲/12.17   | 17.92▲/15.42▲ | 14.61▲/13.97▲
SVMSMOTE                        | 6.25/9.08▲    | 10.17▲/10.00     | 7.25/7.75     | 8.25▲/9.33▲   | 6.67/8.58      | 4.50/4.83     | 7.18▲/8.26▲
SMOTEENN                        | 6.25/6.50     | 14.67/14.50      | 7.17/6.92     | 10.75▲/10.08  | 8.00/7.42      | 9.75▲/9.67▲   | 9.43▲/9.18▲
SMOTETomek                      | 8.67/9.25▲    | 9.58/9.75        | 6.67▲/6.42    | 11.42▲/11.08▲ | 8.58/10.25     | 7.75▲/7.92▲   | 8.78▲/9.11▲
CTGAN                           | 12.08/9.33▲   | 11.75▲/11.42▲    | 11.50▲/12.58  | 10.42▲/9.25▲  | 15.17/15.42▲   | 12.75/11.83▲  | 12.28▲/11.64▲
TVAE                            | 14.25▲/12.17▲ | 9.42/9.17        | 23.50▲/18.50▲ | 16.17▲/16.58▲ | 20.92▲/20.92▲  | 19.58▲/17.25▲ | 17.31▲/15.76▲
MESA                            | 19.92▲/7.33   | 17.08▲/16.50▲    | 20.17▲/12.17▲ | 17.50▲/13.25▲ | 19.58▲/18.92▲  | 20.83▲/18.50▲ | 19.18▲/14.44▲
AutoSMOTE                       | 5.75/4.58     | 6.50/7.67        | 4.00/4.75     | 3.67/4.96     | 5.75/7.00      | 2.67/3.25     | 4.72/5.37
"""

PAPER_TABLE2_NOTES = (
    "The paper's ranks are among its 25 methods (with CTGAN, TVAE and MESA, without the flat "
    "policy and random search) over 12 configurations per dataset and 6 datasets; ours are among "
    "the methods run here, so compare orderings rather than raw values.",
    "Two printed values of the paper's Table 2 are inconsistent with the rest of it: "
    "ClusterCentroids' overall MCC rank is printed 14.58 but its six dataset ranks average 16.96; "
    "CondensedNearestNeighbour's PhishingWebsites MCC rank 16.96 makes that column sum to 325.4 "
    "instead of 325 and its overall (17.19) implies about 16.55. Both are shown as printed.",
)

# Table 4 (Mozilla4; average ranks among the 7 rows, ▲ = full AutoSMOTE significantly
# better). Each column sums to 28 = 7 * 8 / 2 as it should. The row "Merging training and
# validation sets" (2.83 / 2.83) is not run here.
PAPER_TABLE4 = {
    "NoCrossInstance": ((3.79, True), (4.12, True)),
    "NoInstanceSpecific": ((2.75, False), (3.75, True)),
    "NoLowLevel": ((4.58, True), (4.21, True)),
    "Flat": ((4.67, True), (5.25, True)),
    "RandomSearch": ((6.92, True), (5.75, True)),
    "AutoSMOTE": ((2.46, False), (2.08, False)),
}


def _parse_paper_table2(text: str) -> dict[str, dict[str, tuple[tuple[float, bool], tuple[float, bool]]]]:
    """``{method: {column: ((macro_f1 rank, ▲), (mcc rank, ▲))}}`` from the transcription."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    header = [c.strip() for c in lines[0].split("|")][1:]
    out: dict = {}
    for line in lines[1:]:
        method, *cells = [c.strip() for c in line.split("|")]
        row = {}
        for column, cell in zip(header, cells):
            f1, mcc_ = cell.split("/")
            row[column] = tuple((float(v.rstrip("▲")), v.endswith("▲")) for v in (f1, mcc_))
        out[method] = row
    return out


PAPER_TABLE2 = _parse_paper_table2(_PAPER_TABLE2_TEXT)
"""The paper's Table 2 by method and column (see :data:`_PAPER_TABLE2_TEXT`)."""

PAPER_ORDER = tuple(m for m in PAPER_TABLE2 if m in SAMPLERS)
"""imbalanced-learn samplers in the paper's row order."""


# --------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------
def _default_samplers(excluded: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Every numeric imbalanced-learn sampler (paper order first), minus ``excluded``."""
    names = list_samplers()
    ordered = [m for m in PAPER_ORDER if m in names] + sorted(set(names) - set(PAPER_ORDER))
    return tuple(m for m in ordered if m not in excluded)


@dataclass(frozen=True)
class RanksConfig:
    """Everything that defines a run of the benchmark (saved with the results)."""

    preset: str = "quick"
    """Name of the preset the settings started from (``quick``, ``paper`` or ``custom``)."""
    datasets: tuple[str, ...] = ("phoneme", "mozilla4")
    """Binary tabular catalog names (any present in the data home)."""
    classifiers: tuple[str, ...] = ("dt", "knn")
    """Base classifiers (:data:`imbalance_gym.classifiers.CLASSIFIERS`)."""
    imbalance_ratios: tuple[float, ...] = (50,)
    """IR = N_maj / N_min of every split (paper: 20, 50, 100)."""
    seeds: tuple[int, ...] = (0, 1, 2)
    """One split, imbalance draw and search per seed (paper: 5 runs)."""
    budget: int = 200
    """Episodes of every search (paper: I = 1000)."""
    samplers: tuple[str, ...] = _default_samplers(("InstanceHardnessThreshold",))
    """imbalanced-learn samplers (names of :data:`imbalance_gym.baselines.SAMPLERS`)."""
    tune_metrics: tuple[str, ...] = ("macro_f1",)
    """Validation metrics searched with; one search per metric. A test metric without its
    own search is read from the first one's runs."""
    ablation: bool = True
    """Also run Table 4 (the ablations) on ``ablation_dataset``."""
    ablation_dataset: str = "mozilla4"
    """Dataset of the ablation table (paper: Mozilla4); must be among ``datasets``."""
    searcher: str = "hierarchical"
    """Search registered under ``imbalance_gym.searchers``; ``random`` stands in for every
    search method (testing only: the table then compares random search with itself)."""
    G2: int = 10
    """Largest instance-specific factor (paper: 10); G1 is the paper's 4 IR / G2."""
    K: int = 30
    """Nearest minority neighbours (paper: 30)."""
    search_jobs: int | None = None
    """``n_jobs`` of every search: None runs its episodes in the cell's own process (the
    cells themselves run in parallel with ``--jobs``); k >= 1 starts k actor processes."""
    device: str = "auto"
    """Torch device of the learner."""

    def __post_init__(self):
        for name in ("datasets", "classifiers", "imbalance_ratios", "seeds", "tune_metrics"):
            values = getattr(self, name)
            if not values or len(set(values)) != len(values):
                raise ValueError(f"{name} must be a non-empty tuple of distinct values, got {values!r}")
        for name in self.datasets:
            spec = dataset_spec(name)  # ValueError with suggestions for an unknown name
            if spec.kind != "tabular" or not spec.is_binary:
                raise ValueError(f"dataset {name!r} is {spec.kind} with {spec.n_classes} classes; "
                                 "AutoSMOTE's table needs binary tables")
        unknown = [c for c in self.classifiers if c not in CLASSIFIERS]
        if unknown:
            raise ValueError(f"classifiers {unknown} are unknown; choose from {sorted(CLASSIFIERS)}")
        for ir in self.imbalance_ratios:
            if isinstance(ir, bool) or not isinstance(ir, numbers.Real) or ir < 1:
                raise ValueError(f"imbalance_ratios must hold numbers >= 1, got {ir!r}")
        for s in self.seeds:
            if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0:
                raise ValueError(f"seeds must be integers >= 0, got {s!r}")
        for name in ("budget", "G2", "K"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        bad = [s for s in self.samplers if s not in SAMPLERS or not SAMPLERS[s].numeric_ok]
        if bad:
            raise ValueError(f"samplers {bad} are unknown or need categorical features; "
                             f"choose from {list_samplers()}")
        bad = [m for m in self.tune_metrics if m not in METRICS]
        if bad:
            raise ValueError(f"tune_metrics {bad} are unknown; choose from {list(METRICS)}")
        if self.ablation and self.ablation_dataset not in self.datasets:
            raise ValueError(f"ablation_dataset {self.ablation_dataset!r} must be one of datasets "
                             f"{self.datasets}, or pass --no-ablation")
        if self.searcher not in list_searchers():
            raise ValueError(f"unknown searcher {self.searcher!r}; known searches: {list_searchers()}")
        if self.search_jobs is not None and (isinstance(self.search_jobs, bool)
                                             or not isinstance(self.search_jobs, numbers.Integral)
                                             or self.search_jobs == 0):
            raise ValueError(f"search_jobs must be None or a non-zero integer, got {self.search_jobs!r}")

    @property
    def stand_in(self) -> bool:
        """Whether random search stands in for every search method (no learner)."""
        return self.searcher == "random"

    @property
    def table_methods(self) -> tuple[str, ...]:
        """Table 2's columns: no resampling, the samplers, the three searches."""
        return (NO_RESAMPLING, *self.samplers, *SEARCH_METHODS)

    @property
    def search_setting(self) -> str:
        """What a search cell's result depends on besides its run (part of the cache key)."""
        return f"search={self.searcher};budget={self.budget};G2={self.G2};K={self.K}"


PRESETS: dict[str, RanksConfig] = {
    "quick": RanksConfig(),
    "paper": RanksConfig(
        preset="paper", datasets=PAPER_DATASETS, classifiers=("svm", "knn", "dt", "adaboost"),
        imbalance_ratios=(20, 50, 100), seeds=(0, 1, 2, 3, 4), budget=1000,
        samplers=_default_samplers(), tune_metrics=("macro_f1", "mcc"),
    ),
}
"""``--preset`` values. quick: about an hour on 2 cores (see the module docstring)."""


def left_out(config: RanksConfig) -> list[str]:
    """What this configuration leaves out of the paper's protocol, in words."""
    paper = PRESETS["paper"]
    out = []
    for name, label in (("datasets", "datasets"), ("classifiers", "classifiers"),
                        ("imbalance_ratios", "imbalance ratios"), ("samplers", "samplers")):
        missing = [v for v in getattr(paper, name) if v not in getattr(config, name)]
        if missing:
            out.append(f"{label}: {', '.join(map(str, missing))}")
    if len(config.seeds) < len(paper.seeds):
        out.append(f"seeds: {len(config.seeds)} runs instead of the paper's {len(paper.seeds)}")
    if config.budget < paper.budget:
        out.append(f"search budget: {config.budget} episodes instead of {paper.budget}")
    for m in METRICS:
        if m not in config.tune_metrics:
            out.append(f"no search tuned on {METRICS[m]}: its column scores the "
                       f"{METRICS[config.tune_metrics[0]]}-tuned runs (the paper tunes per metric)")
    out.append("always: MagicTelescope and Electricity (not in the data home), CTGAN, TVAE, MESA "
               "(not implemented here), the 85 smote-variants samplers (Table 3) and the "
               "merged train+validation ablation")
    return out


# --------------------------------------------------------------------------------------
# Cells: one method on one run
# --------------------------------------------------------------------------------------
KEY = ("dataset", "imbalance_ratio", "seed", "classifier", "tune_metric", "method", "setting")
RUN = ("dataset", "imbalance_ratio", "classifier", "seed")
COLUMNS = (*KEY, "category", "status", "val_score", "test_macro_f1", "test_mcc", "best_ratio",
           "n_fit", "n_synthetic", "seconds", "reason")
CURVE_COLUMNS = (*KEY, "episode", "metric", "best")


@dataclass(frozen=True)
class Cell:
    """One method on one run: a dataset at an IR, a seed, a classifier, a tuning metric."""

    dataset: str
    imbalance_ratio: float
    seed: int
    classifier: str
    tune_metric: str
    method: str
    setting: str = ""

    @property
    def key(self) -> tuple:
        """The cache key (:data:`KEY` columns)."""
        return (self.dataset, float(self.imbalance_ratio), int(self.seed), self.classifier,
                self.tune_metric, self.method, self.setting)


def _category(method: str) -> str:
    if method == NO_RESAMPLING:
        return "none"
    if method in SAMPLERS:
        return SAMPLERS[method].category
    return "search"


def plan_cells(config: RanksConfig) -> list[Cell]:
    """Every cell the configuration needs, the searches (the longest cells) first, so that
    parallel workers do not wait on one long cell at the end."""
    cells = []
    for dataset in config.datasets:
        extra = [m for m in ABLATIONS if m not in SEARCH_METHODS] \
            if config.ablation and dataset == config.ablation_dataset else []
        for ir in config.imbalance_ratios:
            for seed in config.seeds:
                for clf in config.classifiers:
                    for tune in config.tune_metrics:
                        for method in config.table_methods + tuple(extra):
                            setting = config.search_setting if method in ABLATIONS else ""
                            cells.append(Cell(dataset, float(ir), int(seed), clf, tune, method, setting))
    return sorted(cells, key=lambda c: c.method not in ABLATIONS)


@functools.lru_cache(maxsize=8)
def _task(dataset: str, imbalance_ratio: float, seed: int, data_home: str | None):
    """The AutoSMOTE-protocol splits of one run (cached per process)."""
    ir = int(imbalance_ratio) if float(imbalance_ratio).is_integer() else imbalance_ratio
    return load_task(dataset, imbalance_ratio=ir, seed=seed, data_home=data_home)


def _test_scores(X_fit, y_fit, task, classifier: str, seed: int) -> dict[str, float]:
    """Fit ``classifier`` once on the chosen training data and score the test split."""
    estimator = make_classifier(classifier, random_state=seed).fit(X_fit, y_fit)
    pred = np.asarray(estimator.predict(task.X_test)).astype(np.int64)
    return {f"test_{m}": float(get_metric(m)(task.y_test, pred)) for m in METRICS}


def run_cell(cell: Cell, config: RanksConfig, data_home: str | None) -> tuple[dict, list[dict]]:
    """Run one cell; returns its runs-table row and (for searches) its curve rows.

    Every random number comes from ``cell.seed``: the split, the sampler's and the search's
    seed, and the test classifier's ``random_state`` are the same for every method of a
    run, so the methods are compared on paired data.
    """
    start = time.perf_counter()
    task = _task(cell.dataset, cell.imbalance_ratio, cell.seed, data_home)
    row = dict(zip(KEY, cell.key), category=_category(cell.method), status="ok", val_score=math.nan,
               best_ratio=math.nan, n_synthetic=math.nan, reason="")
    curves: list[dict] = []
    X_fit, y_fit = task.X_train, task.y_train
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # imblearn / sklearn chatter (convergence, empty classes)
        if cell.method == NO_RESAMPLING:
            row["val_score"] = evaluate(task.X_train, task.y_train, None, task.X_val, task.y_val,
                                        classifier=cell.classifier, metric=cell.tune_metric,
                                        random_state=cell.seed)
        elif cell.method in ABLATIONS:
            search = get_searcher(config.searcher)
            ablation = "random" if config.stand_in else ABLATIONS[cell.method]
            res = search(task.X_train, task.y_train, task.X_val, task.y_val,
                         classifier=cell.classifier, metric=cell.tune_metric, budget=config.budget,
                         G1=None, G2=config.G2, K=config.K, n_jobs=config.search_jobs,
                         device=config.device, seed=cell.seed, ablation=ablation, progress_bar=False)
            syn = np.asarray(res.synthetic, dtype=task.X_train.dtype).reshape(-1, task.X_train.shape[1])
            X_fit = np.concatenate([task.X_train, syn])
            y_fit = np.concatenate([task.y_train, np.ones(syn.shape[0], dtype=task.y_train.dtype)])
            row.update(val_score=float(res.metric), n_synthetic=int(syn.shape[0]))
            hist = search_history(res.history)
            curves = [dict(zip(KEY, cell.key), episode=e + 1, metric=m, best=b)
                      for e, (m, b) in enumerate(zip(hist["metric"], hist["best"]))]
        else:
            try:
                res = sampler_grid_search(task.X_train, task.y_train, task.X_val, task.y_val, cell.method,
                                          classifier=cell.classifier, metric=cell.tune_metric, seed=cell.seed)
            except Exception as err:  # recorded, never dropped: see the module docstring
                X_fit = None
                row.update(status="failed", reason=f"{type(err).__name__}: {err}"[:300])
            else:
                X_fit, y_fit = res.X_resampled, res.y_resampled
                row.update(val_score=res.best_score,
                           best_ratio=math.nan if res.best_ratio is None else res.best_ratio)
        if X_fit is not None:
            row.update(_test_scores(X_fit, y_fit, task, cell.classifier, cell.seed), n_fit=int(len(y_fit)))
        else:
            row.update(test_macro_f1=math.nan, test_mcc=math.nan, n_fit=0)
    row["seconds"] = time.perf_counter() - start
    return row, curves


def _worker_init() -> None:
    """One thread per worker process: the cells run side by side on the cores."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


# --------------------------------------------------------------------------------------
# The cache of finished cells
# --------------------------------------------------------------------------------------
class RunStore:
    """Append-only csv files of finished cells and search curves (the resume point)."""

    def __init__(self, out: Path):
        self.runs_path = out / f"{STEM}.runs.csv"
        self.curves_path = out / f"{STEM}.curves.csv"

    @staticmethod
    def _read(path: Path, columns) -> pd.DataFrame:
        if not path.exists():
            return pd.DataFrame(columns=list(columns))
        text = {c: str for c in ("dataset", "classifier", "tune_metric", "method", "setting",
                                  "category", "status", "reason") if c in columns}
        frame = pd.read_csv(path, dtype=text, keep_default_na=False, na_values=[""])
        for column in ("setting", "reason"):
            if column in frame:
                frame[column] = frame[column].fillna("")
        frame["imbalance_ratio"] = frame["imbalance_ratio"].astype(float)
        frame["seed"] = frame["seed"].astype(int)
        return frame

    def runs(self) -> pd.DataFrame:
        """Every finished cell so far (all settings)."""
        return self._read(self.runs_path, COLUMNS)

    def curves(self) -> pd.DataFrame:
        """Every recorded search curve so far."""
        return self._read(self.curves_path, CURVE_COLUMNS)

    def done(self) -> set[tuple]:
        """Keys of the finished cells."""
        runs = self.runs()
        return set(runs[list(KEY)].itertuples(index=False, name=None)) if len(runs) else set()

    def append(self, row: dict, curves: list[dict]) -> None:
        """Add one finished cell (curves first: a row marks the cell complete)."""
        for path, rows, columns in ((self.curves_path, curves, CURVE_COLUMNS), (self.runs_path, [row], COLUMNS)):
            if rows:
                path.parent.mkdir(parents=True, exist_ok=True)
                frame = pd.DataFrame(rows).reindex(columns=list(columns))
                frame.to_csv(path, mode="a", header=not path.exists(), index=False)


def execute(config: RanksConfig, store: RunStore, data_home: str | None, jobs: int = 1,
            progress: bool = True) -> int:
    """Run every pending cell, appending each to ``store`` when it ends; returns how many ran."""
    done = store.done()
    pending = [c for c in plan_cells(config) if c.key not in done]
    if not pending:
        return 0
    bar = tqdm(total=len(pending), desc=STEM, unit="cell", disable=not progress)
    try:
        if jobs == 1:
            for cell in pending:
                bar.set_postfix_str(f"{cell.dataset} {cell.classifier} s{cell.seed} {cell.method}", refresh=False)
                store.append(*run_cell(cell, config, data_home))
                bar.update()
        else:
            # spawn: workers start clean (no forked torch state) and pin one thread each
            context = multiprocessing.get_context("spawn")
            pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_init)
            try:
                futures = [pool.submit(run_cell, c, config, data_home) for c in pending]
                for future in as_completed(futures):
                    store.append(*future.result())
                    bar.update()
            finally:  # on an error or Ctrl-C, drop the queued cells; finished ones are stored
                pool.shutdown(wait=False, cancel_futures=True)
    finally:
        bar.close()
    return len(pending)


# --------------------------------------------------------------------------------------
# Analysis
# --------------------------------------------------------------------------------------
def current_runs(runs: pd.DataFrame, config: RanksConfig) -> pd.DataFrame:
    """The rows of ``runs`` this configuration asks for (stale settings dropped), with failed
    samplers scored as the unresampled data of the same run (column ``failed`` marks them)."""
    wanted = pd.DataFrame([c.key for c in plan_cells(config)], columns=list(KEY))
    frame = wanted.merge(runs, on=list(KEY), how="inner")
    frame["failed"] = frame["status"] == "failed"
    base = frame[frame["method"] == NO_RESAMPLING].set_index([*RUN, "tune_metric"])
    for m in METRICS:
        col = f"test_{m}"
        idx = pd.MultiIndex.from_frame(frame[[*RUN, "tune_metric"]])
        fallback = base[col].reindex(idx).to_numpy()
        frame[col] = np.where(frame["failed"], fallback, frame[col].to_numpy(dtype=float))
    return frame


def _for_metric(frame: pd.DataFrame, config: RanksConfig, metric: str) -> pd.DataFrame:
    """Runs whose searches were tuned for ``metric`` (else the first tuning metric's)."""
    tune = metric if metric in config.tune_metrics else config.tune_metrics[0]
    return frame[frame["tune_metric"] == tune]


@dataclass
class RankResult:
    """Average ranks and tests of one metric over a set of methods."""

    ranks: pd.DataFrame  # method x (each dataset, "overall"), average rank
    p_better: pd.DataFrame  # method x columns: one-sided p, reference better
    p_worse: pd.DataFrame  # method x columns: one-sided p, reference worse
    wilcoxon: pd.DataFrame  # overall wilcoxon_test(..., "greater") frame (wins, p, p_holm)
    friedman: _stats.FriedmanResult | None
    n_configs: int
    n_runs: int
    failed: pd.Series = field(default_factory=pd.Series)  # method -> failed runs


def rank_methods(frame: pd.DataFrame, methods, metric: str, reference: str = REFERENCE,
                 by_dataset: bool = True) -> RankResult:
    """Table-2 statistics of ``methods`` on ``frame`` (one tuning metric's runs).

    Ranks: per configuration (dataset, classifier, IR) on the seed-averaged test score.
    Tests: on the runs (configuration x seed), per dataset and overall.
    """
    value = f"test_{metric}"
    methods = [m for m in methods if m in set(frame["method"])]
    configs = _stats.score_matrix(frame, ["dataset", "classifier", "imbalance_ratio"], "method", value, methods)
    ranks = _stats.rank_matrix(configs)
    runs = _stats.score_matrix(frame, ["dataset", "classifier", "imbalance_ratio", "seed"], "method", value, methods)
    columns = list(dict.fromkeys(ranks.index.get_level_values("dataset"))) if by_dataset else []
    avg = {d: ranks.xs(d, level="dataset").mean(axis=0) for d in columns}
    avg["overall"] = ranks.mean(axis=0)
    p_better, p_worse = {}, {}
    overall_test = None
    for col in [*columns, "overall"]:
        sub = runs if col == "overall" else runs.xs(col, level="dataset", drop_level=False)
        if reference not in sub.columns:
            continue
        greater = _stats.wilcoxon_test(sub, reference, alternative="greater")
        less = _stats.wilcoxon_test(sub, reference, alternative="less")
        p_better[col], p_worse[col] = greater["p_value"], less["p_value"]
        if col == "overall":
            overall_test = greater
    friedman = None
    complete = runs.dropna()
    if len(methods) >= 3 and len(complete) >= 2:
        friedman = _stats.friedman_test(complete)
    failed = frame.groupby("method")["failed"].sum().reindex(methods).fillna(0).astype(int)
    return RankResult(pd.DataFrame(avg).reindex(methods), pd.DataFrame(p_better), pd.DataFrame(p_worse),
                      overall_test, friedman, len(configs), len(runs), failed)


def _mark(res: RankResult, method: str, column: str, alpha: float = 0.05) -> str:
    """▲ (reference significantly better), ▼ (significantly worse) or nothing."""
    if method == REFERENCE or column not in res.p_better:
        return ""
    if res.p_better[column].get(method, 1.0) < alpha:
        return "▲"
    if res.p_worse[column].get(method, 1.0) < alpha:
        return "▼"
    return ""


def _paper_cell(method: str, dataset: str | None) -> str:
    """The paper's "F1 / MCC" rank text for a method and dataset (None: Overall)."""
    column = "Overall" if dataset is None else PAPER_COLUMNS.get(dataset)
    row = PAPER_TABLE2.get(method, {})
    if column not in row:
        return "—"
    (f1, s1), (mc, s2) = row[column]
    return f"{f1:.2f}{'▲' if s1 else ''} / {mc:.2f}{'▲' if s2 else ''}"


def table2_frames(results: dict[str, RankResult], config: RanksConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(markdown table, long csv table) of Table 2: ours beside the paper's."""
    first = results["macro_f1"]
    columns = list(first.ranks.columns)
    md_rows, csv_rows = [], []
    for method in first.ranks.index:
        md = {"category": _category(method), "method": method}
        for col in columns:
            parts = []
            for metric, res in results.items():
                rank = res.ranks.at[method, col] if method in res.ranks.index else math.nan
                mark = _mark(res, method, col)
                parts.append("n/a" if np.isnan(rank) else f"{rank:.2f}{mark}")
                csv_rows.append({
                    "method": method, "category": _category(method), "dataset": col, "metric": metric,
                    "rank": rank, "mark": mark,
                    "p_better": res.p_better[col].get(method, math.nan) if col in res.p_better else math.nan,
                    "p_worse": res.p_worse[col].get(method, math.nan) if col in res.p_worse else math.nan,
                    "failed_runs": int(res.failed.get(method, 0)),
                    "paper": _paper_cell(method, None if col == "overall" else col),
                })
            md[col] = " / ".join(parts)
            md[f"{col} (paper)"] = _paper_cell(method, None if col == "overall" else col)
        md["failed runs"] = f"{int(first.failed.get(method, 0))} / {first.n_runs}" if method in SAMPLERS else ""
        md_rows.append(md)
    return pd.DataFrame(md_rows), pd.DataFrame(csv_rows)


def _fmt_p(p: float) -> str:
    return "n/a" if p is None or not np.isfinite(p) else (f"{p:.3f}" if p >= 0.001 else f"{p:.1e}")


def findings(results: dict[str, RankResult], config: RanksConfig) -> list[str]:
    """Plain sentences: best average rank, significance against SMOTE / Borderline / ADASYN."""
    lines = []
    if config.stand_in:
        lines.append("**Stand-in run: random search played AutoSMOTE and the flat policy, so these "
                     "findings say nothing about the learner.**")
    for metric, res in results.items():
        name = METRICS[metric]
        overall = res.ranks["overall"].dropna().sort_values(kind="stable")
        if REFERENCE not in overall.index:
            continue
        ours = overall[REFERENCE]
        best = overall.index[0]
        position = int((overall < ours).sum()) + 1
        if overall.iloc[0] == ours and (overall == ours).sum() == 1:
            lines.append(f"{name}: AutoSMOTE **has the best overall average rank** ({ours:.2f} over "
                         f"{res.n_configs} configurations).")
        else:
            lines.append(f"{name}: AutoSMOTE **does not have the best overall average rank**: it is "
                         f"{ours:.2f} (position {position} of {len(overall)}), the best is {best} with "
                         f"{overall.iloc[0]:.2f}.")
        for sampler in FOCUS:
            if sampler not in res.ranks.index:
                lines.append(f"{name}: {sampler} was not run.")
                continue
            p = res.p_better["overall"].get(sampler, math.nan)
            w = res.wilcoxon.loc[sampler]
            verdict = "**significantly better**" if p < 0.05 else "**not significantly better**"
            lines.append(f"{name}: AutoSMOTE is {verdict} than {sampler} (one-sided Wilcoxon over "
                         f"{int(w['n_cases'])} runs: {int(w['wins'])} wins, {int(w['ties'])} ties, "
                         f"{int(w['losses'])} losses, p = {_fmt_p(p)}).")
        not_better = [m for m in res.ranks.index if m != REFERENCE and res.p_better["overall"].get(m, 1.0) >= 0.05]
        worse = [m for m in res.ranks.index if m != REFERENCE and res.p_worse["overall"].get(m, 1.0) < 0.05]
        datasets = [c for c in res.ranks.columns if c != "overall"]
        not_first = [d for d in datasets
                     if res.ranks[d].dropna().sort_values(kind="stable").index[0] != REFERENCE
                     or (res.ranks[d] == res.ranks.at[REFERENCE, d]).sum() > 1]
        lines.append(f"{name}: not significantly better than {len(not_better)} of {len(res.ranks) - 1} "
                     f"methods overall: {', '.join(not_better) or 'none'}; significantly worse than: "
                     f"{', '.join(worse) or 'none'}; not ranked first on: {', '.join(not_first) or 'none'}.")
    return lines


def _friedman_text(results: dict[str, RankResult]) -> str:
    lines = []
    for metric, res in results.items():
        f = res.friedman
        if f is None:
            lines.append(f"- {METRICS[metric]}: not enough methods or runs for the Friedman test.")
        else:
            lines.append(f"- {METRICS[metric]}: chi2 = {f.statistic:.2f} (p = {_fmt_p(f.p_value)}), "
                         f"Iman-Davenport F = {f.iman_davenport:.2f} (p = {_fmt_p(f.iman_davenport_p)}) "
                         f"over {f.n_cases} runs and {f.n_methods} methods.")
    return "\n".join(lines)


def _wilcoxon_table(results: dict[str, RankResult]) -> pd.DataFrame:
    rows = []
    first = next(iter(results.values()))
    for method in first.wilcoxon.index if first.wilcoxon is not None else []:
        row = {"method": method}
        for metric, res in results.items():
            w = res.wilcoxon.loc[method]
            row[f"{METRICS[metric]} W/T/L"] = f"{int(w['wins'])}/{int(w['ties'])}/{int(w['losses'])}"
            row[f"{METRICS[metric]} p (better)"] = _fmt_p(w["p_value"])
            row[f"{METRICS[metric]} p Holm"] = _fmt_p(w["p_holm"])
        rows.append(row)
    return pd.DataFrame(rows)


def _scores_table(frame: pd.DataFrame, methods, metric: str) -> pd.DataFrame:
    """Mean ± std test score over seeds per configuration for a few methods."""
    present = [m for m in methods if m in set(frame["method"])]
    sub = frame[frame["method"].isin(present)].copy()
    sub["imbalance_ratio"] = [f"{v:g}" for v in sub["imbalance_ratio"]]
    cells = _stats.format_cells(sub, ["dataset", "classifier", "imbalance_ratio"], "method",
                                f"test_{metric}", present)
    return cells


def _time_table(frame: pd.DataFrame) -> pd.DataFrame:
    grouped = frame.groupby("method", sort=False)["seconds"]
    out = pd.DataFrame({"cells": grouped.count(), "mean s / cell": grouped.mean(), "total s": grouped.sum()})
    return out.sort_values("total s", ascending=False)


def _failures_text(frame: pd.DataFrame) -> str:
    failed = frame[frame["failed"]]
    if failed.empty:
        return "No sampler failed."
    lines = ["Scored as the unresampled data in these runs (reason of the first failure shown):", ""]
    for method, grp in failed.groupby("method", sort=False):
        lines.append(f"- {method}: {len(grp)} run(s) ({', '.join(sorted(set(grp['dataset'])))}): "
                     f"{grp['reason'].iloc[0][:200]}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------
def _figure_ir(config: RanksConfig) -> float:
    """The IR the curves show: 50 as in Figure 5 when run, else the first."""
    return 50.0 if 50 in config.imbalance_ratios else float(config.imbalance_ratios[0])


def plot_curves(curves: pd.DataFrame, datasets, config: RanksConfig, methods, path: Path, title: str) -> Path | None:
    """Best validation score so far vs episode, mean over seeds (Figure 5), one panel per
    (dataset, classifier)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ir = _figure_ir(config)
    tune = config.tune_metrics[0]
    sub = curves[(curves["imbalance_ratio"] == ir) & (curves["tune_metric"] == tune)
                 & (curves["setting"] == config.search_setting) & curves["method"].isin(methods)
                 & curves["dataset"].isin(datasets) & curves["classifier"].isin(config.classifiers)
                 & curves["seed"].isin(config.seeds)]
    if sub.empty:
        return None
    rows, cols = len(datasets), len(config.classifiers)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for i, dataset in enumerate(datasets):
        for j, clf in enumerate(config.classifiers):
            ax = axes[i][j]
            panel = sub[(sub["dataset"] == dataset) & (sub["classifier"] == clf)]
            for method in methods:
                line = panel[panel["method"] == method].groupby("episode")["best"].mean()
                if len(line):
                    ax.plot(line.index, line.to_numpy(), label=ABLATION_LABELS.get(method, method))
            ax.set_title(f"{dataset}, {clf}, IR {ir:g}", fontsize=9)
            ax.set_xlabel("episodes")
            ax.set_ylabel(f"best validation {METRICS[tune]}")
            ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------------------
def _config_text(config: RanksConfig, jobs: int, elapsed: float, frame: pd.DataFrame) -> str:
    resolved = asdict(config)
    resolved["jobs"] = jobs
    resolved["sampler_ratio_grid"] = RATIO_GRID
    return "\n".join([
        "```json", json.dumps(resolved, indent=1, default=str), "```", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
        f"numpy {np.__version__}, pandas {pd.__version__}. Wall time of this invocation: {elapsed:.0f} s; "
        f"compute recorded in the cells: {frame['seconds'].sum():.0f} s.",
    ])


def write_ranks_report(frame: pd.DataFrame, curves: pd.DataFrame, config: RanksConfig, out: Path,
                       command: str, jobs: int, elapsed: float) -> list[Path]:
    """Table 2 (markdown + csv) and the search curves of every dataset (png)."""
    table = frame[frame["method"].isin(config.table_methods)]
    results = {m: rank_methods(_for_metric(table, config, m), config.table_methods, m) for m in METRICS}
    md_table, csv_table = table2_frames(results, config)
    written = [_stats.write_csv(csv_table, out / f"{STEM}.csv")]
    png = plot_curves(curves, config.datasets, config, list(SEARCH_METHODS), out / f"{STEM}.png",
                      "Best validation score vs search episodes (mean over seeds)")
    first = results["macro_f1"]
    sections = [
        ("Findings", "\n".join(f"- {line}" for line in findings(results, config))),
        ("What this run leaves out of the paper's protocol", "\n".join(f"- {x}" for x in left_out(config))),
        ("Average ranks (Table 2)",
         f"Cells: Macro-F1 rank / MCC rank (lower is better), averaged over {first.n_configs} "
         f"configurations (dataset x classifier x IR; seed-averaged test scores). ▲: AutoSMOTE "
         "significantly better, ▼: significantly worse (one-sided Wilcoxon signed-rank test over the "
         "runs, p < 0.05, no multiplicity correction, like the paper's ▲). `(paper)`: Zha et al. "
         "Table 2 as printed. Failed runs: runs in which the sampler failed at every ratio "
         "(scored as no resampling).\n\n" + _stats.markdown_table(md_table, index=False)
         + "\n" + "\n".join(f"Note: {n}" for n in PAPER_TABLE2_NOTES)),
        ("AutoSMOTE against each method (all runs)",
         "W/T/L: runs AutoSMOTE wins / ties / loses; p: one-sided Wilcoxon signed-rank test "
         "(AutoSMOTE better); Holm: adjusted over the methods.\n\n"
         + _stats.markdown_table(_wilcoxon_table(results), index=False)),
        ("Friedman test (do the methods differ at all?)", _friedman_text(results)),
        ("Failures", _failures_text(table)),
    ]
    focus = [NO_RESAMPLING, *[s for s in FOCUS if s in config.samplers], *SEARCH_METHODS]
    for metric in METRICS:
        sub = _for_metric(table, config, metric)
        sections.append((f"Test {METRICS[metric]} of selected methods (mean ± std over seeds)",
                         _stats.markdown_table(_scores_table(sub, focus, metric))))
    if png is not None:
        sections.append(("Search curves (Figure 5 style)",
                         f"![best validation score vs episodes]({png.name})\n\nIR {_figure_ir(config):g}, "
                         f"searches tuned on {METRICS[config.tune_metrics[0]]}; per-episode values in "
                         f"`{STEM}.curves.csv`."))
    sections.append(("Compute time per method", _stats.markdown_table(_time_table(table), floatfmt=".1f")))
    sections.append(("Resolved configuration", _config_text(config, jobs, elapsed, table)))
    written.append(_stats.write_markdown(out / f"{STEM}.md", "AutoSMOTE Table 2: average ranks against "
                                         "imbalanced-learn samplers", sections, command))
    if png is not None:
        written.append(png)
    return written


def write_ablation_report(frame: pd.DataFrame, curves: pd.DataFrame, config: RanksConfig, out: Path,
                          command: str, jobs: int, elapsed: float) -> list[Path]:
    """Table 4 (markdown + csv) and Figure 5 (png) on the ablation dataset."""
    methods = list(ABLATIONS)
    sub = frame[(frame["dataset"] == config.ablation_dataset) & frame["method"].isin(methods)]
    results = {m: rank_methods(_for_metric(sub, config, m), methods, m, by_dataset=False) for m in METRICS}
    rows, csv_rows = [], []
    for method in methods:
        row = {"variant": ABLATION_LABELS[method]}
        for metric, res in results.items():
            rank = res.ranks.at[method, "overall"]
            mark = _mark(res, method, "overall")
            paper_rank, paper_sig = PAPER_TABLE4[method][list(METRICS).index(metric)]
            row[METRICS[metric]] = f"{rank:.2f}{mark}"
            row[f"{METRICS[metric]} (paper)"] = f"{paper_rank:.2f}{'▲' if paper_sig else ''}"
            csv_rows.append({"method": method, "variant": ABLATION_LABELS[method], "metric": metric,
                             "rank": rank, "mark": mark,
                             "p_better": res.p_better["overall"].get(method, math.nan),
                             "p_worse": res.p_worse["overall"].get(method, math.nan),
                             "paper_rank": paper_rank, "paper_significant": paper_sig})
        rows.append(row)
    written = [_stats.write_csv(pd.DataFrame(csv_rows), out / f"{ABLATION_STEM}.csv")]
    png = plot_curves(curves, (config.ablation_dataset,), config, methods, out / f"{ABLATION_STEM}.png",
                      f"Figure 5: best validation score vs episodes on {config.ablation_dataset}")
    lines = []
    if config.stand_in:
        lines.append("**Stand-in run: random search played every variant.**")
    for metric, res in results.items():
        overall = res.ranks["overall"].sort_values(kind="stable")
        best = overall.index[0]
        ours = overall[REFERENCE]
        sig = [ABLATION_LABELS[m] for m in methods if m != REFERENCE and res.p_better["overall"].get(m, 1.0) < 0.05]
        lines.append(f"{METRICS[metric]}: full AutoSMOTE ranks {ours:.2f}"
                     + (" (best)" if best == REFERENCE and (overall == ours).sum() == 1
                        else f"; best is {ABLATION_LABELS[best]} ({overall.iloc[0]:.2f})")
                     + f"; significantly better than: {', '.join(sig) or 'none'}.")
    first = results["macro_f1"]
    sections = [
        ("Findings", "\n".join(f"- {x}" for x in lines)),
        ("Average ranks (Table 4)",
         f"Dataset {config.ablation_dataset}; ranks among the {len(methods)} variants over "
         f"{first.n_configs} configurations (classifier x IR, seed-averaged); ▲/▼: full AutoSMOTE "
         f"significantly better / worse (one-sided Wilcoxon over {first.n_runs} runs, p < 0.05). "
         "`(paper)`: Zha et al. Table 4, ranks among 7 rows (it also has \"merging training and "
         "validation sets\", 2.83 / 2.83, not run here).\n\n"
         + _stats.markdown_table(pd.DataFrame(rows), index=False)),
        ("AutoSMOTE against each variant", _stats.markdown_table(_wilcoxon_table(results), index=False)),
        ("Friedman test", _friedman_text(results)),
    ]
    for metric in METRICS:
        sections.append((f"Test {METRICS[metric]} (mean ± std over seeds)",
                         _stats.markdown_table(_scores_table(_for_metric(sub, config, metric), methods, metric))))
    if png is not None:
        sections.append(("Figure 5", f"![best validation score vs episodes]({png.name})"))
    sections.append(("Resolved configuration", _config_text(config, jobs, elapsed, sub)))
    written.append(_stats.write_markdown(out / f"{ABLATION_STEM}.md",
                                         "AutoSMOTE Table 4: ablations", sections, command))
    if png is not None:
        written.append(png)
    return written


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(PRESETS), default="quick", help="starting settings (default quick)")
    p.add_argument("--datasets", nargs="+", help="dataset names (default: the preset's)")
    p.add_argument("--classifiers", nargs="+", help=f"base classifiers from {sorted(CLASSIFIERS)}")
    p.add_argument("--irs", nargs="+", type=float, help="imbalance ratios N_maj / N_min")
    p.add_argument("--seeds", nargs="+", type=int, help="run seeds")
    p.add_argument("--budget", type=int, help="episodes per search")
    p.add_argument("--samplers", nargs="+", help="imbalanced-learn samplers, or 'all'")
    p.add_argument("--tune-metrics", nargs="+", choices=list(METRICS), help="validation metrics to search with")
    p.add_argument("--no-ablation", action="store_true", help="skip Table 4")
    p.add_argument("--ablation-dataset", help="dataset of Table 4 (default mozilla4)")
    p.add_argument("--searcher", help="search name (default hierarchical; 'random' only stands in for tests)")
    p.add_argument("--search-jobs", type=int, help="n_jobs of each search: actor processes (default: none, in-process)")
    p.add_argument("--device", help="torch device of the learner (default auto)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="cells run side by side in this many processes (default: one per CPU core)")
    p.add_argument("--data-home", help="folder of the datasets (default: IMBALANCE_GYM_DATA)")
    p.add_argument("--out", type=Path, default=RESULTS, help="results folder (default benchmarks/results)")
    p.add_argument("--plan", action="store_true", help="print the cells to run and exit")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def config_from_args(args: argparse.Namespace) -> RanksConfig:
    """The preset with the command line's overrides applied (validated)."""
    base = PRESETS[args.preset]
    changes = {}
    for name, attr in (("datasets", "datasets"), ("classifiers", "classifiers"), ("irs", "imbalance_ratios"),
                       ("seeds", "seeds"), ("tune_metrics", "tune_metrics")):
        value = getattr(args, name)
        if value is not None:
            changes[attr] = tuple(int(v) if attr == "imbalance_ratios" and float(v).is_integer() else v
                                  for v in value)
    if args.samplers is not None:
        changes["samplers"] = _default_samplers() if args.samplers == ["all"] else tuple(args.samplers)
    for name in ("budget", "ablation_dataset", "searcher", "search_jobs", "device"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.no_ablation:
        changes["ablation"] = False
    if changes:
        changes["preset"] = f"{args.preset} (modified)"
    return replace(base, **changes)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    try:
        config = config_from_args(args)
    except (ValueError, TypeError) as err:
        parser.error(str(err))
    get_searcher(config.searcher)  # an uninstalled learner fails here, before any work
    missing = [d for d in config.datasets if d not in list_datasets("tabular", present=True, data_home=args.data_home)]
    if missing:
        parser.error(f"datasets {missing} are not in the data home ({get_data_home(args.data_home)}); "
                     "pass --data-home or set IMBALANCE_GYM_DATA")
    out = Path(args.out)
    store = RunStore(out)
    cells = plan_cells(config)
    done = store.done()
    pending = [c for c in cells if c.key not in done]
    print(f"{STEM}: {len(cells)} cells ({len(cells) - len(pending)} cached in {store.runs_path}), "
          f"{len(pending)} to run", file=sys.stderr)
    if args.plan:
        counts = pd.Series([c.method for c in pending], dtype=object).value_counts(sort=False)
        for method, n in counts.items():
            print(f"{method} {n}")
        return 0
    start = time.perf_counter()
    execute(config, store, args.data_home, jobs=args.jobs, progress=not args.no_progress)
    elapsed = time.perf_counter() - start
    frame = current_runs(store.runs(), config)
    curves = store.curves()
    command = _stats.command_line(argv, module=MODULE)
    written = write_ranks_report(frame, curves, config, out, command, args.jobs, elapsed)
    if config.ablation:
        written += write_ablation_report(frame, curves, config, out, command, args.jobs, elapsed)
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
