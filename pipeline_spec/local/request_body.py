"""Reading an InvokeEndpoint request body on the front, within bounds.

The front is a client's first contact, so it must hold up against any of them: a lying
or negative Content-Length, a chunked body (urllib3 and curl send them), a body over
the 6 MB payload limit, a client that stalls mid-upload. Each is answered with an
InvokeEndpoint-shaped JSON error that arrives before the connection closes; nothing a
client sends makes the front read without bound, in time or in memory.
"""

from __future__ import annotations

import io
import socket
import time
from dataclasses import dataclass

#: How much of a refused (too large) body is read and dropped so that the client, still
#: sending, reads the 413 instead of a broken pipe; past either bound the socket closes.
DRAIN_MAX_BYTES = 1 << 30
DRAIN_SECONDS = 10.0
READ_CHUNK = 1 << 16
#: A chunk-size line longer than this is not HTTP.
MAX_CHUNK_LINE = 1024


@dataclass
class BodyRefused(Exception):
    """The body cannot be taken: answered with `status` and `error_type`, then the
    connection closes (what follows on it can no longer be framed)."""

    status: int
    error_type: str
    message: str


def _timed_out(seconds: float) -> BodyRefused:
    return BodyRefused(
        408, "RequestTimeout", f"the request body did not arrive within {seconds:g} s"
    )


class BoundedReader:
    """Reads from a connection's file with one deadline for the whole body."""

    def __init__(self, rfile: io.BufferedIOBase, sock: socket.socket, seconds: float) -> None:
        self.rfile = rfile
        self.sock = sock
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def _arm(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _timed_out(self.seconds)
        self.sock.settimeout(left)

    def read(self, size: int) -> bytes:
        """Exactly `size` bytes, or BodyRefused (408 past the deadline, 400 if cut short)."""
        parts: list[bytes] = []
        remaining = size
        while remaining > 0:
            self._arm()
            try:
                part = self.rfile.read1(min(remaining, READ_CHUNK))
            except TimeoutError:
                raise _timed_out(self.seconds) from None
            if not part:
                raise BodyRefused(
                    400,
                    "ValidationError",
                    f"the body ended after {size - remaining} of its {size} declared bytes",
                )
            parts.append(part)
            remaining -= len(part)
        return b"".join(parts)

    def readline(self) -> bytes:
        self._arm()
        try:
            line = self.rfile.readline(MAX_CHUNK_LINE + 1)
        except TimeoutError:
            raise _timed_out(self.seconds) from None
        if len(line) > MAX_CHUNK_LINE or not line.endswith(b"\n"):
            raise BodyRefused(400, "ValidationError", "a chunk-size line of the body is malformed")
        return line

    def drop(self, size: int) -> None:
        """Read and forget up to `size` bytes within DRAIN_SECONDS; stop quietly after."""
        deadline = min(self.deadline, time.monotonic() + DRAIN_SECONDS)
        remaining = min(size, DRAIN_MAX_BYTES)
        try:
            while remaining > 0 and time.monotonic() < deadline:
                self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
                part = self.rfile.read1(min(remaining, READ_CHUNK))
                if not part:
                    return
                remaining -= len(part)
        except OSError:
            return


def _too_large(size: int | str, limit: int) -> BodyRefused:
    return BodyRefused(
        413, "ValidationError", f"Request payload of {size} bytes exceeds the {limit}-byte limit"
    )


def _read_chunked(reader: BoundedReader, limit: int) -> bytes:
    """A chunked body (RFC 9112 7.1): chunk extensions ignored, trailers dropped."""
    parts: list[bytes] = []
    total = 0
    while True:
        line = reader.readline()
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BodyRefused(
                400, "ValidationError", f"the chunk size {size_text[:40]!r} is not hexadecimal"
            ) from None
        if size < 0 or not size_text.isalnum():
            raise BodyRefused(
                400, "ValidationError", f"the chunk size {size_text[:40]!r} is invalid"
            )
        if size == 0:
            while reader.readline() not in (b"\r\n", b"\n"):
                pass  # trailer fields
            return b"".join(parts)
        total += size
        if total > limit:
            raise _too_large(f"more than {limit}", limit)
        parts.append(reader.read(size))
        if reader.read(2) != b"\r\n":
            raise BodyRefused(400, "ValidationError", "a chunk of the body lacks its CRLF")


def read_request_body(
    rfile: io.BufferedIOBase,
    sock: socket.socket,
    transfer_encoding: str,
    content_lengths: list[str],
    limit: int,
    seconds: float,
) -> bytes:
    """The request body, at most `limit` bytes, arrived within `seconds`.

    `transfer_encoding` is its Transfer-Encoding header ("" when absent);
    `content_lengths` are every Content-Length header the request carried (a request
    with two different ones is refused: the framing is ambiguous, RFC 9112 6.3)."""
    reader = BoundedReader(rfile, sock, seconds)
    coding = transfer_encoding.strip().lower()
    if coding:
        if coding != "chunked":
            # RFC 9112 says 501; a 4xx, as everything a client sends wrong, is not retried.
            raise BodyRefused(
                400, "ValidationError", f"Transfer-Encoding {coding!r} is not supported"
            )
        if content_lengths:
            raise BodyRefused(
                400, "ValidationError", "a request may not carry Content-Length and chunked"
            )
        return _read_chunked(reader, limit)
    values = {value.strip() for value in content_lengths}
    if not values:
        return b""
    if len(values) > 1:
        raise BodyRefused(
            400, "ValidationError", f"the request carries {len(values)} different Content-Length"
        )
    text = values.pop()
    if not text.isdigit() or not text.isascii():
        raise BodyRefused(
            400, "ValidationError", f"Content-Length {text[:40]!r} is not a byte count"
        )
    size = int(text)
    if size > limit:
        reader.drop(size)
        raise _too_large(size, limit)
    return reader.read(size)
