"""Where the dataset files live: the data home."""

from __future__ import annotations

import os
from pathlib import Path

DATA_HOME_ENV = "IMBALANCE_GYM_DATA"
"""Environment variable that points at the data home when no argument is given."""

DEFAULT_DATA_HOME = Path("~") / ".cache" / "imbalance_gym"
"""Data home used when neither the argument nor the environment variable is set."""


def get_data_home(data_home: str | os.PathLike[str] | None = None, *, create: bool = False) -> Path:
    """Resolve the folder that holds one sub-folder ``<name>/`` per dataset.

    The first of these wins: the ``data_home`` argument, the environment variable
    ``IMBALANCE_GYM_DATA`` (ignored when empty), ``~/.cache/imbalance_gym``.

    Args:
        data_home: Explicit folder, or None to fall back to the environment / default.
        create: Create the folder (and its parents) when it does not exist. Off by
            default: looking up a data home never touches the disk.

    Returns:
        The absolute, user-expanded path (it may not exist unless ``create=True``).

    Raises:
        TypeError: If ``data_home`` is not a str, an ``os.PathLike`` or None, or
            ``create`` is not a bool.
        ValueError: If ``data_home`` is an empty string.
    """
    if data_home is not None and not isinstance(data_home, (str, os.PathLike)):
        raise TypeError(
            f"data_home must be a str, an os.PathLike or None, got {type(data_home).__name__} "
            f"({data_home!r})"
        )
    if not isinstance(create, bool):
        raise TypeError(f"create must be a bool, got {type(create).__name__} ({create!r})")
    if data_home is not None:
        text = os.fspath(data_home)
        if isinstance(text, bytes) or text == "":
            raise ValueError(f"data_home must be a non-empty folder path, got {data_home!r}")
        path = Path(text)
    elif os.environ.get(DATA_HOME_ENV):
        path = Path(os.environ[DATA_HOME_ENV])
    else:
        path = DEFAULT_DATA_HOME
    path = path.expanduser().absolute()
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
