"""Lets `python -m inferpipe` run the CLI."""

from __future__ import annotations

from inferpipe.cli import main

raise SystemExit(main())
