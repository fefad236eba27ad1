"""``imbalance-gym train {dqnimb,autosmote,sb3}``: train an agent on a named task into a run directory.

Config resolution, lowest to highest precedence:

1. the agent config's own defaults (``DQNImbConfig``, ``HierarchicalConfig``, the SB3
   algorithm's constructor defaults) and the command line's defaults for run settings;
2. ``--config FILE.toml``: its ``[agent]`` table (fields of that config), then its
   top-level keys, which are the long flag names (``steps``, ``dataset``, ...);
3. the flags given on the command line;
4. ``--set FIELD=VALUE`` for any field of the agent config.

The resolved config is saved as ``RUN_DIR/config.json`` before training starts. With
``--resume`` the saved config is the starting point instead of the defaults, and only
the budget, the device, thread/actor counts and the data home may change.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from agents.cli._common import (
    UsageError,
    add_task_arguments,
    check_dataset_name,
    check_dataset_present,
    check_device,
    load_task,
    nonnegative_int,
    parse_assignments,
    positive_int,
    read_toml,
    status,
    task_summary,
)
from agents.cli._runs import CONFIG_FILE, SELECTION_METRICS, TASK_DEFAULTS, TRAINERS, RunConfig, read_run

_CONFIG_HELP = ("TOML file: top-level keys are these flags' long names (dataset, seed, ...), an [agent] "
                "table any field of the agent's config; flags given here override the file")

_EPILOG = """\
Run directory: config.json (resolved config), the checkpoint, metrics.csv (learning
curve), logs/ (TensorBoard, when installed). Continue an interrupted or finished run
with the same --out and --resume; --steps / --episodes are totals over the run's life."""


def add_parser(sub) -> None:
    train = sub.add_parser("train", help="train DQNimb, AutoSMOTE or an SB3 algorithm into a run directory",
                           description="Train an agent on a named task and save the run (checkpoint, "
                           "resolved config, learning curve).")
    trainers = train.add_subparsers(dest="trainer", metavar="TRAINER", required=True)

    p = _trainer(trainers, "dqnimb", "DQNimb (a DQN that classifies) on the ICMDP",
                 "Train DQNimb (agents.dqn.DQNImb) on the ICMDP of a task's training split; the validation "
                 "split picks the best weights. The [agent] table / --set take DQNImbConfig fields.")
    p.add_argument("--steps", type=positive_int, help="environment transitions in total (DQNImbConfig."
                   "total_timesteps; default 120000)")
    p.add_argument("--metric", choices=SELECTION_METRICS,
                   help="validation metric that picks the best weights (default g_mean)")
    p.add_argument("--eval-freq", type=positive_int, help="transitions between validation passes (default 2000)")

    p = _trainer(trainers, "autosmote", "AutoSMOTE's hierarchical RL oversampler",
                 "Search synthetic minority rows with AutoSMOTE's three-level agent (agents.hierarchical."
                 "HierarchicalAgent); the base classifier's validation metric is the reward. The [agent] "
                 "table / --set take HierarchicalConfig fields.")
    p.add_argument("--episodes", type=positive_int, help="episodes in total, one classifier fit each (default 100)")
    p.add_argument("--classifier", help="base classifier: svm (default), linear_svm, knn, dt, adaboost, mlp, logreg")
    p.add_argument("--metric", help="reward metric on validation: macro_f1 (default), mcc, g_mean, f1, ...")
    _space(p)
    p.add_argument("--num-actors", type=nonnegative_int,
                   help="actor processes (default 1; 0 runs episodes in this process; both reproducible)")
    p.add_argument("--ablation", help="full (default), no_cross_instance, no_instance_specific, no_low_level, "
                   "flat, random")
    p.add_argument("--backend", choices=("local", "ray"),
                   help="where the actors run: local processes (default) or Ray actors (pip install "
                   "'imbalance-gym[distributed]'; --set num_actors=none: one per CPU of the cluster)")
    p.add_argument("--ray-address", help="with --backend ray: the cluster ('auto', 'HOST:PORT', "
                   "'ray://HOST:10001'); default: a local Ray instance")

    p = _trainer(trainers, "sb3", "a Stable-Baselines3 algorithm on the ICMDP or AutoSMOTE",
                 "Train an SB3 / sb3-contrib algorithm: dqn, ppo or a2c on the ICMDP (the validation metric "
                 "picks best.zip), maskable_ppo on AutoSMOTE-v0. The [agent] table / --set take the "
                 "algorithm's constructor arguments.")
    p.add_argument("--algo", help="dqn, ppo, a2c (ICMDP) or maskable_ppo (AutoSMOTE)")
    p.add_argument("--steps", type=positive_int, help="environment transitions in total (default 100000)")
    p.add_argument("--n-envs", type=positive_int, help="parallel envs (default 8 on the ICMDP, 1 on AutoSMOTE)")
    p.add_argument("--eval-freq", type=positive_int,
                   help="ICMDP: transitions between validation passes (default 1000)")
    p.add_argument("--metric", help="ICMDP: validation metric for the best model (g_mean); AutoSMOTE: the "
                   "reward metric (macro_f1)")
    p.add_argument("--classifier", help="AutoSMOTE: base classifier (default svm)")
    _space(p)


def _trainer(trainers, name: str, help: str, description: str) -> argparse.ArgumentParser:
    """One ``train`` subcommand with the flags every trainer has."""
    p = trainers.add_parser(name, help=help, description=description, epilog=_EPILOG)
    _common(p)
    return p


def _common(p: argparse.ArgumentParser) -> None:
    add_task_arguments(p, dataset_help="catalog name, e.g. breast_cancer, digits (bundled) or phoneme")
    p.add_argument("--out", required=True, help="run directory to create (or to continue with --resume)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    p.add_argument("--config", help=_CONFIG_HELP)
    p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="set one field of the agent's config (a TOML value, or none); repeatable")
    p.add_argument("--device", help="torch device: auto (default), cpu, cuda")
    p.add_argument("--threads", type=positive_int, help="torch CPU threads (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(handler=run)


def _space(p: argparse.ArgumentParser) -> None:
    p.add_argument("--G1", type=positive_int, help="largest cross-instance factor (default 4 IR / G2)")
    p.add_argument("--G2", type=positive_int, help="largest instance-specific factor (default 10)")
    p.add_argument("--K", type=positive_int, help="nearest minority neighbours (default 30)")


# --------------------------------------------------------------------------------------
# Config resolution
# --------------------------------------------------------------------------------------
_FLAG_DESTS = ("dataset", "ratio", "imbalance_ratio", "seed", "data_home", "threads")


def _flag_values(trainer, args: argparse.Namespace) -> dict[str, Any]:
    """Settings given on the command line, by long flag name."""
    names = list(_FLAG_DESTS) + list(trainer.flags)
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


def _read_config_file(path: str, trainer) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(top-level settings, [agent] table)`` of a config file, unknown keys refused."""
    data = read_toml(path)
    top = {k.replace("-", "_"): v for k, v in data.items()}
    agent = top.pop("agent", {})
    named = top.pop("trainer", trainer.name)
    if named != trainer.name:
        raise UsageError(f"config file {path!r} is for trainer {named!r}, not {trainer.name!r}")
    if not isinstance(agent, dict):
        raise UsageError(f"config file {path!r}: 'agent' must be a table ([agent]), got {type(agent).__name__}")
    known = set(_FLAG_DESTS) | set(trainer.flags)
    unknown = sorted(set(top) - known)
    if unknown:
        raise UsageError(f"config file {path!r}: unknown key(s) {unknown}; allowed top-level keys: "
                         f"{sorted(known)} and an [agent] table")
    return top, agent


def _route(trainer, settings: dict[str, Any], run: dict, agent: dict) -> None:
    """Put flag-named settings where they belong (run settings or agent config fields)."""
    for key, value in settings.items():
        section, field = trainer.flags.get(key, ("run", key))
        (run if section == "run" else agent)[field] = value


def _check_agent_keys(trainer, values: dict, known: dict, where: str) -> None:
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise UsageError(f"{where}: unknown agent config field(s) {unknown} for `train {trainer.name}`; "
                         f"known: {sorted(known)}")


def resolve(trainer, args: argparse.Namespace, saved=None):
    """The :class:`~agents.cli._runs.RunConfig` of this command (validated, nothing loaded yet).

    Run settings are checked first (the config file, the dataset name, the budget), so
    that those errors come before the agent's package (and torch) is imported.
    """
    top, file_agent = _read_config_file(args.config, trainer) if args.config else ({}, {})
    assigned = parse_assignments(args.set)
    settings = {**top, **_flag_values(trainer, args)}
    goes_to_run = {k: v for k, v in settings.items() if trainer.flags.get(k, ("run",))[0] == "run"}
    goes_to_agent = {k: v for k, v in settings.items() if k not in goes_to_run}

    run = dict(saved.run) if saved is not None else {**TASK_DEFAULTS, **trainer.run_defaults}
    _route(trainer, goes_to_run, run, {})
    if run.get("ratio") is not None and run.get("imbalance_ratio") is not None:
        raise UsageError("give either ratio (DQNimb protocol) or imbalance_ratio (AutoSMOTE protocol), not both")
    if run["dataset"] is None:
        raise UsageError("--dataset is required (or `dataset = ...` in the --config file)")
    check_dataset_name(run["dataset"])
    check_dataset_present(run["dataset"], run["data_home"])
    threads = run["threads"]
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise UsageError(f"threads must be an int >= 1, got {threads!r}")
    trainer.validate_run(run)
    if saved is not None:
        _check_resume_changes(trainer, saved, run, saved.agent)

    agent = dict(saved.agent) if saved is not None else trainer.agent_defaults(run)
    known_agent = dict(agent)
    if args.config:
        _check_agent_keys(trainer, file_agent, known_agent, f"config file {args.config!r} [agent]")
    _check_agent_keys(trainer, assigned, known_agent, "--set")
    agent.update(file_agent)
    _route(trainer, goes_to_agent, {}, agent)
    if goes_to_agent.get("backend") == "local" and "ray_address" not in goes_to_agent:
        agent["ray_address"] = None  # e.g. a Ray run resumed on local processes
    agent.update(assigned)
    if saved is not None:
        _check_resume_changes(trainer, saved, run, agent)
    trainer.make_agent_config(agent, run, Path(args.out))  # the dataclass validates every field
    check_device(agent.get("device"))
    command = "imbalance-gym " + shlex.join(getattr(args, "argv", None) or sys.argv[1:])
    return RunConfig(trainer.name, run, agent, command)


def _check_resume_changes(trainer, saved, run: dict, agent: dict) -> None:
    changed = [("run", k) for k in run if run[k] != saved.run.get(k)]
    changed += [("agent", k) for k in agent if agent[k] != saved.agent.get(k)]
    refused = [(s, k) for s, k in changed if f"{s}.{k}" not in trainer.resumable]
    if refused:
        detail = ", ".join(f"{_setting_name(trainer, s, k)} (saved: {getattr(saved, s).get(k)!r})"
                           for s, k in refused)
        allowed = ", ".join(_setting_name(trainer, *key.split(".", 1)) for key in sorted(trainer.resumable))
        raise UsageError(f"--resume continues the saved run and cannot change {detail}; it may change {allowed}")


def _setting_name(trainer, section: str, key: str) -> str:
    """How a user sets a run setting or agent field: its flag, else the [agent] field."""
    for dest, target in trainer.flags.items():
        if target == (section, key):
            return "--" + dest.replace("_", "-")
    return "--" + key.replace("_", "-") if section == "run" else f"[agent] {key}"


# --------------------------------------------------------------------------------------
# Handler
# --------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    trainer = TRAINERS[args.trainer]
    out = Path(args.out)
    saved = None
    if args.resume:
        saved = read_run(out)
        if saved.trainer != trainer.name:
            raise UsageError(f"{str(out)!r} holds a `train {saved.trainer}` run, not `train {trainer.name}`")
        trainer.require_checkpoint(out)
    elif (out / CONFIG_FILE).exists() and any(t.checkpoint_path(out).exists() for t in TRAINERS.values()):
        raise UsageError(f"{str(out)!r} already holds a run; add --resume to continue it, or choose another --out")
    elif out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} is a file, not a directory")
    config = resolve(trainer, args, saved)

    r = config.run
    task = load_task(r["dataset"], ratio=r["ratio"], imbalance_ratio=r["imbalance_ratio"], seed=r["seed"],
                     data_home=r["data_home"])
    progress = not args.no_progress
    status(task_summary(task), enabled=progress)

    import torch

    torch.set_num_threads(int(r["threads"]))
    result = trainer.train(out, config, task, resume=args.resume, progress=progress)
    best = "" if result.best is None else f"; best validation score {result.best:.4f}"
    if result.interrupted:
        print(f"interrupted at {result.done}/{result.target} {result.unit}{best}; checkpoint saved. Continue "
              f"with: imbalance-gym train {trainer.name} --out {shlex.quote(str(out))} --resume", file=sys.stderr)
        return 130
    print(f"{trainer.name}: {result.done}/{result.target} {result.unit}{best}; run saved in {out}")
    print(f"test metrics: imbalance-gym evaluate {shlex.quote(str(out))}")
    return 0
