"""The one minibatch training loop every supervised baseline shares; only the loss differs.

DQNimb sec. IV-D: Adam, learning rate 5e-4, batch size 64, up to 100 epochs, early
stopping on the validation loss. The best-validation weights are restored at the end.
Data stays in tensors on the device for the whole run; batches are index slices drawn
from a seeded ``torch.Generator``, so the same seed gives the same weights.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn
from tqdm.auto import tqdm

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``loss(logits [B, C], y [B]) -> scalar``, reduced so that it does not grow with ``B``."""

EVAL_CHUNK = 1024
"""Rows per forward pass when scoring a whole split (no gradients); bounds the text net's
[chunk, L, 64] embedding activations."""


def _positive_int(name: str, value, allow_none: bool = False) -> None:
    """Raise unless ``value`` is an int >= 1 (or None when allowed)."""
    if allow_none and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        extra = " or None" if allow_none else ""
        raise ValueError(f"{name} must be an int >= 1{extra}, got {value!r}")


@dataclass(frozen=True)
class TrainingConfig:
    """Optimisation settings (defaults: DQNimb sec. IV-D)."""

    max_epochs: int = 100
    """Epochs at most ("train the deep neural network for 100 epochs")."""
    batch_size: int = 64
    """Rows per Adam step."""
    learning_rate: float = 5e-4
    """Adam step size ("its learning rate is 0.0005")."""
    weight_decay: float = 0.0
    """L2 penalty on weights only; biases stay free so CRCEN eq. (6) still holds (sec. 3.2)."""
    patience: int | None = 10
    """Epochs without a new best validation loss before stopping; None never stops early."""

    def __post_init__(self):
        _positive_int("max_epochs", self.max_epochs)
        _positive_int("batch_size", self.batch_size)
        _positive_int("patience", self.patience, allow_none=True)
        for name, low in (("learning_rate", "> 0"), ("weight_decay", ">= 0")):
            value = getattr(self, name)
            ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
            if not ok or (value <= 0 if low == "> 0" else value < 0):
                raise ValueError(f"{name} must be a finite number {low}, got {value!r}")


@dataclass
class TrainingHistory:
    """Per-epoch losses of one run and the epoch whose weights were kept."""

    train_loss: list[float] = field(default_factory=list)
    """Mean training loss of each epoch (average of its batch losses)."""
    val_loss: list[float] = field(default_factory=list)
    """Validation loss after each epoch."""
    best_epoch: int = -1
    """0-based epoch with the lowest validation loss; its weights are the final ones."""

    @property
    def n_epochs(self) -> int:
        """Epochs actually run."""
        return len(self.train_loss)


def _parameter_groups(network: nn.Module, weight_decay: float) -> list[dict]:
    """Weights (ndim > 1) get the L2 penalty, biases (ndim <= 1) do not."""
    weights = [p for p in network.parameters() if p.ndim > 1]
    biases = [p for p in network.parameters() if p.ndim <= 1]
    return [{"params": weights, "weight_decay": weight_decay}, {"params": biases, "weight_decay": 0.0}]


@torch.inference_mode()
def predict_logits(network: nn.Module, X: torch.Tensor, chunk: int = EVAL_CHUNK) -> torch.Tensor:
    """Raw outputs for every row of ``X`` (``[N, ...]`` on the network's device) -> ``[N, C]``."""
    network.eval()
    return torch.cat([network(X[i : i + chunk]) for i in range(0, X.shape[0], chunk)])


def train_network(
    network: nn.Module,
    loss_fn: LossFn,
    X: torch.Tensor,
    y: torch.Tensor,
    X_val: torch.Tensor,
    y_val: torch.Tensor,
    config: TrainingConfig,
    generator: torch.Generator,
    *,
    progress: bool = False,
    desc: str = "training",
) -> TrainingHistory:
    """Minibatch Adam on ``loss_fn`` with early stopping; restores the best-validation weights.

    Args:
        network: Maps ``X[batch]`` to logits ``[B, C]``; trained in place.
        loss_fn: ``loss(logits, y)``, used for the training batches and for the whole
            validation split.
        X: Training inputs ``[N, ...]`` on the network's device.
        y: Training targets, int64 ``[N]``, same device.
        X_val: Validation inputs ``[M, ...]``.
        y_val: Validation targets ``[M]``.
        config: Optimisation settings.
        generator: CPU generator that orders the rows of every epoch.
        progress: Show a tqdm bar over the epochs.
        desc: Label of the bar.

    Returns:
        The :class:`TrainingHistory`; ``network`` holds the weights of ``best_epoch``.
    """
    optimizer = torch.optim.Adam(_parameter_groups(network, config.weight_decay), lr=config.learning_rate)
    history = TrainingHistory()
    best_loss, best_state, since_best = math.inf, None, 0
    n = X.shape[0]
    bar = tqdm(range(config.max_epochs), desc=desc, disable=not progress, leave=False)
    for epoch in bar:
        network.train()
        order = torch.randperm(n, generator=generator).to(X.device)
        total = torch.zeros((), device=X.device)  # summed on the device: no sync per step
        for start in range(0, n, config.batch_size):
            batch = order[start : start + config.batch_size]
            loss = loss_fn(network(X[batch]), y[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * batch.shape[0]
        history.train_loss.append(float(total) / n)
        val_loss = float(loss_fn(predict_logits(network, X_val), y_val))
        history.val_loss.append(val_loss)
        if val_loss < best_loss:
            best_loss, since_best, history.best_epoch = val_loss, 0, epoch
            best_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
        else:
            since_best += 1
        bar.set_postfix(train=f"{history.train_loss[-1]:.4f}", val=f"{val_loss:.4f}", refresh=False)
        if config.patience is not None and since_best >= config.patience:
            break
    bar.close()
    if best_state is not None:  # None only when every validation loss was NaN
        network.load_state_dict(best_state)
    network.eval()
    return history
