"""DQNimb as a scikit-learn classifier: ``fit`` builds the ICMDP from arrays and runs the agent.

The classifier is the trained Q-network (DQNimb sec. III-C3): ``predict`` takes the
greedy action, ``predict_proba`` is the softmax over Q-values (the softmax layer the
paper adds back after training), and ``decision_function`` is ``Q(x, 1) - Q(x, 0)`` for
binary data. Labels may be any sortable values; they are coded ``0..C-1`` in sorted order
(``classes_``), and the reward weights follow the training class counts, so the rarest
class gets weight 1 and the others ``N_min / N_c`` (eq. 1 for two classes).
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from agents.dqn.config import DQNImbConfig
from agents.dqn.dqn import DQNImb
from imbalance_gym.datasets import stratified_split
from imbalance_gym.envs import ICMDPVectorEnv

__all__ = ["DQNImbClassifier"]

OBSERVATIONS = ("auto", "tabular", "image", "tokens")


def _generator(random_state: Any) -> np.random.Generator:
    """The one generator of a ``fit`` call, from sklearn's ``random_state`` conventions."""
    if random_state is None or isinstance(random_state, (numbers.Integral, np.random.Generator)):
        if isinstance(random_state, bool):
            raise ValueError(f"random_state must be None, an int or a numpy Generator/RandomState, got {random_state!r}")
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    raise ValueError(f"random_state must be None, an int or a numpy Generator/RandomState, got {random_state!r}")


def _is_binary(estimator: "DQNImbClassifier") -> bool:
    """``decision_function`` exists before fitting and after a binary fit."""
    if hasattr(estimator, "classes_") and len(estimator.classes_) != 2:
        raise ValueError(
            f"decision_function needs binary labels (it is Q(x, 1) - Q(x, 0)); this model was fit "
            f"on {len(estimator.classes_)} classes {list(estimator.classes_)}: use predict_proba"
        )
    return True


class DQNImbClassifier(ClassifierMixin, BaseEstimator):
    """DQNimb (Lin et al.) as a scikit-learn classifier.

    ``fit`` holds out a stratified validation split (unless one is given), builds an
    :class:`~imbalance_gym.envs.ICMDPVectorEnv` on the rest, trains :class:`DQNImb` on it
    with best-model selection on the validation split, and keeps the selected network.

    Args:
        total_timesteps: environment transitions to train for (paper: about 120 000).
        network: Q-network body: ``"auto"`` (from the data), ``"mlp"``, ``"cnn"``
            (DQNimb Table III, images) or ``"text"`` (Table II, token ids).
        hidden_sizes: MLP hidden widths.
        num_envs: ICMDP lanes collected in one batched step.
        reward_lambda: lambda of eq. (1) for binary data (default rho of the training data).
        val_size: fraction of each class held out for model selection when ``fit`` gets
            no ``X_val``; 0 or None trains on everything and keeps the last weights.
        selection_metric: validation metric for model selection (``"g_mean"``,
            ``"f_measure"``, ``"macro_f1"``, ``"mcc"``).
        observation: ``"auto"`` (2-D float features -> ``"tabular"``, 3-D / 4-D ->
            ``"image"``), or ``"tabular"``, ``"image"``, ``"tokens"`` (integer word ids).
        vocab_size: token vocabulary size (tokens; default largest id + 1).
        config: a :class:`DQNImbConfig` for every other hyperparameter; the arguments
            above override its fields.
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``.
        random_state: None, an int, or a numpy ``Generator`` / ``RandomState``; one
            generator drawn from it seeds the split, the env and the agent.
        progress_bar: show a tqdm bar while training.

    Attributes:
        classes_: sorted class labels, shape ``[C]``.
        n_features_in_: ``X.shape[1]`` at fit time.
        observation_shape_: shape of one sample.
        agent_: the trained :class:`DQNImb` (env and replay memory released).
        history_: the agent's validation curve (list of dicts).
    """

    def __init__(self, total_timesteps: int = 120_000, network: str = "auto",
                 hidden_sizes: tuple[int, ...] = (256, 256), num_envs: int = 16,
                 reward_lambda: float | None = None, val_size: float | None = 0.1,
                 selection_metric: str = "g_mean", observation: str = "auto",
                 vocab_size: int | None = None, config: DQNImbConfig | None = None,
                 device: str = "auto", random_state: Any = None, progress_bar: bool = False):
        self.total_timesteps = total_timesteps
        self.network = network
        self.hidden_sizes = hidden_sizes
        self.num_envs = num_envs
        self.reward_lambda = reward_lambda
        self.val_size = val_size
        self.selection_metric = selection_metric
        self.observation = observation
        self.vocab_size = vocab_size
        self.config = config
        self.device = device
        self.random_state = random_state
        self.progress_bar = progress_bar

    # ---- checks -----------------------------------------------------------------------
    def _make_config(self) -> DQNImbConfig:
        base = DQNImbConfig() if self.config is None else self.config
        if not isinstance(base, DQNImbConfig):
            raise TypeError(f"config must be None or a DQNImbConfig, got {type(base).__name__}")
        return base.replace(total_timesteps=self.total_timesteps, network=self.network,
                            hidden_sizes=self.hidden_sizes, num_envs=self.num_envs,
                            selection_metric=self.selection_metric, device=self.device,
                            progress_bar=self.progress_bar)

    def _observation_kind(self, X: np.ndarray) -> str:
        if self.observation not in OBSERVATIONS:
            raise ValueError(f"observation must be one of {OBSERVATIONS}, got {self.observation!r}")
        if self.observation != "auto":
            return self.observation
        return "tabular" if X.ndim == 2 else "image"

    def _check_val_size(self) -> float:
        v = self.val_size
        if v is None or (isinstance(v, numbers.Real) and not isinstance(v, bool) and v == 0):
            return 0.0
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0.0 < v < 1.0:
            raise ValueError(f"val_size must be None, 0 or a fraction in (0, 1), got {v!r}")
        return float(v)

    def _check_X(self, X: Any, reset: bool, y: Any = None):
        """Validate X (and y when fitting): numeric, finite, one sample per row."""
        kwargs = dict(dtype="numeric", allow_nd=True, ensure_min_samples=1)
        if reset:
            X, y = validate_data(self, X, y, reset=True, **kwargs)
            self.observation_shape_ = tuple(X.shape[1:])
            return X, y
        fitted = self.observation_shape_
        if len(fitted) == 3 and fitted[0] == 1 and getattr(X, "ndim", None) == 3 and tuple(X.shape[1:]) == fitted[1:]:
            X = X[:, None]  # grey images [N, H, W] -> [N, 1, H, W]
        X = validate_data(self, X, reset=False, **kwargs)
        if tuple(X.shape[1:]) != fitted:
            raise ValueError(
                f"X has samples of shape {tuple(X.shape[1:])}, but this {type(self).__name__} was "
                f"fitted on samples of shape {fitted}"
            )
        return X

    # ---- fit / predict ----------------------------------------------------------------
    def fit(self, X: Any, y: Any, X_val: Any = None, y_val: Any = None) -> "DQNImbClassifier":
        """Train DQNimb on ``(X, y)``.

        Args:
            X: ``[N, D]`` features, ``[N, C, H, W]`` / ``[N, H, W]`` images or ``[N, L]``
                token ids (``observation="tokens"``).
            y: ``[N]`` labels of at least two classes.
            X_val, y_val: validation data for model selection (labels among ``y``'s);
                default: a stratified ``val_size`` split of ``(X, y)``.

        Returns:
            ``self``.
        """
        config = self._make_config()
        val_size = self._check_val_size()
        if (X_val is None) != (y_val is None):
            raise ValueError("pass both X_val and y_val, or neither")
        X, y = self._check_X(X, reset=True, y=y)
        kind = self._observation_kind(X)
        check_classification_targets(y)
        self.classes_, y_code = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError(
                f"y has 1 class ({self.classes_[0]!r}); {type(self).__name__} needs samples of at "
                "least 2 classes"
            )
        rng = _generator(self.random_state)
        agent_seed = int(rng.integers(0, 2**31 - 1))
        eval_data = None
        X_train, y_train = X, y_code
        if X_val is not None:
            X_v = self._check_X(X_val, reset=False)
            y_v = np.asarray(y_val).ravel()
            unknown = np.setdiff1d(y_v, self.classes_)
            if unknown.size:
                raise ValueError(f"y_val holds labels {unknown[:5].tolist()} that are not in y {self.classes_.tolist()}")
            eval_data = (X_v, np.searchsorted(self.classes_, y_v))
        elif val_size > 0:
            tr, va = stratified_split(y_code, [val_size], rng)
            if np.unique(y_code[va]).size < self.classes_.size:
                warnings.warn("some class has too few samples for a stratified validation split: "
                              "no validation split, the last weights are kept", UserWarning, stacklevel=2)
            else:
                X_train, y_train = X[tr], y_code[tr]
                eval_data = (X[va], y_code[va])
        env_kwargs = {"observation": kind}
        if kind == "tokens" and self.vocab_size is not None:
            env_kwargs["vocab_size"] = self.vocab_size
        if self.reward_lambda is not None:
            env_kwargs["reward_lambda"] = self.reward_lambda
        env = ICMDPVectorEnv(config.num_envs, X=X_train, y=y_train, seed=agent_seed, **env_kwargs)
        agent = DQNImb(env, config, seed=agent_seed, eval_data=eval_data)
        agent.learn()
        agent.close()
        self.agent_ = agent
        self.history_ = agent.history
        return self

    def q_values(self, X: Any) -> np.ndarray:
        """Q-values ``[N, C]`` of the fitted network (columns in ``classes_`` order)."""
        check_is_fitted(self)
        return self.agent_.q_values(self._check_X(X, reset=False))

    def predict(self, X: Any) -> np.ndarray:
        """Greedy action (class with the largest Q-value) per row, as labels of ``classes_``."""
        q = self.q_values(X)  # checks fitted state first
        return self.classes_[q.argmax(axis=1)]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Softmax over the Q-values, ``[N, C]``; rows sum to 1."""
        q = self.q_values(X).astype(np.float64)
        q -= q.max(axis=1, keepdims=True)
        p = np.exp(q)
        return p / p.sum(axis=1, keepdims=True)

    @available_if(_is_binary)
    def decision_function(self, X: Any) -> np.ndarray:
        """``Q(x, classes_[1]) - Q(x, classes_[0])``, ``[N]`` (binary models only)."""
        q = self.q_values(X).astype(np.float64)
        return q[:, 1] - q[:, 0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
