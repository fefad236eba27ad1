"""The ``imbalance-gym`` command line.

One module per subcommand group; each exposes ``add_parser(subparsers)`` that registers
its subcommand(s) with a ``run(args) -> int`` handler. Errors a user can fix (a bad flag
value, an unknown dataset, a missing data file, an unreadable config) print one line to
stderr and exit with status 2, without a traceback.

Subcommands: ``envs``, ``datasets`` (:mod:`._catalog`), ``train`` (:mod:`._train`),
``evaluate`` (:mod:`._evaluate`), ``resample`` (:mod:`._resample`), ``plot``
(:mod:`._plot`), ``bench`` (:mod:`._bench`) and ``demo`` (:mod:`._demo`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from agents.cli import _bench, _catalog, _demo, _evaluate, _plot, _resample, _train
from agents.cli._common import CliParser, UsageError

__all__ = ["main", "build_parser", "UsageError"]

_GROUPS = (_demo, _catalog, _train, _evaluate, _resample, _plot, _bench)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (exposed for tests and documentation)."""
    parser = CliParser(
        prog="imbalance-gym",
        description="Imbalanced classification as reinforcement learning: environments, "
        "agents and benchmarks.",
    )
    from imbalance_gym import __version__

    parser.add_argument("--version", action="version", version=f"imbalance-gym {__version__}")
    parser.add_argument("--traceback", action="store_true",
                        help="on an error, show the full traceback instead of one line")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in _GROUPS:
        group.add_parser(sub)
    return parser


def _one_line(err: BaseException) -> str:
    """The error's message on one line (some messages, e.g. a missing dataset's, have several)."""
    return " ".join(str(err).split()) or type(err).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "pass_through", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    args.argv = argv
    try:
        return int(args.handler(args) or 0)
    except (UsageError, ValueError, TypeError, FileNotFoundError, ConnectionError) as err:
        # Errors raised by argument checks (a value, a file, a cluster address) are the
        # user's to fix: one clear line; --traceback shows where one came from.
        if args.traceback:
            raise
        print(f"imbalance-gym {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
