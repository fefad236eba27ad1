"""Run directories and the three trainers behind ``imbalance-gym train``.

A run directory holds everything ``evaluate``, ``plot`` and ``train --resume`` need::

    RUN_DIR/
      config.json       the resolved config: trainer, run settings, the agent's own config
      checkpoint.zip    DQNimb (DQNImb.save) or SB3 (model.save): the latest weights
      checkpoint.pt     AutoSMOTE (HierarchicalAgent.save)
      best.zip          SB3 on the ICMDP: the model with the best validation score
      best_synthetic.npz  SB3 on AutoSMOTE: the synthetic rows of the best episode
      metrics.csv       the learning curve, one row per validation pass or episode
      logs/             TensorBoard event files when tensorboard is installed
                        (AutoSMOTE also keeps its per-episode progress.csv there)

Paths inside ``config.json`` are relative to the run directory, so it can be moved.

Each trainer turns a resolved config into an agent, trains it up to the run's target
(``steps`` or ``episodes``, counted over the run's whole life), saves it, and rebuilds
it for evaluation. The agents' own config dataclasses (``DQNImbConfig``,
``HierarchicalConfig``) and SB3's constructor arguments are the only configs.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.cli._common import UsageError

__all__ = ["CONFIG_FILE", "METRICS_FILE", "RunConfig", "TRAINERS", "read_metrics", "read_run"]

RUN_FORMAT = "imbalance_gym.run"
RUN_VERSION = 1
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.csv"
LOG_DIR = "logs"

ICMDP_ID = "imbalance_gym/ICMDP-v0"
AUTOSMOTE_ID = "imbalance_gym/AutoSMOTE-v0"
AUTOSMOTE_FLAT_ID = "imbalance_gym/AutoSMOTE-Flat-v0"

TASK_DEFAULTS = {"dataset": None, "ratio": None, "imbalance_ratio": None, "seed": 0, "data_home": None,
                 "threads": 1}
"""Run settings every trainer has. ``threads``: torch CPU threads of the training process
(1 is fastest for these small networks on a shared CPU)."""

SELECTION_METRICS = ("g_mean", "f_measure", "macro_f1", "mcc")
"""Validation metrics that pick the best ICMDP policy (DQNImbConfig.selection_metric,
agents.sb3.SELECTION_METRICS); spelled out here so that parsing flags needs no torch."""


# --------------------------------------------------------------------------------------
# The resolved config of a run
# --------------------------------------------------------------------------------------
@dataclass
class RunConfig:
    """What ``config.json`` holds.

    Attributes:
        trainer: ``"dqnimb"``, ``"autosmote"`` or ``"sb3"``.
        run: run settings (task, budget, reward) that are not fields of the agent's config.
        agent: the agent's own config as a plain dict (``DQNImbConfig.to_dict()``,
            ``HierarchicalConfig.to_dict()`` with run-relative paths, or SB3 keyword arguments).
        command: the command line that wrote it last.
    """

    trainer: str
    run: dict
    agent: dict
    command: str = ""

    def to_json(self) -> str:
        from importlib.metadata import PackageNotFoundError, version

        versions = {"python": sys.version.split()[0]}
        for name in ("imbalance-gym", "torch", "stable-baselines3", "sb3-contrib", "scikit-learn", "numpy"):
            try:
                versions[name] = version(name)
            except PackageNotFoundError:
                pass
        return json.dumps({"format": RUN_FORMAT, "version": RUN_VERSION, "trainer": self.trainer,
                           "run": self.run, "agent": self.agent, "command": self.command,
                           "versions": versions}, indent=2) + "\n"


def read_run(run_dir: str | Path) -> RunConfig:
    """The :class:`RunConfig` of a run directory, or a :class:`UsageError` saying what is wrong."""
    run_dir = Path(run_dir)
    path = run_dir / CONFIG_FILE
    if not run_dir.is_dir():
        raise UsageError(f"run directory {str(run_dir)!r} does not exist")
    if not path.is_file():
        raise UsageError(f"{str(run_dir)!r} is not a run directory (no {CONFIG_FILE}; make one with "
                         "`imbalance-gym train ... --out DIR`)")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot read {str(path)!r}: {err}") from None
    if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
        raise UsageError(f"{str(path)!r} is not an imbalance-gym run config")
    if (data.get("version") != RUN_VERSION or data.get("trainer") not in TRAINERS
            or not isinstance(data.get("run"), dict) or not isinstance(data.get("agent"), dict)):
        raise UsageError(f"{str(path)!r} has version {data.get('version')!r} / trainer "
                         f"{data.get('trainer')!r}, which this version cannot read")
    return RunConfig(data["trainer"], dict(data["run"]), dict(data["agent"]), data.get("command", ""))


def write_run(run_dir: Path, config: RunConfig) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / CONFIG_FILE).write_text(config.to_json())


def read_metrics(run_dir: str | Path):
    """The learning curve of a run as a DataFrame (empty when none was written yet)."""
    import pandas as pd

    path = Path(run_dir) / METRICS_FILE
    if not path.is_file() or path.stat().st_size == 0:
        return pd.DataFrame()
    return pd.read_csv(path)


def _write_metrics(run_dir: Path, rows: list[dict]) -> None:
    import pandas as pd

    pd.DataFrame(rows).to_csv(run_dir / METRICS_FILE, index=False)


def _tensorboard(run_dir: Path):
    """A TensorBoard ``SummaryWriter`` on ``RUN_DIR/logs``, or None without tensorboard."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(log_dir=str(run_dir / LOG_DIR))


def _log_rows(run_dir: Path, rows: list[dict], x: str, prefix: str, after: float) -> None:
    """Scalars of the rows with ``row[x] > after`` to TensorBoard (when installed)."""
    writer = _tensorboard(run_dir)
    if writer is None:
        return
    with writer:
        for row in rows:
            if row[x] <= after:
                continue
            for key, value in row.items():
                if key != x and isinstance(value, (int, float)) and math.isfinite(value):
                    writer.add_scalar(f"{prefix}/{key}", value, int(row[x]))


def metric_report(y_true, y_pred) -> dict:
    """Test metrics of binary predictions (:func:`imbalance_gym.metrics.classification_report`)."""
    from imbalance_gym.metrics import classification_report

    return classification_report(np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64),
                                 n_classes=2)


def score_synthetic(base_env, synthetic: np.ndarray, random_state: int, X_test, y_test) -> dict[str, dict]:
    """Refit the AutoSMOTE env's base classifier on train + ``synthetic`` rows; test metrics.

    Also scores the classifier fit on the training rows alone (same seed) as a reference.
    """
    from imbalance_gym.classifiers import make_classifier

    p = base_env.problem
    X_fit = np.concatenate([base_env.X_train, np.asarray(synthetic, dtype=base_env.X_train.dtype)])
    y_fit = np.concatenate([base_env.y_train, np.ones(len(synthetic), dtype=base_env.y_train.dtype)])
    X_test = np.asarray(X_test, dtype=base_env.X_train.dtype)
    out = {}
    for label, (X, y) in (("resampled", (X_fit, y_fit)), ("no resampling", (base_env.X_train, base_env.y_train))):
        clf = make_classifier(p.classifier, random_state).fit(X, y)
        out[label] = metric_report(y_test, clf.predict(X_test))
    return out


def _running_best(rows: list[dict], metric: str, out: str) -> None:
    best = -math.inf
    for row in rows:
        value = row.get(metric)
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            best = max(best, float(value))
        row[out] = best if best > -math.inf else None


# --------------------------------------------------------------------------------------
# Trainers
# --------------------------------------------------------------------------------------
@dataclass
class TrainResult:
    """What one ``train`` call did (for the summary line)."""

    done: int
    target: int
    unit: str
    best: float | None
    interrupted: bool = False


class Trainer:
    """One ``imbalance-gym train`` subcommand: config resolution, training, evaluation.

    Class attributes:
        name: the subcommand.
        checkpoint: file name of the checkpoint inside the run directory.
        run_defaults: the run settings and their defaults (besides :data:`TASK_DEFAULTS`).
        flags: command-line ``dest`` -> ``("run" | "agent", key)``: where a flag's value goes.
        resumable: keys (``"run.steps"``, ``"agent.device"`` ...) a resumed run may change.
    """

    name: str = ""
    checkpoint: str = ""
    run_defaults: dict[str, Any] = {}
    flags: dict[str, tuple[str, str]] = {}
    resumable: frozenset[str] = frozenset()

    # ---- config -----------------------------------------------------------------------
    def agent_defaults(self, run: dict) -> dict[str, Any]:
        """The agent config's fields and their defaults (before files and flags)."""
        raise NotImplementedError

    def validate_run(self, run: dict) -> None:
        """Checks of the run settings beyond their argparse types (raise UsageError)."""

    def make_agent_config(self, agent: dict, run: dict, run_dir: Path):
        """The validated agent config object; raises ValueError/TypeError naming a bad field."""
        raise NotImplementedError

    def target(self, config: RunConfig) -> int:
        """Steps or episodes the run should have reached when ``train`` returns."""
        raise NotImplementedError

    def unit(self, config: RunConfig) -> str:
        return "steps"

    def curve(self, config: RunConfig) -> tuple[str, str]:
        """``(x column, default y column)`` of the run's ``metrics.csv``."""
        raise NotImplementedError

    # ---- work -------------------------------------------------------------------------
    def train(self, run_dir: Path, config: RunConfig, task, resume: bool, progress: bool) -> TrainResult:
        """Build (or load) the agent, write ``config.json``, train up to the target, save."""
        raise NotImplementedError

    def evaluate(self, run_dir: Path, config: RunConfig, task, device: str | None) -> dict[str, dict]:
        """Test metrics of the saved run: ``{column label: classification report}``."""
        raise NotImplementedError

    # ---- shared helpers ---------------------------------------------------------------
    def checkpoint_path(self, run_dir: Path) -> Path:
        return run_dir / self.checkpoint

    def require_checkpoint(self, run_dir: Path) -> Path:
        path = self.checkpoint_path(run_dir)
        if not path.is_file():
            raise UsageError(f"run directory {str(run_dir)!r} has no checkpoint ({self.checkpoint}); "
                             "the run stopped before saving one")
        return path


def _learn(learn, remaining: int) -> bool:
    """Call ``learn()`` unless nothing remains; True when Ctrl-C stopped it (the caller saves)."""
    if remaining <= 0:
        return False
    try:
        learn()
    except KeyboardInterrupt:
        return True
    return False


def _dataclass_defaults(cls) -> dict[str, Any]:
    """Field defaults of a config dataclass as JSON values (tuples as lists)."""
    out = {}
    for f in dataclasses.fields(cls):
        value = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def icmdp_env(task, num_envs: int):
    """The ICMDP vector env of a task's training split (DQNimb's learners collect from it)."""
    import gymnasium as gym

    import imbalance_gym  # noqa: F401  (registers the ids)

    return gym.make_vec(ICMDP_ID, num_envs=num_envs, X=task.X_train, y=task.y_train)


def autosmote_env(task, *, classifier: str, metric: str, seed: int, G1: int | None = None, G2: int = 10,
                  K: int = 30, flat: bool = False):
    """The AutoSMOTE env of a task: synthetic rows for its training split, reward on its validation split."""
    import gymnasium as gym

    import imbalance_gym  # noqa: F401

    return gym.make(AUTOSMOTE_FLAT_ID if flat else AUTOSMOTE_ID, X=task.X_train, y=task.y_train,
                    X_val=task.X_val, y_val=task.y_val, classifier=classifier, metric=metric,
                    G1=G1, G2=G2, K=K, seed=seed)


def _search_space(run: dict) -> dict[str, Any]:
    """The :func:`autosmote_env` arguments held in a run's settings."""
    return {k: run[k] for k in ("classifier", "metric", "seed", "G1", "G2", "K")}


def _check_autosmote_run(run: dict) -> None:
    from imbalance_gym.classifiers import check_classifier, check_metric

    check_classifier(run["classifier"])
    check_metric(run["metric"])
    for key in ("G2", "K"):
        if isinstance(run[key], bool) or not isinstance(run[key], int) or run[key] < 1:
            raise UsageError(f"{key} must be an int >= 1, got {run[key]!r}")
    if run["G1"] is not None and (isinstance(run["G1"], bool) or not isinstance(run["G1"], int) or run["G1"] < 1):
        raise UsageError(f"G1 must be an int >= 1 (or left out: 4 IR / G2), got {run['G1']!r}")


def _check_count(run: dict, key: str) -> None:
    value = run[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{key} must be an int >= 1, got {value!r}")


# ---- DQNimb -----------------------------------------------------------------------------
class DQNImbTrainer(Trainer):
    """``train dqnimb``: :class:`agents.dqn.DQNImb` on an ICMDP vector env of the training split.

    Resume restores the Q-network, target network and Adam state, the step and update
    counters, the validation history and the best score, and continues the epsilon
    schedule towards the same total. Not saved: the replay memory (it refills from the
    first resumed step) and the env lanes' positions (they restart from a reset).
    """

    name = "dqnimb"
    checkpoint = "checkpoint.zip"
    run_defaults: dict[str, Any] = {}
    flags = {"steps": ("agent", "total_timesteps"), "metric": ("agent", "selection_metric"),
             "eval_freq": ("agent", "eval_freq"), "device": ("agent", "device")}
    resumable = frozenset({"run.data_home", "run.threads", "agent.total_timesteps", "agent.device"})

    def agent_defaults(self, run: dict) -> dict[str, Any]:
        from agents.dqn import DQNImbConfig

        return _dataclass_defaults(DQNImbConfig)

    def make_agent_config(self, agent: dict, run: dict, run_dir: Path):
        from agents.dqn import DQNImbConfig

        return DQNImbConfig.from_dict(agent)

    def target(self, config: RunConfig) -> int:
        return int(config.agent["total_timesteps"])

    def curve(self, config: RunConfig) -> tuple[str, str]:
        return "step", config.agent["selection_metric"]

    def train(self, run_dir, config, task, resume, progress):
        from agents.dqn import DQNImb

        cfg = self.make_agent_config(config.agent, config.run, run_dir)
        env = icmdp_env(task, cfg.num_envs)
        eval_data = (task.X_val, task.y_val)
        ckpt = self.checkpoint_path(run_dir)
        if resume:
            agent = DQNImb.load(ckpt, env=env, device=cfg.device, eval_data=eval_data)
        else:
            agent = DQNImb(env, cfg, seed=config.run["seed"], eval_data=eval_data)
        write_run(run_dir, config)
        start = agent.num_timesteps
        remaining = self.target(config) - start
        interrupted = _learn(lambda: agent.learn(remaining, progress_bar=progress), remaining)
        if remaining > 0:
            agent.save(ckpt)
            _write_metrics(run_dir, agent.history)
            _log_rows(run_dir, agent.history, "step", "dqnimb", after=start)
        best = None if agent.best_score is None else agent.best_score[0]
        return TrainResult(agent.num_timesteps, self.target(config), "steps", best, interrupted)

    def evaluate(self, run_dir, config, task, device):
        from agents.dqn import DQNImb

        agent = DQNImb.load(self.require_checkpoint(run_dir), device=device or config.agent["device"])
        return {"DQNimb": metric_report(task.y_test, agent.predict(task.X_test)[0])}


# ---- AutoSMOTE (hierarchical) -----------------------------------------------------------
class AutoSMOTETrainer(Trainer):
    """``train autosmote``: :class:`agents.hierarchical.HierarchicalAgent` on AutoSMOTE-v0.

    The agent checkpoints itself every ``checkpoint_every`` episodes, at the end and when
    interrupted. Resume restores everything it saves: the three policies, their Adam
    states, the weights the next episode acts with, the buffered steps, the episode and
    update counters, the history and the best synthetic set; with ``num_actors`` 0 or 1
    the resumed run gives exactly the episodes an uninterrupted run would.
    """

    name = "autosmote"
    checkpoint = "checkpoint.pt"
    run_defaults = {"episodes": 100, "classifier": "svm", "metric": "macro_f1", "G1": None, "G2": 10, "K": 30}
    flags = {"episodes": ("run", "episodes"), "classifier": ("run", "classifier"), "metric": ("run", "metric"),
             "G1": ("run", "G1"), "G2": ("run", "G2"), "K": ("run", "K"), "device": ("agent", "device"),
             "num_actors": ("agent", "num_actors"), "ablation": ("agent", "ablation"),
             "backend": ("agent", "backend"), "ray_address": ("agent", "ray_address")}
    resumable = frozenset({"run.data_home", "run.threads", "run.episodes", "agent.device",
                           "agent.num_actors", "agent.backend", "agent.ray_address", "agent.max_in_flight",
                           "agent.learner_threads",
                           "agent.start_method", "agent.checkpoint_every", "agent.max_actor_restarts"})
    # Set by the run directory, never by the user: paths relative to it.
    _PATHS = {"checkpoint_path": "checkpoint.pt", "log_dir": LOG_DIR}

    def agent_defaults(self, run: dict) -> dict[str, Any]:
        from agents.hierarchical import HierarchicalConfig

        # One actor process: overlaps the classifier fits with learning and stays
        # reproducible (more actors are faster but their order depends on timing).
        return {**_dataclass_defaults(HierarchicalConfig), "num_actors": 1, **self._PATHS}

    def validate_run(self, run: dict) -> None:
        _check_autosmote_run(run)
        _check_count(run, "episodes")

    def make_agent_config(self, agent: dict, run: dict, run_dir: Path):
        from agents.hierarchical import HierarchicalConfig

        for key, value in self._PATHS.items():
            if agent.get(key) != value:
                raise UsageError(f"[agent] {key} is set by the run directory (--out); remove it from the config")
        if agent.get("backend") == "ray" and importlib.util.find_spec("ray") is None:
            raise UsageError("--backend ray needs the ray package, which is not installed: "
                             "pip install 'imbalance-gym[distributed]'")
        paths = {key: str(run_dir / value) for key, value in self._PATHS.items()}
        return HierarchicalConfig.from_dict({**agent, **paths})

    def target(self, config: RunConfig) -> int:
        return int(config.run["episodes"])

    def unit(self, config: RunConfig) -> str:
        return "episodes"

    def curve(self, config: RunConfig) -> tuple[str, str]:
        return "episode", "metric"

    def train(self, run_dir, config, task, resume, progress):
        from agents.hierarchical import HierarchicalAgent

        cfg = self.make_agent_config(config.agent, config.run, run_dir)
        cfg = cfg.replace(progress_bar=progress)
        env = autosmote_env(task, flat=cfg.ablation == "flat", **_search_space(config.run))
        ckpt = self.checkpoint_path(run_dir)
        if resume:
            agent = HierarchicalAgent.load(ckpt, env, config=cfg)
        else:
            agent = HierarchicalAgent(env, cfg, seed=config.run["seed"])
        write_run(run_dir, config)
        start = agent.num_episodes
        remaining = self.target(config) - start
        interrupted = _learn(lambda: agent.learn(remaining), remaining)  # checkpoints itself, also on Ctrl-C
        if remaining > 0:
            _write_metrics(run_dir, self._episode_rows(run_dir, agent.history))
        best = None if agent.best_ is None else agent.best_.metric
        return TrainResult(agent.num_episodes, self.target(config), "episodes", best, interrupted)

    @staticmethod
    def _episode_rows(run_dir: Path, history: list[dict]) -> list[dict]:
        """Every episode's row: the agent's ``history`` (restored from the checkpoint, so it
        has each episode the checkpoint counts) for the newest ``history_limit`` episodes,
        and its ``logs/progress.csv`` for older ones."""
        import pandas as pd

        rows = [dict(r) for r in history]
        log = run_dir / LOG_DIR / "progress.csv"
        if log.is_file() and log.stat().st_size:
            first = rows[0]["episode"] if rows else math.inf
            older = pd.read_csv(log)
            rows = older[older["episode"] < first].to_dict("records") + rows
        return rows

    def evaluate(self, run_dir, config, task, device):
        from agents.hierarchical import HierarchicalAgent

        cfg = self.make_agent_config(config.agent, config.run, run_dir)
        if device:
            cfg = cfg.replace(device=device)
        env = autosmote_env(task, flat=cfg.ablation == "flat", **_search_space(config.run))
        agent = HierarchicalAgent.load(self.require_checkpoint(run_dir), env, config=cfg)
        if agent.best_ is None:
            raise UsageError(f"run {str(run_dir)!r} has no finished episode yet")
        scores = score_synthetic(env.unwrapped, agent.best_.synthetic, agent.best_.random_state,
                                 task.X_test, task.y_test)
        clf = config.run["classifier"]
        return {f"{clf} + AutoSMOTE": scores["resampled"], f"{clf}, no resampling": scores["no resampling"]}


# ---- Stable-Baselines3 ------------------------------------------------------------------
SB3_RESERVED = ("policy", "env", "seed", "tensorboard_log", "verbose", "_init_setup_model",
                "replay_buffer_class", "rollout_buffer_class")
"""SB3 constructor arguments the command line sets itself (or that TOML cannot express)."""

ICMDP_ALGOS = ("dqn", "ppo", "a2c")
AUTOSMOTE_ALGOS = ("maskable_ppo",)

_DQNIMB_NET = {"net_arch": [256, 256]}  # DQNImbConfig.hidden_sizes
SB3_DEFAULTS: dict[str, dict[str, Any]] = {
    # DQNimb's settings (sec. IV-D) where SB3 has them, so that `train sb3 --algo dqn` and
    # `train dqnimb` differ in the implementation only: discount 0.1, replay 50 000 (SB3's
    # 1 000 000 would also preallocate gigabytes for image tasks), batch 64, Adam 2.5e-4,
    # epsilon 1 -> 0.01 over 10%, one gradient step per transition whatever n_envs is,
    # a target copy every 1 000 updates, no gradient clipping, the same 256-256 MLP.
    "dqn": {"gamma": 0.1, "buffer_size": 50_000, "batch_size": 64, "learning_rate": 2.5e-4,
            "learning_starts": 1_000, "exploration_final_eps": 0.01, "train_freq": 1, "gradient_steps": -1,
            "target_update_interval": 1_000, "max_grad_norm": 1e10, "policy_kwargs": _DQNIMB_NET},
    "ppo": {"gamma": 0.1, "policy_kwargs": _DQNIMB_NET},
    "a2c": {"gamma": 0.1, "policy_kwargs": _DQNIMB_NET},
    # One terminal reward per episode: no discount (AutoSMOTE's learner uses gamma = 1 too).
    "maskable_ppo": {"gamma": 1.0},
}


class SB3Trainer(Trainer):
    """``train sb3``: an SB3 / sb3-contrib algorithm on the ICMDP (dqn, ppo, a2c) or on
    AutoSMOTE-v0 (maskable_ppo), through :mod:`agents.sb3`.

    Resume loads ``checkpoint.zip`` with SB3 (policy weights, optimizer state, the step
    counter and the hyperparameters) and continues the learning-rate and exploration
    schedules; the curve and the best model / best synthetic set continue from the run
    directory. Not saved: DQN's replay buffer, the current rollout and the env positions
    (a resumed run restarts its envs from a reset).
    """

    name = "sb3"
    checkpoint = "checkpoint.zip"
    run_defaults = {"algo": None, "steps": 100_000, "n_envs": None, "eval_freq": 1_000, "metric": None,
                    "classifier": None, "G1": None, "G2": None, "K": None}
    flags = {"algo": ("run", "algo"), "steps": ("run", "steps"), "n_envs": ("run", "n_envs"),
             "eval_freq": ("run", "eval_freq"), "metric": ("run", "metric"), "classifier": ("run", "classifier"),
             "G1": ("run", "G1"), "G2": ("run", "G2"), "K": ("run", "K"), "device": ("agent", "device")}
    resumable = frozenset({"run.data_home", "run.threads", "run.steps", "agent.device"})

    @staticmethod
    def on_autosmote(run: dict) -> bool:
        return run.get("algo") in AUTOSMOTE_ALGOS

    def agent_defaults(self, run: dict) -> dict[str, Any]:
        from agents.sb3 import ALGORITHMS

        algo = run["algo"]
        out = {}
        for name, param in inspect.signature(ALGORITHMS[algo].__init__).parameters.items():
            if name == "self" or name in SB3_RESERVED or param.default is inspect.Parameter.empty:
                continue
            try:
                json.dumps(param.default)
            except TypeError:
                continue
            out[name] = param.default
        return {**out, **json.loads(json.dumps(SB3_DEFAULTS.get(algo, {})))}  # a copy

    def validate_run(self, run: dict) -> None:
        algo = run["algo"]
        if algo not in ICMDP_ALGOS + AUTOSMOTE_ALGOS:
            raise UsageError(f"--algo must be dqn, ppo or a2c (on the ICMDP) or maskable_ppo (on AutoSMOTE), "
                             f"got {algo!r}")
        if self.on_autosmote(run):
            run["n_envs"] = run["n_envs"] or 1
            run["metric"] = run["metric"] or "macro_f1"
            run["classifier"] = run["classifier"] or "svm"
            run["G2"] = 10 if run["G2"] is None else run["G2"]
            run["K"] = 30 if run["K"] is None else run["K"]
            _check_autosmote_run(run)
        else:
            given = [f"--{k}" for k in ("classifier", "G1", "G2", "K") if run[k] is not None]
            if given:
                raise UsageError(f"{', '.join(given)} only apply to --algo maskable_ppo (AutoSMOTE); "
                                 f"--algo {algo} trains on the ICMDP")
            run["n_envs"] = run["n_envs"] or 8
            run["metric"] = run["metric"] or "g_mean"
            if run["metric"] not in SELECTION_METRICS:
                raise UsageError(f"--metric on the ICMDP is the validation metric that picks the best model, "
                                 f"one of {SELECTION_METRICS}; got {run['metric']!r}")
        for key in ("steps", "n_envs", "eval_freq"):
            _check_count(run, key)

    def make_agent_config(self, agent: dict, run: dict, run_dir: Path):
        return dict(agent)

    def target(self, config: RunConfig) -> int:
        return int(config.run["steps"])

    def curve(self, config: RunConfig) -> tuple[str, str]:
        if self.on_autosmote(config.run):
            return "episode", "metric"
        return "step", config.run["metric"]

    def _env(self, task, run: dict):
        from agents.sb3 import make_vec_env

        if self.on_autosmote(run):
            space = _search_space(run)
            return make_vec_env(AUTOSMOTE_ID, n_envs=run["n_envs"], seed=space.pop("seed"), X=task.X_train,
                                y=task.y_train, X_val=task.X_val, y_val=task.y_val, **space)
        return make_vec_env(ICMDP_ID, n_envs=run["n_envs"], seed=run["seed"], X=task.X_train, y=task.y_train)

    @staticmethod
    def _load_kwargs(agent: dict) -> dict[str, Any]:
        """What :func:`agents.sb3.load_model` needs to rebuild a saved model as ``build_model`` made it."""
        extra = {"policy_kwargs": agent.get("policy_kwargs"), "network": agent.get("network", "auto")}
        if "train_freq" in agent:
            extra["custom_objects"] = {"train_freq": agent["train_freq"]}
        return extra

    def build_model(self, run: dict, agent: dict, venv, tensorboard_log: str | None):
        """A fresh model; SB3's own checks of the arguments become one-line errors."""
        from agents.sb3 import make_model

        try:
            return make_model(run["algo"], venv, seed=run["seed"], verbose=0, tensorboard_log=tensorboard_log,
                              **agent)
        except (AssertionError, TypeError, ValueError, KeyError) as err:
            raise UsageError(f"{run['algo']} rejected its [agent] settings: {err}") from None

    def train(self, run_dir, config, task, resume, progress):
        from stable_baselines3.common.callbacks import CallbackList

        from agents.cli._sb3_progress import ProgressCallback
        from agents.sb3 import AutoSMOTEMetricCallback, ICMDPEvalCallback, load_model

        run, agent = config.run, config.agent
        venv = self._env(task, run)
        tb = str(run_dir / LOG_DIR) if _tensorboard_available() else None
        ckpt = self.checkpoint_path(run_dir)
        if resume:
            model = load_model(run["algo"], ckpt, env=venv, device=agent["device"], **self._load_kwargs(agent))
            if tb is not None:
                model.tensorboard_log = tb
        else:
            model = self.build_model(run, agent, venv, tb)
        write_run(run_dir, config)
        previous = read_metrics(run_dir).to_dict("records") if resume else []
        start = int(model.num_timesteps)
        remaining = self.target(config) - start
        autosmote = self.on_autosmote(run)
        if autosmote:
            tracker = AutoSMOTEMetricCallback()
        else:
            tracker = ICMDPEvalCallback(task.X_val, task.y_val, eval_freq=max(1, run["eval_freq"] // run["n_envs"]),
                                        metric=run["metric"])
        interrupted = False
        if remaining > 0:
            bar = ProgressCallback(self.target(config), start, "SB3 " + run["algo"], progress)
            try:
                interrupted = _learn(lambda: model.learn(remaining, callback=CallbackList([tracker, bar]),
                                                         reset_num_timesteps=not resume, tb_log_name="sb3"),
                                     remaining)
            finally:
                bar.close()
            model.save(ckpt)
            rows = previous + self._new_rows(tracker, previous, autosmote)
            if autosmote:
                _running_best(rows, "metric", "best")
                self._keep_best_synthetic(run_dir, tracker, previous)
            else:
                _running_best(rows, run["metric"], "best_" + run["metric"])
                self._keep_best_model(run_dir, model, tracker, previous, run["metric"])
            _write_metrics(run_dir, rows)
            x = "episode" if autosmote else "step"
            _log_rows(run_dir, rows, x, "sb3", after=previous[-1][x] if previous else -math.inf)
        rows = read_metrics(run_dir)
        col = "best" if autosmote else "best_" + run["metric"]
        best = float(rows[col].iloc[-1]) if len(rows) and col in rows else None
        return TrainResult(int(model.num_timesteps), self.target(config), "steps", best, interrupted)

    @staticmethod
    def _new_rows(tracker, previous: list[dict], autosmote: bool) -> list[dict]:
        rows = [dict(r) for r in tracker.history]
        if autosmote:  # 0-based episode index (as the hierarchical agent's), continued across resumes
            offset = int(previous[-1]["episode"]) + 1 if previous else 0
            for r in rows:
                r["episode"] += offset - 1
        return rows

    @staticmethod
    def _keep_best_model(run_dir: Path, model, tracker, previous: list[dict], metric: str) -> None:
        """``best.zip``: the policy with the best validation key over the run's whole life."""
        if tracker.best_policy_state is None:
            return
        other = "f_measure" if metric == "g_mean" else "g_mean"

        def key(row):
            return tuple(-math.inf if row.get(k) is None or math.isnan(row[k]) else float(row[k])
                         for k in (metric, other))

        before = max((key(r) for r in previous), default=None)
        now = max(key(r) for r in tracker.history)
        if before is None or now > before or not (run_dir / "best.zip").is_file():
            tracker.restore_best()
            model.save(run_dir / "best.zip")

    @staticmethod
    def _keep_best_synthetic(run_dir: Path, tracker, previous: list[dict]) -> None:
        """``best_synthetic.npz``: the rows of the best episode over the run's whole life."""
        info = tracker.best_info
        if info is None:
            return
        before = max((float(r["metric"]) for r in previous), default=-math.inf)
        path = run_dir / "best_synthetic.npz"
        if tracker.best_score > before or not path.is_file():
            prov = info["provenance"]
            np.savez(path, synthetic=np.asarray(info["synthetic"]), source=np.asarray(prov["source"]),
                     neighbour=np.asarray(prov["neighbour"]), weight=np.asarray(prov["weight"]),
                     metric=np.float64(info["metric"]), random_state=np.int64(info["random_state"]))

    def evaluate(self, run_dir, config, task, device):
        from agents.sb3 import load_model

        run = config.run
        if self.on_autosmote(run):
            path = run_dir / "best_synthetic.npz"
            if not path.is_file():
                raise UsageError(f"run {str(run_dir)!r} has no finished episode yet (no {path.name})")
            with np.load(path, allow_pickle=False) as best:
                synthetic, random_state = best["synthetic"], int(best["random_state"])
            env = autosmote_env(task, **_search_space(run))
            scores = score_synthetic(env.unwrapped, synthetic, random_state, task.X_test, task.y_test)
            clf = run["classifier"]
            return {f"{clf} + MaskablePPO": scores["resampled"], f"{clf}, no resampling": scores["no resampling"]}
        path = run_dir / "best.zip"
        if not path.is_file():
            path = self.require_checkpoint(run_dir)
        model = load_model(run["algo"], path, env=self._env(task, run),
                           device=device or config.agent.get("device", "auto"), **self._load_kwargs(config.agent))
        X = np.asarray(task.X_test, dtype=model.observation_space.dtype)
        pred = np.concatenate([model.predict(X[i:i + 4096], deterministic=True)[0]
                               for i in range(0, X.shape[0], 4096)])
        return {f"SB3 {run['algo']}": metric_report(task.y_test, pred)}


def _tensorboard_available() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


TRAINERS: dict[str, Trainer] = {t.name: t for t in (DQNImbTrainer(), AutoSMOTETrainer(), SB3Trainer())}
"""The trainers by subcommand name."""


def trainer_of(config: RunConfig) -> Trainer:
    return TRAINERS[config.trainer]

