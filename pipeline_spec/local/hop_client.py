"""The local endpoint's calls to its containers: keep-alive HTTP/1.1 from one shared pool
of idle connections per container, answers parsed by httptools (llhttp, uvicorn's parser).

Each InvokeEndpoint call makes one POST per container, so what a hop costs in Python is
the front's ceiling. urllib3 (pool manager, retries, response wrapper) did 553
requests/s over three echo stages at c=1, the stdlib's http.client 699; profiled under
load, half of the front's Python time then went to http.client parsing each answer's
headers with the email package. Here a request goes out in one write, its answer is read
into one buffer and framed by llhttp (Content-Length, chunked, or until close). A pooled
connection the container closed while idle (gunicorn closes kept-alive connections after
a few seconds) is noticed before reuse, as urllib3 notices it, and replaced.
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import threading
from urllib.parse import urlsplit

import httptools

CONNECT_TIMEOUT_SECONDS = 5.0
#: Idle connections kept per container (more are opened under load, then closed).
IDLE_PER_CONTAINER = 16
RECV_BYTES = 256 * 1024
#: What a header name or value may not hold: a line break would start a header of its own.
_UNSAFE_HEADER = re.compile(r"[\r\n\x00]")


class _Answer:
    """httptools' callbacks, collecting one answer."""

    __slots__ = ("body", "complete", "framed", "headers", "headers_done", "keep_alive", "parser")

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.headers_done = False
        self.complete = False
        self.framed = False
        self.keep_alive = False
        self.parser = httptools.HttpResponseParser(self)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1")] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.headers_done = True
        lowered = {k.lower() for k in self.headers}
        self.framed = "content-length" in lowered or "transfer-encoding" in lowered

    def on_body(self, data: bytes) -> None:
        self.body.append(data)

    def on_message_complete(self) -> None:
        # Asked now: once the callback returns, llhttp resets for the next message.
        self.keep_alive = self.framed and self.parser.should_keep_alive()
        self.complete = True


class _Connection:
    """One kept-alive connection to a container."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address
        self.host = f"{address[0]}:{address[1]}".encode("latin-1")
        try:
            self.sock = socket.create_connection(address, timeout=CONNECT_TIMEOUT_SECONDS)
        except OSError as exc:  # a connect timeout too: the container is unreachable
            raise OSError(f"cannot connect to {address[0]}:{address[1]}: {exc}") from exc
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def dropped(self) -> bool:
        """True when the idle connection was closed (or sent something) since its last use."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def exchange(
        self, path: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[int, dict[str, str], bytes, bool]:
        """POST and read the answer: status, headers, body, and whether to keep it."""
        lines = [b"POST ", path.encode("ascii"), b" HTTP/1.1\r\nHost: ", self.host]
        lines.append(b"\r\nContent-Length: %d\r\n" % len(body))
        for name, value in headers.items():
            if name.lower() in ("host", "content-length", "transfer-encoding"):
                continue
            if _UNSAFE_HEADER.search(name) or _UNSAFE_HEADER.search(value):
                raise ValueError(f"header {name!r} holds a line break")
            lines.append(f"{name}: {value}\r\n".encode("latin-1"))
        lines += (b"\r\n", body)
        self.sock.settimeout(timeout)
        self.sock.sendall(b"".join(lines))
        answer = _Answer()
        parser = answer.parser
        while not answer.complete:
            data = self.sock.recv(RECV_BYTES)
            if not data:
                if answer.headers_done and not answer.framed:
                    break  # a body that ends when the connection does
                raise OSError("the container closed the connection before its answer ended")
            parser.feed_data(data)
        return parser.get_status_code(), answer.headers, b"".join(answer.body), answer.keep_alive

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class HopClient:
    """`send(url, body, headers, timeout) -> (status, headers, body)` for container hops;
    TimeoutError when the container does not answer in time, OSError when it cannot be
    reached or breaks the connection (or answers what is not HTTP)."""

    def __init__(self, idle_per_container: int = IDLE_PER_CONTAINER) -> None:
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self._lock = threading.Lock()
        self._limit = idle_per_container

    def _take(self, address: tuple[str, int]) -> _Connection:
        with self._lock:
            idle = self._idle.get(address)
            while idle:
                connection = idle.pop()
                if not connection.dropped():
                    return connection
                connection.close()
        return _Connection(address)

    def _give_back(self, connection: _Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(connection.address, [])
            if len(idle) < self._limit:
                idle.append(connection)
                return
        connection.close()

    def send(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(url)
        address = (parts.hostname or "127.0.0.1", parts.port or 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = self._take(address)
        try:
            status, reply_headers, data, keep = connection.exchange(path, body, headers, timeout)
        except httptools.HttpParserError as exc:
            connection.close()
            raise OSError(f"the container's answer is not HTTP/1.1: {exc}") from exc
        except (OSError, ValueError):  # TimeoutError included: no answer in time
            connection.close()
            raise
        if keep:
            self._give_back(connection)
        else:
            connection.close()
        return status, reply_headers, data

    def __del__(self) -> None:
        self.close()  # idle sockets closed, not left to the garbage collector's warning

    def close(self) -> None:
        with self._lock:
            pools, self._idle = list(self._idle.values()), {}
        for idle in pools:
            for connection in idle:
                connection.close()
