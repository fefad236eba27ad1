"""Classification metrics for imbalanced data (pure functions, numpy only).

Every metric takes either label arrays ``(y_true, y_pred)`` or a confusion matrix
(``confusion=``, rows = true class, columns = predicted class, as returned by
:func:`confusion_matrix`). Binary metrics treat class ``1`` as the positive (minority)
class, the project's label convention. Degenerate cases follow scikit-learn's
``zero_division=0`` behaviour: a ratio with a zero denominator is 0.

DQNimb (Lin et al., sec. IV-A) reports G-mean = sqrt(TPR * TNR) and the F-measure; its
text calls the F-measure the harmonic mean of precision and recall, which is the F1
computed by :func:`f_measure`. AutoSMOTE (Zha et al., sec. 4.1) reports Macro-F1 and MCC.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = [
    "METRICS",
    "classification_report",
    "confusion_matrix",
    "f_measure",
    "g_mean",
    "get_metric",
    "macro_f1",
    "mcc",
    "precision",
    "recall",
    "specificity",
]


def confusion_matrix(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """Count matrix ``C[i, j]`` = number of samples of true class ``i`` predicted as ``j``.

    Args:
        y_true: integer labels in ``0..n_classes-1``, shape ``[N]``.
        y_pred: integer predictions, shape ``[N]``.
        n_classes: size of the matrix; defaults to ``max(2, max label + 1)``.

    Returns:
        ``int64`` array of shape ``[n_classes, n_classes]``.

    Raises:
        ValueError: if the arrays differ in length, are not 1-D, or hold labels outside
            ``0..n_classes-1``.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 1 or y_pred.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be 1-D, got shapes {y_true.shape} and {y_pred.shape}"
        )
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"y_true and y_pred must have the same length, got {y_true.shape[0]} and {y_pred.shape[0]}"
        )
    for name, arr in (("y_true", y_true), ("y_pred", y_pred)):
        if arr.size and not np.issubdtype(arr.dtype, np.integer) and arr.dtype != bool:
            if not np.all(np.mod(arr, 1) == 0):
                raise ValueError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    y_true = y_true.astype(np.int64, copy=False)
    y_pred = y_pred.astype(np.int64, copy=False)
    if n_classes is None:
        top = max(int(y_true.max(initial=0)), int(y_pred.max(initial=0)))
        n_classes = max(2, top + 1)
    for name, arr in (("y_true", y_true), ("y_pred", y_pred)):
        if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
            raise ValueError(
                f"{name} holds labels outside 0..{n_classes - 1}: "
                f"min {arr.min()}, max {arr.max()}"
            )
    flat = y_true * n_classes + y_pred
    return np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def _as_confusion(y_true, y_pred, confusion) -> np.ndarray:
    """Return a float confusion matrix from either labels or a given matrix."""
    if confusion is not None:
        if y_true is not None or y_pred is not None:
            raise ValueError("pass either (y_true, y_pred) or confusion=, not both")
        cm = np.asarray(confusion, dtype=np.float64)
        if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] < 2:
            raise ValueError(f"confusion must be a square matrix of size >= 2, got shape {cm.shape}")
        if np.any(cm < 0):
            raise ValueError("confusion must hold non-negative counts")
        return cm
    if y_true is None or y_pred is None:
        raise ValueError("pass (y_true, y_pred) or confusion=")
    return confusion_matrix(y_true, y_pred).astype(np.float64)


def _div(num, den):
    """Elementwise num / den with 0 where den == 0."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _per_class(cm: np.ndarray):
    """Per-class (tp, fp, fn) vectors of a confusion matrix."""
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    return tp, fp, fn


def recall(y_true=None, y_pred=None, *, confusion=None, pos_label: int = 1) -> float:
    """Sensitivity / true-positive rate of ``pos_label``: TP / (TP + FN)."""
    cm = _as_confusion(y_true, y_pred, confusion)
    tp, _, fn = _per_class(cm)
    return float(_div(tp[pos_label], tp[pos_label] + fn[pos_label]))


def precision(y_true=None, y_pred=None, *, confusion=None, pos_label: int = 1) -> float:
    """Precision of ``pos_label``: TP / (TP + FP)."""
    cm = _as_confusion(y_true, y_pred, confusion)
    tp, fp, _ = _per_class(cm)
    return float(_div(tp[pos_label], tp[pos_label] + fp[pos_label]))


def specificity(y_true=None, y_pred=None, *, confusion=None, pos_label: int = 1) -> float:
    """True-negative rate with respect to ``pos_label``: TN / (TN + FP)."""
    cm = _as_confusion(y_true, y_pred, confusion)
    tp, fp, fn = _per_class(cm)
    tn = cm.sum() - tp[pos_label] - fp[pos_label] - fn[pos_label]
    return float(_div(tn, tn + fp[pos_label]))


def f_measure(y_true=None, y_pred=None, *, confusion=None, pos_label: int = 1) -> float:
    """F1 of ``pos_label``: 2 * precision * recall / (precision + recall).

    Computed as 2 TP / (2 TP + FP + FN), which equals the harmonic mean and is 0 when the
    class is never predicted and never present.
    """
    cm = _as_confusion(y_true, y_pred, confusion)
    tp, fp, fn = _per_class(cm)
    return float(_div(2 * tp[pos_label], 2 * tp[pos_label] + fp[pos_label] + fn[pos_label]))


def g_mean(y_true=None, y_pred=None, *, confusion=None) -> float:
    """Geometric mean of the per-class recalls.

    For binary data this is DQNimb's G-mean = sqrt(TP / (TP + FN) * TN / (TN + FP)).
    For C classes it is ``(prod_c recall_c) ** (1 / C)`` over the classes present in
    ``y_true`` (imbalanced-learn's ``geometric_mean_score`` with ``average="multiclass"``).
    """
    cm = _as_confusion(y_true, y_pred, confusion)
    tp, _, fn = _per_class(cm)
    support = tp + fn
    present = support > 0
    if not np.any(present):
        return 0.0
    rec = _div(tp[present], support[present])
    return float(np.prod(rec) ** (1.0 / rec.size))


def macro_f1(y_true=None, y_pred=None, *, confusion=None) -> float:
    """Unweighted mean of the per-class F1 scores (scikit-learn ``average="macro"``)."""
    cm = _as_confusion(y_true, y_pred, confusion)
    tp, fp, fn = _per_class(cm)
    # scikit-learn averages over the union of classes seen in y_true or y_pred.
    seen = (tp + fp + fn) > 0
    if not np.any(seen):
        return 0.0
    f1 = _div(2 * tp, 2 * tp + fp + fn)
    return float(f1[seen].mean())


def mcc(y_true=None, y_pred=None, *, confusion=None) -> float:
    """Matthews correlation coefficient (Gorodkin's multi-class form; binary MCC for 2 classes).

    ``(c * s - sum_k p_k t_k) / sqrt((s^2 - sum_k p_k^2) (s^2 - sum_k t_k^2))`` with ``c`` the
    number correct, ``s`` the number of samples, ``t_k`` / ``p_k`` the true / predicted counts
    of class ``k``; 0 when the denominator is 0.
    """
    cm = _as_confusion(y_true, y_pred, confusion)
    t = cm.sum(axis=1)
    p = cm.sum(axis=0)
    c = np.trace(cm)
    s = cm.sum()
    cov_ytyp = c * s - np.dot(t, p)
    cov_ypyp = s * s - np.dot(p, p)
    cov_ytyt = s * s - np.dot(t, t)
    den = cov_ytyt * cov_ypyp
    if den == 0:
        return 0.0
    return float(cov_ytyp / np.sqrt(den))


METRICS: dict[str, Callable[..., float]] = {
    "g_mean": g_mean,
    "f_measure": f_measure,
    "f1": f_measure,
    "macro_f1": macro_f1,
    "mcc": mcc,
    "precision": precision,
    "recall": recall,
    "specificity": specificity,
}
"""Metric functions by name; every entry accepts ``(y_true, y_pred)`` or ``confusion=``."""


def classification_report(y_true=None, y_pred=None, *, confusion=None,
                          n_classes: int | None = None) -> dict:
    """Every headline metric of one set of predictions, from one confusion matrix.

    Args:
        y_true, y_pred: labels ``[N]`` (or pass ``confusion=``).
        confusion: a ``[C, C]`` count matrix instead of labels.
        n_classes: ``C`` when computing from labels (default: from the labels).

    Returns:
        ``g_mean``, ``macro_f1``, ``mcc``, ``confusion_matrix`` (nested list, rows = true
        class) and, for two classes, ``f_measure``, ``precision``, ``recall`` and
        ``specificity`` of class 1. JSON-serialisable.
    """
    if confusion is None:
        if y_true is None or y_pred is None:
            raise ValueError("pass (y_true, y_pred) or confusion=")
        confusion = confusion_matrix(y_true, y_pred, n_classes)
    elif y_true is not None or y_pred is not None:
        raise ValueError("pass either (y_true, y_pred) or confusion=, not both")
    cm = np.asarray(confusion)
    out: dict = {"g_mean": g_mean(confusion=cm), "macro_f1": macro_f1(confusion=cm),
                 "mcc": mcc(confusion=cm)}
    if cm.shape[0] == 2:
        out.update(f_measure=f_measure(confusion=cm), precision=precision(confusion=cm),
                   recall=recall(confusion=cm), specificity=specificity(confusion=cm))
    out["confusion_matrix"] = np.asarray(cm, dtype=np.int64).tolist()
    return out


def get_metric(name: str) -> Callable[..., float]:
    """Look up a metric by name.

    Raises:
        ValueError: naming the unknown metric and listing the known ones.
    """
    if not isinstance(name, str) or name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; known metrics: {sorted(METRICS)}")
    return METRICS[name]
