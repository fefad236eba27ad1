"""The ``imbalance-gym`` command line.

One module per subcommand group; each exposes ``add_parser(subparsers)`` that registers
its subcommand(s) with a ``run(args) -> int`` handler. Errors a user can fix (a bad flag
value, an unknown dataset, a missing data file, an unreadable config) print one line to
stderr and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from agents.cli import _catalog, _demo

__all__ = ["main", "build_parser", "UsageError"]

_GROUPS = (_demo, _catalog)


class UsageError(Exception):
    """A problem with what the user asked for; reported as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (exposed for tests and documentation)."""
    parser = argparse.ArgumentParser(
        prog="imbalance-gym",
        description="Imbalanced classification as reinforcement learning: environments, "
        "agents and benchmarks.",
    )
    from imbalance_gym import __version__

    parser.add_argument("--version", action="version", version=f"imbalance-gym {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in _GROUPS:
        group.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (UsageError, ValueError, TypeError, FileNotFoundError) as err:
        # Errors raised by argument checks are the user's to fix: one clear line.
        print(f"imbalance-gym {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
