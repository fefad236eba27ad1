"""Pieces every subcommand shares: the one-line-error parser, argument types, config files,
task loading and plain-text tables.

Nothing here imports torch, so a bad flag or an unreadable file is reported before the
heavy imports of training start.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "CliParser",
    "UsageError",
    "add_task_arguments",
    "checked",
    "check_dataset_name",
    "check_dataset_present",
    "check_device",
    "format_table",
    "imbalance_ratio_value",
    "load_task",
    "nonnegative_int",
    "parse_assignments",
    "positive_int",
    "ratio_value",
    "read_toml",
    "status",
    "task_summary",
]


class UsageError(Exception):
    """A problem with what the user asked for; reported as one line, exit status 2."""


class CliParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line (no usage block) with exit status 2."""

    def error(self, message: str):  # argparse's signature; never returns
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# --------------------------------------------------------------------------------------
# Argument types: argparse reports their ArgumentTypeError as "argument --x: must be ..."
# --------------------------------------------------------------------------------------
def checked(kind: type, what: str, ok) -> "callable":
    """An argparse ``type=``: parse ``kind`` and require ``ok(value)``, else "must be <what>"."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or (kind is float and not math.isfinite(value)) or not ok(value):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in some messages
    return parse


positive_int = checked(int, "an int >= 1", lambda v: v >= 1)
nonnegative_int = checked(int, "an int >= 0", lambda v: v >= 0)
ratio_value = checked(float, "a number in (0, 1] (rho = N_min / N_maj)", lambda v: 0 < v <= 1)
imbalance_ratio_value = checked(float, "a number >= 1 (IR = N_maj / N_min)", lambda v: v >= 1)


def add_task_arguments(p: argparse.ArgumentParser, *, dataset_help: str) -> None:
    """``--dataset``, ``--ratio`` / ``--imbalance-ratio``, ``--seed``, ``--data-home``.

    Defaults are None so that a value can be told apart from "not given" (config files
    and resumed runs fill what the command line leaves out).
    """
    p.add_argument("--dataset", help=dataset_help)
    protocol = p.add_mutually_exclusive_group()
    protocol.add_argument("--ratio", type=ratio_value,
                          help="DQNimb protocol: rho = N_min / N_maj of the training split, in (0, 1]")
    protocol.add_argument("--imbalance-ratio", type=imbalance_ratio_value,
                          help="AutoSMOTE protocol: IR = N_maj / N_min of every split, >= 1")
    p.add_argument("--seed", type=nonnegative_int, help="seed of the split and the learner (default 0)")
    p.add_argument("--data-home", help="dataset folder (default: $IMBALANCE_GYM_DATA or ~/.cache/imbalance_gym)")


# --------------------------------------------------------------------------------------
# Config files and --set
# --------------------------------------------------------------------------------------
def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file; a missing, unreadable or invalid file is a :class:`UsageError`."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise UsageError(f"config file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"config file {str(path)!r} is a folder, not a TOML file") from None
    except OSError as err:
        raise UsageError(f"cannot read config file {str(path)!r}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise UsageError(f"config file {str(path)!r} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise UsageError(f"config file {str(path)!r} is not valid TOML: {err}") from None


def parse_assignments(items: Iterable[str] | None) -> dict[str, Any]:
    """``FIELD=VALUE`` strings (``--set``) as a dict; values are TOML literals, else strings.

    ``hidden_sizes=[64, 64]`` gives a list, ``learning_rate=1e-3`` a float,
    ``device=cpu`` the string ``"cpu"``, ``num_actors=none`` (or ``null``) None, which
    TOML itself cannot write.
    """
    out: dict[str, Any] = {}
    for item in items or ():
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise UsageError(f"--set takes FIELD=VALUE (e.g. learning_rate=1e-3), got {item!r}")
        if text.strip().lower() in ("none", "null"):
            out[name] = None
            continue
        try:
            out[name] = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            out[name] = text.strip()
    return out


# --------------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------------
def check_dataset_name(name: Any) -> str:
    """A catalog name, or a :class:`UsageError` with the catalog's suggestion."""
    from imbalance_gym.datasets import dataset_spec

    if not isinstance(name, str) or not name:
        raise UsageError(f"dataset must be a catalog name (see `imbalance-gym datasets`), got {name!r}")
    dataset_spec(name)  # ValueError naming close matches
    return name


def check_dataset_present(name: str, data_home: str | None) -> None:
    """Raise the catalog's :class:`~imbalance_gym.datasets.DatasetNotFoundError` (which names
    the files and the folder) when a dataset's files are missing, without loading it."""
    from imbalance_gym.datasets import list_datasets, load_dataset

    if name not in list_datasets(present=True, data_home=data_home):
        load_dataset(name, data_home=data_home)  # raises, saying what to put where


def load_task(dataset: str, *, ratio: float | None = None, imbalance_ratio: float | None = None,
              seed: int = 0, data_home: str | None = None, val_size: float | None = None):
    """:func:`imbalance_gym.datasets.load_task` for a command line: binary tasks only."""
    from imbalance_gym.datasets import load_task as _load

    task = _load(dataset, ratio=ratio, imbalance_ratio=imbalance_ratio, seed=seed, data_home=data_home,
                 val_size=val_size)
    if task.n_classes != 2:
        raise UsageError(f"dataset {dataset!r} has {task.n_classes} classes; the command line trains on "
                         "binary tasks (use e.g. fashion_mnist_1 or a binary table)")
    return task


def task_summary(task) -> str:
    """One line: name, protocol, class counts of each split."""
    counts = task.info["class_counts"]
    parts = [f"{split} {sum(c.values())} ({c.get('1', 0)} minority)" for split, c in counts.items()]
    protocol = task.info["protocol"]
    if protocol == "dqnimb":
        what = f"rho={task.info['requested_ratio']:g}"
    elif protocol == "autosmote":
        what = f"IR={task.info['requested_imbalance_ratio']:g}"
    else:
        what = "natural ratio"
    return f"task {task.info['name']} ({what}, seed {task.info['seed']}): " + ", ".join(parts)


def check_device(device: str | None) -> None:
    """A torch device this machine has (``auto`` always works), else a :class:`UsageError`.

    Checked up front: asking for CUDA on a CPU-only build would otherwise fail deep inside
    the first ``.to(device)`` with torch's own assertion.
    """
    if device is None or device == "auto":
        return
    from agents.networks import resolve_device

    resolved = resolve_device(device)  # ValueError for a string torch does not know
    if resolved.type == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise UsageError(f"device {device!r}: this machine has no CUDA device (or torch was built "
                             "without CUDA); use --device cpu or auto")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise UsageError(f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s) here")
    elif resolved.type not in ("cpu", "cuda"):
        raise UsageError(f"device {device!r}: the learners here run on 'cpu' or 'cuda' ('auto' picks)")


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------
METRIC_LABELS = {
    "g_mean": "G-mean", "f_measure": "F-measure", "macro_f1": "Macro-F1", "mcc": "MCC",
    "precision": "precision", "recall": "recall", "specificity": "specificity",
}
"""Display names of the metrics of :func:`imbalance_gym.metrics.classification_report`."""


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]], floatfmt: str = ".4f") -> str:
    """A plain aligned text table; the first column left-aligned, the others right-aligned."""
    def cell(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return "nan" if math.isnan(v) else format(v, floatfmt)
        return str(v)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    lines = []
    for row in [list(map(str, header))] + cells:
        first = row[0].ljust(widths[0])
        rest = [v.rjust(w) for v, w in zip(row[1:], widths[1:])]
        lines.append("  ".join([first, *rest]).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def status(message: str, *, enabled: bool = True) -> None:
    """A progress line on stderr (stdout stays for results)."""
    if enabled:
        print(message, file=sys.stderr, flush=True)
