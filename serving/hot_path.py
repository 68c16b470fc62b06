"""`POST /invocations` and `GET /ping`, answered straight from the WSGI environ.

These two routes are every request a container serves. Flask's request context,
routing and response objects cost more per request (~0.08 ms here) than a one-row
stage's arithmetic, so `HotPath` wraps the Flask app's WSGI callable: it answers these
two itself and hands everything else (`/execution-parameters`, 404s, 405s, HEAD) to
Flask. Both go through `invocation_answer` and the same error mapping, so an answer is
the same whichever took the request; the Flask views exist for method matching and
for HEAD.

The stage runs in the request thread under `Deadlines` (see there), not on a pool.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from gunicorn.http.errors import ParseException
from werkzeug.datastructures import EnvironHeaders
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import get_content_length, get_input_stream

from inferpipe.protocol import media, names
from inferpipe.protocol.errors import MalformedPayload, RequestTimeout, Timeout
from inferpipe.protocol.fused import STAGE_TIMINGS_HEADER
from inferpipe.serving.deadlines import AnsweredLate, Deadlines
from inferpipe.serving.invocation import (
    REQUEST_ID_HEADERS,
    body_too_large,
    error_answer,
    error_body,
    read_invocation,
    stage_timeout,
)
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage import Stage

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("inferpipe.serving.access")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: How much of a refused (too large) body is read and dropped so the client gets the 413.
DRAIN_MAX_BYTES = 1 << 30
DRAIN_SECONDS = 10.0
DRAIN_CHUNK = 1 << 16
#: Werkzeug's default for a response built without a Content-Type (the /ping answer).
DEFAULT_CONTENT_TYPE = "text/html; charset=utf-8"
REQUEST_ID_KEYS = tuple("HTTP_" + h.upper().replace("-", "_") for h in REQUEST_ID_HEADERS)
ACCESS_LINE = "request_id=%s method=%s path=%s status=%d bytes_in=%d bytes_out=%d latency_ms=%.1f"


@dataclass(frozen=True)
class Answer:
    """A route's answer before the request id is added."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


PING = Answer(200, [("Content-Type", DEFAULT_CONTENT_TYPE), ("Content-Length", "0")], b"")


def status_line(status: int) -> str:
    """The status as Werkzeug writes it ("404 NOT FOUND")."""
    return f"{status} {HTTP_STATUS_CODES.get(status, 'unknown').upper()}"


def request_id_of(environ: Mapping[str, Any]) -> str:
    """The caller's request id (SageMaker's inference id first), else a new one."""
    for key in REQUEST_ID_KEYS:
        value = environ.get(key)
        if value is not None:
            return str(value)
    return uuid.uuid4().hex


def log_access(
    request_id: str,
    method: str,
    path: str,
    status: int,
    bytes_in: int,
    bytes_out: int,
    elapsed_ms: float,
    stage_timings: str | None,
) -> None:
    """One line per request: id, method, path, status, bytes in and out, latency (and a
    fused container's time per original container, as separate containers logged it)."""
    level = logging.DEBUG if path == "/ping" else logging.INFO
    if not access_logger.isEnabledFor(level):
        return
    fields = (request_id, method, path, status, bytes_in, bytes_out, elapsed_ms)
    if stage_timings:
        access_logger.log(level, ACCESS_LINE + " stages_ms=%s", *fields, stage_timings)
    else:
        access_logger.log(level, ACCESS_LINE, *fields)


def http_error_answer(error: HTTPException, stage_kind: str) -> Answer:
    """Werkzeug's HTTP errors (404, 405, a client gone mid-body) as the JSON error."""
    code = (error.name or "error").lower().replace(" ", "-")
    body = error_body(code, error.description or "", stage_kind)
    # Werkzeug's own headers matter (a 405's Allow); its Content-Type is HTML's.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() not in _FRAMING]
    return _json_answer(error.code or 500, body, headers)


def failure_answer(error: Exception, stage_kind: str) -> Answer:
    """Any exception of a request as the JSON error every container answers."""
    if isinstance(error, HTTPException):
        return http_error_answer(error, stage_kind)
    status, body = error_answer(error, stage_kind)
    return _json_answer(status, body)


_FRAMING = {"content-type", "content-length"}


def _json_answer(status: int, body: bytes, headers: list[tuple[str, str]] | None = None) -> Answer:
    framing = [("Content-Type", media.JSON), ("Content-Length", str(len(body)))]
    return Answer(status, [*(headers or []), *framing], body)


class HotPath:
    """The runtime's WSGI entry: the two hot routes here, the rest to `fallback` (Flask)."""

    def __init__(
        self,
        fallback: WSGIApp,
        stage: Stage,
        settings: ServingSettings,
        on_timeout: Callable[[], None],
    ) -> None:
        self.fallback = fallback
        self.stage = stage
        self.settings = settings
        self.on_timeout = on_timeout
        self.deadlines = Deadlines(settings.timeout)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if path == "/invocations" and method == "POST":
            started = time.perf_counter()
            request_id = request_id_of(environ)
            try:
                answer = self.invocation_answer(environ, request_id)
            except AnsweredLate:
                start_response("504 GATEWAY TIMEOUT", [("Connection", "close")])
                return []  # the watcher answered and closed this connection
            except Exception as error:
                answer = failure_answer(error, self.stage.kind)
        elif path == "/ping" and method == "GET":
            started, request_id, answer = time.perf_counter(), request_id_of(environ), PING
        else:
            return self.fallback(environ, start_response)
        headers = [*answer.headers, ("X-Request-Id", request_id)]
        start_response(status_line(answer.status), headers)
        log_access(
            request_id,
            method,
            path,
            answer.status,
            get_content_length(environ) or 0,
            len(answer.body),
            (time.perf_counter() - started) * 1000,
            next((v for k, v in answer.headers if k == STAGE_TIMINGS_HEADER), None),
        )
        return [answer.body]

    def invocation_answer(self, environ: dict[str, Any], request_id: str) -> Answer:
        """Answer one `/invocations` request (raises what the JSON errors are made of)."""
        stage, settings = self.stage, self.settings
        reader = _BodyReader(environ, settings)
        expire = self._expiry(request_id, environ)
        sock = environ.get("gunicorn.socket")
        # Werkzeug's view of the environ's headers: case-blind, as read_invocation needs.
        headers = cast(Mapping[str, str], EnvironHeaders(environ))
        if stage.raw_requests:  # a fused chain: body and headers as they came
            limit = settings.max_payload_bytes
            body = reader.read(limit)
            if len(body) > limit:
                raise body_too_large(len(body), limit)
            raw = dict(headers.items())
            reply = self._within_timeout(lambda: stage.invoke_raw(body, raw), sock, expire)
            reply_headers = dict(reply.headers)
            reply_headers.setdefault("Content-Type", DEFAULT_CONTENT_TYPE)
            reply_headers["Content-Length"] = str(len(reply.body))
            return Answer(reply.status, list(reply_headers.items()), reply.body)
        invocation = read_invocation(stage, settings, headers, reader.read, request_id)
        result = self._within_timeout(lambda: stage.invoke(invocation), sock, expire)
        framing = {"Content-Type": result.content_type, "Content-Length": str(len(result.body))}
        return Answer(200, list({**framing, **result.headers}.items()), result.body)

    def _within_timeout(
        self, run: Callable[[], Any], sock: socket.socket | None, expire: Callable[..., None]
    ) -> Any:
        """`run()` within SAGEMAKER_MODEL_SERVER_TIMEOUT; past it a 504, and the worker is
        recycled (a stuck thread cannot be stopped)."""
        try:
            return self.deadlines.call(run, sock, expire)
        except TimeoutError:
            self.on_timeout()
            raise stage_timeout(self.settings) from None

    def _expiry(self, request_id: str, environ: dict[str, Any]) -> Callable[[socket.socket], None]:
        """What the watcher does for this request past its deadline: the 504, the access
        line, the recycle."""

        def expire(sock: socket.socket) -> None:
            error = stage_timeout(self.settings)
            body = error_body(Timeout.code, error.message, self.stage.kind)
            head = (
                f"HTTP/1.1 {status_line(504)}\r\nConnection: close\r\n"
                f"Content-Type: {media.JSON}\r\nContent-Length: {len(body)}\r\n"
                f"X-Request-Id: {request_id}\r\n\r\n"
            )
            logger.error("%s: %s", error.code, error.message)
            with contextlib.suppress(OSError):
                sock.sendall(head.encode("latin-1") + body)
            log_access(
                request_id,
                "POST",
                "/invocations",
                504,
                get_content_length(environ) or 0,
                len(body),
                self.settings.timeout * 1000.0,
                None,
            )
            self.on_timeout()

        return expire


class _BodyReader:
    """Reads a request's body as the route needs it: bounded, within the read timeout."""

    def __init__(self, environ: dict[str, Any], settings: ServingSettings) -> None:
        self.environ = environ
        self.settings = settings
        self.sock: socket.socket | None = environ.get("gunicorn.socket")

    def read(self, limit: int) -> bytes:
        """At most limit + 1 bytes of the body (a larger one is refused by `check_body`).

        The worker class hands over requests whose body has arrived; a chunked body is
        still read here, within INFERPIPE_REQUEST_READ_TIMEOUT (a 408 after it)."""
        length = get_content_length(self.environ)
        stream = get_input_stream(self.environ)
        if length is not None and length > limit:
            self._drain(stream, length)
            raise body_too_large(length, limit)
        sock = self.sock
        if sock is None:
            return stream.read(limit + 1)
        previous = sock.gettimeout()
        sock.settimeout(self.settings.request_read_timeout)
        try:
            return stream.read(limit + 1)
        except Exception as exc:
            if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
                # No more reading on this connection: it closes once the 408 is sent.
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RD)
                raise RequestTimeout(
                    f"the body did not arrive within {self.settings.request_read_timeout} s "
                    f"({names.REQUEST_READ_TIMEOUT})"
                ) from None
            if isinstance(exc, ParseException):
                # The rest of the stream cannot be framed: the connection closes after the 400.
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RD)
                raise MalformedPayload(f"the chunked body is malformed: {exc}") from None
            raise
        finally:
            sock.settimeout(previous)

    def _drain(self, stream: Any, length: int) -> None:
        """Read and drop a refused body, up to DRAIN_MAX_BYTES and DRAIN_SECONDS: a client
        still sending when the server answers and closes sees a broken pipe, not the 413."""
        sock = self.sock
        previous = sock.gettimeout() if sock is not None else None
        deadline = time.monotonic() + DRAIN_SECONDS
        remaining = min(length, DRAIN_MAX_BYTES)
        try:
            while remaining > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                if sock is not None:
                    sock.settimeout(left)
                chunk = stream.read(min(remaining, DRAIN_CHUNK))
                if not chunk:
                    break
                remaining -= len(chunk)
        except Exception:
            logger.debug("stopped draining a refused body", exc_info=True)
        finally:
            if sock is not None:
                sock.settimeout(previous)
