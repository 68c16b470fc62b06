"""One `/invocations` request, independent of Flask: headers in, a stage's answer out.

The Flask route and the in-process chain transport both call these, so a stage
called in process answers byte for byte what its HTTP container answers, errors
included.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping

from inferpipe.protocol import media, names
from inferpipe.protocol.errors import (
    ConfigError,
    EmptyBody,
    InferpipeError,
    PayloadTooLarge,
    StageFailed,
    Timeout,
)
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage import InvocationRequest, Stage, response_type

logger = logging.getLogger(__name__)

#: Request-id headers, in the order the id is taken from.
REQUEST_ID_HEADERS = (names.INFERENCE_ID, names.REQUEST_ID, "X-Request-Id")


#: What a client learns of an unexpected exception: nothing internal.
UNEXPECTED_FAILURE = StageFailed("the stage failed on this request; the container log has details")


def check_default_accept(stage: Stage, settings: ServingSettings) -> None:
    """Refuse to start when the default response type is one the stage cannot emit."""
    if media.ANY in stage.emits:
        return
    if settings.default_accept and settings.default_accept not in stage.emits:
        raise ConfigError(
            f"{names.DEFAULT_INVOCATIONS_ACCEPT}={settings.default_accept!r} is not emitted "
            f"by the {stage.kind} stage; use one of: {', '.join(stage.emits)}"
        )


def body_too_large(length: int, limit: int) -> PayloadTooLarge:
    """The 413 for a body whose declared or actual length is over the limit."""
    return PayloadTooLarge(
        f"the body is {length} bytes; the limit is {limit} bytes ({names.MAX_PAYLOAD_IN_MB})"
    )


def stage_timeout(settings: ServingSettings) -> Timeout:
    """The 504 for a stage that did not answer within SAGEMAKER_MODEL_SERVER_TIMEOUT."""
    return Timeout(
        f"the stage did not answer within {settings.timeout} s ({names.MODEL_SERVER_TIMEOUT})"
    )


def check_body(body: bytes, limit: int) -> bytes:
    """Refuse a body over `limit` bytes (413) or with nothing in it (400)."""
    if len(body) > limit:
        raise PayloadTooLarge(
            f"the body exceeds the limit of {limit} bytes ({names.MAX_PAYLOAD_IN_MB})"
        )
    if not body.strip():
        raise EmptyBody("the request body is empty; send at least one record")
    return body


def read_invocation(
    stage: Stage,
    settings: ServingSettings,
    headers: Mapping[str, str],
    read_body: Callable[[int], bytes],
    request_id: str,
) -> InvocationRequest:
    """Resolve Content-Type (415), negotiate Accept (406), then read and check the body
    (413, 400), in that order.

    `headers` looks names up case-blind (Flask's headers, or a `CaseBlindHeaders`);
    `read_body(limit)` returns the body, reading at most limit + 1 bytes."""
    content_type = media.parse_content_type(headers.get(names.CONTENT_TYPE), stage.accepts)
    accept_header = headers.get(names.ACCEPT)
    accept = response_type(stage, settings, content_type.type, accept_header)
    limit = settings.max_payload_bytes
    return InvocationRequest(
        body=check_body(read_body(limit), limit),
        content_type=content_type,
        accept=accept,
        request_id=request_id,
        custom_attributes=headers.get(names.CUSTOM_ATTRIBUTES),
        accept_header=accept_header,
    )


def error_body(code: str, message: str, stage_kind: str) -> bytes:
    """The JSON error every container answers: `{"error", "message", "stage"}`.

    Written as Flask's JSON provider writes it (sorted keys, compact, newline), so the
    in-process path and the HTTP path give the same bytes."""
    document = {"error": code, "message": message, "stage": stage_kind}
    return (json.dumps(document, separators=(",", ":"), sort_keys=True) + "\n").encode()


def error_answer(error: Exception, stage_kind: str) -> tuple[int, bytes]:
    """Log a failed request once and return its status and JSON body.

    An InferpipeError answers its own status and message (4xx logged as a WARNING, 5xx as
    an ERROR); anything else is a 500 that tells the client nothing internal, with the
    traceback in the log only. The Flask app and the in-process transport both use this."""
    if not isinstance(error, InferpipeError):
        logger.error("unexpected failure in stage %s", stage_kind, exc_info=error)
        error = UNEXPECTED_FAILURE
    elif error.status >= 500:
        logger.error("%s: %s", error.code, error.message, exc_info=error)
    else:
        logger.warning("%s %s: %s", error.status, error.code, error.message)
    return error.status, error_body(error.code, error.message, stage_kind)


class CaseBlindHeaders(dict[str, str]):
    """Request headers looked up by case-blind name, as HTTP servers present them."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        super().__init__((k.lower(), v) for k, v in headers.items())

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(key.lower(), default)
