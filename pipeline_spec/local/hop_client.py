"""The local endpoint's calls to its containers: keep-alive HTTP/1.1 over the stdlib's
http.client, from one shared pool of idle connections per container.

Each InvokeEndpoint call makes one POST per container, so what a hop costs in Python is
the front's ceiling: with urllib3 (its pool manager, retries, timeouts and response
wrapper) the front over three echo stages did 553 requests/s at c=1, with this client 699
(`benchmarks/front_ceiling.py`, same run). A pooled connection the
container closed while idle (gunicorn closes kept-alive connections after a few seconds)
is noticed before reuse, as urllib3 notices it, and replaced.
"""

from __future__ import annotations

import http.client
import select
import threading
from urllib.parse import urlsplit

CONNECT_TIMEOUT_SECONDS = 5.0
#: Idle connections kept per container (more are opened under load, then closed).
IDLE_PER_CONTAINER = 16


class _OneWriteConnection(http.client.HTTPConnection):
    """http.client sends a request's headers and its body in two writes: two segments,
    and a container that has read the headers waits a loop turn for the body. A bytes
    body goes out with the headers in one write here."""

    def _send_output(self, message_body: object = None, encode_chunked: bool = False) -> None:
        if isinstance(message_body, bytes) and not encode_chunked:
            self._buffer.extend((b"", message_body))  # type: ignore[attr-defined]
            message = b"\r\n".join(self._buffer)  # type: ignore[attr-defined]
            del self._buffer[:]  # type: ignore[attr-defined]
            self.send(message)
            return
        super()._send_output(message_body, encode_chunked)  # type: ignore[misc]


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """True when an idle connection was closed (or sent something) since its last use."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class HopClient:
    """`send(url, body, headers, timeout) -> (status, headers, body)` for container hops;
    TimeoutError when the container does not answer in time, OSError when it cannot be
    reached or breaks the connection."""

    def __init__(self, idle_per_container: int = IDLE_PER_CONTAINER) -> None:
        self._idle: dict[tuple[str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._limit = idle_per_container

    def _take(self, address: tuple[str, int]) -> http.client.HTTPConnection:
        with self._lock:
            idle = self._idle.get(address)
            while idle:
                connection = idle.pop()
                if not _dropped(connection):
                    return connection
                connection.close()
        return _OneWriteConnection(*address, timeout=CONNECT_TIMEOUT_SECONDS)

    def _give_back(self, address: tuple[str, int], connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(address, [])
            if len(idle) < self._limit:
                idle.append(connection)
                return
        connection.close()

    def send(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(url)
        address = (parts.hostname or "127.0.0.1", parts.port or 80)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection = self._take(address)
        if connection.sock is None:
            try:
                connection.connect()
            except OSError as exc:  # a connect timeout too: the container is unreachable
                connection.close()
                raise OSError(f"cannot connect to {address[0]}:{address[1]}: {exc}") from exc
        try:
            connection.sock.settimeout(timeout)
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except TimeoutError:
            connection.close()
            raise
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise OSError(f"{type(exc).__name__}: {exc}") from exc
        reply_headers = dict(response.getheaders())
        if response.will_close:
            connection.close()
        else:
            self._give_back(address, connection)
        return response.status, reply_headers, data

    def __del__(self) -> None:
        self.close()  # idle sockets closed, not left to the garbage collector's warning

    def close(self) -> None:
        with self._lock:
            pools, self._idle = list(self._idle.values()), {}
        for idle in pools:
            for connection in idle:
                connection.close()
