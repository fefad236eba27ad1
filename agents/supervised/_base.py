"""``NetworkClassifier``: the scikit-learn shell around a network, a loss and the shared trainer.

Subclasses change one of three hooks and nothing else:

* ``_make_loss(counts)`` -> ``loss(logits, y)`` (DNN: plain cross-entropy; MFE, CSM,
  CRCEN: their losses; ``counts`` are the class counts of the rows trained on);
* ``_training_rows(X, y, rng)`` -> the rows to train on (ROS / RUS: resampled);
* ``_after_training(proba_val, y_val, counts)`` -> fitted decision state (DTA's threshold).
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from agents.networks import make_network, resolve_device
from imbalance_gym.datasets import stratified_split

from ._inputs import as_array, check_hidden_sizes, check_network, input_space, rows_for
from ._trainer import LossFn, TrainingConfig, TrainingHistory, predict_logits, train_network
from .losses import cross_entropy_loss


def store_params(estimator, values: dict) -> None:
    """Set every ``__init__`` argument as an attribute unchanged (scikit-learn's contract)."""
    for key, value in values.items():
        if key not in ("self", "__class__"):
            setattr(estimator, key, value)


def _check_random_state(random_state) -> np.random.Generator:
    """None, an int >= 0 or a ``np.random.Generator`` -> the generator of this fit."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or (isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
                                and random_state >= 0):
        return np.random.default_rng(random_state)
    raise ValueError(f"random_state must be None, an int >= 0 or a numpy Generator, got {random_state!r}")


class NetworkClassifier(ClassifierMixin, BaseEstimator):
    """A neural-network classifier trained by minibatch Adam with early stopping.

    The network is ``agents.networks.make_network`` (the bodies DQNimb uses: an MLP for
    features, the Table III CNN for images, the Table II text net for token ids) with one
    output per class; a softmax gives the probabilities. Training follows DQNimb sec.
    IV-D: Adam (``learning_rate`` 5e-4), batches of 64, up to 100 epochs, early stopping
    on the validation loss and the best-validation weights restored. Without ``X_val``,
    a stratified ``val_size`` (10%) of the training rows is held out.

    Args:
        random_state: None (fresh entropy), an int >= 0, or a ``np.random.Generator``.
            It seeds the validation split, any resampling, the weight init and the batch
            order; the same int gives the same predictions.
        network: ``"auto"`` (from X: ``[N, D]`` floats -> MLP; ``[N, C, H, W]`` or
            ``[N, H, W]`` images -> CNN; with ``observation`` an int64 Box -> text net),
            ``"mlp"``, ``"cnn"`` or ``"text"``.
        hidden_sizes: MLP hidden layer widths (ignored by the CNN and text net).
        observation: Optional ``gymnasium.spaces.Box`` describing one row; required for
            token ids (``Box(0, vocab_size - 1, (L,), np.int64)``).
        device: ``"auto"`` (CUDA if present), ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
        max_epochs: Epochs at most.
        batch_size: Rows per step.
        learning_rate: Adam step size.
        weight_decay: L2 penalty on the weights (not the biases).
        patience: Epochs without a better validation loss before stopping (None: never).
        val_size: Held-out fraction when ``fit`` gets no ``X_val``, in (0, 1).
        verbose: Show a progress bar over the epochs.

    Attributes:
        classes_: Sorted class labels, shape ``[C]``; index 1 is the positive (minority)
            class of binary data.
        network_: The trained ``torch.nn.Module`` (in eval mode).
        history_: :class:`agents.supervised.TrainingHistory` of the fit (losses per epoch,
            ``best_epoch``).
        class_counts_: Rows per class that the network was trained on, shape ``[C]``.
        input_shape_: Shape of one input row as the network reads it.
        n_features_in_: Number of values per row.
    """

    _binary_only = False

    def __init__(self, *, random_state=None, network="auto", hidden_sizes=(256, 256), observation=None,
                 device="auto", max_epochs=100, batch_size=64, learning_rate=5e-4, weight_decay=0.0,
                 patience=10, val_size=0.1, verbose=False):
        store_params(self, locals())

    # ------------------------------------------------------------------ hooks
    def _make_loss(self, counts: np.ndarray) -> LossFn:
        """Plain cross-entropy (DNN)."""
        return cross_entropy_loss

    def _training_rows(self, X: np.ndarray, y: np.ndarray, rng: np.random.Generator):
        """The rows to train on: all of them."""
        return X, y

    def _after_training(self, proba_val: np.ndarray, y_val: np.ndarray, counts: np.ndarray) -> None:
        """Nothing to fit after the network."""

    def _check_method_params(self) -> None:
        """Validate the subclass's own parameters (before any work)."""

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> TrainingConfig:
        """Validate every hyperparameter before any work; return the trainer's config."""
        config = TrainingConfig(self.max_epochs, self.batch_size, self.learning_rate, self.weight_decay,
                                self.patience)
        check_network(self.network)
        check_hidden_sizes(self.hidden_sizes)
        resolve_device(self.device)
        if isinstance(self.val_size, bool) or not isinstance(self.val_size, numbers.Real) or not 0 < self.val_size < 1:
            raise ValueError(f"val_size must be a number in (0, 1), got {self.val_size!r}")
        if not isinstance(self.verbose, (bool, np.bool_)):
            raise ValueError(f"verbose must be a bool, got {self.verbose!r}")
        self._check_method_params()
        return config

    def _fit_classes(self, y, n_rows: int) -> np.ndarray:
        """Set ``classes_`` from the training labels (checks them); returns y as 1-D."""
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim != 1 or y.shape[0] != n_rows:
            raise ValueError(f"y must have shape [{n_rows}] to match the rows of X, got shape {y.shape}")
        check_classification_targets(y)  # 'Unknown label type: continuous' for regression targets
        classes = np.unique(y)
        if classes.size < 2:
            raise ValueError(f"y must hold at least two classes, got 1 class ({classes.tolist()})")
        if self._binary_only and classes.size != 2:
            raise ValueError(f"{type(self).__name__} is binary: y must hold exactly two classes, got "
                             f"{classes.size} ({classes.tolist()}). Only binary classification is supported.")
        self.classes_ = classes
        return y

    def _encode_targets(self, y, n_rows: int, name: str = "y") -> np.ndarray:
        """Labels -> int64 indices into ``classes_``; unseen labels are an error."""
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != n_rows:
            raise ValueError(f"{name} must have shape [{n_rows}] to match the rows, got shape {y.shape}")
        index = np.clip(np.searchsorted(self.classes_, y), 0, self.classes_.size - 1)
        unknown = self.classes_[index] != y
        if np.any(unknown):
            raise ValueError(f"{name} holds labels not seen in y: {np.unique(y[unknown]).tolist()}")
        return index.astype(np.int64)

    def _rows(self, X, name: str = "X") -> np.ndarray:
        """Rows of a fitted model's input, checked against the fitted shape."""
        check_is_fitted(self, "network_")
        return rows_for(as_array(X, name), self.space_, self.kind_, name, type(self).__name__)

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, X_val=None, y_val=None):
        """Train the network on ``(X, y)`` with early stopping on ``(X_val, y_val)``.

        Args:
            X: Training inputs: ``[N, D]`` features, ``[N, C, H, W]`` / ``[N, H, W]`` images
                or ``[N, L]`` token ids (with ``observation``).
            y: Labels, shape ``[N]``; binary data uses 1 for the minority class.
            X_val: Validation inputs (same row shape), or None to hold out a stratified
                ``val_size`` of ``(X, y)``.
            y_val: Validation labels, shape ``[M]``; only with ``X_val``.

        Returns:
            self

        Raises:
            ValueError: For a bad hyperparameter, a network that does not fit X, labels
                of the wrong shape or number of classes, or validation data that does
                not match.
        """
        config = self._check_params()
        X_all = as_array(X, "X")
        space, kind = input_space(X_all, self.network, self.observation)
        X_all = rows_for(X_all, space, kind, "X")
        y = self._fit_classes(y, X_all.shape[0])
        y_all = self._encode_targets(y, X_all.shape[0], "y")
        if (X_val is None) != (y_val is None):
            raise ValueError("give both X_val and y_val, or neither")
        rng = _check_random_state(self.random_state)
        init_seed, order_seed = (int(s) for s in rng.integers(0, 2**62, size=2))
        with torch.random.fork_rng(devices=[]):  # seeded init without touching the global RNG
            torch.manual_seed(init_seed)
            network = make_network(space, self.classes_.size, kind, check_hidden_sizes(self.hidden_sizes))
        if X_val is None:
            train_rows, val_rows = stratified_split(y_all, [float(self.val_size)], rng)
            X_train, y_train, X_val, y_val = X_all[train_rows], y_all[train_rows], X_all[val_rows], y_all[val_rows]
        else:
            X_train, y_train = X_all, y_all
            X_val = rows_for(as_array(X_val, "X_val"), space, kind, "X_val", type(self).__name__)
            y_val = self._encode_targets(y_val, X_val.shape[0], "y_val")
        X_train, y_train = self._training_rows(X_train, y_train, rng)
        counts = np.bincount(y_train, minlength=self.classes_.size)
        loss_fn = self._make_loss(counts)

        device = resolve_device(self.device)
        network.to(device)
        to = lambda a: torch.as_tensor(a, device=device)  # noqa: E731
        history = train_network(
            network, loss_fn, to(X_train), to(y_train), to(X_val), to(y_val), config,
            torch.Generator().manual_seed(order_seed), progress=bool(self.verbose), desc=type(self).__name__,
        )
        self.space_, self.kind_, self.device_ = space, kind, device
        self.network_: torch.nn.Module = network
        self.history_: TrainingHistory = history
        self.class_counts_ = counts
        self.input_shape_ = tuple(space.shape)
        self.n_features_in_ = int(np.prod(space.shape))
        self._after_training(self._proba_of_rows(X_val), y_val, counts)
        return self

    # ------------------------------------------------------------------ predict
    def _logits_of_rows(self, rows: np.ndarray) -> torch.Tensor:
        """float64 logits ``[N, C]`` on the CPU."""
        X = torch.as_tensor(rows, device=self.device_)
        return predict_logits(self.network_, X).double().cpu()

    def _proba_of_rows(self, rows: np.ndarray) -> np.ndarray:
        """Softmax probabilities ``[N, C]``."""
        return torch.softmax(self._logits_of_rows(rows), dim=1).numpy()

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``softmax(network(X))``, shape ``[N, C]``, rows summing to 1."""
        return self._proba_of_rows(self._rows(X))

    def decision_function(self, X) -> np.ndarray:
        """Scores: binary -> ``log P(classes_[1]) - log P(classes_[0])``, shape ``[N]``; else logits ``[N, C]``.

        A positive binary score means the prediction ``classes_[1]``.
        """
        logits = self._logits_of_rows(self._rows(X))
        if logits.shape[1] == 2:
            return (logits[:, 1] - logits[:, 0]).numpy()
        return logits.numpy()

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row, shape ``[N]`` (labels from ``classes_``)."""
        proba = self.predict_proba(X)  # checks fitted before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = not self._binary_only
        tags.non_deterministic = self.random_state is None
        return tags
