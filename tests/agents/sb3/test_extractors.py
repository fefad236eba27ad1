"""Features extractors: picked from the space, right feature sizes, pixels scaled exactly once."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.preprocessing import preprocess_obs
from stable_baselines3.common.torch_layers import FlattenExtractor

from agents.networks import ImageCNN, TextNet
from agents.sb3 import ImageCNNExtractor, TokenExtractor, make_model, make_vec_env, policy_kwargs_for

ICMDP = "imbalance_gym/ICMDP-v0"
MNIST = spaces.Box(0, 255, (1, 28, 28), np.uint8)
CIFAR = spaces.Box(0, 255, (3, 32, 32), np.uint8)
TOKENS = spaces.Box(0, 999, (20,), np.int64)
TABULAR = spaces.Box(-np.inf, np.inf, (5,), np.float32)


@pytest.mark.parametrize(
    ("space", "extractor", "features_dim", "normalize_images"),
    [(MNIST, ImageCNNExtractor, 256, True),
     (CIFAR, ImageCNNExtractor, 256, True),
     (spaces.Box(-np.inf, np.inf, (1, 28, 28), np.float32), ImageCNNExtractor, 256, False),
     (TOKENS, TokenExtractor, 250, False)],
)
def test_extractor_is_picked_from_the_space(space, extractor, features_dim, normalize_images):
    kwargs = policy_kwargs_for(space)
    assert kwargs["features_extractor_class"] is extractor
    assert kwargs["normalize_images"] is normalize_images
    built = extractor(space, **kwargs["features_extractor_kwargs"])
    assert built.features_dim == features_dim
    sample = torch.as_tensor(np.stack([space.sample(), space.sample()])).float()
    assert built(sample).shape == (2, features_dim)


def test_extractors_hold_the_shared_bodies():
    cnn = ImageCNNExtractor(CIFAR, fc_size=64)
    assert isinstance(cnn.body, ImageCNN) and cnn.features_dim == 64
    assert cnn.body.fc[0].in_features == 32 * 8 * 8  # Table III: flatten 2048 for 32x32x3
    text = TokenExtractor(TOKENS, embed_dim=8, fc_size=16)
    assert isinstance(text.body, TextNet) and text.features_dim == 16
    assert text.body.embed.num_embeddings == 1000 and text.body.embed.embedding_dim == 8


def test_tabular_and_dict_spaces_keep_sb3_extractors():
    assert policy_kwargs_for(TABULAR) == {"normalize_images": False}
    assert policy_kwargs_for(TABULAR, net_arch=[256, 256]) == {"net_arch": [256, 256], "normalize_images": False}
    # images through SB3's MLP: SB3 scales the pixels (FlattenExtractor does not)
    assert policy_kwargs_for(MNIST, network="mlp") == {"normalize_images": True}
    assert policy_kwargs_for(spaces.Dict({"a": TABULAR})) == {}


def test_pixels_are_scaled_exactly_once(tiny_images):
    """SB3 divides uint8 by 255 once; the CNN body must then see [0, 1] floats, unscaled again."""
    X, y = tiny_images
    model = make_model("ppo", make_vec_env(ICMDP, n_envs=1, X=X, y=y), seed=0, device="cpu", n_steps=8,
                       batch_size=8)
    policy = model.policy
    obs_tensor, _ = policy.obs_to_tensor(X[:4])
    features = policy.extract_features(obs_tensor)
    body = policy.features_extractor.body
    expected = body(torch.as_tensor(X[:4]))  # the body scales raw uint8 itself
    torch.testing.assert_close(features, expected, rtol=0, atol=0)
    unscaled = body(torch.as_tensor(X[:4]).float())  # what a missing scale would give
    assert not torch.allclose(features, unscaled)


def test_token_ids_reach_the_embedding_unchanged(tiny_tokens):
    X, y = tiny_tokens
    venv = make_vec_env(ICMDP, n_envs=1, X=X, y=y, observation="tokens")
    model = make_model("a2c", venv, seed=0, device="cpu")
    policy = model.policy
    obs_tensor, _ = policy.obs_to_tensor(X[:5])
    # SB3 hands the extractor floats (and PPO/A2C even store rollouts as float32)
    assert preprocess_obs(obs_tensor, venv.observation_space).dtype == torch.float32
    body = policy.features_extractor.body
    torch.testing.assert_close(policy.extract_features(obs_tensor), body(torch.as_tensor(X[:5])),
                               rtol=0, atol=0)
    assert policy.features_extractor.features_dim == 250


def test_env_model_and_space_give_the_same_kwargs(tiny_images):
    X, y = tiny_images
    venv = make_vec_env(ICMDP, n_envs=1, X=X, y=y)
    model = PPO("MlpPolicy", venv, policy_kwargs=policy_kwargs_for(venv), n_steps=8, batch_size=8,
                device="cpu")
    assert policy_kwargs_for(model) == policy_kwargs_for(venv) == policy_kwargs_for(MNIST)
    flat = {"features_extractor_class": FlattenExtractor, "features_extractor_kwargs": {}}
    mlp = make_model("ppo", venv, device="cpu", n_steps=8, batch_size=8, policy_kwargs=flat)
    assert isinstance(mlp.policy.features_extractor, FlattenExtractor)  # user kwargs win


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: policy_kwargs_for(TABULAR, network="cnn"), ValueError, "does not fit"),
        (lambda: policy_kwargs_for(TOKENS, network="mlp"), ValueError, "does not fit"),
        (lambda: policy_kwargs_for(MNIST, network="text"), ValueError, "does not fit"),
        (lambda: policy_kwargs_for(TABULAR, network="resnet"), ValueError, "network must be one of"),
        (lambda: policy_kwargs_for(TABULAR, fc_size=8), ValueError, "net_arch"),
        (lambda: policy_kwargs_for(spaces.Dict({"a": TABULAR}), network="cnn"), ValueError, "CombinedExtractor"),
        (lambda: policy_kwargs_for(spaces.Box(0, 1, (2, 3))), ValueError, "no network for observation shape"),
        (lambda: policy_kwargs_for(42), TypeError, "observation_space"),
        (lambda: ImageCNNExtractor(TABULAR), ValueError, r"shape \(C, H, W\)"),
        (lambda: ImageCNNExtractor(MNIST, fc_size=0), ValueError, "fc_size must be a positive integer, got 0"),
        (lambda: TokenExtractor(TABULAR), ValueError, "integer Box"),
        (lambda: TokenExtractor(spaces.Box(0, 2**24, (4,), np.int64)), ValueError, "at most 16777216"),
        (lambda: TokenExtractor(TOKENS, embed_dim=-1), ValueError, "embed_dim"),
    ],
)
def test_bad_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call()
