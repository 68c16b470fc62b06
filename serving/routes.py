"""The SageMaker container endpoints: `/ping`, `/invocations`, `/execution-parameters`.

https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-inference-code.html
https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-batch-code.html
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, current_app, g, jsonify, request
from gunicorn.http.errors import ParseException

from inferpipe.protocol import names
from inferpipe.protocol.errors import MalformedPayload, RequestTimeout
from inferpipe.protocol.fused import STAGE_TIMINGS_HEADER
from inferpipe.serving.invocation import (
    REQUEST_ID_HEADERS,
    body_too_large,
    read_invocation,
    stage_timeout,
)
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage import InvocationResponse, Stage

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("inferpipe.serving.access")

blueprint = Blueprint("sagemaker", __name__)
T = TypeVar("T")

#: How much of a refused (too large) body is read and dropped so the client gets the 413.
DRAIN_MAX_BYTES = 1 << 30
DRAIN_SECONDS = 10.0
DRAIN_CHUNK = 1 << 16

_executor_lock = threading.Lock()
_executors: dict[int, ThreadPoolExecutor] = {}


def _context() -> tuple[Stage, ServingSettings]:
    state = current_app.extensions["inferpipe"]
    return state["stage"], state["settings"]


def _executor(threads: int) -> ThreadPoolExecutor:
    """A per-process pool: created lazily so a forked worker never inherits one."""
    pid = os.getpid()
    with _executor_lock:
        if pid not in _executors:
            _executors[pid] = ThreadPoolExecutor(threads, thread_name_prefix="inferpipe-stage")
        return _executors[pid]


@blueprint.get("/ping")
def ping() -> Response:
    """200 with an empty body: the app only exists once its stage has loaded."""
    return Response(status=200)


@blueprint.get("/execution-parameters")
def execution_parameters() -> Response:
    _, settings = _context()
    return jsonify(
        {
            "MaxConcurrentTransforms": settings.concurrent_transforms,
            "BatchStrategy": settings.batch_strategy,
            "MaxPayloadInMB": settings.max_payload_mb,
        }
    )


def _drain(length: int) -> None:
    """Read and drop a refused body, up to DRAIN_MAX_BYTES and DRAIN_SECONDS: a client
    still sending when the server answers and closes sees a broken pipe, not the 413."""
    sock = request.environ.get("gunicorn.socket")
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
            chunk = request.stream.read(min(remaining, DRAIN_CHUNK))
            if not chunk:
                break
            remaining -= len(chunk)
    except Exception:
        logger.debug("stopped draining a refused body", exc_info=True)
    finally:
        if sock is not None:
            sock.settimeout(previous)


def _read_body(limit: int) -> bytes:
    """At most limit + 1 bytes of the body (a larger one is refused by `check_body`).

    The worker class hands over requests whose body has arrived; a chunked body is still
    read here, within INFERPIPE_REQUEST_READ_TIMEOUT (a 408 after it)."""
    length = request.content_length
    if length is not None and length > limit:
        _drain(length)
        raise body_too_large(length, limit)
    _, settings = _context()
    sock = request.environ.get("gunicorn.socket")
    if sock is None:
        return request.stream.read(limit + 1)
    previous = sock.gettimeout()
    sock.settimeout(settings.request_read_timeout)
    try:
        return request.stream.read(limit + 1)
    except Exception as exc:
        if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
            # No more reading on this connection: it closes once the 408 is sent.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RD)
            raise RequestTimeout(
                f"the body did not arrive within {settings.request_read_timeout} s "
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


def _within_timeout(settings: ServingSettings, call: Callable[..., T], *args: Any) -> T:
    """Run `call` on the stage pool; past SAGEMAKER_MODEL_SERVER_TIMEOUT, recycle the
    worker and answer 504."""
    # One spare pool thread: a call stuck past its timeout must not hold up the next
    # request while the worker is being recycled.
    future = _executor(settings.threads + 1).submit(call, *args)
    try:
        return future.result(timeout=settings.timeout)
    except FutureTimeout:
        current_app.extensions["inferpipe"]["on_timeout"]()
        raise stage_timeout(settings) from None


def _raw_invocation(stage: Stage, settings: ServingSettings) -> Response:
    """A raw stage (a fused chain) gets the body and headers as they came."""
    limit = settings.max_payload_bytes
    body = _read_body(limit)
    if len(body) > limit:
        raise body_too_large(len(body), limit)
    headers = {k: v for k, v in request.headers.items()}
    reply = _within_timeout(settings, stage.invoke_raw, body, headers)
    return Response(reply.body, status=reply.status, headers=dict(reply.headers))


@blueprint.post("/invocations")
def invocations() -> Response:
    stage, settings = _context()
    if stage.raw_requests:
        return _raw_invocation(stage, settings)
    # Werkzeug's headers are case-blind, as read_invocation needs.
    headers = cast(Mapping[str, str], request.headers)
    invocation = read_invocation(stage, settings, headers, _read_body, g.request_id)
    result: InvocationResponse = _within_timeout(settings, stage.invoke, invocation)
    response = Response(result.body, status=200, content_type=result.content_type)
    response.headers.update(result.headers)
    return response


@blueprint.before_app_request
def assign_request_id() -> None:
    g.started = time.perf_counter()
    g.request_id = next(
        (request.headers[h] for h in REQUEST_ID_HEADERS if h in request.headers), uuid.uuid4().hex
    )


def access_log(response: Response) -> Response:
    """One line per request: id, method, path, status, bytes in and out, latency."""
    elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
    level = logging.DEBUG if request.path == "/ping" else logging.INFO
    fields: tuple[Any, ...] = (
        g.get("request_id", "-"),
        request.method,
        request.path,
        response.status_code,
        request.content_length or 0,
        response.calculate_content_length() or 0,
        elapsed_ms,
    )
    line = "request_id=%s method=%s path=%s status=%d bytes_in=%d bytes_out=%d latency_ms=%.1f"
    stage_timings = response.headers.get(STAGE_TIMINGS_HEADER)
    if stage_timings:
        # A fused container: each original container's time, as separate containers logged it.
        line += " stages_ms=%s"
        fields = (*fields, stage_timings)
    access_logger.log(level, line, *fields)
    response.headers["X-Request-Id"] = str(fields[0])
    return response
