"""Evaluation callbacks: their metrics equal direct computations; logging; best model kept."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.logger import configure

from agents.sb3 import AutoSMOTEMetricCallback, ICMDPEvalCallback, load_model, make_model, make_vec_env
from imbalance_gym import classifiers, metrics
from imbalance_gym.datasets import load_task
from imbalance_gym.envs import ICMDPEnv

ICMDP = "imbalance_gym/ICMDP-v0"
AUTOSMOTE = "imbalance_gym/AutoSMOTE-v0"


def read_log(folder, column):
    """Non-empty values of one column of SB3's progress.csv."""
    with open(folder / "progress.csv", newline="") as f:
        return [float(row[column]) for row in csv.DictReader(f) if row.get(column)]


@pytest.fixture(scope="module")
def task():
    return load_task("breast_cancer", ratio=0.1, seed=0)


@pytest.fixture(scope="module")
def trained(task, tmp_path_factory):
    """A small DQN on breast_cancer with the evaluation callback, logging to CSV."""
    folder = tmp_path_factory.mktemp("dqn_eval")
    venv = make_vec_env(ICMDP, n_envs=4, seed=0, X=task.X_train, y=task.y_train)
    model = make_model("dqn", venv, seed=0, device="cpu", learning_starts=100, buffer_size=5_000,
                       batch_size=32, exploration_fraction=0.3, policy_kwargs={"net_arch": [32]})
    model.set_logger(configure(str(folder), ["csv"]))
    callback = ICMDPEvalCallback(task.X_val, task.y_val, eval_freq=40, best_model_path=folder / "best")
    model.learn(1_200, callback=callback)
    return model, callback, folder


def test_eval_callback_equals_direct_metrics(trained, task):
    model, callback, _ = trained
    assert callback.history[-1]["step"] == model.num_timesteps  # the final policy is scored too
    pred = model.predict(task.X_val, deterministic=True)[0]
    last = callback.history[-1]
    assert last["g_mean"] == metrics.g_mean(task.y_val, pred)
    assert last["f_measure"] == metrics.f_measure(task.y_val, pred)
    assert last["macro_f1"] == metrics.macro_f1(task.y_val, pred)


def test_eval_callback_equals_an_eval_mode_icmdp_pass(trained, task):
    """Batched prediction gives the confusion matrix an evaluation-mode episode accumulates."""
    model, callback, _ = trained
    env = ICMDPEnv(X=task.X_val, y=task.y_val, mode="eval")
    obs, _ = env.reset()
    for _ in range(len(task.y_val)):
        obs, _, terminated, truncated, info = env.step(int(model.predict(obs, deterministic=True)[0]))
        assert not terminated
    assert truncated
    assert_array_equal(info["confusion_matrix"], callback.last_scores["confusion_matrix"])
    assert callback.history[-1]["g_mean"] == metrics.g_mean(confusion=info["confusion_matrix"])


def test_eval_callback_logs_history_and_keeps_the_best(trained, task):
    model, callback, folder = trained
    steps = [h["step"] for h in callback.history]
    assert steps == sorted(steps) and len(steps) == 1_200 // (4 * 40) + 1
    scores = [h["g_mean"] for h in callback.history]
    assert read_log(folder, "eval/g_mean") == pytest.approx(scores, abs=1e-6)
    assert read_log(folder, "eval/best_g_mean")[-1] == pytest.approx(max(scores), abs=1e-6)
    assert callback.best_score == max(scores)
    keys = [(h["g_mean"], h["f_measure"]) for h in callback.history]  # ties break on F-measure
    assert callback.best_step == steps[keys.index(max(keys))]

    saved = load_model("dqn", folder / "best.zip", env=model.get_env(), device="cpu",
                       policy_kwargs={"net_arch": [32]})
    assert metrics.g_mean(task.y_val, saved.predict(task.X_val, deterministic=True)[0]) == callback.best_score
    callback.restore_best()
    assert metrics.g_mean(task.y_val, model.predict(task.X_val, deterministic=True)[0]) == callback.best_score


def test_eval_callback_reshapes_images_and_evaluates_on_demand(tiny_images):
    X, y = tiny_images
    model = make_model("ppo", make_vec_env(ICMDP, X=X, y=y), seed=0, device="cpu", n_steps=8, batch_size=8)
    callback = ICMDPEvalCallback(X[:, 0], y, metric="f_measure", batch_size=7)  # [N, 28, 28] rows
    callback.init_callback(model)
    scores = callback.evaluate()
    pred = model.predict(X, deterministic=True)[0]
    assert scores["f_measure"] == metrics.f_measure(y, pred)
    assert_array_equal(scores["confusion_matrix"], metrics.confusion_matrix(y, pred, 2))
    assert callback.best_score == scores["f_measure"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"metric": "auc"}, "metric must be one of"),
     ({"eval_freq": 0}, "eval_freq must be a positive integer, got 0"),
     ({"batch_size": -3}, "batch_size must be a positive integer, got -3")],
)
def test_eval_callback_rejects_bad_arguments(kwargs, match, tiny_binary):
    X, y = tiny_binary
    with pytest.raises(ValueError, match=match):
        ICMDPEvalCallback(X, y, **kwargs)


def test_eval_callback_rejects_bad_validation_data(tiny_binary):
    X, y = tiny_binary
    with pytest.raises(ValueError, match="one label per row"):
        ICMDPEvalCallback(X, y[:-1])
    model = make_model("a2c", make_vec_env(ICMDP, seed=0, X=X, y=y), seed=0, device="cpu")
    with pytest.raises(ValueError, match=r"X_val rows have shape \(2,\), the model observes \(4,\)"):
        model.learn(10, callback=ICMDPEvalCallback(X[:, :2], y))


# --------------------------------------------------------------------------------------
# AutoSMOTE
# --------------------------------------------------------------------------------------
class FinalMetrics(BaseCallback):
    """Collects info['metric'] of every finished episode, independently of the tested callback."""

    def __init__(self):
        super().__init__()
        self.values = []

    def _on_step(self) -> bool:
        for i in np.flatnonzero(self.locals["dones"]):
            self.values.append(self.locals["infos"][i]["metric"])
        return True


def test_autosmote_callback_tracks_the_best_episode(smote_kwargs, tmp_path):
    venv = make_vec_env(AUTOSMOTE, n_envs=2, seed=0, **smote_kwargs)
    model = make_model("maskable_ppo", venv, seed=0, device="cpu", n_steps=32, batch_size=64,
                       n_epochs=1, policy_kwargs={"net_arch": [32]})
    model.set_logger(configure(str(tmp_path), ["csv"]))
    reference = FinalMetrics()
    callback = AutoSMOTEMetricCallback(best_model_path=tmp_path / "best.zip")
    model.learn(320, callback=CallbackList([reference, callback]))

    assert callback.n_episodes == len(reference.values) > 5
    assert [h["metric"] for h in callback.history] == reference.values
    assert callback.best_score == max(reference.values)
    assert read_log(tmp_path, "autosmote/best_metric")[-1] == pytest.approx(callback.best_score, abs=1e-6)
    assert (tmp_path / "best.zip").is_file()

    # The kept episode's synthetic rows reproduce its score when the classifier is refit.
    best = callback.best_info
    score = classifiers.evaluate(smote_kwargs["X"], smote_kwargs["y"], best["synthetic"],
                                 smote_kwargs["X_val"], smote_kwargs["y_val"], classifier="dt",
                                 metric="macro_f1", random_state=best["random_state"])
    assert score == callback.best_score == best["metric"]


def test_autosmote_callback_needs_the_metric(short_episodes):
    X, y = short_episodes  # 12 rows: an episode ends within 12 steps
    model = make_model("a2c", make_vec_env(ICMDP, seed=0, X=X, y=y), seed=0, device="cpu", n_steps=64)
    with pytest.raises(ValueError, match=r"without info\['metric'\]"):
        model.learn(64, callback=AutoSMOTEMetricCallback())
