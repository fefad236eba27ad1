"""``imbalance-gym bench {throughput,dqnimb,autosmote,crcen,sb3,scaling}``: run a benchmark script of the checkout.

The benchmarks are scripts of the source checkout (``benchmarks/*.py``), not part of the
installed packages; this runs ``python -m benchmarks.<script>`` as a subprocess with
the checkout on ``PYTHONPATH``, in the current folder (so relative ``--out`` /
``--data-home`` paths mean what they say), translating ``--preset`` into the script's
own flags. Arguments after the benchmark name that this command does not know are
passed through to the script unchanged.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

from agents.cli._common import UsageError

SCRIPTS: dict[str, tuple[str, dict[str, list[str]]]] = {
    # name: (module of benchmarks/, the script's flags for each preset)
    "throughput": ("throughput", {"quick": ["--quick"], "paper": []}),
    "dqnimb": ("dqnimb_table", {"quick": ["--preset", "quick"], "paper": ["--preset", "paper"]}),
    "autosmote": ("autosmote_ranks", {"quick": ["--preset", "quick"], "paper": ["--preset", "paper"]}),
    # crcen_table has no presets: its defaults are the paper's protocol (4 seeds, 100
    # epochs); quick keeps one seed.
    "crcen": ("crcen_table", {"quick": ["--seeds", "0"], "paper": []}),
    "sb3": ("sb3_vs_custom", {"quick": ["--preset", "quick"], "paper": ["--preset", "full"]}),
    # scaling: actors x backends on this machine; quick is bundled data in a minute.
    "scaling": ("scaling", {"quick": ["--quick"], "paper": []}),
}
"""Benchmark name -> (script module, extra flags per preset)."""


def add_parser(sub) -> None:
    # allow_abbrev=False: a script's flag must never be taken for an abbreviation of one of ours
    p = sub.add_parser("bench", allow_abbrev=False,
                       help="run a benchmark script (throughput, dqnimb, autosmote, crcen, sb3, scaling)",
                       description="Run one of the checkout's benchmark scripts as `python -m "
                       "benchmarks.<script>`; unknown arguments are passed through to the script.",
                       epilog="e.g. imbalance-gym bench dqnimb --preset quick --data-home ../shared/datasets "
                       "--jobs 2")
    p.add_argument("name", choices=sorted(SCRIPTS), help="which benchmark")
    p.add_argument("--preset", choices=("quick", "paper"), default="quick",
                   help="quick: minutes to an hour on 2 cores; paper: the papers' full protocol (default quick)")
    p.add_argument("--dry-run", action="store_true", help="print the command and exit")
    p.set_defaults(handler=run, pass_through=True)


def find_checkout(package_dir: Path | None = None) -> Path:
    """The source checkout holding ``benchmarks/`` next to the ``agents`` package.

    Raises:
        UsageError: the packages are installed without their checkout (e.g. from a wheel).
    """
    if package_dir is None:
        import agents

        package_dir = Path(agents.__file__).resolve().parent
    root = package_dir.parent
    if not (root / "benchmarks" / "__init__.py").is_file():
        raise UsageError(
            f"the benchmarks are scripts of the source checkout, and none was found next to the installed "
            f"package ({root} has no benchmarks/); run this from a clone of the repository installed with "
            "`pip install -e .`"
        )
    return root


def command(name: str, preset: str, extra: list[str]) -> list[str]:
    """The subprocess command line of a benchmark."""
    module, presets = SCRIPTS[name]
    return [sys.executable, "-m", f"benchmarks.{module}", *presets[preset], *extra]


def run(args: argparse.Namespace) -> int:
    root = find_checkout()
    module = SCRIPTS[args.name][0]
    if not (root / "benchmarks" / f"{module}.py").is_file():
        raise UsageError(f"the checkout at {root} has no benchmarks/{module}.py")
    cmd = command(args.name, args.preset, list(args.extra))
    shown = shlex.join(["python", *cmd[1:]])
    if args.dry_run:
        print(shown)
        return 0
    print(f"running: {shown}", file=sys.stderr, flush=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    return subprocess.call(cmd, env=env)
