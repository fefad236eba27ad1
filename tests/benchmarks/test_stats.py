"""benchmarks._stats: formatting, ranks and tests against literal formulas and scipy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from benchmarks import _stats as S


def _runs():
    """3 cases x 3 methods x 2 seeds with hand-picked scores (A best, then B, then C)."""
    rows = []
    base = {"A": 0.9, "B": 0.8, "C": 0.7}
    for d, r in (("x", 0.1), ("x", 0.01), ("y", 0.1)):
        for m, v in base.items():
            for seed, jitter in ((0, -0.01), (1, 0.01)):
                rows.append({"dataset": d, "ratio": r, "method": m, "seed": seed, "g": v + jitter})
    return pd.DataFrame(rows)


def test_mean_std_formatting():
    assert S.mean_std([0.9, 0.92, 0.94]) == "0.920 ± 0.020"
    assert S.mean_std([0.5]) == "0.500"  # one value: no std
    assert S.mean_std([np.nan, np.nan]) == "n/a"
    assert S.mean_std([1.0, 2.0, np.nan], digits=1) == "1.5 ± 0.7"
    with pytest.raises(ValueError, match="digits"):
        S.mean_std([1.0], digits=-1)


def test_summarize_and_score_matrix_keep_first_appearance_order():
    runs = _runs()
    summary = S.summarize(runs, ["dataset", "ratio", "method"], ["g"])
    assert summary[["dataset", "ratio", "method"]].iloc[:3].values.tolist() == [["x", 0.1, "A"], ["x", 0.1, "B"], ["x", 0.1, "C"]]
    assert summary["g_mean"].iloc[0] == pytest.approx(0.9)
    assert summary["g_std"].iloc[0] == pytest.approx(np.std([0.89, 0.91], ddof=1))
    assert (summary["g_n"] == 2).all()
    scores = S.score_matrix(runs, ["dataset", "ratio"], "method", "g", methods=["C", "A", "B", "Z"])
    assert list(scores.columns) == ["C", "A", "B", "Z"] and scores["Z"].isna().all()
    assert list(scores.index) == [("x", 0.1), ("x", 0.01), ("y", 0.1)]
    with pytest.raises(ValueError, match="cases names column"):
        S.score_matrix(runs, ["nope"], "method", "g")


def test_ranks_with_ties_average_and_drop_incomplete_rows():
    scores = pd.DataFrame({"A": [0.9, 0.5, 0.7, np.nan], "B": [0.8, 0.5, 0.9, 0.1], "C": [0.7, 0.1, 0.8, 0.2]})
    ranks = S.rank_matrix(scores)
    assert ranks.values.tolist() == [[1, 2, 3], [1.5, 1.5, 3], [3, 1, 2]]
    assert np.allclose(ranks.sum(axis=1), 6)  # k (k + 1) / 2
    avg = S.average_ranks(scores)
    assert avg.to_dict() == pytest.approx({"A": 5.5 / 3, "B": 4.5 / 3, "C": 8 / 3})
    assert list(avg.index) == ["B", "A", "C"]
    assert S.average_ranks(scores, higher_is_better=False)["C"] == pytest.approx(4 / 3)


def test_friedman_matches_the_formula_and_scipy_without_ties():
    rng = np.random.default_rng(0)
    scores = pd.DataFrame(rng.random((8, 4)), columns=list("ABCD"))
    res = S.friedman_test(scores)
    R = S.rank_matrix(scores).mean().to_numpy()
    n, k = 8, 4
    literal = 12 * n / (k * (k + 1)) * (np.sum(R**2) - k * (k + 1) ** 2 / 4)  # Demsar 2006 eq. for chi2_F
    assert res.statistic == pytest.approx(literal)
    # scipy ranks ascending; the statistic does not depend on the direction without ties.
    ref = stats.friedmanchisquare(*[scores[c] for c in scores.columns])
    assert res.statistic == pytest.approx(ref.statistic) and res.p_value == pytest.approx(ref.pvalue)
    ff = (n - 1) * literal / (n * (k - 1) - literal)
    assert res.iman_davenport == pytest.approx(ff)
    assert res.iman_davenport_p == pytest.approx(stats.f.sf(ff, k - 1, (k - 1) * (n - 1)))
    with pytest.raises(ValueError, match=">= 3 methods"):
        S.friedman_test(scores[["A", "B"]])


def test_friedman_all_identical_rankings_is_maximal_evidence():
    scores = pd.DataFrame({"A": [3.0, 3, 3], "B": [2.0, 2, 2], "C": [1.0, 1, 1]})
    res = S.friedman_test(scores)
    assert res.statistic == pytest.approx(6.0)  # 12*3/(3*4) * (1 + 4 + 9 - 12)
    assert res.iman_davenport == math.inf and res.iman_davenport_p == 0.0


def test_nemenyi_critical_difference_matches_demsar_table():
    # q_0.05 of Demsar (2006) Table 5a for k = 2..10.
    q = {2: 1.960, 3: 2.343, 4: 2.569, 5: 2.728, 6: 2.850, 7: 2.949, 8: 3.031, 9: 3.102, 10: 3.164}
    for k, qk in q.items():
        cd = S.nemenyi_critical_difference(k, 10)
        assert cd == pytest.approx(qk * math.sqrt(k * (k + 1) / 60), abs=2e-3)
    with pytest.raises(ValueError, match="n_methods"):
        S.nemenyi_critical_difference(1, 10)


def test_holm_adjust_literal():
    p = [0.01, 0.04, 0.03, np.nan, 0.5]
    # sorted finite: 0.01*4, 0.03*3, 0.04*2, 0.5*1 -> 0.04, 0.09, 0.08->0.09 (monotone), 0.5
    adj = S.holm_adjust(p)
    assert adj[[0, 2, 1, 4]].tolist() == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert np.isnan(adj[3])


def test_wilcoxon_against_scipy_and_degenerate_pairs():
    rng = np.random.default_rng(1)
    a = rng.random(10)
    scores = pd.DataFrame({"R": a + 0.05, "B": a, "C": a + 0.05, "D": a - rng.random(10) * 0.1})
    res = S.wilcoxon_test(scores, "R")
    assert list(res.index) == ["B", "C", "D"]
    ref = stats.wilcoxon(scores["R"] - scores["B"])
    assert res.loc["B", "p_value"] == pytest.approx(ref.pvalue)
    assert (res.loc["B", "wins"], res.loc["B", "losses"]) == (10, 0)
    assert res.loc["C", "p_value"] == 1.0 and res.loc["C", "ties"] == 10  # identical scores
    assert res["p_holm"].tolist() == pytest.approx(S.holm_adjust(res["p_value"]).tolist())
    greater = S.wilcoxon_test(scores, "R", alternative="greater")
    assert greater.loc["B", "p_value"] < res.loc["B", "p_value"]
    with pytest.raises(ValueError, match="reference 'Q'"):
        S.wilcoxon_test(scores, "Q")


def test_format_cells_bolds_the_best_and_markdown_escapes():
    cells = S.format_cells(_runs(), ["dataset", "ratio"], "method", "g")
    assert cells.loc[("x", 0.1), "A"] == "**0.900 ± 0.014**"
    assert cells.loc[("x", 0.1), "B"] == "0.800 ± 0.014"
    md = S.markdown_table(pd.DataFrame({"a|b": [1.23456, np.nan], "c": ["x|y", "z"]}), index=False)
    lines = md.strip().split("\n")
    assert lines[0] == "| a\\|b | c |" and lines[1] == "|---|---|"
    assert lines[2] == "| 1.235 | x\\|y |" and lines[3] == "|  | z |"


def test_writers(tmp_path):
    csv = S.write_csv(pd.DataFrame({"a": [1]}), tmp_path / "sub" / "t.csv")
    assert csv.read_text().splitlines() == ["a", "1"]
    md = S.write_markdown(tmp_path / "r.md", "Title", [("Part", "body"), ("", "tail")],
                          command="python -m benchmarks.x --seeds 0 1")
    text = md.read_text()
    assert text.startswith("# Title\n") and "```\npython -m benchmarks.x --seeds 0 1\n```" in text
    assert "## Part\n\nbody" in text and text.rstrip().endswith("tail")
    assert S.command_line(["--a", "b c"], module="benchmarks.x") == "python -m benchmarks.x --a 'b c'"
