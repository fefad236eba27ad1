"""Statistics and table writers shared by every benchmark table.

Data model
----------
Every table script collects one *long* :class:`pandas.DataFrame` of runs, one row per
(case, method, seed), for example::

    dataset  ratio  method  seed  g_mean  f_measure
    mnist    0.01   DQNimb  0     0.987   0.912
    mnist    0.01   DNN     0     0.951   0.893

A *case* is one row of a paper table (a dataset at one imbalance level); the *case
columns* name it (here ``["dataset", "ratio"]``). From the runs this module builds

* :func:`summarize` -- mean, std and count per (case, method);
* :func:`score_matrix` -- a cases x methods matrix of seed-averaged scores, the input of
  :func:`average_ranks`, :func:`friedman_test` and :func:`wilcoxon_test` (Demsar, "Statistical
  comparisons of classifiers over multiple data sets", JMLR 2006: ranks per case, the
  Friedman test with the Iman-Davenport correction, the Nemenyi critical difference,
  and paired Wilcoxon signed-rank tests with Holm's step-down correction);
* :func:`format_cells` -- ``"mean ± std"`` strings with the best method of each case in
  bold, and :func:`markdown_table` / :func:`write_csv` / :func:`write_markdown` writers.

Higher scores are better unless ``higher_is_better=False`` is passed. Rank 1 is the best;
tied methods share the average of their ranks. Standard deviations are sample standard
deviations (``ddof=1``) over seeds.
"""

from __future__ import annotations

import math
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "FriedmanResult",
    "command_line",
    "format_cells",
    "friedman_test",
    "holm_adjust",
    "markdown_table",
    "mean_std",
    "nemenyi_critical_difference",
    "rank_matrix",
    "average_ranks",
    "score_matrix",
    "summarize",
    "wilcoxon_test",
    "write_csv",
    "write_markdown",
]

PLUS_MINUS = " ± "


# --------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------
def mean_std(values: Iterable[float], digits: int = 3, sep: str = PLUS_MINUS, ddof: int = 1) -> str:
    """Format ``values`` as ``"mean ± std"`` (NaNs ignored).

    Args:
        values: scores of one (case, method) over seeds, shape ``[S]``.
        digits: decimals of both numbers.
        sep: text between mean and std.
        ddof: delta degrees of freedom of the std (1 = sample std).

    Returns:
        ``"0.912 ± 0.013"``; only the mean when fewer than ``ddof + 1`` values are finite;
        ``"n/a"`` when none is.
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValueError(f"digits must be an int >= 0, got {digits!r}")
    arr = np.asarray(list(values), dtype=np.float64).ravel()
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return "n/a"
    mean = float(arr.mean())
    if arr.size <= ddof:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f}{sep}{float(arr.std(ddof=ddof)):.{digits}f}"


def _check_columns(frame: pd.DataFrame, columns: Sequence[str], argument: str) -> list[str]:
    """Return ``columns`` as a list after checking each is a column of ``frame``."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"runs must be a pandas DataFrame, got {type(frame).__name__}")
    columns = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{argument} names column(s) {missing} that the runs do not have; columns: {list(frame.columns)}")
    return columns


def summarize(runs: pd.DataFrame, by: Sequence[str], metrics: Sequence[str], ddof: int = 1) -> pd.DataFrame:
    """Mean, std and number of finite runs of each metric per group.

    Args:
        runs: long frame, one row per run.
        by: grouping columns, e.g. ``["dataset", "ratio", "method"]``.
        metrics: metric columns to summarise.
        ddof: delta degrees of freedom of the std.

    Returns:
        One row per group (in order of first appearance) with the ``by`` columns and, per
        metric ``m``, ``m_mean``, ``m_std`` and ``m_n``.
    """
    by = _check_columns(runs, by, "by")
    metrics = _check_columns(runs, metrics, "metrics")
    keys = [runs[c] for c in by]
    parts = {}
    for m in metrics:
        g = pd.to_numeric(runs[m], errors="coerce").groupby(keys, sort=False, dropna=False)
        parts[f"{m}_mean"] = g.mean()
        parts[f"{m}_std"] = g.std(ddof=ddof)
        parts[f"{m}_n"] = g.count()
    out = pd.DataFrame(parts)
    return out.reset_index()


def score_matrix(runs: pd.DataFrame, cases: Sequence[str], method: str, value: str,
                 methods: Sequence[str] | None = None) -> pd.DataFrame:
    """Cases x methods matrix of ``value`` averaged over seeds.

    Args:
        runs: long frame, one row per run.
        cases: columns that name a case (table row), e.g. ``["dataset", "ratio"]``.
        method: column naming the method.
        value: metric column.
        methods: column order (default: order of first appearance); methods not in the
            runs become all-NaN columns.

    Returns:
        Frame indexed by the case columns (cases in order of first appearance) with one
        column per method.
    """
    cases = _check_columns(runs, cases, "cases")
    _check_columns(runs, [method], "method")
    _check_columns(runs, [value], "value")
    values = pd.to_numeric(runs[value], errors="coerce")
    table = values.groupby([runs[c] for c in cases] + [runs[method]], sort=False).mean().unstack(method)
    order = list(dict.fromkeys(runs[method])) if methods is None else list(methods)
    table = table.reindex(columns=order)
    case_order = runs[cases].drop_duplicates()
    index = pd.MultiIndex.from_frame(case_order) if len(cases) > 1 else pd.Index(case_order[cases[0]])
    table = table.reindex(index)
    table.columns.name = method
    return table


# --------------------------------------------------------------------------------------
# Ranks and tests
# --------------------------------------------------------------------------------------
def _complete(scores: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``scores`` where every method has a finite score."""
    if not isinstance(scores, pd.DataFrame):
        raise TypeError(f"scores must be a cases x methods DataFrame, got {type(scores).__name__}")
    numeric = scores.apply(pd.to_numeric, errors="coerce").astype(np.float64)
    return numeric[np.isfinite(numeric.to_numpy()).all(axis=1)]


def rank_matrix(scores: pd.DataFrame, higher_is_better: bool = True) -> pd.DataFrame:
    """Rank of each method within each case (1 = best, ties share their average rank).

    Cases where some method has no finite score are dropped.

    Args:
        scores: cases x methods, shape ``[N, k]``.
        higher_is_better: rank the largest score first.

    Returns:
        Frame of the same columns with float ranks in ``[1, k]``; each row sums to
        ``k (k + 1) / 2``.
    """
    full = _complete(scores)
    values = full.to_numpy()
    ranks = stats.rankdata(-values if higher_is_better else values, method="average", axis=1)
    return pd.DataFrame(ranks, index=full.index, columns=full.columns)


def average_ranks(scores: pd.DataFrame, higher_is_better: bool = True) -> pd.Series:
    """Mean rank of each method over the complete cases, best (lowest) first.

    Args:
        scores: cases x methods, shape ``[N, k]``.
        higher_is_better: rank the largest score first.

    Returns:
        Series indexed by method, sorted ascending (ties keep column order).
    """
    ranks = rank_matrix(scores, higher_is_better)
    return ranks.mean(axis=0).sort_values(kind="stable")


@dataclass(frozen=True)
class FriedmanResult:
    """Friedman test over cases x methods (Demsar 2006, sec. 3.2.2).

    Attributes:
        statistic: Friedman chi-square, ``12N / (k(k+1)) [sum_j R_j^2 - k(k+1)^2 / 4]``.
        p_value: its chi-square p-value with ``k - 1`` degrees of freedom.
        iman_davenport: ``F = (N - 1) chi2 / (N (k - 1) - chi2)``.
        iman_davenport_p: p-value of ``F`` with ``(k - 1, (k - 1)(N - 1))`` degrees of freedom.
        n_cases: ``N``, complete cases used.
        n_methods: ``k``.
    """

    statistic: float
    p_value: float
    iman_davenport: float
    iman_davenport_p: float
    n_cases: int
    n_methods: int


def friedman_test(scores: pd.DataFrame, higher_is_better: bool = True) -> FriedmanResult:
    """Do all methods rank alike? Friedman test on the per-case ranks.

    The statistic is computed from :func:`rank_matrix` with the formula in
    :class:`FriedmanResult` (no tie correction, as in Demsar 2006); when every method
    ties in every case there is no evidence of a difference and the p-values are 1.

    Args:
        scores: cases x methods with ``k >= 3`` methods and ``N >= 2`` complete cases.
        higher_is_better: direction of the scores (does not change the statistic).

    Returns:
        :class:`FriedmanResult`.

    Raises:
        ValueError: fewer than 3 methods or 2 complete cases.
    """
    ranks = rank_matrix(scores, higher_is_better)
    n, k = ranks.shape
    if k < 3:
        raise ValueError(f"the Friedman test needs >= 3 methods, got {k}: {list(ranks.columns)}")
    if n < 2:
        raise ValueError(f"the Friedman test needs >= 2 complete cases (no NaN), got {n}")
    mean_rank = ranks.to_numpy().mean(axis=0)
    chi2 = 12.0 * n / (k * (k + 1)) * (float(np.sum(mean_rank**2)) - k * (k + 1) ** 2 / 4.0)
    chi2 = max(chi2, 0.0)
    p = float(stats.chi2.sf(chi2, k - 1))
    den = n * (k - 1) - chi2
    if den <= 0:  # every case ranks the methods identically: maximal evidence
        f_stat, f_p = math.inf, 0.0
    else:
        f_stat = (n - 1) * chi2 / den
        f_p = float(stats.f.sf(f_stat, k - 1, (k - 1) * (n - 1)))
    return FriedmanResult(float(chi2), p, float(f_stat), f_p, int(n), int(k))


def nemenyi_critical_difference(n_methods: int, n_cases: int, alpha: float = 0.05) -> float:
    """Nemenyi critical difference of average ranks (Demsar 2006, sec. 3.2.2).

    ``CD = q_alpha sqrt(k (k + 1) / (6 N))`` with ``q_alpha`` the studentized range
    quantile (infinite degrees of freedom) divided by ``sqrt(2)``; two methods whose
    average ranks differ by more than ``CD`` differ significantly.

    Args:
        n_methods: ``k >= 2``.
        n_cases: ``N >= 1``.
        alpha: significance level in (0, 1).

    Returns:
        The critical difference (float).
    """
    for name, val, low in (("n_methods", n_methods, 2), ("n_cases", n_cases, 1)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < low:
            raise ValueError(f"{name} must be an int >= {low}, got {val!r}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    q = stats.studentized_range.ppf(1.0 - alpha, n_methods, np.inf) / math.sqrt(2.0)
    return float(q * math.sqrt(n_methods * (n_methods + 1) / (6.0 * n_cases)))


def holm_adjust(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control), NaNs kept.

    The ``i``-th smallest of ``m`` p-values becomes ``max_{j <= i} min(1, (m - j + 1) p_(j))``.

    Args:
        p_values: raw p-values, shape ``[m]``.

    Returns:
        Adjusted p-values in the input order, shape ``[m]``.
    """
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = finite.size
    if m == 0:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


def wilcoxon_test(scores: pd.DataFrame, reference: str, alternative: str = "two-sided",
                  higher_is_better: bool = True) -> pd.DataFrame:
    """Paired Wilcoxon signed-rank test of ``reference`` against every other method.

    Each pair uses the cases where both have finite scores; zero differences are dropped
    (``zero_method="wilcox"``). A pair whose differences are all zero gets p = 1.

    Args:
        scores: cases x methods.
        reference: the method compared with all others (a column of ``scores``).
        alternative: ``"two-sided"``, ``"greater"`` (reference better) or ``"less"``.
        higher_is_better: orientation of "better" for wins/losses and ``"greater"``.

    Returns:
        Frame indexed by the other methods with ``n_cases``, ``wins``, ``ties``,
        ``losses`` (of the reference), ``statistic``, ``p_value`` and ``p_holm``
        (Holm-adjusted over the compared methods).
    """
    if reference not in scores.columns:
        raise ValueError(f"reference {reference!r} is not a method of the scores; methods: {list(scores.columns)}")
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"alternative must be 'two-sided', 'greater' or 'less', got {alternative!r}")
    numeric = scores.apply(pd.to_numeric, errors="coerce").astype(np.float64)
    sign = 1.0 if higher_is_better else -1.0
    rows = []
    for other in numeric.columns:
        if other == reference:
            continue
        pair = numeric[[reference, other]].dropna()
        diff = sign * (pair[reference] - pair[other]).to_numpy()
        wins, losses = int(np.sum(diff > 0)), int(np.sum(diff < 0))
        row = {"method": other, "n_cases": int(diff.size), "wins": wins,
               "ties": int(diff.size - wins - losses), "losses": losses}
        if wins + losses == 0:
            row.update(statistic=math.nan, p_value=1.0)
        else:
            res = stats.wilcoxon(diff, zero_method="wilcox", alternative=alternative)
            row.update(statistic=float(res.statistic), p_value=float(res.pvalue))
        rows.append(row)
    out = pd.DataFrame(rows, columns=["method", "n_cases", "wins", "ties", "losses", "statistic", "p_value"])
    out["p_holm"] = holm_adjust(out["p_value"].to_numpy())
    return out.set_index("method")


# --------------------------------------------------------------------------------------
# Tables and files
# --------------------------------------------------------------------------------------
def format_cells(runs: pd.DataFrame, cases: Sequence[str], method: str, value: str,
                 methods: Sequence[str] | None = None, digits: int = 3, bold_best: bool = True,
                 higher_is_better: bool = True) -> pd.DataFrame:
    """Cases x methods table of ``"mean ± std"`` strings over seeds.

    Args:
        runs: long frame, one row per run.
        cases: case columns.
        method: method column.
        value: metric column.
        methods: column order (default: first appearance).
        digits: decimals.
        bold_best: wrap the best mean of each case (all tied best ones, compared at
            ``digits`` decimals) in ``**``.
        higher_is_better: what "best" means.

    Returns:
        Frame of strings indexed like :func:`score_matrix`.
    """
    means = score_matrix(runs, cases, method, value, methods)
    grouped = {key: grp for key, grp in runs.groupby(list(cases) + [method], sort=False)}
    cells = pd.DataFrame(index=means.index, columns=means.columns, dtype=object)
    for case in means.index:
        key_case = case if isinstance(case, tuple) else (case,)
        row = means.loc[case].round(digits).to_numpy(dtype=np.float64)
        best = (np.nanmax(row) if higher_is_better else np.nanmin(row)) if np.isfinite(row).any() else None
        for j, m in enumerate(means.columns):
            grp = grouped.get((*key_case, m))
            text = "n/a" if grp is None else mean_std(pd.to_numeric(grp[value], errors="coerce"), digits)
            if bold_best and best is not None and row[j] == best and text != "n/a":
                text = f"**{text}**"
            cells.loc[case, m] = text
    return cells


def _cell(value, floatfmt: str) -> str:
    """Markdown text of one cell (floats formatted, pipes escaped)."""
    if isinstance(value, (float, np.floating)):
        text = "" if np.isnan(value) else format(float(value), floatfmt)
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(frame: pd.DataFrame, index: bool = True, floatfmt: str = ".3f") -> str:
    """GitHub-flavoured markdown of ``frame`` (no third-party dependency).

    Args:
        frame: any DataFrame; a MultiIndex index becomes one column per level.
        index: include the index as leading column(s).
        floatfmt: format spec of float cells (NaN prints empty).

    Returns:
        The table as a string ending in a newline.
    """
    table = frame.reset_index() if index else frame
    headers = [str(c) if not isinstance(c, tuple) else " ".join(map(str, c)) for c in table.columns]
    lines = ["| " + " | ".join(h.replace("|", "\\|") for h in headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v, floatfmt) for v in row) + " |")
    return "\n".join(lines) + "\n"


def write_csv(frame: pd.DataFrame, path: str | Path, index: bool = False) -> Path:
    """Write ``frame`` as CSV (parent folders created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=index)
    return path


def command_line(argv: Sequence[str] | None = None, module: str | None = None) -> str:
    """The command that produced a result, for the markdown header.

    Args:
        argv: arguments after the program name (default ``sys.argv[1:]``).
        module: ``"benchmarks.x"`` to print ``python -m benchmarks.x ...``; default the
            script name in ``sys.argv[0]``.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    head = ["python", "-m", module] if module else ["python", Path(sys.argv[0]).name]
    return shlex.join(head + [str(a) for a in args])


def write_markdown(path: str | Path, title: str, sections: Sequence[tuple[str, str]],
                   command: str | None = None) -> Path:
    """Write a results page: a title, the exact command, then ``(heading, body)`` sections.

    Args:
        path: output ``.md`` file (parent folders created).
        title: level-1 heading.
        sections: ``(heading, markdown body)`` pairs; an empty heading adds the body only.
        command: the exact command that made the results (shown in a code block).

    Returns:
        The path.
    """
    parts = [f"# {title}\n"]
    if command:
        parts.append(f"Produced by:\n\n```\n{command}\n```\n")
    for heading, body in sections:
        if heading:
            parts.append(f"## {heading}\n")
        parts.append(body.rstrip("\n") + "\n")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
