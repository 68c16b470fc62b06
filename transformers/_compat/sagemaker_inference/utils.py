"""Helpers scripts reach for."""

from __future__ import annotations


def parse_accept(accept: str) -> list[str]:
    """The media types of an Accept header, in the order sent."""
    return accept.replace(" ", "").split(",")
