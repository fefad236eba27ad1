"""File readers: CSV (plain or gzip), ARFF, MNIST idx, CIFAR-10 binary, IMDB text.

Readers parse bytes into arrays and frames and nothing more: no label selection, no
splitting. None of them unpickles anything; archives are read member by member in
memory and never extracted to disk.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd

PathLike = str | os.PathLike[str]

# --------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------


def read_csv_table(path: PathLike) -> pd.DataFrame:
    """Read a CSV file with a header row; ``.gz`` files are decompressed on the fly.

    ``?`` and empty cells are missing values (as in ARFF), column names are str.

    Args:
        path: ``*.csv`` or ``*.csv.gz`` file.

    Returns:
        DataFrame with one column per CSV column, pandas' inferred dtypes.
    """
    path = Path(path)
    compression = "gzip" if path.name.endswith(".gz") else None
    frame = pd.read_csv(path, compression=compression, na_values=["?"], low_memory=False)
    frame.columns = [str(c) for c in frame.columns]
    return frame


# --------------------------------------------------------------------------------------
# ARFF
# --------------------------------------------------------------------------------------

_NUMERIC_TYPES = ("numeric", "real", "integer")


def _split_quoted(text: str, sep: str, where: str) -> list[str]:
    """Split on ``sep`` outside '...' / "..." quotes; quotes removed, \\-escapes resolved.

    Unquoted values are stripped; a quoted value keeps its inner spaces. Used for data
    rows and nominal value lists.
    """
    values: list[str] = []
    buf: list[str] = []
    state = "start"  # start -> plain | quoted -> closed
    quote = ""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if state == "quoted":
            if ch == "\\" and i + 1 < n:
                buf.append(text[i + 1])
                i += 2
                continue
            if ch == quote:
                state = "closed"
            else:
                buf.append(ch)
        elif ch == sep:
            values.append("".join(buf) if state == "closed" else "".join(buf).strip())
            buf, state = [], "start"
        elif state == "start" and ch in ("'", '"'):
            state, quote = "quoted", ch
        elif state == "closed":
            if not ch.isspace():
                raise ValueError(f"{where}: text after a closing quote in {text!r}")
        elif state == "start" and ch.isspace():
            pass
        else:
            state = "plain"
            buf.append(ch)
        i += 1
    if state == "quoted":
        raise ValueError(f"{where}: unterminated quote in {text!r}")
    values.append("".join(buf) if state == "closed" else "".join(buf).strip())
    return values


def _parse_attribute(rest: str, where: str) -> tuple[str, str, list[str] | None]:
    """Parse what follows ``@attribute``: (name, type, nominal values or None)."""
    rest = rest.strip()
    if not rest:
        raise ValueError(f"{where}: @attribute without a name")
    if rest[0] in ("'", '"'):
        close = rest.find(rest[0], 1)
        while close != -1 and rest[close - 1] == "\\":
            close = rest.find(rest[0], close + 1)
        if close == -1:
            raise ValueError(f"{where}: unterminated quote in attribute name: {rest!r}")
        name = rest[1:close].replace("\\" + rest[0], rest[0])
        type_text = rest[close + 1 :].strip()
    else:
        match = re.match(r"(\S+?)(?=\s|\{|$)(.*)", rest, flags=re.S)
        if match is None:  # pragma: no cover - the regex matches any non-empty text
            raise ValueError(f"{where}: cannot parse attribute {rest!r}")
        name, type_text = match.group(1), match.group(2).strip()
    if not type_text:
        raise ValueError(f"{where}: attribute {name!r} has no type")
    if type_text.startswith("{"):
        if not type_text.endswith("}"):
            raise ValueError(f"{where}: nominal list of {name!r} does not end with '}}'")
        inner = type_text[1:-1]
        values = _split_quoted(inner, ",", where) if inner.strip() else []
        if not values or any(v == "" for v in values):
            raise ValueError(f"{where}: nominal attribute {name!r} has an empty value list")
        return name, "nominal", values
    base = type_text.split()[0].lower()
    if base in _NUMERIC_TYPES:
        return name, "numeric", None
    if base in ("string", "date"):  # dates are kept as their text
        return name, "string", None
    raise ValueError(
        f"{where}: attribute {name!r} has unsupported type {type_text!r}; allowed: "
        "numeric, real, integer, string, date, {nominal list} (relational is not supported)"
    )


def read_arff(source: PathLike | io.TextIOBase) -> pd.DataFrame:
    """Parse a dense ARFF file into a DataFrame.

    Supported: ``@relation``; ``@attribute <name> <type>`` with names in quotes when
    they hold spaces and types ``numeric``/``real``/``integer`` (-> float64),
    ``string``/``date`` (-> str, missing = NaN) and ``{v1, 'v 2', ...}`` (-> pandas
    categorical with the declared categories in declared order); ``@data`` rows of
    comma-separated values with '...' or "..." quotes; ``?`` for missing values;
    ``%`` comment lines; keywords in any case; ``.arff.gz`` files.

    Args:
        source: Path of a ``.arff`` / ``.arff.gz`` file, or a text stream.

    Returns:
        DataFrame with one column per attribute, in declaration order.

    Raises:
        ValueError: On a sparse-ARFF row (``{index value, ...}``), an unknown type, a
            row with the wrong number of values, a value that is not a number in a
            numeric column or not declared in a nominal one, or a file without
            ``@data``. Messages give the line number.
    """
    if isinstance(source, io.TextIOBase):
        lines = source.read().splitlines()
        label = "<stream>"
    else:
        path = Path(source)
        label = path.name
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        lines = raw.decode("utf-8-sig", errors="replace").splitlines()

    attributes: list[tuple[str, str, list[str] | None]] = []
    data_start = None
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("%"):
            continue
        where = f"{label}, line {number}"
        keyword = text.split(None, 1)[0].lower()
        if keyword == "@relation":
            continue
        if keyword == "@attribute":
            attribute = _parse_attribute(text[len("@attribute") :], where)
            if any(attribute[0] == seen[0] for seen in attributes):
                raise ValueError(f"{where}: attribute {attribute[0]!r} is declared twice")
            attributes.append(attribute)
        elif keyword == "@data":
            data_start = number
            break
        else:
            raise ValueError(f"{where}: expected @relation, @attribute or @data, got {text!r}")
    if data_start is None:
        raise ValueError(f"{label}: no @data section")
    if not attributes:
        raise ValueError(f"{label}: no @attribute declarations before @data")

    n_cols = len(attributes)
    columns: list[list[str]] = [[] for _ in range(n_cols)]
    line_numbers: list[int] = []
    for number in range(data_start + 1, len(lines) + 1):
        text = lines[number - 1].strip()
        if not text or text.startswith("%"):
            continue
        if text.startswith("{"):
            raise ValueError(
                f"{label}, line {number}: sparse ARFF rows ({{index value, ...}}) are not "
                "supported; convert the file to dense ARFF or CSV"
            )
        if "'" in text or '"' in text:
            values = _split_quoted(text, ",", f"{label}, line {number}")
        else:
            values = [v.strip() for v in text.split(",")]
        if len(values) != n_cols:
            raise ValueError(
                f"{label}, line {number}: {len(values)} values, but {n_cols} attributes "
                "are declared"
            )
        for column, value in zip(columns, values):
            column.append(value)
        line_numbers.append(number)

    frame: dict[str, object] = {}
    for (name, kind, nominal), column in zip(attributes, columns):
        frame[name] = _convert_column(name, kind, nominal, column, line_numbers, label)
    return pd.DataFrame(frame)


def _convert_column(
    name: str,
    kind: str,
    nominal: list[str] | None,
    column: list[str],
    line_numbers: list[int],
    label: str,
) -> object:
    """Turn one column of ARFF text values into floats, categoricals or strings."""
    missing = np.array([v == "?" for v in column], dtype=bool)
    if kind == "numeric":
        text = np.array(column, dtype=object)
        text[missing] = "nan"
        try:
            return text.astype(np.float64)
        except ValueError:
            for i, value in enumerate(column):
                try:
                    if not missing[i]:
                        float(value)
                except ValueError:
                    raise ValueError(
                        f"{label}, line {line_numbers[i]}: value {value!r} of numeric "
                        f"attribute {name!r} is not a number"
                    ) from None
            raise  # pragma: no cover - the loop above always finds the bad value
    values = [None if m else v for v, m in zip(column, missing)]
    if kind == "nominal":
        allowed = set(nominal)
        for i, value in enumerate(values):
            if value is not None and value not in allowed:
                raise ValueError(
                    f"{label}, line {line_numbers[i]}: value {value!r} of nominal attribute "
                    f"{name!r} is not one of the declared values {nominal}"
                )
        return pd.Categorical(values, categories=nominal)
    return pd.array(values, dtype="str")


# --------------------------------------------------------------------------------------
# MNIST idx
# --------------------------------------------------------------------------------------

IDX_LABELS_MAGIC = 0x00000801
IDX_IMAGES_MAGIC = 0x00000803


def read_idx(path: PathLike) -> np.ndarray:
    """Read an MNIST-style idx file of unsigned bytes (gzip or plain).

    Header: magic number (big-endian int32: 0x801 for labels, 0x803 for images;
    dtype byte 0x08 = uint8, last byte = number of dimensions), then one big-endian
    uint32 per dimension, then the data.

    Args:
        path: ``*-idx1-ubyte(.gz)`` or ``*-idx3-ubyte(.gz)`` file.

    Returns:
        Read-only uint8 array, shape [N] for labels or [N, rows, cols] for images.

    Raises:
        ValueError: If the magic number is not 0x801 / 0x803, or the data size does
            not match the header.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4:
        raise ValueError(f"{path.name}: too short for an idx header ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in (IDX_LABELS_MAGIC, IDX_IMAGES_MAGIC):
        raise ValueError(
            f"{path.name}: idx magic number 0x{magic:08x} is not 0x{IDX_LABELS_MAGIC:08x} "
            f"(labels) or 0x{IDX_IMAGES_MAGIC:08x} (images)"
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path.name}: header of {ndim} dimensions is truncated")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims, dtype=np.int64))
    if len(raw) - header != expected:
        raise ValueError(
            f"{path.name}: header says shape {dims} ({expected} bytes) but the file has "
            f"{len(raw) - header} data bytes"
        )
    array = np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)
    array.flags.writeable = False
    return array


# --------------------------------------------------------------------------------------
# CIFAR-10 binary version
# --------------------------------------------------------------------------------------

CIFAR_RECORD = 1 + 3 * 32 * 32
CIFAR_TRAIN_BATCHES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR_TEST_BATCH = "test_batch.bin"


def parse_cifar_batch(raw: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Split binary CIFAR-10 records (1 label byte + 3072 channel-major pixel bytes).

    Returns:
        images uint8 [N, 3, 32, 32], labels uint8 [N].

    Raises:
        ValueError: If the size is not a multiple of 3073 bytes or a label exceeds 9.
    """
    if len(raw) == 0 or len(raw) % CIFAR_RECORD:
        raise ValueError(
            f"{where}: {len(raw)} bytes is not a positive multiple of the {CIFAR_RECORD}-byte "
            "CIFAR-10 record (1 label byte + 3072 pixel bytes)"
        )
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, CIFAR_RECORD)
    labels = records[:, 0].copy()
    if labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise ValueError(f"{where}: record {bad} has label {labels[bad]}; CIFAR-10 labels are 0-9")
    images = records[:, 1:].reshape(-1, 3, 32, 32).copy()
    return images, labels


def read_cifar10_binary(path: PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read CIFAR-10's binary version from ``cifar-10-binary.tar.gz`` or its folder.

    Args:
        path: The tar archive (read in memory), or the extracted
            ``cifar-10-batches-bin`` folder with ``data_batch_1..5.bin`` and
            ``test_batch.bin``.

    Returns:
        ``(X, y, fold)``: uint8 images [N, 3, 32, 32], uint8 labels [N] and an object
        array [N] of ``"train"`` / ``"test"``; train batches 1..5 first, then the test
        batch, records in file order.

    Raises:
        FileNotFoundError: If a batch file is missing.
        ValueError: If a batch is malformed (see :func:`parse_cifar_batch`).
    """
    path = Path(path)
    wanted = (*CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH)
    if path.is_dir():
        blobs = {}
        for name in wanted:
            if not (path / name).is_file():
                raise FileNotFoundError(f"{path}: missing CIFAR-10 batch {name}")
            blobs[name] = (path / name).read_bytes()
    else:
        blobs = {}
        with tarfile.open(path, mode="r|*") as archive:
            for member in archive:
                base = member.name.rsplit("/", 1)[-1]
                if member.isfile() and base in wanted and base not in blobs:
                    handle = archive.extractfile(member)
                    if handle is not None:
                        blobs[base] = handle.read()
        absent = [name for name in wanted if name not in blobs]
        if absent:
            raise FileNotFoundError(f"{path.name}: the archive has no {', '.join(absent)}")
    parts = [parse_cifar_batch(blobs[name], f"{path.name}:{name}") for name in wanted]
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    n_test = parts[-1][1].shape[0]
    fold = np.array(["train"] * (y.shape[0] - n_test) + ["test"] * n_test, dtype=object)
    return X, y, fold


# --------------------------------------------------------------------------------------
# IMDB (aclImdb)
# --------------------------------------------------------------------------------------

_IMDB_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg)/([^/]+\.txt)$")
_FOLD_ORDER = {"train": 0, "test": 1}


def _natural_key(name: str) -> tuple:
    """Sort key that orders ``2_7.txt`` before ``10_1.txt``."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


def read_imdb(path: PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read the labelled reviews of the Large Movie Review Dataset.

    Args:
        path: ``aclImdb_v1.tar.gz`` (members read in memory, never extracted) or the
            extracted ``aclImdb`` folder with ``{train,test}/{pos,neg}/*.txt``. The
            unlabelled ``train/unsup`` reviews are skipped.

    Returns:
        ``(texts, labels, fold)``, object arrays of shape [N]: the raw review text
        (UTF-8), ``"pos"`` / ``"neg"``, and ``"train"`` / ``"test"``. Sorted by fold
        (train first), label (neg first), then file name in natural order, so the order
        does not depend on the archive's member order.

    Raises:
        FileNotFoundError: If no labelled review is found.
    """
    path = Path(path)
    records: list[tuple[str, str, str, str]] = []
    if path.is_dir():
        root = path if path.name == "aclImdb" else path / "aclImdb"
        for fold in ("train", "test"):
            for label in ("pos", "neg"):
                folder = root / fold / label
                if folder.is_dir():
                    for file in folder.glob("*.txt"):
                        text = file.read_bytes().decode("utf-8", errors="replace")
                        records.append((fold, label, file.name, text))
    else:
        with tarfile.open(path, mode="r|*") as archive:
            for member in archive:
                match = _IMDB_MEMBER.search(member.name)
                if match is None or not member.isfile():
                    continue
                handle = archive.extractfile(member)
                if handle is None:  # pragma: no cover - regular files always have data
                    continue
                text = handle.read().decode("utf-8", errors="replace")
                records.append((match.group(1), match.group(2), match.group(3), text))
    if not records:
        raise FileNotFoundError(f"{path}: no aclImdb/{{train,test}}/{{pos,neg}}/*.txt reviews found")
    records.sort(key=lambda r: (_FOLD_ORDER[r[0]], r[1], _natural_key(r[2])))
    texts = np.array([r[3] for r in records], dtype=object)
    labels = np.array([r[1] for r in records], dtype=object)
    fold = np.array([r[0] for r in records], dtype=object)
    return texts, labels, fold
