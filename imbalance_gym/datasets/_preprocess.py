"""AutoSMOTE's tabular preprocessing (sec. 4.1), fit on the training split only.

Numeric features are standardised (``StandardScaler``; missing values are ignored by the
fit), then missing values become 0 (the mean after scaling); categorical features are
one-hot encoded, a missing or unseen category giving an all-zero block. Everything is
learnt from the training rows and only applied to validation and test rows, so no
statistic of those splits leaks into the features.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler


def split_columns(
    frame: pd.DataFrame, categorical: str | Sequence[str] = "infer"
) -> tuple[list[str], list[str]]:
    """Return (numeric columns, categorical columns) of a feature frame.

    Args:
        frame: Features only (no target).
        categorical: ``"infer"``: categorical / text / object columns are categorical,
            numeric and bool columns numeric; ``"all"``: every column is categorical;
            a sequence of names: those columns are categorical, the others inferred.

    Raises:
        ValueError: If a named categorical column is not in the frame.
    """
    if isinstance(categorical, str):
        if categorical == "all":
            return [], [str(c) for c in frame.columns]
        if categorical != "infer":
            raise ValueError(f"categorical must be 'infer', 'all' or column names, got {categorical!r}")
        forced: set[str] = set()
    else:
        forced = {str(c) for c in categorical}
        unknown = forced - {str(c) for c in frame.columns}
        if unknown:
            raise ValueError(
                f"categorical columns {sorted(unknown)} are not among the feature columns "
                f"{[str(c) for c in frame.columns]}"
            )
    numeric, cats = [], []
    for column in frame.columns:
        dtype = frame[column].dtype
        is_number = pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)
        (numeric if is_number and str(column) not in forced else cats).append(str(column))
    return numeric, cats


def _as_text(block: pd.DataFrame) -> np.ndarray:
    """Categorical block -> object array of label strings, None where missing."""
    out = np.empty(block.shape, dtype=object)
    for j, column in enumerate(block.columns):
        values = block[column].astype(object).to_numpy()
        out[:, j] = [None if pd.isna(v) else _category_text(v) for v in values]
    return out


def _category_text(value: object) -> str:
    """One category as text; integral floats lose ``.0`` so CSV ints match ARFF labels."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def make_preprocessor(
    X_train: pd.DataFrame, categorical: str | Sequence[str] = "infer"
) -> ColumnTransformer:
    """Build (unfitted) the column transformer for a training frame.

    One-hot categories are the declared categories of a pandas categorical column
    (ARFF nominal values: header information, not data) or else the values seen in
    ``X_train``. Fit the result on ``X_train`` only.

    Args:
        X_train: Training features.
        categorical: See :func:`split_columns`.

    Returns:
        A ``ColumnTransformer`` whose output columns are the standardised numeric
        features followed by the one-hot blocks; names from ``get_feature_names_out``.
    """
    X_train = X_train.rename(columns=str)
    numeric, cats = split_columns(X_train, categorical)
    categories = []
    for column in cats:
        series = X_train[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            values = [_category_text(v) for v in series.cat.categories]
        else:
            values = sorted({_category_text(v) for v in series.dropna().astype(object)})
        categories.append(list(dict.fromkeys(values)))
    numeric_pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("impute", SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True)),
        ]
    )
    categorical_pipe = Pipeline(
        [
            ("text", FunctionTransformer(_as_text, feature_names_out="one-to-one")),
            (
                "onehot",
                OneHotEncoder(
                    categories=categories if cats else "auto",
                    handle_unknown="ignore",
                    sparse_output=False,
                    dtype=np.float32,
                ),
            ),
        ]
    )
    return ColumnTransformer(
        [("numeric", numeric_pipe, numeric), ("categorical", categorical_pipe, cats)],
        remainder="drop",
        verbose_feature_names_out=False,
    )


def preprocess_splits(
    X_train: pd.DataFrame,
    others: Sequence[pd.DataFrame],
    categorical: str | Sequence[str] = "infer",
) -> tuple[np.ndarray, list[np.ndarray], list[str]]:
    """Fit the preprocessing on the training rows and apply it to every split.

    Args:
        X_train: Training features, shape [N_train, D_raw].
        others: Validation / test frames with the same columns.
        categorical: See :func:`split_columns`.

    Returns:
        ``(X_train, [X_other, ...], feature_names)`` with float32 arrays of shape
        [N, D] and the D output feature names.

    Raises:
        ValueError: If the training split is empty or the columns differ.
    """
    if X_train.shape[0] == 0:
        raise ValueError("the training split is empty; cannot fit the preprocessing")
    columns = [str(c) for c in X_train.columns]
    for frame in others:
        if [str(c) for c in frame.columns] != columns:
            raise ValueError(
                f"split columns {list(frame.columns)} differ from the training columns {columns}"
            )
    transformer = make_preprocessor(X_train, categorical)
    train = transformer.fit_transform(X_train.rename(columns=str))
    names = [str(n) for n in transformer.get_feature_names_out()]
    rest = [
        transformer.transform(frame.rename(columns=str)) if frame.shape[0] else np.empty((0, len(names)))
        for frame in others
    ]
    return (
        np.ascontiguousarray(train, dtype=np.float32),
        [np.ascontiguousarray(r, dtype=np.float32) for r in rest],
        names,
    )
