"""V-trace against a literal transcription of IMPALA eq. (1), plus its properties."""

import math

import numpy as np
import pytest
import torch

from agents.hierarchical.vtrace import vtrace, vtrace_loss


def reference_vtrace(blp, tlp, r, v, boot, term, trunc, final, gamma, rho_bar, c_bar, pg_rho_bar):
    """Plain-Python IMPALA eq. (1): the explicit sum over t >= s up to the episode's end."""
    T, B = len(v), len(v[0])
    ratio = [[math.exp(tlp[t][b] - blp[t][b]) for b in range(B)] for t in range(T)]

    def next_value(t, b, source):
        if term[t][b]:
            return 0.0
        if trunc[t][b]:
            return final[t][b]
        return boot[b] if t == T - 1 else source[t + 1][b]

    vs = [[0.0] * B for _ in range(T)]
    for b in range(B):
        for s in range(T):
            total = v[s][b]
            for t in range(s, T):
                rho_t = min(rho_bar, ratio[t][b])
                disc = 0.0 if term[t][b] else gamma
                delta = rho_t * (r[t][b] + disc * next_value(t, b, v) - v[t][b])
                prod = 1.0
                for i in range(s, t):
                    prod *= min(c_bar, ratio[i][b])
                total += gamma ** (t - s) * prod * delta
                if term[t][b] or trunc[t][b]:
                    break
            vs[s][b] = total
    adv = [[0.0] * B for _ in range(T)]
    for b in range(B):
        for s in range(T):
            disc = 0.0 if term[s][b] else gamma
            adv[s][b] = min(pg_rho_bar, ratio[s][b]) * (r[s][b] + disc * next_value(s, b, vs) - v[s][b])
    return np.array(vs), np.array(adv)


def random_batch(T, B, seed, p_end=0.2):
    g = torch.Generator().manual_seed(seed)
    blp = -torch.rand(T, B, generator=g, dtype=torch.float64) * 2
    # target log-probs both above and below the behaviour's: ratios straddle the thresholds
    tlp = blp + (torch.rand(T, B, generator=g, dtype=torch.float64) - 0.5) * 2
    r = torch.randn(T, B, generator=g, dtype=torch.float64)
    v = torch.randn(T, B, generator=g, dtype=torch.float64)
    boot = torch.randn(B, generator=g, dtype=torch.float64)
    ends = torch.rand(T, B, generator=g) < p_end
    kind = torch.rand(T, B, generator=g) < 0.5
    term, trunc = ends & kind, ends & ~kind
    final = torch.randn(T, B, generator=g, dtype=torch.float64)
    return blp, tlp, r, v, boot, term, trunc, final


@pytest.mark.parametrize("T, B", [(1, 1), (6, 1), (9, 5), (4, 12)])
@pytest.mark.parametrize("gamma, rho_bar, c_bar", [(0.99, 1.0, 1.0), (0.9, 2.0, 0.5), (1.0, 1.2, 0.9)])
def test_matches_literal_formula(T, B, gamma, rho_bar, c_bar):
    blp, tlp, r, v, boot, term, trunc, final = random_batch(T, B, seed=T * 31 + B)
    out = vtrace(blp, tlp, r, v, boot, term, trunc, gamma=gamma, rho_bar=rho_bar, c_bar=c_bar,
                 final_values=final)
    ref_vs, ref_adv = reference_vtrace(blp.tolist(), tlp.tolist(), r.tolist(), v.tolist(),
                                       boot.tolist(), term.tolist(), trunc.tolist(), final.tolist(),
                                       gamma, rho_bar, c_bar, rho_bar)
    np.testing.assert_allclose(out.vs.numpy(), ref_vs, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(out.pg_advantages.numpy(), ref_adv, rtol=1e-10, atol=1e-10)


def test_on_policy_without_boundaries_is_the_n_step_return():
    T, B, gamma = 5, 3, 0.9
    _, lp, r, v, boot, _, _, _ = random_batch(T, B, seed=1)
    none = torch.zeros(T, B, dtype=torch.bool)
    out = vtrace(lp, lp, r, v, boot, none, none, gamma=gamma)
    for s in range(T):
        expected = sum(gamma ** (t - s) * r[t] for t in range(s, T)) + gamma ** (T - s) * boot
        torch.testing.assert_close(out.vs[s], expected)


def test_episode_boundary_splits_cleanly():
    T, B, k = 8, 4, 3
    blp, tlp, r, v, boot, _, _, _ = random_batch(T, B, seed=7)
    term = torch.zeros(T, B, dtype=torch.bool)
    term[k] = True
    trunc = torch.zeros(T, B, dtype=torch.bool)
    whole = vtrace(blp, tlp, r, v, boot, term, trunc, gamma=0.95, rho_bar=1.5, c_bar=0.8)
    first = vtrace(blp[: k + 1], tlp[: k + 1], r[: k + 1], v[: k + 1], torch.full((B,), 123.0,
                   dtype=torch.float64), term[: k + 1], trunc[: k + 1], gamma=0.95, rho_bar=1.5, c_bar=0.8)
    second = vtrace(blp[k + 1:], tlp[k + 1:], r[k + 1:], v[k + 1:], boot, term[k + 1:],
                    trunc[k + 1:], gamma=0.95, rho_bar=1.5, c_bar=0.8)
    torch.testing.assert_close(whole.vs, torch.cat([first.vs, second.vs]))
    torch.testing.assert_close(whole.pg_advantages, torch.cat([first.pg_advantages, second.pg_advantages]))


def test_truncation_bootstraps_from_final_value_and_cuts_trace():
    blp = tlp = torch.zeros(2, 1, dtype=torch.float64)
    r = torch.tensor([[1.0], [5.0]], dtype=torch.float64)
    v = torch.tensor([[0.5], [0.25]], dtype=torch.float64)
    trunc = torch.tensor([[True], [False]])
    term = torch.zeros(2, 1, dtype=torch.bool)
    final = torch.tensor([[10.0], [0.0]], dtype=torch.float64)
    out = vtrace(blp, tlp, r, v, torch.tensor([2.0], dtype=torch.float64), term, trunc,
                 gamma=0.5, final_values=final)
    # step 0: r + gamma * V(final) = 1 + 5 = 6; step 1: 5 + 0.5 * 2 = 6
    torch.testing.assert_close(out.vs[:, 0], torch.tensor([6.0, 6.0], dtype=torch.float64))


def test_bad_shapes_and_missing_final_values():
    blp, tlp, r, v, boot, term, trunc, final = random_batch(3, 2, seed=0)
    with pytest.raises(ValueError, match="bootstrap_value"):
        vtrace(blp, tlp, r, v, boot[:1], term, trunc, final_values=final)
    with pytest.raises(ValueError, match="rewards"):
        vtrace(blp, tlp, r[:2], v, boot, term, trunc, final_values=final)
    trunc[0, 0] = True
    with pytest.raises(ValueError, match="final_values"):
        vtrace(blp, tlp, r, v, boot, term, trunc)
    with pytest.raises(ValueError, match="rho_bar >= c_bar"):
        vtrace(blp, tlp, r, v, boot, term, trunc, rho_bar=0.5, c_bar=1.0, final_values=final)


def test_loss_parts_follow_eq_2():
    blp, tlp, r, v, boot, term, trunc, final = random_batch(4, 3, seed=5)
    tlp = tlp.clone().requires_grad_(True)
    values = v.clone().requires_grad_(True)
    ent = torch.full((4, 3), 0.7, dtype=torch.float64, requires_grad=True)
    ret = vtrace(blp, tlp, r, values, boot, term, trunc, final_values=final)
    loss, stats = vtrace_loss(tlp, values, ent, ret, baseline_coef=0.5, entropy_coef=0.01)
    pg = -(tlp * ret.pg_advantages).mean()
    base = 0.5 * ((ret.vs - values) ** 2).mean()
    torch.testing.assert_close(loss, pg + 0.5 * base - 0.01 * 0.7)
    loss.backward()
    # the policy gradient is -advantage / n for each log-prob
    torch.testing.assert_close(tlp.grad, -ret.pg_advantages / 12)
    assert stats["entropy"] == pytest.approx(0.7)
