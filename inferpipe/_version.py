"""The one place the inferpipe version is written."""

__version__ = "0.1.0"
