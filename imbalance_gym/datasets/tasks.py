"""Tasks: a named dataset turned into seeded, imbalanced train / validation / test splits.

Labels
------
Binary tasks have ``y`` int64 in {0, 1} with **1 = minority = positive**: the catalog
entry's ``positive`` labels, or the less frequent class of a binary target when it
names none (a tie goes to the label that sorts last). Multi-class entries
(``fashion_mnist``, ``cifar10``) keep their classes as codes ``0..C-1`` in sorted label
order and accept neither ``ratio`` nor ``imbalance_ratio``.

Protocols
---------
``ratio=`` selects **DQNimb** (Lin et al., sec. IV-B and IV-D), rho = N_min / N_maj:

* predefined train/test split (images, text): the train fold is made imbalanced with
  :func:`make_imbalance_ratio` (all negatives, ``floor(rho * N_neg)`` positives, as in
  Table I), then a stratified ``val_size`` (default 10%) of it becomes the validation
  split ("we randomly select 10% samples of training data as the verification data");
  the test fold is kept whole (MNIST: 1032 positives / 8968 negatives).
* tables: a stratified ``test_size`` (default 20%) test split at the natural ratio
  first, then the same treatment of the rest; the test split stays natural.

``imbalance_ratio=`` selects **AutoSMOTE** (Zha et al., sec. 4.1), IR = N_maj / N_min:
a stratified 60/20/20 train/val/test split (``val_size`` / ``test_size`` of the whole
data; with a predefined split, ``val_size`` (default 10%) of the train fold and the
test fold as test), then each split is made imbalanced with :func:`make_imbalance_ir`,
so every split has IR up to rounding. (The paper under-samples first and splits
after; splitting first gives each split the exact target IR.)

Neither selects the **natural** ratio: tables split 60/20/20 stratified; predefined
splits give 90/10 train/val of the train fold and the test fold as is. Giving both is
an error.

A requested ratio above (IR below) the natural one of the data is a ``ValueError`` that
states the natural value. When stratified rounding leaves one split a hair less
(more) imbalanced than the whole data, that split simply keeps all its minority rows.

Features
--------
Tables: float32 after AutoSMOTE's preprocessing (standardise numeric, impute 0, one-hot
categorical), fit on the training split only (``preprocess=False``: the raw pandas
frames). Images: uint8 [N, C, H, W], untouched. Text: int64 [N, max_len] word ids with
0 = padding and 1 = out-of-vocabulary, the vocabulary (``vocab_size`` most frequent
words, default 10 000; ``max_len`` default 500, DQNimb Table II) fit on the training
split only (``preprocess=False``: the raw review strings).

Everything random draws from one ``np.random.default_rng(seed)`` created here, so the
same seed gives identical arrays and another seed other splits.
"""

from __future__ import annotations

import math
import numbers
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _text
from ._labels import label_keys, sorted_keys
from ._load import load_dataset
from ._preprocess import preprocess_splits
from ._split import stratified_split
from .catalog import CATALOG, DatasetSpec, dataset_spec
from .imbalance import make_imbalance_ir, make_imbalance_ratio

DEFAULT_VOCAB_SIZE = 10_000
DEFAULT_MAX_LEN = 500  # DQNimb Table II: Embedding input of 500 word ids
_TEXT_KWARGS = {"vocab_size": DEFAULT_VOCAB_SIZE, "max_len": DEFAULT_MAX_LEN}


@dataclass(frozen=True)
class Task:
    """Train / validation / test splits of one task, plus a JSON-serialisable ``info``.

    Attributes:
        X_train: Features [N_train, ...]: float32 [N, D] (tables), uint8 [N, C, H, W]
            (images), int64 [N, max_len] (text); raw frames / strings when loaded
            with ``preprocess=False``.
        y_train: int64 labels [N_train]; 1 = minority = positive for binary tasks.
        X_val, y_val: Validation split, same layout.
        X_test, y_test: Test split, same layout.
        info: Plain dict (JSON-serialisable, no paths): ``name``, ``kind``,
            ``protocol`` (``"dqnimb"``, ``"autosmote"`` or ``"natural"``), ``seed``,
            ``requested_ratio``, ``requested_imbalance_ratio``, ``ratio`` (rho =
            N_1 / N_0 of the train split), ``imbalance_ratio`` (N_0 / N_1 of the
            train split), ``n_classes``, ``class_counts`` (per split, per code),
            ``label_mapping`` (original label -> code), ``positive_labels``,
            ``val_size``, ``test_size``, ``predefined_split``, ``origin``,
            ``n_features``, and ``feature_names`` (tables), ``image_shape``
            (images), ``vocab_size`` / ``num_embeddings`` / ``max_len`` (text).
        vocabulary: Text tasks: the words of ids 2, 3, ... in order; else None.
    """

    X_train: Any = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    X_val: Any = field(repr=False)
    y_val: np.ndarray = field(repr=False)
    X_test: Any = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    info: dict = field(repr=False)
    vocabulary: tuple[str, ...] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """Catalog name of the task."""
        return self.info["name"]

    @property
    def kind(self) -> str:
        """``"tabular"``, ``"image"`` or ``"text"``."""
        return self.info["kind"]

    @property
    def n_classes(self) -> int:
        """Number of label codes (2 for binary tasks)."""
        return self.info["n_classes"]

    @property
    def observation_shape(self) -> tuple[int, ...]:
        """Shape of one sample: (D,), (C, H, W) or (max_len,)."""
        return tuple(int(d) for d in np.shape(self.X_train)[1:])

    @property
    def n_features(self) -> int:
        """Numbers per sample: D, C*H*W or max_len."""
        return int(np.prod(self.observation_shape))

    def __repr__(self) -> str:
        counts = self.info["class_counts"]
        return (
            f"Task(name={self.name!r}, protocol={self.info['protocol']!r}, seed={self.info['seed']}, "
            f"observation_shape={self.observation_shape}, train={counts['train']}, "
            f"val={counts['val']}, test={counts['test']})"
        )


# --------------------------------------------------------------------------------------
# Argument checks (all before any file is read)
# --------------------------------------------------------------------------------------


def _check_fraction(name: str, value: object) -> float | None:
    """None or a real number in (0, 1)."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be None or a number in (0, 1), got {type(value).__name__} ({value!r})"
        )
    if not 0.0 < float(value) < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return float(value)


def _check_arguments(spec, ratio, imbalance_ratio, seed, val_size, test_size, preprocess, reader_kwargs):
    """Validate load_task's arguments; return (protocol, val_size, test_size, text options)."""
    for arg, value in (("ratio", ratio), ("imbalance_ratio", imbalance_ratio)):
        if value is None:
            continue
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(
                f"{arg} must be None or a real number, got {type(value).__name__} ({value!r})"
            )
    if ratio is not None and imbalance_ratio is not None:
        raise ValueError(
            f"give either ratio (DQNimb rho = N_min / N_maj) or imbalance_ratio (AutoSMOTE "
            f"IR = N_maj / N_min), not both; got ratio={ratio!r}, imbalance_ratio={imbalance_ratio!r}"
        )
    if ratio is not None and not (math.isfinite(ratio) and 0.0 < ratio <= 1.0):
        raise ValueError(f"ratio must be in (0, 1] (rho = N_min / N_maj), got {ratio!r}")
    if imbalance_ratio is not None and not (math.isfinite(imbalance_ratio) and imbalance_ratio >= 1.0):
        raise ValueError(
            "imbalance_ratio must be a finite number >= 1 (IR = N_maj / N_min), got "
            f"{imbalance_ratio!r}"
        )
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} ({seed!r})")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if not isinstance(preprocess, bool):
        raise TypeError(f"preprocess must be a bool, got {type(preprocess).__name__} ({preprocess!r})")
    if ratio is not None:
        protocol = "dqnimb"
    elif imbalance_ratio is not None:
        protocol = "autosmote"
    else:
        protocol = "natural"
    if protocol != "natural" and not spec.is_binary:
        binary = sorted(n for n, s in CATALOG.items() if s.folder == spec.folder and s.is_binary)
        hint = f"; binary tasks on the same data: {', '.join(binary)}" if binary else ""
        raise ValueError(
            f"dataset {spec.name!r} has {spec.n_classes} classes: ratio / imbalance_ratio need a "
            f"binary task{hint}"
        )
    val = _check_fraction("val_size", val_size)
    test = _check_fraction("test_size", test_size)
    if spec.predefined_split:
        if test is not None:
            raise ValueError(
                f"test_size={test_size!r} does not apply to {spec.name!r}: it has a predefined "
                "test fold; leave test_size=None"
            )
        val = 0.1 if val is None else val
    elif protocol == "dqnimb":
        test = 0.2 if test is None else test
        val = 0.1 if val is None else val
    else:
        val = 0.2 if val is None else val
        test = 0.2 if test is None else test
        if val + test >= 1.0:
            raise ValueError(f"val_size + test_size must be < 1, got {val_size!r} + {test_size!r}")
    allowed = _TEXT_KWARGS if spec.kind == "text" else {}
    unknown = sorted(set(reader_kwargs) - set(allowed))
    if unknown:
        raise TypeError(
            f"load_task got unexpected keyword argument(s) {unknown} for {spec.kind} dataset "
            f"{spec.name!r}; accepted: {sorted(allowed) or 'none'}"
        )
    options = {**allowed, **reader_kwargs}
    for key, value in options.items():
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{key} must be a positive int, got {value!r}")
    return protocol, val, test, {k: int(v) for k, v in options.items()}


# --------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------


def _encode_labels(
    spec: DatasetSpec, y: np.ndarray
) -> tuple[np.ndarray, dict[str, int], list[str] | None]:
    """Map stored labels to codes (-1 = row dropped); return (codes, mapping, positive keys)."""
    keys = label_keys(y)
    counts = Counter(k for k in keys if k is not None)
    found = sorted_keys(counts)
    if spec.positive is not None:
        positive = [k for k in spec.positive if k in counts]
        if spec.negative is None:
            negative = [k for k in found if k not in spec.positive]
        else:
            negative = [k for k in spec.negative if k in counts]
        if not positive or not negative:
            raise ValueError(
                f"dataset {spec.name!r}: positive labels {list(spec.positive)} and negative labels "
                f"{list(spec.negative or ['(all others)'])} must both occur in the stored labels {found}"
            )
    elif len(found) == 2:  # the less frequent class; a tie goes to the label sorting last
        minority = found[1] if counts[found[0]] >= counts[found[1]] else found[0]
        positive, negative = [minority], [k for k in found if k != minority]
    elif len(found) > 2 and not spec.is_binary:
        mapping = {k: i for i, k in enumerate(found)}
        return np.array([mapping.get(k, -1) for k in keys], dtype=np.int64), mapping, None
    else:
        raise ValueError(f"dataset {spec.name!r}: expected a binary target, found labels {found}")
    mapping = {**{k: 0 for k in negative}, **{k: 1 for k in positive}}
    return np.array([mapping.get(k, -1) for k in keys], dtype=np.int64), mapping, positive


# --------------------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------------------


def _feasibility(
    spec: DatasetSpec, y: np.ndarray, ratio: float | None, ir: float | None, where: str
) -> None:
    """Raise when the requested ratio / IR needs more minority rows than the data has."""
    n_min, n_maj = int(np.sum(y == 1)), int(np.sum(y == 0))
    if n_min == 0 or n_maj == 0:
        raise ValueError(
            f"dataset {spec.name!r}: the {where} has {n_min} positive and {n_maj} negative rows"
        )
    if ratio is not None and ratio > (n_min / n_maj) * (1 + 1e-12):
        raise ValueError(
            f"ratio={ratio!r} is above the natural ratio N_min / N_maj = {n_min}/{n_maj} = "
            f"{n_min / n_maj:.6g} of {spec.name!r} ({where}); allowed: "
            f"(0, {min(1.0, n_min / n_maj):.6g}]"
        )
    if ir is not None and ir < (n_maj / n_min) * (1 - 1e-12):
        raise ValueError(
            f"imbalance_ratio={ir!r} is below the natural IR N_maj / N_min = {n_maj}/{n_min} = "
            f"{n_maj / n_min:.6g} of {spec.name!r} ({where}); allowed: >= {max(1.0, n_maj / n_min):.6g}"
        )


def _under_sample(
    y: np.ndarray,
    rows: np.ndarray,
    rng: np.random.Generator,
    ratio: float | None = None,
    ir: float | None = None,
) -> np.ndarray:
    """Apply one protocol to ``rows``; a split already below the target keeps all its positives."""
    labels = y[rows]
    n_min, n_maj = int(np.sum(labels == 1)), int(np.sum(labels == 0))
    if n_min == 0 or n_maj == 0:
        return rows
    if ratio is not None:
        kept = make_imbalance_ratio(labels, min(ratio, n_min / n_maj), rng)
    else:
        kept = make_imbalance_ir(labels, max(ir, n_maj / n_min), rng)
    return rows[kept]


def _make_splits(spec, y, fold, protocol, ratio, ir, val_size, test_size, rng):
    """Row positions (into ``y``) of the train, val and test splits."""
    everything = np.arange(y.shape[0])
    if fold is not None:
        train_fold = everything[fold == "train"]
        test = everything[fold == "test"]
        if protocol == "dqnimb":
            _feasibility(spec, y[train_fold], ratio, None, "train fold")
            pool = _under_sample(y, train_fold, rng, ratio=ratio)
            train_pos, val_pos = stratified_split(y[pool], [val_size], rng)
            return pool[train_pos], pool[val_pos], test
        train_pos, val_pos = stratified_split(y[train_fold], [val_size], rng)
        train, val = train_fold[train_pos], train_fold[val_pos]
        if protocol == "autosmote":
            _feasibility(spec, y, None, ir, "whole data")
            train, val, test = (_under_sample(y, part, rng, ir=ir) for part in (train, val, test))
        return train, val, test
    if protocol == "dqnimb":
        _feasibility(spec, y, ratio, None, "whole data")
        rest_pos, test = stratified_split(y, [test_size], rng)
        pool = _under_sample(y, rest_pos, rng, ratio=ratio)
        train_pos, val_pos = stratified_split(y[pool], [val_size], rng)
        return pool[train_pos], pool[val_pos], test
    train, val, test = stratified_split(y, [val_size, test_size], rng)
    if protocol == "autosmote":
        _feasibility(spec, y, None, ir, "whole data")
        train, val, test = (_under_sample(y, part, rng, ir=ir) for part in (train, val, test))
    return train, val, test


# --------------------------------------------------------------------------------------
# load_task
# --------------------------------------------------------------------------------------


def _counts(y: np.ndarray, n_classes: int) -> dict[str, int]:
    """Rows per code, as a JSON-friendly dict."""
    return {str(c): int(n) for c, n in enumerate(np.bincount(y, minlength=n_classes))}


def load_task(
    name: str,
    ratio: float | None = None,
    imbalance_ratio: float | None = None,
    seed: int = 0,
    *,
    data_home: str | os.PathLike[str] | None = None,
    download: bool = False,
    val_size: float | None = None,
    test_size: float | None = None,
    preprocess: bool = True,
    **reader_kwargs: int,
) -> Task:
    """Load a named task as seeded, imbalanced train / validation / test splits.

    See the module docstring for the protocols. Examples::

        load_task("mnist", ratio=0.01, seed=0)            # DQNimb, Table I
        load_task("phoneme", imbalance_ratio=50, seed=0)  # AutoSMOTE, Table 1
        load_task("breast_cancer")                        # natural ratio, no files needed

    Args:
        name: Catalog name (see :func:`list_datasets`).
        ratio: DQNimb rho = N_min / N_maj in (0, 1] for the training data.
        imbalance_ratio: AutoSMOTE IR = N_maj / N_min >= 1 for every split.
        seed: Non-negative int seeding the one generator used for all splits.
        data_home: Data home (see :func:`get_data_home`).
        download: Fetch missing files (needs internet).
        val_size: Validation fraction; default 0.1 of the training part (DQNimb and
            predefined splits) or 0.2 of the whole table (AutoSMOTE, natural).
        test_size: Test fraction of a table (default 0.2); not allowed with a
            predefined test fold.
        preprocess: Tables: standardise / impute / one-hot into float32 (fit on the
            train split). Text: tokenise into ids. False returns raw frames / strings.
            Images are never altered.
        **reader_kwargs: Text only: ``vocab_size`` (words kept, default 10000) and
            ``max_len`` (ids per review, default 500).

    Returns:
        A :class:`Task`.

    Raises:
        TypeError: If an argument has the wrong type (name, ratio, imbalance_ratio,
            seed, preprocess, download) or an unknown keyword is given.
        ValueError: If the name is unknown (with suggestions), ``ratio`` is outside
            (0, 1] or above the natural ratio, ``imbalance_ratio`` < 1 or below the
            natural IR, both are given, ``seed`` < 0, a size is outside (0, 1),
            ``test_size`` is given for a predefined split, or a ratio is asked of a
            multi-class task.
        DatasetNotFoundError: If the files are missing and ``download`` is False.
    """
    spec = dataset_spec(name)
    if not isinstance(download, bool):
        raise TypeError(f"download must be a bool, got {type(download).__name__} ({download!r})")
    protocol, val_size, test_size, text_options = _check_arguments(
        spec, ratio, imbalance_ratio, seed, val_size, test_size, preprocess, reader_kwargs
    )
    rng = np.random.default_rng(int(seed))

    raw = load_dataset(name, data_home=data_home, download=download)
    codes, mapping, positive = _encode_labels(spec, raw.y)
    rows = np.flatnonzero(codes >= 0)
    y = codes[rows]
    fold = None if raw.fold is None else np.asarray(raw.fold)[rows]
    n_classes = 2 if positive is not None else len(mapping)
    splits = _make_splits(spec, y, fold, protocol, ratio, imbalance_ratio, val_size, test_size, rng)
    index = [rows[part] for part in splits]  # row numbers in the stored data
    ys = [codes[i] for i in index]

    info: dict[str, Any] = {
        "name": spec.name,
        "kind": spec.kind,
        "protocol": protocol,
        "seed": int(seed),
        "requested_ratio": None if ratio is None else float(ratio),
        "requested_imbalance_ratio": None if imbalance_ratio is None else float(imbalance_ratio),
        "n_classes": n_classes,
        "class_counts": {s: _counts(v, n_classes) for s, v in zip(("train", "val", "test"), ys)},
        "label_mapping": mapping,
        "positive_labels": positive,
        "val_size": val_size,
        "test_size": test_size,
        "predefined_split": spec.predefined_split,
        "origin": spec.origin,
    }
    n_pos, n_neg = int(np.sum(ys[0] == 1)), int(np.sum(ys[0] == 0))
    binary = positive is not None
    info["ratio"] = n_pos / n_neg if binary and n_neg else None
    info["imbalance_ratio"] = n_neg / n_pos if binary and n_pos else None

    vocabulary = None
    if spec.kind == "tabular":
        frames = [raw.X.iloc[i].reset_index(drop=True) for i in index]
        if preprocess:
            X_train, others, names = preprocess_splits(frames[0], frames[1:], spec.categorical)
            Xs = [X_train, *others]
        else:
            Xs, names = frames, [str(c) for c in raw.X.columns]
        info["feature_names"] = names
        info["n_features"] = len(names)
    elif spec.kind == "image":
        Xs = [np.ascontiguousarray(raw.X[i]) for i in index]
        info["image_shape"] = [int(d) for d in raw.X.shape[1:]]
        info["n_features"] = int(np.prod(raw.X.shape[1:]))
    else:
        texts = [np.array(raw.X[i], dtype=object) for i in index]
        if preprocess:
            tokens = [[_text.tokenize(t) for t in part] for part in texts]
            vocab = _text.build_vocabulary(tokens[0], text_options["vocab_size"])
            Xs = [_text.encode(part, vocab, text_options["max_len"]) for part in tokens]
            vocabulary = tuple(vocab)
            info["vocab_size"] = len(vocab)
            info["num_embeddings"] = len(vocab) + _text.FIRST_WORD_ID
            info["max_len"] = text_options["max_len"]
            info["n_features"] = text_options["max_len"]
            info["pad_id"], info["oov_id"] = _text.PAD_ID, _text.OOV_ID
        else:
            Xs = texts
    return Task(
        X_train=Xs[0], y_train=ys[0], X_val=Xs[1], y_val=ys[1], X_test=Xs[2], y_test=ys[2],
        info=info, vocabulary=vocabulary,
    )
