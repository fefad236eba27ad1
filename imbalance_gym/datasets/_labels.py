"""Label keys: one string form per stored label, so ``2``, ``2.0`` and ``"2"`` match."""

from __future__ import annotations

import math
import numbers
import re

import numpy as np

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def label_key(value: object) -> str | None:
    """Canonical string of one label (integral numbers lose ``.0``); None when missing."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return None
        return str(int(number)) if number.is_integer() else repr(number)
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = str(value).strip()
    if text == "" or text == "?":
        return None
    if _NUMBER.match(text):  # "1.0" stored as text is the same label as 1
        number = float(text)
        if number.is_integer() and abs(number) < 2**53:
            return str(int(number))
    return text


def label_keys(values: np.ndarray) -> np.ndarray:
    """Vectorised :func:`label_key`: object array of str (None where missing), shape [N]."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {array.shape}")
    if np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_:
        return array.astype(np.int64).astype(str).astype(object)
    cache: dict[object, str | None] = {}
    out = np.empty(array.shape[0], dtype=object)
    for i, value in enumerate(array.tolist()):
        try:
            out[i] = cache[value]
        except KeyError:
            out[i] = cache[value] = label_key(value)
        except TypeError:  # unhashable label
            out[i] = label_key(value)
    return out


def sorted_keys(keys: object) -> list[str]:
    """Sort label keys numerically when they all are numbers, else as text."""
    unique = sorted(set(keys))  # type: ignore[arg-type]
    try:
        return sorted(unique, key=float)
    except ValueError:
        return unique
