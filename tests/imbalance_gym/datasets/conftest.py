"""Writers of tiny files in the real formats (idx, CIFAR-10 binary, aclImdb), for tests.

The tests build small data homes in ``tmp_path`` with these, so every reader and the
whole ``load_task`` path run without the real (large, partly unavailable) files.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from imbalance_gym.datasets import clear_cache


@pytest.fixture
def empty_cache():
    """Start (and end) with an empty in-memory dataset cache.

    Other tests share the cache on purpose: the real MNIST files are parsed once per
    test process, and tiny data homes live in fresh folders, so their keys never clash.
    """
    clear_cache()
    yield
    clear_cache()


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """Serialise a uint8 array in idx format (magic 0x800 + ndim unless given)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    magic = 0x800 + array.ndim if magic is None else magic
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write_idx_folder(folder: Path, n_train: int = 200, n_test: int = 50, *, gz: bool = True, seed: int = 0):
    """Write the four MNIST idx files; labels cycle 0..9; returns (train images, train labels, test images, test labels)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) % 10).astype(np.uint8),
    }
    for name, array in arrays.items():
        data = idx_bytes(array)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return tuple(arrays.values())


def cifar_batch(labels: np.ndarray, seed: int) -> tuple[bytes, np.ndarray]:
    """Binary CIFAR-10 records for ``labels``; returns (bytes, images [N, 3, 32, 32])."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(len(labels), 3, 32, 32), dtype=np.uint8)
    records = np.concatenate([np.asarray(labels, np.uint8)[:, None], images.reshape(len(labels), -1)], axis=1)
    return records.tobytes(), images


def cifar_members(per_batch: int = 20) -> dict[str, tuple[bytes, np.ndarray, np.ndarray]]:
    """Five train batches and a test batch; labels cycle 0..9."""
    members = {}
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    for k, name in enumerate(names):
        labels = (np.arange(per_batch) + k) % 10
        data, images = cifar_batch(labels, seed=k)
        members[name] = (data, images, labels.astype(np.uint8))
    return members


def add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    """Add an in-memory file to a tar archive."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def write_cifar_tar(path: Path, members) -> None:
    """``cifar-10-binary.tar.gz`` layout: members under ``cifar-10-batches-bin/``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        add_bytes(archive, "cifar-10-batches-bin/batches.meta.txt", b"airplane\nautomobile\n")
        for name in reversed(list(members)):  # order in the archive must not matter
            add_bytes(archive, f"cifar-10-batches-bin/{name}", members[name][0])


IMDB_REVIEWS = {
    ("train", "pos", "0_9.txt"): "A great movie!<br />Great acting, great story.",
    ("train", "pos", "10_8.txt"): "Loved it. Don't miss it; great fun",
    ("train", "pos", "2_10.txt"): "great great wonderful",
    ("train", "neg", "1_2.txt"): "Boring movie. <br /><br />Bad acting",
    ("train", "neg", "3_1.txt"): "bad bad plot, boring",
    ("train", "neg", "4_3.txt"): "not good; bad ending",
    ("test", "pos", "0_10.txt"): "Great film with zebra stripes",
    ("test", "neg", "0_1.txt"): "awful awful zebra",
    ("test", "neg", "1_4.txt"): "bad",
}


def write_imdb_folder(root: Path) -> None:
    """``aclImdb/{train,test}/{pos,neg}/*.txt`` plus an unlabelled review to skip."""
    for (fold, label, name), text in IMDB_REVIEWS.items():
        target = root / "aclImdb" / fold / label / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    unsup = root / "aclImdb" / "train" / "unsup" / "0_0.txt"
    unsup.parent.mkdir(parents=True, exist_ok=True)
    unsup.write_text("unlabelled review", encoding="utf-8")


def write_imdb_tar(path: Path) -> None:
    """``aclImdb_v1.tar.gz`` with the same reviews (members in reverse order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        add_bytes(archive, "aclImdb/README", b"readme")
        add_bytes(archive, "aclImdb/train/unsup/0_0.txt", b"unlabelled review")
        for (fold, label, name), text in reversed(list(IMDB_REVIEWS.items())):
            add_bytes(archive, f"aclImdb/{fold}/{label}/{name}", text.encode("utf-8"))


@pytest.fixture
def tiny_home(tmp_path: Path) -> Path:
    """A data home with tiny mnist, fashion_mnist, cifar10 (tar) and imdb (tar) folders."""
    home = tmp_path / "home"
    write_idx_folder(home / "mnist", seed=0)
    write_idx_folder(home / "fashion_mnist", seed=1)
    write_cifar_tar(home / "cifar10" / "cifar-10-binary.tar.gz", cifar_members())
    write_imdb_tar(home / "imdb" / "aclImdb_v1.tar.gz")
    return home


@pytest.fixture
def formats():
    """The writers above, for tests that build their own files."""
    return SimpleNamespace(
        idx_bytes=idx_bytes,
        write_idx_folder=write_idx_folder,
        cifar_batch=cifar_batch,
        cifar_members=cifar_members,
        write_cifar_tar=write_cifar_tar,
        write_imdb_folder=write_imdb_folder,
        write_imdb_tar=write_imdb_tar,
        imdb_reviews=IMDB_REVIEWS,
    )
