"""SB3 features extractors on the shared bodies of :mod:`agents.networks`, picked per space.

SB3's ``NatureCNN`` needs images of at least 36x36 pixels, so the DQNimb tasks (28x28x1
MNIST / Fashion-MNIST, 32x32x3 CIFAR-10) use DQNimb's own Table III CNN
(:class:`~agents.networks.ImageCNN`) here, and token sequences its Table II text net
(:class:`~agents.networks.TextNet`). No layer is defined twice: the extractors hold the
bodies the DQN and the supervised baselines train.

Scaling happens exactly once. SB3 turns every observation into a float tensor before the
extractor and divides uint8 images in ``[0, 255]`` by 255 when the policy's
``normalize_images`` is True; the bodies then see floats and do not scale again (they
scale only uint8 tensors). :func:`policy_kwargs_for` therefore sets ``normalize_images``
to SB3's own ``is_image_space(space)``: True exactly for uint8 ``[0, 255]`` images. Token
ids arrive as float32 (exact below 2**24) and are cast back to ``long`` for the embedding.

Tabular observations use SB3's plain MLP policy (``FlattenExtractor`` and SB3's
``net_arch``): the same Linear-ReLU stack as :class:`~agents.networks.MLPBody`, but with
separate actor and critic networks as SB3's actor-critic algorithms intend, and SB3's
defaults unless ``net_arch`` is given (the benchmarks pass ``net_arch=[256, 256]``, the
width of DQNImb's MLP body).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

from agents.networks import NETWORK_KINDS, ImageCNN, TextNet, network_kind
from agents.sb3._checks import positive_int

__all__ = ["ImageCNNExtractor", "TokenExtractor", "observation_space_of", "policy_kwargs_for"]

_MAX_EXACT_FLOAT32_ID = 2**24  # SB3 casts observations to float32: larger ids would round


class ImageCNNExtractor(BaseFeaturesExtractor):
    """DQNimb's Table III CNN (:class:`~agents.networks.ImageCNN`) as an SB3 extractor.

    Args:
        observation_space: ``Box`` of shape ``(C, H, W)`` with ``H`` and ``W`` divisible
            by 4 (28x28x1, 32x32x3 ...), uint8 or float.
        fc_size: width of the fully connected layer, i.e. ``features_dim`` (Table III: 256).

    Raises:
        ValueError: a space of another shape, or a bad ``fc_size``.
    """

    def __init__(self, observation_space: spaces.Box, fc_size: int = 256):
        if not isinstance(observation_space, spaces.Box) or len(observation_space.shape) != 3:
            raise ValueError(
                f"ImageCNNExtractor needs a Box observation space of shape (C, H, W), got {observation_space}"
            )
        c, h, w = observation_space.shape
        body = ImageCNN(c, h, w, positive_int(fc_size, "fc_size"))
        super().__init__(observation_space, features_dim=body.out_features)
        self.body = body

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.body(observations)


class TokenExtractor(BaseFeaturesExtractor):
    """DQNimb's Table II text net (:class:`~agents.networks.TextNet`) as an SB3 extractor.

    The vocabulary size is ``observation_space.high.max() + 1`` (ids run ``0..high``).

    Args:
        observation_space: integer ``Box`` of shape ``(L,)`` holding token ids.
        embed_dim: embedding width (Table II: 64).
        fc_size: width of the fully connected layer, i.e. ``features_dim`` (Table II: 250).

    Raises:
        ValueError: a space that is not a 1-D integer Box, ids beyond 2**24 (SB3 passes
            observations as float32, which cannot hold larger ids exactly), bad widths.
    """

    def __init__(self, observation_space: spaces.Box, embed_dim: int = 64, fc_size: int = 250):
        if (not isinstance(observation_space, spaces.Box) or len(observation_space.shape) != 1
                or not np.issubdtype(observation_space.dtype, np.integer)):
            raise ValueError(
                f"TokenExtractor needs an integer Box observation space of shape (L,), got {observation_space}"
            )
        vocab = int(np.max(observation_space.high)) + 1
        if vocab > _MAX_EXACT_FLOAT32_ID:
            raise ValueError(
                f"token ids up to {vocab - 1} cannot pass SB3's float32 observations exactly; "
                f"the vocabulary must have at most {_MAX_EXACT_FLOAT32_ID} ids"
            )
        body = TextNet(vocab, observation_space.shape[0], positive_int(embed_dim, "embed_dim"),
                       positive_int(fc_size, "fc_size"))
        super().__init__(observation_space, features_dim=body.out_features)
        self.body = body

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        # SB3 hands over float32 ids; they are exact integers, so the cast is lossless.
        return self.body(observations.long())


# Extractor class per body kind; "mlp" keeps SB3's own FlattenExtractor + MLP.
_EXTRACTORS: dict[str, type[BaseFeaturesExtractor] | None] = {
    "mlp": None,
    "cnn": ImageCNNExtractor,
    "text": TokenExtractor,
}


def observation_space_of(env_or_space: Any) -> spaces.Space:
    """The observation space of a space, a Gymnasium env, an SB3 ``VecEnv`` or an SB3 model.

    Raises:
        TypeError: for anything without an ``observation_space``.
    """
    if isinstance(env_or_space, spaces.Space):
        return env_or_space
    space = getattr(env_or_space, "observation_space", None)
    if not isinstance(space, spaces.Space):
        raise TypeError(
            "env_or_space must be a gymnasium Space or have an observation_space (an env, a "
            f"VecEnv, an SB3 model), got {type(env_or_space).__name__}"
        )
    return space


def policy_kwargs_for(env_or_space: Any, network: str = "auto", net_arch: Any = None,
                      **extractor_kwargs: Any) -> dict[str, Any]:
    """SB3 ``policy_kwargs`` that fit an observation space.

    ==========================  ============================  ==========================
    observation                 features extractor            ``normalize_images``
    ==========================  ============================  ==========================
    ``(D,)`` float features     SB3's (flatten + MLP)         False
    ``(C, H, W)`` uint8 images  :class:`ImageCNNExtractor`    True (SB3 scales by 1/255)
    ``(C, H, W)`` float images  :class:`ImageCNNExtractor`    False (used as given)
    ``(L,)`` integer token ids  :class:`TokenExtractor`       False
    ``Dict`` (AutoSMOTE)        SB3's ``CombinedExtractor``   SB3's default
    ==========================  ============================  ==========================

    Args:
        env_or_space: a space, env, ``VecEnv`` or model (see :func:`observation_space_of`).
        network: ``"auto"`` (from the space, :func:`agents.networks.network_kind`),
            ``"mlp"`` (SB3's MLP on flattened inputs, also for images), ``"cnn"`` or
            ``"text"``.
        net_arch: SB3's ``net_arch`` for the layers after the extractor (None: SB3's
            default of the algorithm).
        **extractor_kwargs: arguments of the extractor (``fc_size``, ``embed_dim``).

    Returns:
        A new dict to pass as ``policy_kwargs=`` (merge your own keys on top).

    Raises:
        ValueError: an unknown ``network``, one that does not fit the space, or extractor
            arguments for the MLP.
    """
    space = observation_space_of(env_or_space)
    if network not in NETWORK_KINDS:
        raise ValueError(f"network must be one of {NETWORK_KINDS}, got {network!r}")
    out: dict[str, Any] = {} if net_arch is None else {"net_arch": net_arch}
    if isinstance(space, spaces.Dict):
        if network != "auto" or extractor_kwargs:
            raise ValueError(
                "Dict observations use SB3's CombinedExtractor (MultiInputPolicy): pass "
                f"network='auto' and no extractor arguments, got network={network!r}, "
                f"{sorted(extractor_kwargs)}"
            )
        return out
    fit = network_kind(space)
    kind = fit if network == "auto" else network
    if kind != fit and not (kind == "mlp" and fit == "cnn"):
        raise ValueError(f"network={network!r} does not fit observation space {space} (fits {fit!r})")
    extractor = _EXTRACTORS[kind]
    if extractor is None:
        if extractor_kwargs:
            raise ValueError(
                f"network='mlp' uses SB3's FlattenExtractor, which takes no {sorted(extractor_kwargs)}; "
                "set the MLP with net_arch="
            )
    else:
        out["features_extractor_class"] = extractor
        out["features_extractor_kwargs"] = dict(extractor_kwargs)
    out["normalize_images"] = bool(is_image_space(space))
    return out
