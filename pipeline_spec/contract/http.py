"""A tiny HTTP client for contract checks: every status is an answer, never an exception."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def request(
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> Answer:
    """Send one request; an HTTP error status is returned as an Answer, not raised."""
    started = time.perf_counter()
    prepared = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(prepared, timeout=timeout) as response:
            return Answer(
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
                time.perf_counter() - started,
            )
    except urllib.error.HTTPError as error:
        return Answer(
            error.code,
            {k.lower(): v for k, v in error.headers.items()},
            error.read(),
            time.perf_counter() - started,
        )
