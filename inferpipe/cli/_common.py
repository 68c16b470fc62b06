"""What every command module shares: exit codes, progress output, argument types."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from inferpipe.pipeline_spec.model import PipelineSpec

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def progress(message: str) -> None:
    """Progress and logs go to stderr; results to stdout (`> file` must just work)."""
    print(message, file=sys.stderr, flush=True)


def key_value(text: str) -> tuple[str, str]:
    """Parse a KEY=VALUE option."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    return key, value


def add_chain_check_option(parser: argparse.ArgumentParser) -> None:
    """`--skip-chain-check` for the commands that run the schema chain check first."""
    parser.add_argument(
        "--skip-chain-check",
        action="store_true",
        help="do not load the artifacts to compare each container's output columns "
        "with the next container's input",
    )


def run_chain_check(
    args: argparse.Namespace, spec: PipelineSpec, report: Callable[[str], None] = progress
) -> dict[tuple[str, str], object]:
    """The schema chain check (unless skipped): verdicts to `report`, SpecError on a
    mismatch; returns what was found per (model, container) for `package` to record."""
    if getattr(args, "skip_chain_check", False):
        return {}
    from inferpipe.pipeline_spec.chain_check import require_chain

    checked = require_chain(spec, args.spec.resolve().parent, str(args.spec), report, progress)
    return dict(checked.interfaces)
