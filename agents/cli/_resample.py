"""``imbalance-gym resample``: AutoSMOTE as a tool, from a named dataset or a CSV file to a CSV file.

Runs :class:`imbalance_gym.samplers.AutoSMOTE` (``fit_resample``) and writes every input
row, then the synthetic minority rows, with four provenance columns:

* ``provenance``: ``original`` or ``synthetic``;
* ``source_row``, ``neighbour_row``: for a synthetic row, the 0-based positions (header
  not counted) of the two minority rows it interpolates; original rows come first and
  in input order, so these positions are the same in the input and the output file;
* ``weight``: ``w`` in {0, .25, .5, .75, 1}, the row being
  ``x[source_row] + w * (x[neighbour_row] - x[source_row])``.

The three numeric columns are empty for original rows. With ``--dataset`` the input is
the task's training + validation splits (preprocessed as ``load_task`` does; AutoSMOTE
holds out ``--val-size`` of them for its reward) and the test split is left out; the
label column is ``target`` (1 = minority).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from agents.cli._common import (
    UsageError,
    check_dataset_name,
    check_dataset_present,
    check_device,
    checked,
    imbalance_ratio_value,
    load_task,
    nonnegative_int,
    positive_int,
    ratio_value,
    status,
    task_summary,
)

PROVENANCE_COLUMNS = ("provenance", "source_row", "neighbour_row", "weight")


_fraction = checked(float, "a number in (0, 1)", lambda v: 0 < v < 1)
_n_jobs = checked(int, "an int >= 1, or negative for all cores but |n| - 1", lambda v: v != 0)


def add_parser(sub) -> None:
    p = sub.add_parser("resample", help="oversample a dataset or CSV file with AutoSMOTE, with provenance",
                       description="AutoSMOTE as a tool: search synthetic minority rows that maximise a "
                       "held-out validation metric and write the resampled data with provenance columns "
                       "(provenance, source_row, neighbour_row, weight).")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--dataset", help="catalog name of a tabular dataset (train + validation splits)")
    src.add_argument("--csv", help="CSV file with a header; every column but --target must be numeric")
    p.add_argument("--target", help="label column of --csv (two classes)")
    protocol = p.add_mutually_exclusive_group()
    protocol.add_argument("--imbalance-ratio", type=imbalance_ratio_value, help="--dataset: IR = N_maj / N_min")
    protocol.add_argument("--ratio", type=ratio_value, help="--dataset: rho = N_min / N_maj of the training split")
    p.add_argument("--data-home", help="dataset folder (default: $IMBALANCE_GYM_DATA or ~/.cache/imbalance_gym)")
    p.add_argument("--out", required=True, help="CSV file to write")
    p.add_argument("--search", choices=("hierarchical", "random"), default="hierarchical",
                   help="hierarchical RL (default) or random search in the same space")
    p.add_argument("--budget", type=positive_int, default=100, help="search episodes (default 100)")
    p.add_argument("--classifier", default="svm", help="base classifier of the reward (default svm)")
    p.add_argument("--metric", default="macro_f1", help="reward metric (default macro_f1)")
    p.add_argument("--G1", type=positive_int, help="largest cross-instance factor (default 4 IR / G2)")
    p.add_argument("--G2", type=positive_int, default=10, help="largest instance-specific factor (default 10)")
    p.add_argument("--K", type=positive_int, default=30, help="nearest minority neighbours (default 30)")
    p.add_argument("--val-size", type=_fraction, default=0.25, help="fraction held out for the reward (0.25)")
    p.add_argument("--n-jobs", type=_n_jobs, help="actor processes of the hierarchical search (default: none, "
                   "episodes run in this process)")
    p.add_argument("--device", default="auto", help="torch device of the learner (default auto)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the split and the search (default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=run)


def _read_csv(path: str, target: str | None):
    """``(frame, feature columns, X, y)`` of a CSV file, checked for what AutoSMOTE needs."""
    import pandas as pd

    if target is None:
        raise UsageError("--csv needs --target COLUMN (the label column)")
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise UsageError(f"--csv file {path!r} does not exist") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise UsageError(f"cannot read --csv file {path!r}: {err}") from None
    if target not in frame.columns:
        raise UsageError(f"--target {target!r} is not a column of {path!r}; columns: {list(frame.columns)}")
    taken = [c for c in PROVENANCE_COLUMNS if c in frame.columns]
    if taken:
        raise UsageError(f"{path!r} already has column(s) {taken}, which the output's provenance uses")
    features = [c for c in frame.columns if c != target]
    if not features:
        raise UsageError(f"{path!r} has no feature column besides --target {target!r}")
    text = [c for c in features if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])]
    if text:
        raise UsageError(f"feature column(s) {text[:10]} of {path!r} are not numeric; encode them first "
                         "(AutoSMOTE interpolates between rows)")
    missing = [c for c in frame.columns if frame[c].isna().any()]
    if missing:
        raise UsageError(f"column(s) {missing[:10]} of {path!r} have missing values; impute or drop them first")
    n_labels = frame[target].nunique()
    if n_labels != 2:
        raise UsageError(f"--target {target!r} has {n_labels} distinct values; AutoSMOTE needs exactly 2 "
                         "(for more, resample one class against the rest)")
    return frame, features, frame[features].to_numpy(dtype=np.float64), frame[target].to_numpy()


def _dataset_frame(args: argparse.Namespace):
    """``(frame, feature columns, X, y)`` of a named task's train + validation splits."""
    import pandas as pd

    check_dataset_name(args.dataset)
    check_dataset_present(args.dataset, args.data_home)
    task = load_task(args.dataset, ratio=args.ratio, imbalance_ratio=args.imbalance_ratio, seed=args.seed,
                     data_home=args.data_home)
    if task.kind != "tabular":
        raise UsageError(f"resample works on tabular datasets; {args.dataset!r} is {task.kind} data")
    status(task_summary(task) + "; resampling train + val", enabled=not args.no_progress)
    X = np.concatenate([task.X_train, task.X_val])  # float32, as load_task made it
    y = np.concatenate([task.y_train, task.y_val])
    names = task.info.get("feature_names") or []
    if len(names) != X.shape[1] or len(set(names)) != len(names) or "target" in names:
        names = [f"x{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=names)
    frame["target"] = y
    return frame, names, X, y


def resampled_frame(frame, features: list[str], X_res: np.ndarray, y_res: np.ndarray, target: str,
                    provenance: dict):
    """Input rows, then the synthetic rows, with the provenance columns (see the module docstring)."""
    import pandas as pd

    n, m = len(frame), len(y_res) - len(frame)
    synthetic = pd.DataFrame(X_res[n:], columns=features)
    synthetic[target] = y_res[n:]
    out = pd.concat([frame, synthetic[list(frame.columns)]], ignore_index=True)
    out["provenance"] = ["original"] * n + ["synthetic"] * m
    for column, key in (("source_row", "source"), ("neighbour_row", "neighbour")):
        values = np.concatenate([np.zeros(n, np.int64), np.asarray(provenance[key], np.int64)])
        out[column] = pd.array(values, dtype="Int64")
        out.loc[: n - 1, column] = pd.NA
    weight = np.concatenate([np.full(n, np.nan), np.asarray(provenance["weight"], np.float64)])
    out["weight"] = weight
    return out


def run(args: argparse.Namespace) -> int:
    from imbalance_gym.classifiers import check_classifier, check_metric

    if args.csv is not None and (args.ratio is not None or args.imbalance_ratio is not None):
        raise UsageError("--ratio / --imbalance-ratio shape a named --dataset; a --csv file is used as it is")
    if args.dataset is not None and args.target is not None:
        raise UsageError("--target names the label column of --csv; a --dataset's label column is 'target'")
    out = Path(args.out)
    if out.is_dir():
        raise UsageError(f"--out {str(out)!r} is a folder; give a file name such as resampled.csv")
    if args.csv is not None:
        frame, features, X, y = _read_csv(args.csv, args.target)
        target = args.target
    check_classifier(args.classifier)
    check_metric(args.metric)
    if args.search == "hierarchical":
        check_device(args.device)
    if args.dataset is not None:
        frame, features, X, y = _dataset_frame(args)
        target = "target"

    from imbalance_gym.samplers import AutoSMOTE

    sampler = AutoSMOTE(classifier=args.classifier, metric=args.metric, budget=args.budget, G1=args.G1,
                        G2=args.G2, K=args.K, val_size=args.val_size, search=args.search, n_jobs=args.n_jobs,
                        device=args.device, random_state=args.seed, progress_bar=not args.no_progress)
    X_res, y_res = sampler.fit_resample(X, y)
    result = resampled_frame(frame, features, X_res, y_res, target, sampler.provenance_)
    out.parent.mkdir(parents=True, exist_ok=True)
    result.to_csv(out, index=False)
    n_syn = len(y_res) - len(y)
    minority = sampler.minority_class_
    label = minority.item() if isinstance(minority, np.generic) else minority
    print(f"{len(y)} rows ({int(np.sum(y == minority))} of minority class {label!r}) + {n_syn} synthetic rows "
          f"-> {out}; best validation {args.metric} {sampler.best_score_:.4f} "
          f"({args.search} search, {args.budget} episodes)")
    return 0
