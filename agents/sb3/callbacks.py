"""SB3 callbacks that score imbalance-gym agents with the papers' metrics and keep the best model.

* :class:`ICMDPEvalCallback` -- every ``eval_freq`` calls, the greedy policy labels a
  validation split in batches (DQNimb sec. IV-A: G-mean, F-measure; also Macro-F1 and
  MCC). A batched ``model.predict`` over all rows gives exactly the confusion matrix an
  evaluation-mode ICMDP pass (``mode="eval"``: fixed order, one pass, no early end)
  would accumulate, without stepping an env.
* :class:`AutoSMOTEMetricCallback` -- AutoSMOTE's reward at the end of an episode is the
  validation metric of the classifier fit on that episode's synthetic rows
  (``info["metric"]``); the callback tracks it and keeps the best episode.

Both log to SB3's logger (``self.logger.record``; TensorBoard shows the values when it is
installed and ``tensorboard_log=`` is set), keep a ``history`` for plotting, keep the
policy weights of the best score in memory and save the model to ``best_model_path``
when one is given.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback

from agents.sb3._checks import positive_int
from imbalance_gym.metrics import classification_report

__all__ = ["AutoSMOTEMetricCallback", "ICMDPEvalCallback", "SELECTION_METRICS"]

SELECTION_METRICS = ("g_mean", "f_measure", "macro_f1", "mcc")
"""Validation metrics :class:`ICMDPEvalCallback` can select the best model by."""


def _has_logger(model) -> bool:
    """SB3 models get their logger at the first ``learn`` (or ``set_logger``)."""
    try:
        model.logger
    except AttributeError:
        return False
    return True


class _BestModelCallback(BaseCallback):
    """Shared bookkeeping: history, best score, best weights, optional save."""

    def __init__(self, best_model_path: str | Path | None, verbose: int):
        super().__init__(verbose=verbose)
        if best_model_path is not None and not isinstance(best_model_path, (str, Path)):
            raise TypeError(f"best_model_path must be None or a path, got {best_model_path!r}")
        self.best_model_path = None if best_model_path is None else Path(best_model_path)
        self.history: list[dict[str, float]] = []
        self.best_score = -math.inf
        self.best_step: int | None = None
        self.best_policy_state: dict[str, torch.Tensor] | None = None
        self._best_key: tuple[float, float] | None = None

    def _consider(self, score: float, tie_breaker: float = 0.0) -> bool:
        """Keep the current policy if ``(score, tie_breaker)`` beats the best so far.

        Equal keys keep the earlier policy; NaN ranks below every number.
        """
        key = tuple(-math.inf if math.isnan(v) else float(v) for v in (score, tie_breaker))
        if self._best_key is not None and not key > self._best_key:
            return False
        self._best_key = key
        self.best_score = float(score)
        self.best_step = int(self.num_timesteps)
        self.best_policy_state = {k: v.detach().clone() for k, v in self.model.policy.state_dict().items()}
        if self.best_model_path is not None:
            self.best_model_path.parent.mkdir(parents=True, exist_ok=True)
            self.model.save(self.best_model_path)
        return True

    def restore_best(self) -> None:
        """Load the best policy weights seen so far into the model.

        Raises:
            RuntimeError: nothing was scored yet.
        """
        if self.best_policy_state is None:
            raise RuntimeError("no score recorded yet: train with this callback first")
        self.model.policy.load_state_dict(self.best_policy_state)


class ICMDPEvalCallback(_BestModelCallback):
    """Greedy validation scores of an ICMDP agent every ``eval_freq`` calls.

    Each evaluation predicts every validation row (``model.predict(..., deterministic=True)``
    in batches of ``batch_size``), builds the confusion matrix and logs ``eval/g_mean``,
    ``eval/macro_f1``, ``eval/mcc`` and, for binary data, ``eval/f_measure``,
    ``eval/precision``, ``eval/recall``, ``eval/specificity``, plus
    ``eval/best_<metric>``. The scores equal those of an evaluation-mode ICMDP pass over
    the same rows. When training ends, the final policy is scored too (unless it just was),
    so the best model is chosen among all evaluated ones including the last. Under
    ``VecNormalize`` the rows are normalised with the training env's statistics first.

    Args:
        X_val: validation observations ``[N, *obs_shape]`` as the env emits them
            (``[N, H, W]`` images are accepted for a ``(1, H, W)`` space).
        y_val: ``[N]`` labels ``0..C-1``.
        eval_freq: evaluate every ``eval_freq`` calls of the callback (one call = one
            vector step = ``n_envs`` transitions), as SB3's ``EvalCallback`` counts.
        metric: selection metric, one of :data:`SELECTION_METRICS` (DQNimb reports
            G-mean); ties break on F-measure (binary data, for G-mean) or G-mean, the
            rule of :class:`agents.dqn.DQNImb`.
        best_model_path: where to save the best model (``model.save``, which adds
            ``.zip``); None keeps it in memory only (:meth:`restore_best`).
        batch_size: rows per ``predict`` call.
        verbose: 1 prints each evaluation.

    Attributes:
        history: one dict per evaluation: ``step`` and every scalar metric, e.g.
            ``pandas.DataFrame(cb.history).plot(x="step", y="g_mean")``.
        last_scores: the full result of the latest evaluation (with ``confusion_matrix``).
        best_score, best_step, best_policy_state: the best evaluation so far.

    Raises:
        ValueError, TypeError: bad arguments (before training starts).
    """

    def __init__(self, X_val: Any, y_val: Any, *, eval_freq: int = 1_000, metric: str = "g_mean",
                 best_model_path: str | Path | None = None, batch_size: int = 4_096, verbose: int = 0):
        super().__init__(best_model_path, verbose)
        self.eval_freq = positive_int(eval_freq, "eval_freq")
        self.batch_size = positive_int(batch_size, "batch_size")
        if metric not in SELECTION_METRICS:
            raise ValueError(f"metric must be one of {SELECTION_METRICS}, got {metric!r}")
        self.metric = metric
        X = np.asarray(X_val)
        y = np.asarray(y_val)
        if X.ndim < 2 or X.shape[0] == 0:
            raise ValueError(f"X_val must hold one observation per row, got shape {X.shape}")
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y_val must hold one label per row of X_val ({X.shape[0]}), got shape {y.shape}")
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise ValueError(f"y_val must hold integer class labels 0..C-1, got dtype {y.dtype}")
        self.X_val = X
        self.y_val = y.astype(np.int64)
        self.last_scores: dict[str, Any] | None = None
        self._last_eval_step: int | None = None

    def _init_callback(self) -> None:
        space = self.model.observation_space
        shape = tuple(space.shape)
        X = self.X_val
        if X.shape[1:] != shape:
            if int(np.prod(X.shape[1:])) != int(np.prod(shape)):
                raise ValueError(f"X_val rows have shape {X.shape[1:]}, the model observes {shape}")
            X = X.reshape(X.shape[0], *shape)
        if not np.can_cast(X.dtype, space.dtype, casting="same_kind"):
            raise ValueError(f"X_val has dtype {X.dtype}; the model observes {space.dtype}")
        self.X_val = np.ascontiguousarray(X, dtype=space.dtype)
        n_classes = int(self.model.action_space.n)
        if self.y_val.max() >= n_classes:
            raise ValueError(f"y_val holds label {int(self.y_val.max())}; the model has {n_classes} actions")

    def predict(self) -> np.ndarray:
        """Greedy actions of the current model for every validation row, ``int64 [N]``."""
        X = self.X_val
        normalizer = self.model.get_vec_normalize_env()
        if normalizer is not None:
            X = normalizer.normalize_obs(X)
        parts = [self.model.predict(X[start:start + self.batch_size], deterministic=True)[0]
                 for start in range(0, X.shape[0], self.batch_size)]
        return np.concatenate(parts).astype(np.int64)

    def evaluate(self) -> dict[str, Any]:
        """Score the current model now, log the scores and keep it if it is the best.

        Returns:
            :func:`imbalance_gym.metrics.classification_report` of the validation predictions.
        """
        scores = classification_report(self.y_val, self.predict(), n_classes=int(self.model.action_space.n))
        self.last_scores = scores
        self._last_eval_step = int(self.num_timesteps)
        scalars = {k: float(v) for k, v in scores.items() if k != "confusion_matrix"}
        # Small validation sets tie often; as DQNImb, ties break on the other headline metric.
        other = "f_measure" if self.metric == "g_mean" and "f_measure" in scalars else "g_mean"
        improved = self._consider(scalars[self.metric], scalars[other])
        self.history.append({"step": int(self.num_timesteps), **scalars})
        if _has_logger(self.model):  # a model that never trained has none yet
            for name, value in scalars.items():
                self.logger.record(f"eval/{name}", value)
            self.logger.record(f"eval/best_{self.metric}", self.best_score)
            self.logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
            self.logger.dump(self.num_timesteps)
        if self.verbose >= 1:
            flag = " (new best)" if improved else ""
            print(f"eval at {self.num_timesteps} steps: {self.metric}={scalars[self.metric]:.4f}{flag}")
        return scores

    def _on_step(self) -> bool:
        if self.n_calls % self.eval_freq == 0:
            self.evaluate()
        return True

    def _on_training_end(self) -> None:
        if self._last_eval_step != self.num_timesteps:
            self.evaluate()


class AutoSMOTEMetricCallback(_BestModelCallback):
    """Track AutoSMOTE's validation metric (``info["metric"]``) at every episode end.

    Logs ``autosmote/episode_metric`` (mean over the logging window),
    ``autosmote/best_metric`` and ``autosmote/episodes``; the algorithm writes them at
    its next log dump. The best episode's final info (its ``synthetic`` rows,
    ``provenance``, ``counts`` ...) is kept as :attr:`best_info`: the search result
    AutoSMOTE returns. Works with any number of envs.

    Args:
        info_key: the final-info key holding the metric.
        best_model_path: where to save the model after its best episode (``model.save``).
        verbose: 1 prints each new best.

    Attributes:
        history: one dict per finished episode: ``step``, ``episode``, ``metric``.
        best_score, best_step, best_policy_state, best_info: the best episode so far.
        n_episodes: episodes finished.

    Raises:
        ValueError: during training, when an episode ends without ``info[info_key]``.
    """

    def __init__(self, *, info_key: str = "metric", best_model_path: str | Path | None = None,
                 verbose: int = 0):
        super().__init__(best_model_path, verbose)
        if not isinstance(info_key, str):
            raise TypeError(f"info_key must be a string, got {info_key!r}")
        self.info_key = info_key
        self.best_info: dict[str, Any] | None = None
        self.n_episodes = 0

    def _on_step(self) -> bool:
        dones = self.locals["dones"]
        infos = self.locals["infos"]
        for i in np.flatnonzero(dones).tolist():
            info = infos[i]
            if self.info_key not in info:
                raise ValueError(
                    f"an episode ended without info[{self.info_key!r}]: AutoSMOTEMetricCallback "
                    "tracks the AutoSMOTE environments' final metric"
                )
            value = float(info[self.info_key])
            self.n_episodes += 1
            self.history.append({"step": int(self.num_timesteps), "episode": self.n_episodes,
                                 "metric": value})
            if self._consider(value):
                self.best_info = dict(info)
                if self.verbose >= 1:
                    print(f"episode {self.n_episodes} at {self.num_timesteps} steps: new best "
                          f"{self.info_key}={value:.4f}")
            self.logger.record_mean("autosmote/episode_metric", value)
        if self.n_episodes:
            self.logger.record("autosmote/best_metric", self.best_score)
            self.logger.record("autosmote/episodes", self.n_episodes)
        return True
