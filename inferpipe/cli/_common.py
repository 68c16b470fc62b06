"""What every command module shares: exit codes, progress output, argument types."""

from __future__ import annotations

import argparse
import sys
from typing import TypeAlias

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
