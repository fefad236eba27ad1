"""Loading stored datasets as they are (original labels, all classes), with a small cache."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import _readers
from ._download import download_dataset
from ._home import get_data_home
from .catalog import DatasetSpec, dataset_spec

CACHE_SIZE = 4
"""Stored datasets kept parsed in memory (least recently used evicted first)."""


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are not in the data home and were not downloaded.

    Attributes:
        name: Catalog name.
        folder: Folder where the files belong.
        files: Preferred file names to place there.
    """

    def __init__(self, spec: DatasetSpec, folder: Path, missing: tuple[str, ...]):
        self.name = spec.name
        self.folder = folder
        self.files = spec.files
        lines = [
            f"Dataset {spec.name!r} is not in the data home: its files belong in {folder}{os.sep}",
            f"Place these files there: {', '.join(spec.files)}"
            + (f" (missing: {', '.join(missing)})" if missing and missing != spec.files else ""),
        ]
        for alternative in spec.alternatives:
            lines.append(f"  or instead: {', '.join(alternative)}")
        source = spec.origin + (f" <{spec.url}>" if spec.url else "")
        lines.append(f"Get them from {source}.")
        lines.append(
            f"With internet, load_dataset({spec.name!r}, download=True) (or load_task(..., "
            "download=True)) fetches them. The data home is the data_home argument, else "
            "the IMBALANCE_GYM_DATA environment variable, else ~/.cache/imbalance_gym."
        )
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class RawDataset:
    """A stored dataset as it is on disk: every class, original labels, read-only arrays.

    Attributes:
        name: The catalog name that was asked for.
        X: Tables: a pandas DataFrame of the feature columns (target removed; a fresh
            copy per call). Images: read-only uint8 array [N, C, H, W]. Text: read-only
            object array [N] of raw review strings (tokenised by ``load_task``, whose
            vocabulary must come from the training split only).
        y: Read-only array [N] of the labels as stored (e.g. ``2``, ``"-1"``,
            ``"anomaly"``, ``"pos"``).
        fold: Read-only object array [N] of ``"train"`` / ``"test"`` for datasets with
            a predefined split, else None.
        spec: The catalog entry of ``name``.
    """

    name: str
    X: pd.DataFrame | np.ndarray
    y: np.ndarray
    fold: np.ndarray | None
    spec: DatasetSpec

    @property
    def n_rows(self) -> int:
        """Number of rows (all folds)."""
        return int(self.y.shape[0])

    @property
    def n_features(self) -> int | None:
        """Feature columns of a table, pixels per image; None for text."""
        if self.spec.kind == "text":
            return None
        return int(np.prod(self.X.shape[1:]))

    def __repr__(self) -> str:
        return f"RawDataset(name={self.name!r}, kind={self.spec.kind!r}, n_rows={self.n_rows})"


_cache: OrderedDict[tuple, tuple] = OrderedDict()
_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every parsed dataset held in memory."""
    with _lock:
        _cache.clear()


def _read_only(array: np.ndarray) -> np.ndarray:
    """The same array, flagged read-only (shared through the cache)."""
    array = np.asarray(array)
    array.flags.writeable = False
    return array


def _read_table(spec: DatasetSpec, folder: Path, layout: tuple[str, ...]):
    """Parse a CSV / ARFF table and split off the target column."""
    path = folder / layout[0]
    if path.name.endswith((".arff", ".arff.gz")):
        frame = _readers.read_arff(path)
    else:
        frame = _readers.read_csv_table(path)
    if spec.target not in frame.columns:
        raise ValueError(
            f"{path.name}: no target column {spec.target!r} for dataset {spec.name!r}; columns: "
            f"{list(frame.columns)}"
        )
    target = frame[spec.target]
    categorical = isinstance(target.dtype, pd.CategoricalDtype)
    numeric = pd.api.types.is_numeric_dtype(target.dtype) and not categorical
    y = target.to_numpy() if numeric else target.astype(object).to_numpy()  # text labels: object array
    X = frame.drop(columns=[spec.target])
    return X, np.array(y), None


def _read_bundled(spec: DatasetSpec):
    """Load a dataset that ships with scikit-learn."""
    from sklearn import datasets as skdata

    loader = getattr(skdata, f"load_{spec.name}")
    bunch = loader(as_frame=True)
    X = bunch.data.rename(columns=str)
    if spec.name == "breast_cancer":  # store the class names, not sklearn's 0/1 coding
        y = np.asarray(bunch.target_names)[bunch.target.to_numpy()].astype(object)
    else:
        y = bunch.target.to_numpy()
    return X, y, None


def _read_idx_folder(folder: Path, layout: tuple[str, ...]):
    """Read the four MNIST-style idx files: images [N, 1, 28, 28], labels, fold."""
    train_images, train_labels, test_images, test_labels = (
        _readers.read_idx(folder / relative) for relative in layout
    )
    pairs = ((train_images, train_labels, "train"), (test_images, test_labels, "test"))
    for images, labels, which in pairs:
        if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"{folder}: {which} images {images.shape} and labels {labels.shape} do not match"
            )
    X = np.concatenate([train_images, test_images])[:, None, :, :]
    y = np.concatenate([train_labels, test_labels])
    fold = np.array(["train"] * train_labels.shape[0] + ["test"] * test_labels.shape[0], dtype=object)
    return X, y, fold


def _parse(spec: DatasetSpec, folder: Path, layout: tuple[str, ...]):
    """Dispatch on the kind and on the file set found."""
    if spec.bundled:
        return _read_bundled(spec)
    if spec.kind == "tabular":
        return _read_table(spec, folder, layout)
    if spec.format == "idx.gz":
        return _read_idx_folder(folder, layout)
    if spec.format == "cifar-binary":
        source = folder / layout[0]
        return _readers.read_cifar10_binary(source if source.name.endswith(".tar.gz") else source.parent)
    if spec.format == "aclImdb":
        source = folder / layout[0]
        return _readers.read_imdb(source if source.name.endswith(".tar.gz") else folder / "aclImdb")
    raise ValueError(f"no reader for format {spec.format!r} of {spec.name!r}")  # pragma: no cover


def _signature(folder: Path, layout: tuple[str, ...]) -> tuple:
    """Size and mtime of the files, so a replaced file is parsed again."""
    stats = []
    for relative in layout:
        stat = (folder / relative).stat()
        stats.append((relative, stat.st_size, stat.st_mtime_ns))
    return tuple(stats)


def load_dataset(
    name: str,
    *,
    data_home: str | os.PathLike[str] | None = None,
    download: bool = False,
) -> RawDataset:
    """Load a stored dataset as it is: every class, original labels, predefined folds.

    Tasks that share a folder (``fashion_mnist``, ``fashion_mnist_1``,
    ``fashion_mnist_2``) return the same stored data; ``load_task`` applies the
    label selection. Parsed data is cached in memory per (folder, resolved path, file
    sizes and times) for the last few datasets, so repeated loads (e.g. ``load_task``
    with many seeds) parse MNIST once. Cached arrays are read-only and tables are
    copied per call, so a caller cannot alter the cache.

    Args:
        name: Catalog name (see :func:`list_datasets`).
        data_home: Data home (see :func:`get_data_home`); unused for bundled data.
        download: Fetch missing files from the dataset's origin (needs internet).

    Returns:
        A :class:`RawDataset`.

    Raises:
        ValueError: If the name is unknown (with close-match suggestions) or a file is
            malformed.
        TypeError: If ``download`` is not a bool.
        DatasetNotFoundError: If the files are missing and ``download`` is False; the
            message names the folder, the files and where to get them.
    """
    spec = dataset_spec(name)
    if not isinstance(download, bool):
        raise TypeError(f"download must be a bool, got {type(download).__name__} ({download!r})")
    if spec.bundled:
        folder, layout = Path(), ()
        key: tuple = ("bundled", spec.name)
    else:
        home = get_data_home(data_home)
        folder = home / str(spec.folder)
        layout = spec.find_layout(home)
        if layout is None and download:
            download_dataset(name, data_home=home)
            layout = spec.find_layout(home)
        if layout is None:
            raise DatasetNotFoundError(spec, folder, spec.missing_files(home))
        key = (spec.folder, str(folder.resolve()), layout, _signature(folder, layout))

    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
    if hit is None:
        X, y, fold = _parse(spec, folder, layout)
        if isinstance(X, np.ndarray):
            X = _read_only(X)
        hit = (X, _read_only(y), None if fold is None else _read_only(fold))
        with _lock:
            _cache[key] = hit
            _cache.move_to_end(key)
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    X, y, fold = hit
    if isinstance(X, pd.DataFrame):
        X = X.copy(deep=True)
    return RawDataset(name=spec.name, X=X, y=y, fold=fold, spec=spec)
