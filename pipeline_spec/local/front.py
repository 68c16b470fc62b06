"""The front HTTP server: SageMaker Runtime's InvokeEndpoint REST API on loopback.

`POST /endpoints/{name}/invocations`, plus `GET /ping` and `GET /metrics` (Prometheus).
boto3's `sagemaker-runtime` client works against it unchanged with `endpoint_url`.

Every answer, errors of the HTTP layer included (a bad request line, headers too large,
a lying Content-Length, a stalled upload), is InvokeEndpoint-shaped JSON with an
`x-amzn-ErrorType`; `request_body` bounds what a body may cost.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from inferpipe.pipeline_spec.local.endpoint import (
    MAX_PAYLOAD_BYTES,
    Answer,
    HttpSend,
    InvokeFailure,
    LocalEndpoint,
    validation_error,
)
from inferpipe.pipeline_spec.local.request_body import BodyRefused, read_request_body

logger = logging.getLogger(__name__)

INVOKE_PATH = re.compile(r"^/endpoints/(?P<name>[^/]+)/invocations$")
ADMISSION_GRACE_SECONDS = 0.25
STOPPING_MESSAGE = "the local endpoint is stopping; it takes no new requests"
#: Seconds a request's body may take to arrive, and an idle keep-alive connection may wait.
READ_TIMEOUT_SECONDS = 30.0


def _allowed_method(path: str) -> str | None:
    """The one method a route takes, or None when there is no such route."""
    bare = path.split("?", 1)[0]
    if bare in ("/ping", "/metrics"):
        return "GET"
    return "POST" if INVOKE_PATH.match(bare) else None


class _Handler(BaseHTTPRequestHandler):
    server: FrontServer
    protocol_version = "HTTP/1.1"
    # Status lines even for requests too broken to name their version (stdlib: HTTP/0.9,
    # which sends a bare body no HTTP/1 client can read).
    default_request_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # An idle or stalled connection is closed after this (the body has its own bound).
        self.connection.settimeout(self.server.read_timeout)
        # Headers and body go out in separate writes; without this, Nagle's algorithm
        # and delayed ACKs add ~40 ms to every keep-alive response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, answer: Answer) -> None:
        self.send_response(answer.status)
        for key, value in answer.headers.items():
            self.send_header(key, value)
        if self.server.draining or self.close_connection:
            # A client keeping its connection alive learns to reconnect (and, while
            # draining, is refused).
            self.send_header("Connection", "close")
            self.close_connection = True
        self.send_header("Content-Length", str(len(answer.body)))
        # Headers and body in one write: one segment for the client to wait for.
        buffered = getattr(self, "_headers_buffer", None)
        if buffered is None:  # an HTTP/0.9 request line: no status line, no headers
            self.wfile.write(answer.body)
            return
        buffered.append(b"\r\n" + answer.body)
        self.flush_headers()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/ping":
            self._send(Answer(200, {"Content-Type": "text/plain"}, b""))
        elif path == "/metrics":
            text = "".join(e.metrics.render() for e in self.server.endpoints.values())
            self._send(Answer(200, {"Content-Type": "text/plain; version=0.0.4"}, text.encode()))
        else:
            self._send(self._wrong_route())

    def _wrong_route(self) -> Answer:
        """404 for a path nothing serves; 405 naming the method that path takes."""
        allowed = _allowed_method(self.path)
        if allowed is None:
            return validation_error(f"no route {self.command} {self.path}", status=404).answer()
        answer = validation_error(
            f"method {self.command} is not allowed on {self.path}; use {allowed}", status=405
        ).answer()
        answer.headers["Allow"] = allowed
        return answer

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's own refusals (bad request line, headers too large, unknown
        method) as InvokeEndpoint JSON instead of an HTML page."""
        # The stdlib's 501 (a method it has no handler for) and 505 (a version it does
        # not speak) are the client's mistakes: answered as the containers answer them.
        code = {501: 405, 505: 400}.get(code, code)
        if code == 405:
            answer = self._wrong_route()
        else:
            text = message or HTTPStatus(code).phrase
            error_type = "ValidationError" if code < 500 else "InternalFailure"
            answer = InvokeFailure(code, error_type, {"message": text}).answer()
        if self.command == "HEAD":
            answer.body = b""
        self._send_and_close(answer)

    def _send_and_close(self, answer: Answer) -> None:
        """Answer, then close: what follows on the connection cannot be framed (or the
        client is already gone, which is fine)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self._send(answer)

    def do_POST(self) -> None:
        with self.server.in_flight() as admitted:
            try:
                # A body over the payload limit is read and dropped first, so that the
                # client receives the 413 before the connection closes.
                body = read_request_body(
                    self.rfile,
                    self.connection,
                    self.headers.get("Transfer-Encoding", ""),
                    self.headers.get_all("Content-Length") or [],
                    MAX_PAYLOAD_BYTES,
                    self.server.read_timeout,
                )
            except BodyRefused as refused:
                failure = InvokeFailure(
                    refused.status, refused.error_type, {"message": refused.message}
                )
                self._send_and_close(failure.answer())
                return
            self.connection.settimeout(self.server.read_timeout)
            if admitted:
                self._send(self._answer(body))
            else:
                self._send(validation_error(STOPPING_MESSAGE, status=503).answer())

    def _refuse_method(self) -> None:
        self.send_error(405)

    do_PUT = do_DELETE = do_PATCH = _refuse_method

    def _answer(self, body: bytes) -> Answer:
        match = INVOKE_PATH.match(self.path.split("?", 1)[0])
        if not match:
            return self._wrong_route()
        endpoint = self.server.endpoints.get(match["name"])
        if endpoint is None:
            return validation_error(
                f"Endpoint {match['name']} of account 000000000000 not found."
            ).answer()
        return endpoint.invoke(body, dict(self.headers.items()))

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("front: " + format, *args)


class FrontServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its endpoints by name."""

    daemon_threads = True
    # socketserver's default backlog is 5: a burst of clients would wait on SYN retries.
    request_queue_size = socket.SOMAXCONN

    def __init__(
        self,
        port: int,
        endpoints: dict[str, LocalEndpoint],
        read_timeout: float = READ_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.endpoints = endpoints
        self.read_timeout = read_timeout
        self.changed = threading.Condition()
        self.busy = 0
        self.draining = False
        self.closed_to_requests = False

    @contextlib.contextmanager
    def in_flight(self) -> Iterator[bool]:
        """Count a request while it is answered, so that stopping can wait for it;
        yields False (refuse it) once the wait for requests in flight has ended."""
        with self.changed:
            admitted = not self.closed_to_requests
            if admitted:
                self.busy += 1
        try:
            yield admitted
        finally:
            if admitted:
                with self.changed:
                    self.busy -= 1
                    self.changed.notify_all()

    def drain(self, seconds: float, cut_short: Callable[[], bool] = lambda: False) -> int:
        """Stop taking connections, answer those already accepted (the kernel's backlog
        too), and wait up to `seconds` for requests in flight; returns how many were
        still running when the wait ended. The containers must outlive this call."""
        self.shutdown()
        self.draining = True
        self.socket.setblocking(False)
        while True:  # connections the kernel accepted for us are requests too
            try:
                request, address = self.get_request()
            except OSError:
                break
            request.setblocking(True)
            self.process_request(request, address)
        self.server_close()
        started = time.monotonic()
        deadline = started + seconds
        # A connection just taken from the backlog may not have reached do_POST yet.
        grace = started + min(seconds, ADMISSION_GRACE_SECONDS)
        with self.changed:
            while (
                (self.busy or time.monotonic() < grace)
                and time.monotonic() < deadline
                and not cut_short()
            ):
                self.changed.wait(min(0.2, max(deadline - time.monotonic(), 0.0)))
            self.closed_to_requests = True
            return self.busy

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients closing keep-alive connections are normal; log the rest, never print."""
        logger.debug("front: connection from %s ended with an error", client_address, exc_info=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="inferpipe-front", daemon=True)
        thread.start()
        return thread


def pooled_transport() -> HttpSend:
    """A keep-alive HTTP transport for container calls (see `hop_client`)."""
    from inferpipe.pipeline_spec.local.hop_client import HopClient

    return HopClient().send
