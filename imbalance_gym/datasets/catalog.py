"""The dataset catalog: every dataset and task the package knows by name.

Raw datasets and tasks
----------------------
A catalog entry is a *task definition* on top of a *stored dataset*. The stored dataset
is the folder ``<data_home>/<folder>/`` with its original files; the entry adds which
labels are positive (label 1 = minority) and which are negative. Several entries may
share a folder:

* ``mnist`` reads ``mnist/`` and defines DQNimb's task "digit 2 vs all other digits".
* ``fashion_mnist`` reads ``fashion_mnist/`` and keeps the 10 classes (a multi-class
  task); ``fashion_mnist_1`` ({0, 2} vs {1, 3}) and ``fashion_mnist_2``
  ({4, 5, 6} vs {7, 8, 9}) read the same folder and drop the other classes.
* ``cifar10`` (10 classes), ``cifar10_1`` and ``cifar10_2`` all read ``cifar10/``.

:func:`~imbalance_gym.datasets.load_dataset` always returns the whole stored folder with
its original labels (10 classes for ``mnist`` and ``fashion_mnist_1`` alike), and
:func:`~imbalance_gym.datasets.load_task` applies the entry's label selection. Loads are
cached per folder, so the tasks of one folder parse its files once.

Files and alternatives
----------------------
``files`` is the preferred set of files (all required: e.g. the four MNIST idx files),
exactly as stored in the project's shared data. ``alternatives`` lists other complete
sets accepted instead, tried in order: ``<name>.csv`` written by the OpenML download in
place of an ARFF file, ``<name>.csv.gz`` in place of ``<name>.csv``, uncompressed idx
files, the extracted CIFAR / IMDB archives (paths ending in ``/`` are folders).
``extra_files`` are shipped alongside for provenance and never read.

Labels
------
``positive`` and ``negative`` hold label *keys*: the stored label as text, with integral
numbers written without decimals, so ``("2",)`` matches the stored ``2``, ``2.0`` or
``"2"``. ``positive=None`` means the less frequent class of a binary target;
``negative=None`` means every label that is not positive. When ``negative`` is given,
rows with other labels are dropped by :func:`load_task`.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ._home import get_data_home

Kind = Literal["tabular", "image", "text"]
Provider = Literal["openml", "zenodo", "url", "bundled"]
Labels = tuple[str, ...] | None

KINDS: tuple[str, ...] = ("tabular", "image", "text")
PROVIDERS: tuple[str, ...] = ("openml", "zenodo", "url", "bundled")
ZENODO_URL = "https://zenodo.org/record/61452"


@dataclass(frozen=True)
class DatasetSpec:
    """Everything known about one named dataset or task.

    Attributes:
        name: Catalog name, the argument of ``load_task`` / ``load_dataset``.
        kind: ``"tabular"``, ``"image"`` or ``"text"``.
        folder: Sub-folder of the data home holding the files (shared by the tasks
            of one stored dataset); None for datasets bundled with scikit-learn.
        files: Preferred file set, all required, relative to ``folder``.
        format: Format of ``files``: ``"csv"``, ``"csv.gz"``, ``"arff"``, ``"idx.gz"``,
            ``"cifar-binary"``, ``"aclImdb"`` or ``"sklearn"``.
        target: Target column of a table; None for images, text and bundled data.
        n_classes: Number of classes in the stored labels (before any selection).
        positive: Label keys of the positive (minority, code 1) class, or None for
            the less frequent class of a binary target (or a multi-class task).
        negative: Label keys of the negative class (code 0), or None for all others.
        predefined_split: True when the files come with a train/test split.
        origin: Where the data comes from, e.g. ``"OpenML 1489"``.
        url: Canonical web page of the dataset.
        openml_id: OpenML data id when there is one.
        description: One or two sentences on the data and the task.
        n_rows: Rows (all folds) of the stored data, when known.
        n_features: Stored feature columns (pixels for images), when known.
        alternatives: Other complete file sets accepted instead of ``files``.
        extra_files: Files stored alongside that the loader does not read.
        categorical: ``"infer"`` (categoricals from the file: ARFF nominal or text
            columns), ``"all"``, or the feature columns to one-hot whatever their
            stored type (so a CSV download and the original ARFF agree).
        provider: How ``download=True`` fetches the files: ``"openml"``
            (scikit-learn's ``fetch_openml``), ``"zenodo"`` (imbalanced-learn's
            ``fetch_datasets``), ``"url"`` (``download_urls``) or ``"bundled"``.
        download_urls: Base URLs tried in order; each file name is appended.
    """

    name: str
    kind: Kind
    folder: str | None
    files: tuple[str, ...]
    format: str
    target: str | None
    n_classes: int
    positive: tuple[str, ...] | None = None
    negative: tuple[str, ...] | None = None
    predefined_split: bool = False
    origin: str = ""
    url: str = ""
    openml_id: int | None = None
    description: str = ""
    n_rows: int | None = None
    n_features: int | None = None
    alternatives: tuple[tuple[str, ...], ...] = ()
    extra_files: tuple[str, ...] = ()
    categorical: str | tuple[str, ...] = "infer"
    provider: Provider = "url"
    download_urls: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r} for {self.name!r}")
        if self.provider not in PROVIDERS:
            raise ValueError(
                f"provider must be one of {PROVIDERS}, got {self.provider!r} for {self.name!r}"
            )
        if (self.folder is None) != (self.provider == "bundled"):
            raise ValueError(f"{self.name!r}: folder is None exactly for bundled datasets")
        if self.n_classes < 2:
            raise ValueError(f"{self.name!r}: n_classes must be >= 2, got {self.n_classes}")
        if self.positive is not None and not self.positive:
            raise ValueError(f"{self.name!r}: positive must be None or a non-empty tuple")
        if self.negative is not None and self.positive is None:
            raise ValueError(f"{self.name!r}: negative labels need explicit positive labels")
        if isinstance(self.categorical, str) and self.categorical not in ("infer", "all"):
            raise ValueError(
                f"{self.name!r}: categorical must be 'infer', 'all' or a tuple of column "
                f"names, got {self.categorical!r}"
            )

    @property
    def layouts(self) -> tuple[tuple[str, ...], ...]:
        """Accepted file sets in order of preference: ``files`` then ``alternatives``."""
        return (self.files, *self.alternatives)

    @property
    def is_binary(self) -> bool:
        """Whether :func:`load_task` gives a binary (0/1) task."""
        return self.positive is not None or self.n_classes == 2

    @property
    def bundled(self) -> bool:
        """Whether the data ships with scikit-learn (no files, always present)."""
        return self.provider == "bundled"

    def find_layout(self, data_home: str | os.PathLike[str] | None = None) -> tuple[str, ...] | None:
        """Return the first complete file set present in the data home, else None.

        Bundled datasets return ``()``. A path ending in ``/`` must be a folder, any
        other path a file.
        """
        if self.bundled:
            return ()
        folder = get_data_home(data_home) / str(self.folder)
        for layout in self.layouts:
            if all(_present(folder, relative) for relative in layout):
                return layout
        return None

    def missing_files(self, data_home: str | os.PathLike[str] | None = None) -> tuple[str, ...]:
        """Files of the preferred set that are absent from the data home."""
        if self.bundled:
            return ()
        folder = get_data_home(data_home) / str(self.folder)
        return tuple(relative for relative in self.files if not _present(folder, relative))


def _present(folder: Path, relative: str) -> bool:
    """Whether ``folder/relative`` exists as a folder (trailing ``/``) or a file."""
    path = folder / relative
    return path.is_dir() if relative.endswith("/") else path.is_file()


# --------------------------------------------------------------------------------------
# Entry builders
# --------------------------------------------------------------------------------------


def _openml(
    name: str,
    openml_id: int,
    preferred: str,
    target: str,
    positive: tuple[str, ...] | None,
    n_rows: int,
    n_features: int,
    description: str,
    categorical: str | tuple[str, ...] = "infer",
) -> DatasetSpec:
    """A binary OpenML table stored as ``<name>.arff`` or ``<name>.csv``."""
    other = "csv" if preferred == "arff" else "arff"
    return DatasetSpec(
        name=name,
        kind="tabular",
        folder=name,
        files=(f"{name}.{preferred}",),
        alternatives=((f"{name}.{other}",),),
        format=preferred,
        target=target,
        n_classes=2,
        positive=positive,
        origin=f"OpenML {openml_id}",
        url=f"https://www.openml.org/d/{openml_id}",
        openml_id=openml_id,
        description=description,
        n_rows=n_rows,
        n_features=n_features,
        categorical=categorical,
        provider="openml",
    )


def _zenodo(
    name: str,
    n_rows: int,
    n_features: int,
    description: str,
    *,
    compressed: bool = False,
    target: str = "target",
    origin: str | None = None,
    openml_id: int | None = None,
) -> DatasetSpec:
    """An imbalanced-learn benchmark set: columns ``0..n-1`` and ``target`` (1 = minority)."""
    plain, gz = (f"{name}.csv",), (f"{name}.csv.gz",)
    return DatasetSpec(
        name=name,
        kind="tabular",
        folder=name,
        files=gz if compressed else plain,
        alternatives=(plain,) if compressed else (gz,),
        format="csv.gz" if compressed else "csv",
        target=target,
        n_classes=2,
        positive=("1",),
        origin=origin or f"Zenodo 61452 / imblearn '{name}'",
        url=ZENODO_URL,
        openml_id=openml_id,
        description=description + " Target 1 = minority (imbalanced-learn's +1).",
        n_rows=n_rows,
        n_features=n_features,
        provider="zenodo",
    )


_IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
_IDX_PLAIN = tuple(f.removesuffix(".gz") for f in _IDX_FILES)
_MNIST_URLS = ("http://yann.lecun.com/exdb/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/")
_FASHION_URLS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
_FASHION_ORIGIN = "Fashion-MNIST (Zalando Research), standard idx files"
_FASHION_URL = "https://github.com/zalandoresearch/fashion-mnist"


def _fashion(
    name: str, positive: Labels, negative: Labels, description: str
) -> DatasetSpec:
    """A task on the stored ``fashion_mnist/`` folder."""
    return DatasetSpec(
        name=name,
        kind="image",
        folder="fashion_mnist",
        files=_IDX_FILES,
        alternatives=(_IDX_PLAIN,),
        format="idx.gz",
        target=None,
        n_classes=10,
        positive=positive,
        negative=negative,
        predefined_split=True,
        origin=_FASHION_ORIGIN,
        url=_FASHION_URL,
        description=description,
        n_rows=70000,
        n_features=784,
        download_urls=_FASHION_URLS,
    )


_CIFAR_FILES = ("cifar-10-binary.tar.gz",)
_CIFAR_DIR = tuple(f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6)) + (
    "cifar-10-batches-bin/test_batch.bin",
)


def _cifar(name: str, positive: Labels, negative: Labels, description: str) -> DatasetSpec:
    """A task on the stored ``cifar10/`` folder (binary CIFAR-10 format, never pickles)."""
    return DatasetSpec(
        name=name,
        kind="image",
        folder="cifar10",
        files=_CIFAR_FILES,
        alternatives=(_CIFAR_DIR,),
        format="cifar-binary",
        target=None,
        n_classes=10,
        positive=positive,
        negative=negative,
        predefined_split=True,
        origin="CIFAR-10 (Krizhevsky, 2009), binary version",
        url="https://www.cs.toronto.edu/~kriz/cifar.html",
        description=description,
        n_rows=60000,
        n_features=3072,
        download_urls=("https://www.cs.toronto.edu/~kriz/",),
    )


def _bundled(
    name: str,
    n_rows: int,
    n_features: int,
    n_classes: int,
    positive: Labels,
    description: str,
    url: str,
) -> DatasetSpec:
    """A dataset that ships with scikit-learn (no files)."""
    return DatasetSpec(
        name=name,
        kind="tabular",
        folder=None,
        files=(),
        format="sklearn",
        target=None,
        n_classes=n_classes,
        positive=positive,
        origin=f"scikit-learn bundled (sklearn.datasets.load_{name})",
        url=url,
        description=description,
        n_rows=n_rows,
        n_features=n_features,
        provider="bundled",
    )


_SPECS: tuple[DatasetSpec, ...] = (
    # --- AutoSMOTE's six OpenML sets (sec. 4.1, Table 1) -----------------------------
    _openml(
        "phoneme", 1489, "csv", "Class", ("2",), 5404, 5,
        "ELENA phoneme: nasal (Class 1, 3818) vs oral (Class 2, 1586) sounds from 5 "
        "standardised harmonic amplitudes.",
    ),
    _openml(
        "phishing_websites", 4534, "arff", "Result", ("-1",), 11055, 30,
        "UCI Phishing Websites: 30 nominal URL/page features in {-1, 0, 1}; Result -1 "
        "(phishing, 4898) vs 1 (6157). One-hot gives AutoSMOTE's 68 features.",
        categorical="all",
    ),
    _openml(
        "eeg_eye_state", 1471, "arff", "eyeDetection", None, 14980, 14,
        "UCI EEG Eye State: 14 Emotiv channels; eyes closed (eyeDetection 1, 6723) vs "
        "open (8257). OpenML 1471 codes the same target as Class 1/2, hence positive = "
        "the less frequent class.",
    ),
    _openml(
        "mozilla4", 1046, "arff", "state", ("0",), 15545, 5,
        "PROMISE mozilla4 defect data: id, start, end, event, size; state 0 (5108) is "
        "the minority, state 1 (10437) the majority.",
    ),
    _openml(
        "magic_telescope", 1120, "csv", "class", ("h",), 19020, 10,
        "MAGIC gamma telescope: 10 image moments; hadron 'h' (6688) vs gamma 'g' (12332).",
    ),
    _openml(
        "electricity", 151, "csv", "class", ("UP",), 45312, 8,
        "Elec2 NSW electricity prices: 8 features (day nominal, one-hot gives "
        "AutoSMOTE's 14); class UP (19237) vs DOWN (26075).",
        categorical=("day",),
    ),
    # --- imbalanced-learn's Zenodo benchmark collection (Ding, 2011) -------------------
    _zenodo("ecoli", 336, 7, "UCI ecoli, minority: imU (ratio 8.6:1)."),
    _zenodo("optical_digits", 5620, 64, "UCI optical digits, minority: 8 (ratio 9.1:1)."),
    _zenodo("satimage", 6435, 36, "UCI satimage, minority: 4 (ratio 9.3:1)."),
    _zenodo("pen_digits", 10992, 16, "UCI pen digits, minority: 5 (ratio 9.4:1)."),
    _zenodo("abalone", 4177, 10, "UCI abalone (sex one-hot), minority: 7 (ratio 9.7:1)."),
    _zenodo("sick_euthyroid", 3163, 42, "UCI sick euthyroid (ratio 9.8:1)."),
    _zenodo("spectrometer", 531, 93, "UCI spectrometer, minority: >=44 (ratio 11:1)."),
    _zenodo(
        "car_eval_34", 1728, 21, "UCI car evaluation (one-hot), minority: good, v good (ratio 12:1)."
    ),
    _zenodo("isolet", 7797, 617, "UCI isolet, minority: A, B (ratio 12:1)."),
    _zenodo("us_crime", 1994, 100, "UCI communities and crime, minority: >0.65 (ratio 12:1)."),
    _zenodo("yeast_ml8", 2417, 103, "LIBSVM yeast, minority: label 8 (ratio 13:1)."),
    _zenodo("scene", 2407, 294, "LIBSVM scene, minority: more than one label (ratio 13:1)."),
    _zenodo("libras_move", 360, 90, "UCI libras movement, minority: 1 (ratio 14:1)."),
    _zenodo("thyroid_sick", 3772, 52, "UCI thyroid, minority: sick (ratio 15:1)."),
    _zenodo("coil_2000", 9822, 85, "KDD CoIL 2000 insurance (ratio 16:1).", compressed=True),
    _zenodo("arrhythmia", 452, 278, "UCI arrhythmia, minority: class 06 (ratio 17:1)."),
    _zenodo("solar_flare_m0", 1389, 32, "UCI solar flare, minority: M->0 (ratio 19:1)."),
    _zenodo("oil", 937, 49, "UCI oil spills (ratio 22:1)."),
    _zenodo("car_eval_4", 1728, 21, "UCI car evaluation (one-hot), minority: vgood (ratio 26:1)."),
    _zenodo("wine_quality", 4898, 11, "UCI white wine quality, minority: <=4 (ratio 26:1)."),
    _zenodo("letter_img", 20000, 16, "UCI letter recognition, minority: Z (ratio 26:1)."),
    _zenodo("yeast_me2", 1484, 8, "UCI yeast, minority: ME2 (ratio 28:1)."),
    _zenodo("webpage", 34780, 300, "LIBSVM w7a web pages (ratio 33:1)."),
    _zenodo("ozone_level", 2536, 72, "UCI ozone level (ratio 34:1)."),
    _zenodo(
        "mammography", 11183, 6,
        "Mammography microcalcifications: 6 features X1..X6, Class 1 = calcification "
        "(260) (ratio 42:1).",
        target="Class",
        origin="Zenodo 61452 / imblearn 'mammography' (also OpenML 310)",
        openml_id=310,
    ),
    _zenodo("protein_homo", 145751, 74, "KDD Cup 2004 protein homology (ratio 111:1)."),
    _zenodo("abalone_19", 4177, 10, "UCI abalone (sex one-hot), minority: 19 (ratio 130:1)."),
    # --- DQNimb (Table I) and AutoSMOTE's toy set ----------------------------------------
    DatasetSpec(
        name="toy2",
        kind="tabular",
        folder="toy2",
        files=("toy2_1.csv",),
        extra_files=("toy2_1_orig_labels.csv",),
        format="csv",
        target="label",
        n_classes=2,
        positive=("anomaly",),
        origin="shubhomoydas/ad_examples toy2",
        url="https://github.com/shubhomoydas/ad_examples",
        description="2-D toy anomaly set (AutoSMOTE sec. 4.6): 450 'nominal' points and "
        "35 'anomaly' points in two clusters on either side.",
        n_rows=485,
        n_features=2,
        download_urls=(
            "https://raw.githubusercontent.com/shubhomoydas/ad_examples/master/"
            "ad_examples/datasets/anomaly/toy2/fullsamples/",
        ),
    ),
    DatasetSpec(
        name="mnist",
        kind="image",
        folder="mnist",
        files=_IDX_FILES,
        alternatives=(_IDX_PLAIN,),
        format="idx.gz",
        target=None,
        n_classes=10,
        positive=("2",),
        predefined_split=True,
        origin="MNIST (LeCun et al.), standard idx files",
        url="http://yann.lecun.com/exdb/mnist/",
        description="28x28 handwritten digits, 60k/10k train/test. As a task (DQNimb): "
        "digit 2 positive vs all other digits.",
        n_rows=70000,
        n_features=784,
        download_urls=_MNIST_URLS,
    ),
    _fashion(
        "fashion_mnist", None, None,
        "28x28 Zalando article images, 10 classes, 60k/10k train/test; as a task it "
        "stays 10-class (use fashion_mnist_1 / fashion_mnist_2 for DQNimb's binary tasks).",
    ),
    _fashion(
        "fashion_mnist_1", ("0", "2"), ("1", "3"),
        "DQNimb Fashion-Mnist(1): T-shirt, Pullover (0, 2) positive vs Trouser, Dress "
        "(1, 3) negative; other classes dropped.",
    ),
    _fashion(
        "fashion_mnist_2", ("4", "5", "6"), ("7", "8", "9"),
        "DQNimb Fashion-Mnist(2): Coat, Sandal, Shirt (4, 5, 6) positive vs Sneaker, Bag, "
        "Ankle boot (7, 8, 9) negative; other classes dropped.",
    ),
    _cifar(
        "cifar10", None, None,
        "32x32 colour images, 10 classes, 50k/10k train/test (binary CIFAR-10 format); "
        "as a task it stays 10-class.",
    ),
    # DQNimb's text (sec. IV-B) defines Cifar-10(1) as automobile vs {cat, deer, dog,
    # frog} and Cifar-10(2) as horse vs {ship, truck}. Its Table I lists 10000 negatives
    # for (1) and 20000 for (2), which fits the two definitions swapped; we follow the text.
    _cifar(
        "cifar10_1", ("1",), ("3", "4", "5", "6"),
        "DQNimb Cifar-10(1): automobile (1) positive vs cat, deer, dog, frog (3-6) "
        "negative; other classes dropped.",
    ),
    _cifar(
        "cifar10_2", ("7",), ("8", "9"),
        "DQNimb Cifar-10(2): horse (7) positive vs ship, truck (8, 9) negative; other "
        "classes dropped.",
    ),
    DatasetSpec(
        name="imdb",
        kind="text",
        folder="imdb",
        files=("aclImdb_v1.tar.gz",),
        alternatives=(
            ("aclImdb/train/pos/", "aclImdb/train/neg/", "aclImdb/test/pos/", "aclImdb/test/neg/"),
        ),
        format="aclImdb",
        target=None,
        n_classes=2,
        positive=("pos",),
        negative=("neg",),
        predefined_split=True,
        origin="Large Movie Review Dataset v1.0 (Maas et al., 2011)",
        url="https://ai.stanford.edu/~amaas/data/sentiment/",
        description="50k movie reviews, 25k/25k train/test, 12.5k per sentiment and "
        "fold; positive reviews are the positive class (DQNimb).",
        n_rows=50000,
        n_features=None,
        download_urls=("https://ai.stanford.edu/~amaas/data/sentiment/",),
    ),
    # --- bundled with scikit-learn: work with no data home -------------------------------
    _bundled(
        "breast_cancer", 569, 30, 2, ("malignant",),
        "Wisconsin diagnostic breast cancer: 30 numeric features; malignant (212) "
        "positive vs benign (357).",
        "https://scikit-learn.org/stable/modules/generated/sklearn.datasets.load_breast_cancer.html",
    ),
    _bundled(
        "digits", 1797, 64, 10, ("2",),
        "8x8 handwritten digits as 64 numeric features; digit 2 (177) positive vs the "
        "rest, mirroring the mnist task.",
        "https://scikit-learn.org/stable/modules/generated/sklearn.datasets.load_digits.html",
    ),
)

CATALOG: dict[str, DatasetSpec] = {spec.name: spec for spec in _SPECS}
"""All known datasets and tasks by name."""

if len(CATALOG) != len(_SPECS):  # pragma: no cover - guards edits of the table above
    raise RuntimeError("duplicate names in the dataset catalog")


def dataset_spec(name: str) -> DatasetSpec:
    """Look up a catalog entry by name.

    Args:
        name: Catalog name, e.g. ``"phoneme"`` or ``"fashion_mnist_1"``.

    Returns:
        The frozen :class:`DatasetSpec`.

    Raises:
        TypeError: If ``name`` is not a str.
        ValueError: If the name is unknown; the message lists the known names and
            suggests close matches.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__} ({name!r})")
    try:
        return CATALOG[name]
    except KeyError:
        pass
    close = difflib.get_close_matches(name.lower(), list(CATALOG), n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(
        f"unknown dataset name={name!r}.{hint} Known names: {', '.join(sorted(CATALOG))}."
    )


def list_datasets(
    kind: str | None = None,
    *,
    present: bool | None = None,
    data_home: str | os.PathLike[str] | None = None,
) -> list[str]:
    """List catalog names, optionally filtered by kind and by presence on disk.

    Args:
        kind: ``"tabular"``, ``"image"``, ``"text"`` or None for all.
        present: None lists everything; True only names whose files are complete in
            the data home (bundled datasets always count as present); False only the
            names whose files are missing.
        data_home: Data home to check (see :func:`get_data_home`); only used when
            ``present`` is not None.

    Returns:
        Sorted list of names.

    Raises:
        ValueError: If ``kind`` is not one of the kinds.
        TypeError: If ``present`` is not None or a bool.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be None or one of {KINDS}, got {kind!r}")
    if present is not None and not isinstance(present, bool):
        raise TypeError(f"present must be None or a bool, got {type(present).__name__} ({present!r})")
    names = sorted(n for n, s in CATALOG.items() if kind is None or s.kind == kind)
    if present is None:
        return names
    home = get_data_home(data_home)
    return [n for n in names if (CATALOG[n].find_layout(home) is not None) == present]
