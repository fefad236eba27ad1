"""The shared training loop: early stopping keeps the best-validation weights; config checks."""

import numpy as np
import pytest
import torch
from torch import nn

from agents.supervised._trainer import TrainingConfig, predict_logits, train_network
from agents.supervised.losses import cross_entropy_loss


def _noise_task(seed=0):
    """Labels independent of the features: a wide net memorises the training rows and the
    validation loss rises after a few epochs, so the best epoch is not the last one."""
    g = torch.Generator().manual_seed(seed)
    X, X_val = torch.randn(64, 5, generator=g), torch.randn(64, 5, generator=g)
    y, y_val = torch.randint(0, 2, (64,), generator=g), torch.randint(0, 2, (64,), generator=g)
    return X, y, X_val, y_val


def _run(seed=0, patience=3):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(5, 128), nn.ReLU(), nn.Linear(128, 2))
    X, y, X_val, y_val = _noise_task()
    config = TrainingConfig(max_epochs=60, batch_size=8, learning_rate=1e-2, patience=patience)
    history = train_network(net, cross_entropy_loss, X, y, X_val, y_val, config, torch.Generator().manual_seed(seed))
    return net, history, X_val, y_val


def test_early_stopping_restores_the_best_validation_weights():
    net, history, X_val, y_val = _run(patience=3)
    best = history.best_epoch
    assert history.val_loss[best] == min(history.val_loss)
    # stopped exactly `patience` epochs after the best one, well before max_epochs
    assert history.n_epochs == best + 1 + 3 < 60
    assert history.val_loss[-1] > history.val_loss[best] + 1e-3
    restored = cross_entropy_loss(predict_logits(net, X_val), y_val).item()
    assert restored == pytest.approx(history.val_loss[best], abs=1e-6)
    assert len(history.train_loss) == len(history.val_loss) == history.n_epochs


def test_no_patience_runs_every_epoch_and_still_keeps_the_best():
    net, history, X_val, y_val = _run(patience=None)
    assert history.n_epochs == 60
    restored = cross_entropy_loss(predict_logits(net, X_val), y_val).item()
    assert restored == pytest.approx(min(history.val_loss), abs=1e-6)


def test_same_seed_same_run():
    net_a, hist_a, X_val, _ = _run(seed=1)
    net_b, hist_b, _, _ = _run(seed=1)
    assert hist_a.val_loss == hist_b.val_loss
    assert torch.equal(predict_logits(net_a, X_val), predict_logits(net_b, X_val))
    _, hist_c, _, _ = _run(seed=2)
    assert hist_c.val_loss != hist_a.val_loss


def test_weight_decay_spares_the_biases():
    # CRCEN sec. 3.2: eq. (6) survives L2 only if the output bias is not penalised
    net = nn.Linear(3, 2)
    with torch.no_grad():
        net.weight.fill_(1.0)
        net.bias.fill_(1.0)
    X = torch.zeros(4, 3)  # zero inputs: the loss gradient w.r.t. the weights is 0
    y = torch.tensor([0, 1, 0, 1])
    config = TrainingConfig(max_epochs=3, batch_size=4, learning_rate=0.1, weight_decay=1.0, patience=None)
    train_network(net, cross_entropy_loss, X, y, X, y, config, torch.Generator().manual_seed(0))
    assert torch.all(net.weight < 1.0)  # shrunk by the penalty alone
    # equal logits already minimise CE on balanced labels: the biases have no gradient at all
    assert torch.allclose(net.bias, torch.ones(2))


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_epochs", 0), ("max_epochs", 2.5), ("batch_size", -1), ("batch_size", True), ("patience", 0),
     ("learning_rate", 0.0), ("learning_rate", float("nan")), ("weight_decay", -1e-4), ("learning_rate", "1e-3")],
)
def test_config_errors_name_the_field_and_value(field, value):
    with pytest.raises(ValueError, match=rf"{field} must be .*got {value!r}".replace("(", r"\(").replace(")", r"\)")):
        TrainingConfig(**{field: value})


def test_config_is_frozen():
    config = TrainingConfig()
    with pytest.raises(AttributeError):
        config.max_epochs = 5  # type: ignore[misc]
    assert (config.max_epochs, config.batch_size, config.learning_rate) == (100, 64, 5e-4)
    assert np.isfinite(config.learning_rate)
