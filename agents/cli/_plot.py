"""``imbalance-gym plot RUN_DIR... --out FILE.png``: learning curves of saved runs.

Each run's ``metrics.csv`` gives the curve: the validation metric against environment
steps (DQNimb, SB3 on the ICMDP) or episodes (AutoSMOTE, MaskablePPO). The thin line is
each validation pass or episode, the thick one the best so far (what model selection
keeps). Runs counted in steps and runs counted in episodes get side-by-side panels.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from agents.cli._common import METRIC_LABELS, UsageError
from agents.cli._runs import read_metrics, read_run, trainer_of


def add_parser(sub) -> None:
    p = sub.add_parser("plot", help="draw the learning curves of saved runs to a PNG",
                       description="Plot validation metric vs steps / episodes of one or more runs.")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run directories written by `train --out`")
    p.add_argument("--out", required=True, help="image file to write (.png, or another matplotlib format)")
    p.add_argument("--metric", help="column of metrics.csv to plot (default: the run's validation metric)")
    p.add_argument("--no-best", action="store_true", help="omit the best-so-far lines")
    p.add_argument("--title", help="figure title")
    p.set_defaults(handler=run)


_NAMES = {"dqnimb": "DQNimb", "autosmote": "AutoSMOTE"}
_SB3_NAMES = {"dqn": "SB3 DQN", "ppo": "SB3 PPO", "a2c": "SB3 A2C", "maskable_ppo": "MaskablePPO"}


def _label(run_dir: Path, config) -> str:
    what = _SB3_NAMES.get(config.run.get("algo"), "SB3") if config.trainer == "sb3" else _NAMES[config.trainer]
    return f"{what} [{run_dir.name}]"


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".pdf", ".svg", ".jpg", ".jpeg"):
        raise UsageError(f"--out must name an image file (.png, .pdf, .svg, .jpg), got {str(out)!r}")
    curves: dict[str, list] = {}
    for name in args.run_dirs:
        run_dir = Path(name)
        config = read_run(run_dir)
        x, y = trainer_of(config).curve(config)
        y = args.metric or y
        frame = read_metrics(run_dir)
        if frame.empty:
            raise UsageError(f"run {name!r} has no learning curve yet (metrics.csv is missing or empty)")
        if x not in frame.columns:
            raise UsageError(f"run {name!r} has no column {x!r} in metrics.csv; columns: {list(frame.columns)}")
        if y not in frame.columns:
            raise UsageError(f"run {name!r} has no column {y!r} in metrics.csv; columns: {list(frame.columns)}")
        shown = config.run.get("metric", y) if y == "metric" else y  # AutoSMOTE: the reward's metric
        curves.setdefault(x, []).append((_label(run_dir, config), frame[x].to_numpy(), frame[y].to_numpy(), shown))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, len(curves), figsize=(6.4 * len(curves), 4.2), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    i = 0
    for ax, (x, runs) in zip(axes[0], curves.items()):
        for label, xs, ys, y in runs:
            color = colors[i % len(colors)]
            i += 1
            ys = ys.astype(float)
            ax.plot(xs, ys, color=color, lw=1.0, alpha=0.45 if not args.no_best else 1.0,
                    marker="." if len(xs) < 60 else None, label=None if not args.no_best else label)
            if not args.no_best:
                best = np.fmax.accumulate(np.where(np.isnan(ys), -math.inf, ys))
                ax.plot(xs, np.where(np.isinf(best), np.nan, best), color=color, lw=2.0, label=label)
        metrics = sorted({y for *_, y in runs})
        ax.set_xlabel("environment steps" if x == "step" else "episodes")
        ax.set_ylabel(" / ".join(f"validation {METRIC_LABELS.get(m, m)}" for m in metrics))
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="lower right")
    if args.title:
        fig.suptitle(args.title)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    print(f"wrote {out}")
    return 0
