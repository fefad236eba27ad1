"""The supervised baselines of DQNimb sec. IV-A and CRCEN, all on the same networks and trainer.

* ``DNN``: plain cross-entropy.
* ``ROS`` / ``RUS``: random over- / under-sampling of the training split to balance,
  then cross-entropy; ``ResampledDNN``: any imbalanced-learn sampler (SMOTE, ADASYN ...).
* ``MFE``: mean false error loss (Wang et al. 2016; :mod:`.mfe`).
* ``CSM``: cross-entropy (or CSMLP's squared error) with inverse-frequency class weights.
* ``CRCEN``: class-wise reweighted cross-entropy, CRCEN eq. (1) (:mod:`.crcen`).
* ``DTA``: cross-entropy, then the decision threshold moved at predict time
  (:mod:`.threshold`).

Every class takes the parameters of :class:`NetworkClassifier` (random_state, network,
hidden_sizes, observation, device, max_epochs, batch_size, learning_rate, weight_decay,
patience, val_size, verbose) plus its own, listed first.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from imblearn.over_sampling import RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler
from sklearn.base import clone

from imbalance_gym.metrics import get_metric

from ._base import NetworkClassifier, store_params
from ._trainer import LossFn
from .crcen import check_lambda, crcen_loss, default_lambda
from .losses import cross_entropy_loss, inverse_frequency_weights, squared_error_loss
from .mfe import mfe_loss
from .threshold import prior_threshold, tune_threshold

__all__ = ["CRCEN", "CSM", "DNN", "DTA", "MFE", "ROS", "RUS", "ResampledDNN"]

# Shared defaults of the method-specific signatures below (see NetworkClassifier).
_HIDDEN = (256, 256)


class DNN(NetworkClassifier):
    """Plain cross-entropy network: DQNimb's baseline "DNN" (sec. IV-A).

    See :class:`NetworkClassifier` for the parameters and attributes.
    """


class MFE(NetworkClassifier):
    """Network trained on the mean false error ``FPE + FNE`` (DQNimb sec. IV-A, ref. [22]).

    Each class's squared error is averaged over that class's rows in the batch, so the
    minority class weighs as much as the majority class; a class absent from a batch adds
    0 (see :mod:`agents.supervised.mfe`). The validation loss is MFE over the whole
    validation split. See :class:`NetworkClassifier` for the parameters.
    """

    def _make_loss(self, counts: np.ndarray) -> LossFn:
        return mfe_loss


class CSM(NetworkClassifier):
    """Cost-sensitive network: class weights inversely proportional to class frequency.

    DQNimb's CSM (sec. IV-A, ref. [17]) with ``loss="cross_entropy"``; Castro and Braga's
    CSMLP (CRCEN's baseline) with ``loss="squared_error"``. The weight of class ``c`` is
    ``w_c = N / (C * N_c)`` with ``N_c`` the rows of class ``c`` trained on (after the
    validation hold-out) and ``N`` their sum; a batch's loss is ``(1/B) sum_i w_{y_i}
    e_i`` with ``e_i`` the sample's cross-entropy or ``sum_k 1/2 (d_ik - o_ik)^2``
    (:mod:`agents.supervised.losses`). The same weights score the validation split.

    Args:
        loss: ``"cross_entropy"`` (CSM) or ``"squared_error"`` (CSMLP-style).
        **other: See :class:`NetworkClassifier`.

    Attributes:
        class_weights_: The weights ``w_c``, shape ``[C]``.
    """

    _LOSSES = {"cross_entropy": cross_entropy_loss, "squared_error": squared_error_loss}

    def __init__(self, loss="cross_entropy", *, random_state=None, network="auto", hidden_sizes=_HIDDEN,
                 observation=None, device="auto", max_epochs=100, batch_size=64, learning_rate=5e-4,
                 weight_decay=0.0, patience=10, val_size=0.1, verbose=False):
        store_params(self, locals())

    def _check_method_params(self) -> None:
        if not isinstance(self.loss, str) or self.loss not in self._LOSSES:
            raise ValueError(f"loss must be one of {sorted(self._LOSSES)}, got {self.loss!r}")

    def _make_loss(self, counts: np.ndarray) -> LossFn:
        self.class_weights_ = inverse_frequency_weights(counts)
        return partial(self._LOSSES[self.loss], class_weights=self.class_weights_)


class CRCEN(NetworkClassifier):
    """Class-wise reweighted cross-entropy network (Li and Zhu, CRCEN eq. 1); binary only.

    Minimises ``lam * L_1 + (1 - lam) * L_0`` with ``L_c`` the summed negative
    log-likelihood of class ``c`` and ``p = P(y=1 | x)`` the softmax of the two logits
    (:func:`agents.supervised.crcen.crcen_loss`, divided by the batch size for
    minibatches). Class ``classes_[1]`` (label 1, the minority) gets ``lam``.

    Args:
        lam: Weight ``lambda`` in (0, 1) of the minority class; None (default) uses
            ``N_0 / (N_0 + N_1)`` of the rows trained on, the inverse class frequency.
        **other: See :class:`NetworkClassifier`.

    Attributes:
        lambda_: The weight used.
    """

    _binary_only = True

    def __init__(self, lam=None, *, random_state=None, network="auto", hidden_sizes=_HIDDEN, observation=None,
                 device="auto", max_epochs=100, batch_size=64, learning_rate=5e-4, weight_decay=0.0,
                 patience=10, val_size=0.1, verbose=False):
        store_params(self, locals())

    def _check_method_params(self) -> None:
        if self.lam is not None:
            check_lambda(self.lam, "lam")

    def _make_loss(self, counts: np.ndarray) -> LossFn:
        self.lambda_ = default_lambda(counts) if self.lam is None else float(self.lam)
        return partial(crcen_loss, lam=self.lambda_, reduction="mean")


class DTA(NetworkClassifier):
    """Cross-entropy network whose decision threshold is moved at predict time (binary).

    DQNimb's DTA (sec. IV-A, ref. [19]). ``predict`` returns ``classes_[1]`` iff
    ``P(y=1 | x) > threshold_``:

    * ``threshold="prior"``: divide the class probabilities by the training class priors
      and take the arg-max; for two classes that is exactly ``threshold_ = pi_1 =
      N_1 / (N_0 + N_1)`` of the rows trained on.
    * ``threshold="tuned"``: ``threshold_`` maximises ``metric`` (G-mean by default) on
      the validation split (the one used for early stopping), searched over every cut of
      the sorted validation probabilities.

    ``predict_proba`` gives the network's own probabilities; ``decision_function`` is
    shifted so that it is positive exactly when ``predict`` says ``classes_[1]``.

    Args:
        threshold: ``"prior"`` or ``"tuned"``.
        metric: Metric to tune on (a name in ``imbalance_gym.metrics.METRICS``).
        **other: See :class:`NetworkClassifier`.

    Attributes:
        threshold_: The threshold on ``P(y=1)``.
        prior_: Training class priors ``[pi_0, pi_1]``.
    """

    _binary_only = True
    _THRESHOLDS = ("prior", "tuned")

    def __init__(self, threshold="prior", metric="g_mean", *, random_state=None, network="auto",
                 hidden_sizes=_HIDDEN, observation=None, device="auto", max_epochs=100, batch_size=64,
                 learning_rate=5e-4, weight_decay=0.0, patience=10, val_size=0.1, verbose=False):
        store_params(self, locals())

    def _check_method_params(self) -> None:
        if not isinstance(self.threshold, str) or self.threshold not in self._THRESHOLDS:
            raise ValueError(f"threshold must be one of {self._THRESHOLDS}, got {self.threshold!r}")
        get_metric(self.metric)

    def _after_training(self, proba_val: np.ndarray, y_val: np.ndarray, counts: np.ndarray) -> None:
        self.prior_ = counts / counts.sum()
        if self.threshold == "prior":
            self.threshold_ = prior_threshold(counts)
        else:
            self.threshold_ = tune_threshold(proba_val[:, 1], y_val, self.metric)

    def decision_function(self, X) -> np.ndarray:
        """``log P(y=1) - log P(y=0) - logit(threshold_)``: positive iff ``predict`` gives ``classes_[1]``."""
        t = float(np.clip(self.threshold_, 1e-300, 1 - 1e-16))
        return super().decision_function(X) - (np.log(t) - np.log1p(-t))

    def predict(self, X) -> np.ndarray:
        """``classes_[1]`` where ``P(y=1 | x) > threshold_``, else ``classes_[0]``."""
        positive = self.predict_proba(X)[:, 1] > self.threshold_
        return self.classes_[positive.astype(np.int64)]


class _Resampling(NetworkClassifier):
    """Resample the training split (never the validation split) before plain cross-entropy."""

    def _make_sampler(self):
        raise NotImplementedError

    def _training_rows(self, X: np.ndarray, y: np.ndarray, rng: np.random.Generator):
        """Resampled rows; images and token ids are resampled by row index."""
        sampler = self._make_sampler()
        if "random_state" in sampler.get_params():
            sampler.set_params(random_state=int(rng.integers(0, 2**31 - 1)))
        if X.ndim == 2 and np.issubdtype(X.dtype, np.floating):
            X_res, y_res = sampler.fit_resample(X, y)
            return np.ascontiguousarray(X_res, dtype=X.dtype), np.asarray(y_res, dtype=np.int64)
        _, y_res = sampler.fit_resample(np.arange(y.shape[0], dtype=np.float64)[:, None], y)
        rows = getattr(sampler, "sample_indices_", None)
        if rows is None:
            raise ValueError(f"sampler {type(sampler).__name__} makes synthetic rows; it needs 2-D float "
                             f"features, but X has rows of shape {X.shape[1:]} and dtype {X.dtype}")
        return X[rows], np.asarray(y_res, dtype=np.int64)


class ROS(_Resampling):
    """Random over-sampling to balance (imbalanced-learn ``RandomOverSampler``), then cross-entropy.

    DQNimb sec. IV-A. Only the training split is resampled (seeded from
    ``random_state``); the validation split keeps its distribution. See
    :class:`NetworkClassifier` for the parameters; ``class_counts_`` holds the counts
    after resampling.
    """

    def _make_sampler(self):
        return RandomOverSampler()


class RUS(_Resampling):
    """Random under-sampling to balance (imbalanced-learn ``RandomUnderSampler``), then cross-entropy.

    DQNimb sec. IV-A. Only the training split is resampled (seeded from
    ``random_state``). See :class:`NetworkClassifier`; ``class_counts_`` holds the counts
    after resampling.
    """

    def _make_sampler(self):
        return RandomUnderSampler()


class ResampledDNN(_Resampling):
    """Any imbalanced-learn sampler on the training split, then a plain cross-entropy network.

    ``ResampledDNN(SMOTE())`` is CRCEN's "SMOTE + MLP" baseline. The sampler is cloned
    and its ``random_state`` set from this estimator's ``random_state``. Samplers that
    synthesise rows (SMOTE, ADASYN) need 2-D float features; samplers that select rows
    (random, Tomek links ...) work on images and token ids too. Samplers built on nearest
    neighbours can break distance ties (duplicate rows) differently under another BLAS
    thread count; fix it (``threadpoolctl.threadpool_limits``) for bit-identical runs.

    Args:
        sampler: An imbalanced-learn sampler (anything with ``fit_resample``).
        **other: See :class:`NetworkClassifier`.
    """

    def __init__(self, sampler=None, *, random_state=None, network="auto", hidden_sizes=_HIDDEN,
                 observation=None, device="auto", max_epochs=100, batch_size=64, learning_rate=5e-4,
                 weight_decay=0.0, patience=10, val_size=0.1, verbose=False):
        store_params(self, locals())

    def _check_method_params(self) -> None:
        if not hasattr(self.sampler, "fit_resample") or not hasattr(self.sampler, "get_params"):
            raise ValueError(f"sampler must be an imbalanced-learn sampler with fit_resample, got {self.sampler!r}")

    def _make_sampler(self):
        return clone(self.sampler)
