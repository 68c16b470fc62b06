"""The gunicorn worker class: gthread that hands a request thread only whole requests,
and only while a thread is free.

Two defects of stock gthread on a production request path, both measured:

- Every worker polls the one listening socket, and a busy worker accepts as eagerly as
  an idle one: with keep-alive clients one worker can end up holding all the
  connections while the other idles (56 instead of 127 requests/s at c=4). Accepting
  only while a request thread is free leaves new connections to the worker that can
  serve them now.
- A request thread reads headers and body from a blocking socket: one client that sends
  its headers and stalls the body holds that thread for as long as it likes, and a
  handful of them stall the whole container (60 stalled uploads made a valid request
  wait 10 s). Here the event loop reads each request — headers and, up to the payload
  limit, its Content-Length body — without blocking, and only a complete request goes
  to a thread. A request that has not arrived within the request read timeout
  (`INFERPIPE_REQUEST_READ_TIMEOUT`) is answered 408 from the loop and closed; stalled
  connections cost a file descriptor and a buffer, never a thread.

Requests gunicorn cannot parse (a bad request line, a lying Content-Length, headers
too large, a broken chunk) are answered with the runtime's JSON error, not gunicorn's
HTML page: a client of any container reads one error shape.
"""

from __future__ import annotations

import contextlib
import re
import selectors
import socket
import time
from collections import deque
from functools import partial
from typing import Any

from gunicorn import util as gunicorn_util
from gunicorn.http import errors as parse_errors
from gunicorn.workers.gthread import ThreadWorker

from inferpipe.serving import one_write_response

#: Headers beyond this size go to the thread as they are (gunicorn refuses them, 400).
MAX_HEADER_BYTES = 64 * 1024
RECV_BYTES = 256 * 1024
#: How long a busy worker leaves a waiting connection to the others (idle ones take it
#: at once) before it takes the connection itself.
ACCEPT_GRACE_SECONDS = 0.02
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length[ \t]*:[ \t]*(\d+)[ \t]*\r\n", re.IGNORECASE)

#: gunicorn's parse errors, most specific first: (class, status, reason, error code).
#: Anything the client sent wrong is a 4xx, an unknown transfer coding too (gunicorn and
#: RFC 9112 say 501): a 5xx would have botocore and SageMaker's clients retry it.
PARSE_ERROR_ANSWERS: tuple[tuple[type[Exception], int, str, str], ...] = (
    (parse_errors.LimitRequestLine, 414, "URI Too Long", "uri-too-long"),
    (parse_errors.LimitRequestHeaders, 431, "Request Header Fields Too Large", "headers-too-large"),
    (parse_errors.ExpectationFailed, 417, "Expectation Failed", "expectation-failed"),
    (parse_errors.ForbiddenProxyRequest, 403, "Forbidden", "forbidden"),
    (parse_errors.ParseException, 400, "Bad Request", "malformed-request"),
)


def raw_answer(status: int, reason: str, body: bytes) -> bytes:
    """A whole HTTP/1.1 JSON answer that closes its connection (written from the loop or
    from an error path, outside the WSGI app)."""
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


def parse_error_answer(exc: BaseException, stage_kind: str) -> tuple[int, bytes] | None:
    """The status and JSON answer for a request gunicorn could not parse; None when
    `exc` is not the client's fault (a response header the app wrote, a server fault)."""
    from inferpipe.serving.invocation import error_body

    if isinstance(
        exc, (parse_errors.InvalidResponseHeader, parse_errors.InvalidResponseHeaderName)
    ):
        return None
    for kind, status, reason, code in PARSE_ERROR_ANSWERS:
        if isinstance(exc, kind):
            message = f"the request could not be read: {exc}" if str(exc) else reason
            return status, raw_answer(status, reason, error_body(code, message, stage_kind))
    return None


def request_complete(buffer: bytes | bytearray, max_body: int) -> bool:
    """True when `buffer` holds a request's headers and all of its declared body — or
    as much as the thread should be given to read itself (a body over `max_body`, which
    is refused with a 413; chunked bodies; headers too large for gunicorn)."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return len(buffer) > MAX_HEADER_BYTES
    head = bytes(buffer[: end + 2])
    length = _CONTENT_LENGTH.search(head)
    if length is None:
        return True  # no body, or chunked: gunicorn reads it (bounded by a socket timeout)
    declared = int(length.group(1))
    return declared > max_body or len(buffer) - (end + 4) >= declared


class _Arriving:
    """A connection whose next request is still arriving, with what has come so far.

    A new connection `reserved` a request thread until its first bytes arrive (or a
    second passes): without that, a worker would accept a burst of new keep-alive
    connections before any of them made it busy, and keep them all."""

    def __init__(self, conn: Any, deadline: float, reserved: bool) -> None:
        self.conn = conn
        self.deadline = deadline
        self.buffer = bytearray()
        self.reserved = reserved
        self.since = time.monotonic()


class BalancedThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gthread, reading whole requests in the loop and accepting only with a thread free."""

    #: Set per worker after fork (gunicorn_conf.post_fork) from the serving settings.
    request_read_timeout = 30.0
    max_body_bytes = 6 * 1024 * 1024
    stage_kind = "unknown"
    timeout_answer = raw_answer(408, "Request Timeout", b'{"error":"request-timeout"}\n')
    truncated_answer = raw_answer(400, "Bad Request", b'{"error":"malformed-request"}\n')

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        one_write_response.install()
        self._busy = 0
        self._reserved = 0
        self._limit = 0
        self._last_accept = time.monotonic()
        self._arriving: deque[_Arriving] = deque()
        super().__init__(*args, **kwargs)

    @property
    def worker_connections(self) -> int:
        # gthread's loop accepts while nr_conns < worker_connections. A busy worker still
        # takes one waiting newcomer per ACCEPT_GRACE_SECONDS: when every worker is busy
        # with kept-alive clients, none would ever be free at the moment it polls, and a
        # new connection waited in the backlog for seconds (measured: 6 of 16 wrk
        # connections got their first answer after 6 s, the p99 of 0.3-1.6 s at c=16).
        # An idle worker, polling the listener all along, still takes it first.
        busy = self._busy + self._reserved >= self.cfg.threads
        if busy and time.monotonic() - self._last_accept < ACCEPT_GRACE_SECONDS:
            return int(self.nr_conns)
        return self._limit

    @worker_connections.setter
    def worker_connections(self, value: int) -> None:
        self._limit = value

    def accept(self, listener: Any) -> None:
        self._last_accept = time.monotonic()
        super().accept(listener)

    def enqueue_req(self, conn: Any) -> None:
        """Read the connection's next request in the loop first (see the module doc)."""
        if conn.initialized and conn.parser is not None and conn.parser.unreader.buf.tell():
            self._to_thread(conn)  # a request already read ahead by the last one's drain
            return
        fresh = not conn.initialized
        arriving = _Arriving(conn, time.monotonic() + self.request_read_timeout, fresh)
        self._reserved += fresh
        conn.sock.setblocking(False)
        self._arriving.append(arriving)
        self.poller.register(
            conn.sock, selectors.EVENT_READ, partial(self._on_arriving_readable, arriving)
        )

    def _on_arriving_readable(self, arriving: _Arriving, _sock: Any) -> None:
        try:
            data = arriving.conn.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away, or only stopped sending (a half-close)
            self._drop(arriving)
            if arriving.buffer:  # a request had begun: say why it ends
                with contextlib.suppress(OSError):
                    arriving.conn.sock.send(self.truncated_answer)
            self.nr_conns -= 1
            arriving.conn.close()
            return
        self._release(arriving)
        arriving.buffer += data
        if request_complete(arriving.buffer, self.max_body_bytes):
            self._drop(arriving)
            conn = arriving.conn
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(bytes(arriving.buffer))
            conn.data_ready = True
            self._to_thread(conn)

    def _release(self, arriving: _Arriving) -> None:
        if arriving.reserved:
            arriving.reserved = False
            self._reserved -= 1

    def _drop(self, arriving: _Arriving) -> None:
        self._release(arriving)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(arriving.conn.sock)
        with contextlib.suppress(ValueError):
            self._arriving.remove(arriving)

    def _to_thread(self, conn: Any) -> None:
        self._busy += 1
        super().enqueue_req(conn)

    def finish_request(self, conn: Any, fs: Any) -> None:
        self._busy -= 1
        super().finish_request(conn, fs)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """A request gunicorn could not parse gets the runtime's JSON error, not HTML."""
        answer = parse_error_answer(exc, self.stage_kind)
        if answer is None:
            super().handle_error(req, client, addr, exc)
            return
        self.log.warning("invalid request from %s: %s", (addr or ("",))[0], exc)
        with contextlib.suppress(Exception):
            gunicorn_util.write_nonblock(client, answer[1])

    def murder_pending(self) -> None:
        """Also answer 408 to, and close, requests that did not arrive in time."""
        super().murder_pending()
        now = time.monotonic()
        for waiting in self._arriving:
            if waiting.reserved and now - waiting.since > 1.0:
                self._release(waiting)  # a silent client must not stop this worker accepting
        while self._arriving and self._arriving[0].deadline <= now:
            arriving = self._arriving[0]
            self._drop(arriving)
            self.nr_conns -= 1
            if arriving.buffer:  # a request had begun: say why it ends
                with contextlib.suppress(OSError):
                    arriving.conn.sock.send(self.timeout_answer)
            with contextlib.suppress(OSError):
                arriving.conn.sock.shutdown(socket.SHUT_RDWR)
            arriving.conn.close()
