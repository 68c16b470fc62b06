"""inferpipe: containers, specs and a local endpoint for SageMaker serial inference pipelines."""

from __future__ import annotations

from inferpipe._version import __version__

__all__ = ["__version__"]
