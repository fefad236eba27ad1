"""DQNImbConfig: paper defaults and field-naming validation errors."""

from __future__ import annotations

import dataclasses

import pytest

from agents.dqn import DQNImbConfig


def test_paper_defaults():
    cfg = DQNImbConfig()
    # DQNimb sec. IV-D: replay 50 000, ~120 000 steps, gamma 0.1, Adam 2.5e-4, eps 1.0 -> 0.01, batch 64.
    assert (cfg.buffer_size, cfg.total_timesteps, cfg.gamma, cfg.learning_rate) == (50_000, 120_000, 0.1, 2.5e-4)
    assert (cfg.epsilon_start, cfg.epsilon_end, cfg.batch_size) == (1.0, 0.01, 64)
    assert cfg.replay_ratio == 1.0  # Algorithm 1: one gradient step per environment step
    assert cfg.loss == "mse"  # eq. (8)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total_timesteps", 0), ("buffer_size", -1), ("batch_size", 2.5), ("gamma", 1.5),
        ("learning_rate", 0.0), ("epsilon_start", -0.1), ("exploration_fraction", 0.0),
        ("target_update_interval", 0), ("learning_starts", -5), ("train_frequency", True),
        ("num_envs", 0), ("loss", "l1"), ("network", "transformer"), ("hidden_sizes", ()),
        ("hidden_sizes", (64, 0)), ("selection_metric", "accuracy"), ("eval_freq", 0),
        ("max_grad_norm", -1.0), ("load_best", "yes"), ("device", ""),
    ],
)
def test_bad_field_is_named_in_the_error(field, value):
    with pytest.raises(ValueError, match=rf"DQNImbConfig\.{field} .*{value!r}".replace("(", r"\(").replace(")", r"\)")):
        DQNImbConfig(**{field: value})


def test_cross_field_checks():
    with pytest.raises(ValueError, match="batch_size.*buffer_size"):
        DQNImbConfig(batch_size=128, buffer_size=64)
    with pytest.raises(ValueError, match="epsilon_end.*epsilon_start"):
        DQNImbConfig(epsilon_start=0.1, epsilon_end=0.5)


def test_frozen_roundtrip_and_unknown_keys():
    cfg = DQNImbConfig(hidden_sizes=[32, 16])
    assert cfg.hidden_sizes == (32, 16)  # normalised to a tuple
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.gamma = 0.5
    assert DQNImbConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.replace(gamma=0.2).gamma == 0.2 and cfg.gamma == 0.1
    with pytest.raises(ValueError, match="unknown DQNImbConfig field.*'gama'"):
        DQNImbConfig.from_dict({"gama": 0.2})
