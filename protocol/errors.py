"""The inferpipe error tree: every error carries its HTTP status and a stable code.

    InferpipeError                 500 internal-error
    ├── BadInput                   400 bad-input
    │   ├── EmptyBody              400 empty-body
    │   ├── MalformedPayload       400 malformed-payload
    │   ├── SchemaMismatch         400 schema-mismatch
    │   └── ClientError            4xx client-error (status chosen by user code)
    ├── NotAcceptable              406 not-acceptable
    ├── RequestTimeout             408 request-timeout
    ├── PayloadTooLarge            413 payload-too-large
    ├── UnsupportedMediaType       415 unsupported-media-type
    ├── StageFailed                500 stage-failed
    ├── NotReady                   503 not-ready
    ├── Timeout                    504 timeout
    └── ConfigError                (start-up) bad environment or settings
        └── ArtifactError          (start-up) a model artifact cannot be loaded
            └── UnsafeArchive      an archive entry would escape, or is a link/device

The spec side adds `SpecError` and `DeployError` (`inferpipe.pipeline_spec.errors`).

Containers answer these as JSON `{"error": code, "message": ..., "stage": ...}`.
User hooks may raise `BadInput` (or any class here) to answer with its status.
"""

from __future__ import annotations

from typing import ClassVar


class InferpipeError(Exception):
    """Root of every error inferpipe raises on purpose."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal-error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(InferpipeError):
    """The request body cannot be turned into records."""

    status = 400
    code = "bad-input"


class EmptyBody(BadInput):
    code = "empty-body"


class MalformedPayload(BadInput):
    code = "malformed-payload"


class SchemaMismatch(BadInput):
    code = "schema-mismatch"


class ClientError(BadInput):
    """A 4xx status chosen by user code, e.g. a hook's error with a `status_code`."""

    code = "client-error"

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status  # type: ignore[misc]


class NotAcceptable(InferpipeError):
    status = 406
    code = "not-acceptable"


class RequestTimeout(InferpipeError):
    status = 408
    code = "request-timeout"


class PayloadTooLarge(InferpipeError):
    status = 413
    code = "payload-too-large"


class UnsupportedMediaType(InferpipeError):
    status = 415
    code = "unsupported-media-type"


class StageFailed(InferpipeError):
    status = 500
    code = "stage-failed"


class NotReady(InferpipeError):
    status = 503
    code = "not-ready"


class Timeout(InferpipeError):
    status = 504
    code = "timeout"


class ConfigError(InferpipeError):
    """A setting or environment variable has a value we cannot use."""

    code = "config-error"


class ArtifactError(ConfigError):
    """A model artifact is missing or cannot be loaded; raised at start-up."""

    code = "artifact-error"


class UnsafeArchive(ArtifactError):
    """An archive holds an entry that would land outside its destination, or a link."""

    code = "unsafe-archive"


def status_of(exc: BaseException) -> int | None:
    """Return the 4xx status a foreign exception carries, as SageMaker toolkits' errors do.

    Scripts written for SageMaker's framework containers raise errors with a
    `status_code` attribute; honouring it lets those scripts run unchanged.
    """
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and 400 <= status < 500:
        return status
    return None
