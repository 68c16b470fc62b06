"""The `inferpipe` command line, one module per command group.

Each command module only declares its arguments; its implementation is imported when
the command runs, so `inferpipe spec validate` never loads the serving runtime and
`inferpipe serve` never loads boto3. Every handler is a thin layer over a function the
README's notebook section calls too.

Exit codes: 0 success, 1 a failure (a container would not start, a check failed),
2 bad usage or a bad spec.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from inferpipe._version import __version__
from inferpipe.cli import aws, batch, loadtest, local, serve, spec
from inferpipe.cli._common import EXIT_FAILED, EXIT_OK, EXIT_USAGE

logger = logging.getLogger("inferpipe.cli")

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

#: Command groups in the order `--help` lists them.
COMMAND_GROUPS = (serve, spec, aws, local, batch, loadtest)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand (documented by `--help`)."""
    parser = argparse.ArgumentParser(
        prog="inferpipe",
        description="Build, check and run SageMaker serial inference pipeline containers.",
    )
    parser.add_argument("--version", action="version", version=f"inferpipe {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log at DEBUG and show tracebacks"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    run: Callable[[argparse.Namespace], int] | None = getattr(args, "run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    from inferpipe.pipeline_spec.errors import SpecError
    from inferpipe.protocol.errors import InferpipeError

    try:
        return run(args)
    except InferpipeError as exc:
        logger.error("%s", exc.message, exc_info=args.verbose)
        return EXIT_USAGE if isinstance(exc, SpecError) else EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_FAILED
