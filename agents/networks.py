"""Network bodies shared by every learner: MLP, DQNimb's CNN (Table III) and text net (Table II).

A *body* maps a batch of observations to a feature vector of size ``body.out_features``;
a *network* is a body plus one linear head. The DQN, the supervised baselines, the
Stable-Baselines3 feature extractors and the hierarchical policies all build on the
same bodies, so "the same network" means the same code.

Bodies take raw observations as the environments emit them: float32 feature vectors,
uint8 images ``[B, C, H, W]`` (scaled to [0, 1] inside the body) and int64 token ids
``[B, L]``.
"""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

__all__ = [
    "NETWORK_KINDS",
    "ImageCNN",
    "MLPBody",
    "TextNet",
    "make_adam",
    "make_body",
    "make_network",
    "network_kind",
    "resolve_device",
]

NetworkKind = Literal["auto", "mlp", "cnn", "text"]
NETWORK_KINDS = ("auto", "mlp", "cnn", "text")


class MLPBody(nn.Module):
    """Fully connected ReLU layers over flattened features (uint8 pixels scaled by 1/255)."""

    def __init__(self, in_features: int, hidden_sizes: Sequence[int] = (256, 256)):
        super().__init__()
        if in_features < 1:
            raise ValueError(f"in_features must be >= 1, got {in_features}")
        if len(hidden_sizes) == 0 or any(int(h) < 1 for h in hidden_sizes):
            raise ValueError(f"hidden_sizes must be positive integers, got {tuple(hidden_sizes)}")
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden_sizes:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        self.net = nn.Sequential(*layers)
        self.in_features = in_features
        self.out_features = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.uint8:  # raw images through an MLP: same scaling as ImageCNN
            x = x.float().div_(255.0)
        return self.net(x.flatten(1).float())


class ImageCNN(nn.Module):
    """DQNimb Table III body: two 5x5 conv layers of 32 (ReLU, 2x2 max-pool), then FC 256.

    Works for 28x28x1 (flatten 1568) and 32x32x3 (flatten 2048) inputs and any other
    size divisible by 4. uint8 inputs are scaled by 1/255.
    """

    def __init__(self, in_channels: int, height: int, width: int, fc_size: int = 256):
        super().__init__()
        if height % 4 or width % 4:
            raise ValueError(f"image height and width must be divisible by 4, got {height}x{width}")
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, 32, kernel_size=5, stride=1, padding=2), nn.ReLU(),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(32, 32, kernel_size=5, stride=1, padding=2), nn.ReLU(),
            nn.MaxPool2d(2, 2),
            nn.Flatten(),
        )
        flat = 32 * (height // 4) * (width // 4)
        self.fc = nn.Sequential(nn.Linear(flat, fc_size), nn.ReLU())
        self.out_features = fc_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.uint8:
            x = x.float().div_(255.0)
        return self.fc(self.conv(x.float()))


class TextNet(nn.Module):
    """DQNimb Table II body: embedding 64 -> flatten -> FC 250 (ReLU) over token ids."""

    def __init__(self, vocab_size: int, seq_len: int, embed_dim: int = 64, fc_size: int = 250):
        super().__init__()
        if vocab_size < 2 or seq_len < 1:
            raise ValueError(f"need vocab_size >= 2 and seq_len >= 1, got {vocab_size}, {seq_len}")
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.fc = nn.Sequential(nn.Linear(seq_len * embed_dim, fc_size), nn.ReLU())
        self.out_features = fc_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.embed(x.long()).flatten(1))


def network_kind(observation_space: spaces.Space) -> str:
    """The body that fits an observation space: ``"mlp"``, ``"cnn"`` or ``"text"``.

    Raises:
        ValueError: for spaces no body handles (naming the space).
    """
    if not isinstance(observation_space, spaces.Box):
        raise ValueError(f"no network for observation space {observation_space}; expected a Box")
    shape = observation_space.shape
    if len(shape) == 3:
        return "cnn"
    if len(shape) == 1:
        if np.issubdtype(observation_space.dtype, np.integer):
            return "text"
        return "mlp"
    raise ValueError(
        f"no network for observation shape {shape}: expected (D,) features, (C, H, W) images "
        "or (L,) integer token ids"
    )


def make_body(observation_space: spaces.Space, kind: NetworkKind = "auto",
              hidden_sizes: Sequence[int] = (256, 256)) -> nn.Module:
    """Build the body for ``observation_space`` (``kind="auto"`` picks it from the space).

    Raises:
        ValueError: unknown ``kind`` or a ``kind`` that does not fit the space.
    """
    if kind not in NETWORK_KINDS:
        raise ValueError(f"network must be one of {NETWORK_KINDS}, got {kind!r}")
    fit = network_kind(observation_space)
    if kind == "auto":
        kind = fit
    shape = observation_space.shape
    if kind == "mlp":
        if fit == "text":
            raise ValueError("network='mlp' does not fit integer token observations; use 'text'")
        return MLPBody(int(np.prod(shape)), hidden_sizes)
    if kind != fit:
        raise ValueError(
            f"network={kind!r} does not fit observation space {observation_space} (fits {fit!r})"
        )
    if kind == "cnn":
        c, h, w = shape
        return ImageCNN(c, h, w)
    vocab = int(np.max(observation_space.high)) + 1
    return TextNet(vocab, shape[0])


def make_network(observation_space: spaces.Space, n_outputs: int, kind: NetworkKind = "auto",
                 hidden_sizes: Sequence[int] = (256, 256)) -> nn.Sequential:
    """Body for ``observation_space`` followed by a linear layer with ``n_outputs`` units.

    For DQNimb this is the Q-network (the classifier without its softmax, sec. IV-C).
    """
    if n_outputs < 1:
        raise ValueError(f"n_outputs must be >= 1, got {n_outputs}")
    body = make_body(observation_space, kind, hidden_sizes)
    return nn.Sequential(body, nn.Linear(body.out_features, n_outputs))


def make_adam(params, lr: float) -> torch.optim.Adam:
    """Adam for the learners here: the fused kernel where this torch build has it (one call
    updates every tensor; 2-3x faster steps on small networks than the multi-tensor loop),
    else the multi-tensor loop. Same update rule either way."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, ValueError):
        return torch.optim.Adam(params, lr=lr, foreach=True)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else is passed to torch."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}") from err
