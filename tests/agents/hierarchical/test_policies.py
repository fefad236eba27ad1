"""The three policy-value networks: masks, the pair scorer vs. a literal transcription, numpy vs. torch."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from agents.hierarchical.policies import (
    CROSS_INSTANCE,
    FLAT,
    INSTANCE_SPECIFIC,
    LOW_LEVEL,
    DiscretePolicy,
    NumpyPolicies,
    PairScoringPolicy,
    PolicySpec,
    flat_parameters,
    log_probs_and_entropy,
    low_level_input,
    make_policies,
    parameter_layout,
    policy_input,
    unflatten_parameters,
)
from imbalance_gym.envs.smote_space import action_features

from .conftest import make_env


def _seeded(module_factory, seed=0):
    torch.manual_seed(seed)
    return module_factory()


def test_discrete_policy_masks_invalid_actions():
    net = _seeded(lambda: DiscretePolicy(7, 5, (16, 16)))
    x = torch.randn(3, 7)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [0, 0, 0, 1, 0]], dtype=torch.bool)
    with torch.no_grad():
        logits, values = net(x, mask)
        raw, _ = net(x)
    assert logits.shape == (3, 5) and values.shape == (3,)
    logp, entropy = log_probs_and_entropy(logits)
    p = logp.exp()
    assert torch.all(p[~mask] == 0.0)                       # never chosen
    assert torch.allclose(p.sum(1), torch.ones(3))
    assert torch.isfinite(logp).all() and torch.isfinite(entropy).all()
    # the entropy is that of the softmax over the valid logits alone
    valid = raw[1, :2]
    q = F.softmax(valid, 0)
    assert entropy[1].item() == pytest.approx(float(-(q * q.log()).sum()), rel=1e-5)
    assert entropy[2].item() == pytest.approx(0.0, abs=1e-6)  # one valid action


def _literal_pair_scores(net: PairScoringPolicy, x: torch.Tensor, nf: torch.Tensor) -> torch.Tensor:
    """Sec. 3.3 read literally: score(s, a) = MLP([h(s), action_features(nf)[a]]) for every pair."""
    h = net.body(x)                                                   # [B, H]
    af = torch.as_tensor(action_features(nf.numpy()))                  # [B, 5K, F + 5]
    pairs = torch.cat([h[:, None, :].expand(-1, af.shape[1], -1), af], dim=-1)
    z = F.relu(net.score_in(pairs))
    for layer in net.score_hidden:
        z = F.relu(layer(z))
    scores = net.score_out(z).squeeze(-1)
    if net.extra is not None:
        scores = torch.cat([scores, net.extra(h)], dim=1)
    return scores


@pytest.mark.parametrize("score_hidden, extra", [((16,), 0), ((16, 8), 0), ((16,), 1)])
def test_pair_scorer_equals_the_concatenation_it_factorises(score_hidden, extra):
    net = _seeded(lambda: PairScoringPolicy(6, 9, (16, 16), score_hidden, extra_actions=extra))
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 6, generator=g)
    nf = torch.randn(4, 3, 9, generator=g)
    with torch.no_grad():
        logits, values = net(x, nf)
        expected = _literal_pair_scores(net, x, nf)
    assert logits.shape == (4, 15 + extra) and values.shape == (4,)
    assert torch.allclose(logits, expected, atol=1e-5)
    # action a = slot * 5 + weight index: pair (slot 2, weight 3) is column 13
    with torch.no_grad():
        only = torch.zeros_like(nf)
        only[:, 2] = nf[:, 2]
        assert torch.allclose(net(x, only)[0][:, 13], _literal_pair_scores(net, x, only)[:, 13], atol=1e-5)


def test_pair_scorer_masks():
    net = _seeded(lambda: PairScoringPolicy(6, 9, (16, 16), (16,)))
    mask = torch.zeros(1, 15, dtype=torch.bool)
    mask[0, [4, 7]] = True
    logits, _ = net(torch.randn(1, 6), torch.randn(1, 3, 9), mask)
    p = F.softmax(logits, -1)[0]
    assert set(torch.nonzero(p > 0).flatten().tolist()) == {4, 7}


def _spec(flat=False):
    return PolicySpec(state_features=17, neighbour_features=13, K=4, n_g1=4, n_g2=6, flat=flat)


@pytest.mark.parametrize("levels, flat", [((CROSS_INSTANCE, INSTANCE_SPECIFIC, LOW_LEVEL), False), ((FLAT,), True)])
def test_numpy_forward_agrees_with_torch(levels, flat):
    spec = _spec(flat)
    policies = _seeded(lambda: make_policies(spec, levels, (32, 32), (16, 8)))
    pol = NumpyPolicies(parameter_layout(policies), 2, flat_parameters(policies))
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.normal(size=17).astype(np.float32)
        nf = rng.normal(size=(4, 13)).astype(np.float32)
        with torch.no_grad():
            for level in levels:
                if level in (LOW_LEVEL, FLAT):
                    t_logits, t_value = policies[level](torch.as_tensor(x[None]), torch.as_tensor(nf[None]))
                    n_logits, n_value = pol.pairs(level, x, nf)
                else:
                    t_logits, t_value = policies[level](torch.as_tensor(x[None]))
                    n_logits, n_value = pol.discrete(level, x)
                np.testing.assert_allclose(n_logits, t_logits[0].numpy(), rtol=1e-5, atol=1e-5)
                assert n_value == pytest.approx(float(t_value[0]), abs=1e-5)
    assert pol.n_forward == 3 * len(levels)

    # new weights reach the numpy copy through load()
    changed = copy.deepcopy(policies)
    with torch.no_grad():
        for p in changed.parameters():
            p.add_(0.1)
    pol.load(flat_parameters(changed))
    level = levels[-1]
    x = rng.normal(size=17).astype(np.float32)
    nf = rng.normal(size=(4, 13)).astype(np.float32)
    with torch.no_grad():
        t_logits, _ = changed[level](torch.as_tensor(x[None]), torch.as_tensor(nf[None]))
    np.testing.assert_allclose(pol.pairs(level, x, nf)[0], t_logits[0].numpy(), rtol=1e-5, atol=1e-5)


def test_flat_parameter_round_trip():
    policies = _seeded(lambda: make_policies(_spec(), (CROSS_INSTANCE, LOW_LEVEL), (8, 8), (8,)))
    layout = parameter_layout(policies)
    flat = flat_parameters(policies)
    assert flat.dtype == np.float32 and flat.size == sum(p.numel() for p in policies.parameters())
    views = unflatten_parameters(flat, layout)
    state = policies.state_dict()
    for level, params in views.items():
        for name, value in params.items():
            np.testing.assert_array_equal(value, state[f"{level}.{name}"].numpy())
    with pytest.raises(ValueError, match="layout"):
        unflatten_parameters(flat[:-1], layout)


def test_inputs_match_the_environment_observations():
    env = make_env(G1=3, G2=3)
    obs0, _ = env.reset(seed=0)
    x0 = policy_input(obs0)
    assert x0.dtype == np.float32 and x0.shape == (env.observation_space["state"].shape[0] + 4,)
    spec = PolicySpec.from_env(env)
    assert (spec.state_features, spec.K, spec.n_g1, spec.n_g2, spec.flat) == (x0.size, env.K, 4, 4, False)
    obs1, *_ = env.step(2)                                   # g1 = 2, level 1 of instance 0
    for g2 in (1, 3):
        env.reset(seed=0)
        env.step(2)
        obs2, *_ = env.step(g2)                              # the level-2 observation of the segment's start
        assert obs2["level"] == 2
        built = low_level_input(obs1, 2 * g2, env.G1 * env.G2)
        np.testing.assert_array_equal(built, policy_input(obs2))
        np.testing.assert_array_equal(obs1["neighbour_features"], obs2["neighbour_features"])
