"""Downloads into the data home, for users with internet (never needed offline).

* OpenML sets (``provider="openml"``): ``sklearn.datasets.fetch_openml(data_id=...)``,
  written as ``<data_home>/<name>/<name>.csv`` (the target column renamed to the
  catalog's when OpenML names it differently).
* imbalanced-learn's Zenodo collection (``provider="zenodo"``):
  ``imblearn.datasets.fetch_datasets``, written as ``<name>.csv`` with feature columns
  ``0..n-1`` and the target column (``target``; 1 = minority, 0 = the rest).
* Files from their canonical URLs (``provider="url"``: MNIST, Fashion-MNIST, CIFAR-10
  binary, IMDB, toy2): each base URL of the catalog entry is tried in turn.

Every file is first written to a temporary ``*.part`` file in the destination folder
and renamed when complete, so an interrupted download never leaves a truncated file
under the final name. Archives are stored as downloaded (never extracted).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ._home import get_data_home
from .catalog import DatasetSpec, dataset_spec

USER_AGENT = "imbalance-gym dataset downloader"


def _write_atomically(destination: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_path)`` on a temporary file next to ``destination``, then rename."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".part", dir=destination.parent
    )
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, destination)
    finally:
        if tmp.exists():
            tmp.unlink()


def _download_openml(spec: DatasetSpec, folder: Path) -> None:
    """Fetch an OpenML table and store it as ``<name>.csv``."""
    from sklearn.datasets import fetch_openml  # scikit-learn is a dependency; import when used

    bunch = fetch_openml(data_id=spec.openml_id, as_frame=True, parser="auto")
    frame = bunch.frame
    if frame is None:
        raise ValueError(f"OpenML {spec.openml_id} returned no data frame for {spec.name!r}")
    frame = frame.copy()
    if spec.target not in frame.columns:
        stored = getattr(bunch.target, "name", None)
        if stored is None or stored not in frame.columns:
            raise ValueError(
                f"OpenML {spec.openml_id} has no target column {spec.target!r} (columns: "
                f"{list(frame.columns)})"
            )
        frame = frame.rename(columns={stored: spec.target})
    _write_atomically(folder / f"{spec.name}.csv", lambda tmp: frame.to_csv(tmp, index=False))


def _download_zenodo(spec: DatasetSpec, folder: Path) -> None:
    """Fetch one set of imbalanced-learn's Zenodo collection and store it as ``<name>.csv``."""
    from imblearn.datasets import fetch_datasets  # imbalanced-learn is a dependency

    bunch = fetch_datasets(filter_data=(spec.name,), download_if_missing=True)[spec.name]
    data = np.asarray(bunch.data)
    target = np.asarray(bunch.target)
    if data.ndim != 2 or target.shape != (data.shape[0],):
        raise ValueError(
            f"imblearn {spec.name!r}: data {data.shape} and target {target.shape} do not match"
        )
    frame = pd.DataFrame(data, columns=[str(i) for i in range(data.shape[1])])
    frame[str(spec.target)] = (target == 1).astype(np.int64)  # imblearn: +1 = minority, -1 = rest
    _write_atomically(folder / f"{spec.name}.csv", lambda tmp: frame.to_csv(tmp, index=False))


def _fetch_file(urls: list[str], destination: Path, timeout: float) -> None:
    """Download the first URL that works into ``destination``; raise listing every failure."""
    errors = []
    for url in urls:

        def write(tmp: Path, url: str = url) -> None:
            request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
            with urllib.request.urlopen(request, timeout=timeout) as response, open(tmp, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
            if destination.name.endswith(".gz"):
                with open(tmp, "rb") as check:
                    if check.read(2) != b"\x1f\x8b":
                        raise ValueError(f"{url} did not return gzip data")

        try:
            _write_atomically(destination, write)
            return
        except (urllib.error.URLError, OSError, ValueError) as error:
            errors.append(f"{url}: {error}")
    raise OSError(f"could not download {destination.name}; tried " + "; ".join(errors))


def _download_urls(spec: DatasetSpec, folder: Path, timeout: float, force: bool) -> None:
    """Download the preferred files (and extra files) of a URL-provided dataset."""
    if not spec.download_urls:  # pragma: no cover - every url entry lists its URLs
        raise ValueError(f"{spec.name!r} has no download URL")
    for relative in spec.files + spec.extra_files:
        destination = folder / relative
        if destination.exists() and not force:
            continue
        _fetch_file([base + relative for base in spec.download_urls], destination, timeout)


def download_dataset(
    name: str,
    *,
    data_home: str | os.PathLike[str] | None = None,
    force: bool = False,
    timeout: float = 60.0,
) -> Path | None:
    """Download a dataset's files into ``<data_home>/<folder>/`` (needs internet).

    Args:
        name: Catalog name; tasks sharing a folder download it once.
        data_home: Data home (see :func:`get_data_home`); created when missing.
        force: Download again even when the files are already complete.
        timeout: Seconds to wait on each network request (URL downloads).

    Returns:
        The dataset folder, or None for datasets bundled with scikit-learn.

    Raises:
        ValueError: If the name is unknown or ``timeout`` is not positive.
        TypeError: If ``force`` is not a bool.
        OSError: If no source could be reached.
    """
    spec = dataset_spec(name)
    if not isinstance(force, bool):
        raise TypeError(f"force must be a bool, got {type(force).__name__} ({force!r})")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if spec.bundled:
        return None
    home = get_data_home(data_home)
    folder = home / str(spec.folder)
    if not force and spec.find_layout(home) is not None:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    if spec.provider == "openml":
        _download_openml(spec, folder)
    elif spec.provider == "zenodo":
        _download_zenodo(spec, folder)
    else:
        _download_urls(spec, folder, float(timeout), force)
    return folder
