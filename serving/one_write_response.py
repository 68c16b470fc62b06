"""gunicorn's HTTP/1 response, sending the status line and headers with the first body
bytes in one write.

Stock gunicorn writes the headers, then the body: two TCP segments per answer, and the
caller (the local endpoint's front, another container's client) wakes up for the first
only to wait for the second. The worker class installs this writer (`install`); bodies
sent chunked are written as before, and an answer without a body sends its headers
when it closes.
"""

from __future__ import annotations

from typing import Any

from gunicorn import util
from gunicorn.http import wsgi


class OneWriteResponse(wsgi.Response):  # type: ignore[misc]
    """A Response whose headers wait for the first body bytes (or for close)."""

    headers_sent: bool
    chunked: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending_headers: bytes | None = None

    def send_headers(self) -> None:
        """gunicorn's status line and headers, kept for the first body write."""
        if self.headers_sent:
            return
        lines = self.default_headers()
        lines.extend([f"{name}: {value}\r\n" for name, value in self.headers])
        self._pending_headers = util.to_bytestring("".join(lines) + "\r\n", "latin-1")
        self.headers_sent = True

    def can_sendfile(self) -> bool:
        return False  # answers are bytes; a file would go out before its headers

    def _flush_headers(self) -> None:
        if self._pending_headers is not None:
            pending, self._pending_headers = self._pending_headers, None
            util.write(self.sock, pending)

    def _emit_body(self, data: bytes) -> None:
        if self._pending_headers is not None and not self.chunked:
            pending, self._pending_headers = self._pending_headers, None
            util.write(self.sock, pending + data)
            return
        self._flush_headers()
        super()._emit_body(data)

    def close(self) -> None:
        self.send_headers()  # an empty body: the headers alone, now
        self._flush_headers()
        super().close()


def install() -> None:
    """Make gunicorn build this writer for every HTTP/1 response of this process."""
    wsgi.Response = OneWriteResponse
