"""Datasets and tasks for imbalanced classification.

The catalog (:data:`CATALOG`) names every dataset the package knows: AutoSMOTE's OpenML
tables, imbalanced-learn's Zenodo collection, DQNimb's image and text tasks, a toy set
and two sets bundled with scikit-learn. :func:`load_dataset` returns a stored dataset as
it is; :func:`load_task` turns it into seeded train / validation / test splits with
y in {0, 1} (1 = minority = positive) under DQNimb's ``ratio`` or AutoSMOTE's
``imbalance_ratio`` protocol (see :mod:`imbalance_gym.datasets.tasks`).

Files live in ``<data_home>/<folder>/`` (:func:`get_data_home`); a missing dataset is a
:class:`DatasetNotFoundError` that says what to put where, or ``download=True`` fetches
it with internet.
"""

from ._download import download_dataset
from ._home import DATA_HOME_ENV, get_data_home
from ._load import DatasetNotFoundError, RawDataset, clear_cache, load_dataset
from ._preprocess import preprocess_splits
from ._split import stratified_split
from .catalog import CATALOG, DatasetSpec, dataset_spec, list_datasets
from .imbalance import make_imbalance_ir, make_imbalance_ratio
from .tasks import Task, load_task

__all__ = [
    "CATALOG",
    "DATA_HOME_ENV",
    "DatasetNotFoundError",
    "DatasetSpec",
    "RawDataset",
    "Task",
    "clear_cache",
    "dataset_spec",
    "download_dataset",
    "get_data_home",
    "list_datasets",
    "load_dataset",
    "load_task",
    "make_imbalance_ir",
    "make_imbalance_ratio",
    "preprocess_splits",
    "stratified_split",
]
