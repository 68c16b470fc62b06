"""OpenAPI 3.0 documents of the two HTTP surfaces inferpipe serves: the container
contract (`/ping`, `/invocations`, `/execution-parameters`) and the local endpoint's
InvokeEndpoint front.

Built from the same names and error classes the servers use, so the documents cannot
drift from the error table; `inferpipe openapi` prints them and the suite runs
schemathesis against both (response schemas, status codes, content types checked).
"""

from __future__ import annotations

from typing import Any

from inferpipe._version import __version__
from inferpipe.protocol import media, names

#: Every status a container answers, with when (the README's error table).
CONTAINER_ERRORS: dict[str, str] = {
    "400": "bad-input, empty-body, malformed-payload, schema-mismatch; malformed-request "
    "(the HTTP request itself: request line, Content-Length, chunks, transfer coding)",
    "4XX": "client-error: a user hook raised an error with its own status",
    "404": "not-found: no such route",
    "405": "method-not-allowed",
    "406": "not-acceptable: Accept matches nothing the stage emits",
    "408": "request-timeout: the request did not arrive within INFERPIPE_REQUEST_READ_TIMEOUT",
    "413": "payload-too-large: the body is over SAGEMAKER_MAX_PAYLOAD_IN_MB",
    "414": "uri-too-long",
    "415": "unsupported-media-type: Content-Type missing or not accepted",
    "431": "headers-too-large",
    "500": "stage-failed: the stage's own fault (details in the log only)",
    "503": "not-ready: the stage cannot answer yet",
    "504": "timeout: past SAGEMAKER_MODEL_SERVER_TIMEOUT",
}

#: Every status the local endpoint's front answers itself or passes on.
FRONT_ERRORS: dict[str, str] = {
    "400": "ValidationError: unknown endpoint or variant, a malformed HTTP request",
    "404": "ValidationError: no such route",
    "405": "ValidationError: the route takes another method",
    "408": "RequestTimeout: the body did not arrive within `local up --read-timeout`",
    "413": "ValidationError: the body is over the 6 MB InvokeEndpoint limit",
    "414": "ValidationError: the request line is too long",
    "424": "ModelError: a container answered an error or timed out (OriginalStatusCode)",
    "431": "ValidationError: too many or too long headers",
    "503": "ValidationError: the local endpoint is stopping",
}

CONTAINER_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
        "message": {"type": "string"},
        "stage": {"type": "string"},
    },
}

FRONT_ERROR_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {
            "type": "object",
            "required": ["message"],
            "properties": {"message": {"type": "string"}},
            "additionalProperties": False,
        },
        {
            "type": "object",
            "required": ["ErrorCode", "Message", "OriginalStatusCode", "LogStreamArn"],
            "properties": {
                "ErrorCode": {"type": "string"},
                "Message": {"type": "string"},
                "OriginalMessage": {"type": "string"},
                "OriginalStatusCode": {"type": "integer"},
                "LogStreamArn": {"type": "string"},
            },
            "additionalProperties": False,
        },
    ]
}

_BINARY = {"type": "string", "format": "binary"}
_TEXT = {"type": "string"}


def _header(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "schema": _TEXT,
        "description": description,
    }


def _json_errors(
    statuses: dict[str, str], schema_ref: str, headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    for status, description in statuses.items():
        answer[status] = {
            "description": description,
            "content": {media.JSON: {"schema": {"$ref": schema_ref}}},
        }
        if headers:
            answer[status]["headers"] = headers
    return answer


def container_document(
    emits: tuple[str, ...] = (media.CSV, media.JSON, media.JSONLINES, media.NPY),
) -> dict[str, Any]:
    """The container contract. `emits`: the media types a 200 may carry (a stage's)."""
    errors = _json_errors(CONTAINER_ERRORS, "#/components/schemas/Error")
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "inferpipe container: the SageMaker inference contract",
            "version": __version__,
            "description": "What every inferpipe image answers on SAGEMAKER_BIND_TO_PORT "
            "(8080). Errors are always JSON {error, message, stage}.",
        },
        "paths": {
            "/ping": {
                "get": {
                    "operationId": "ping",
                    "summary": "200 once the model has loaded (the server listens only then)",
                    "responses": {
                        "200": {"description": "healthy, empty body"},
                        "405": errors["405"],
                    },
                }
            },
            "/execution-parameters": {
                "get": {
                    "operationId": "executionParameters",
                    "summary": "what batch transform should send",
                    "responses": {
                        "200": {
                            "description": "batch settings",
                            "content": {
                                media.JSON: {
                                    "schema": {
                                        "type": "object",
                                        "required": [
                                            "MaxConcurrentTransforms",
                                            "BatchStrategy",
                                            "MaxPayloadInMB",
                                        ],
                                        "properties": {
                                            "MaxConcurrentTransforms": {
                                                "type": "integer",
                                                "minimum": 1,
                                            },
                                            "BatchStrategy": {
                                                "type": "string",
                                                "enum": ["MULTI_RECORD", "SINGLE_RECORD"],
                                            },
                                            "MaxPayloadInMB": {"type": "integer", "minimum": 1},
                                        },
                                    }
                                }
                            },
                        },
                        "405": errors["405"],
                    },
                }
            },
            "/invocations": {
                "post": {
                    "operationId": "invocations",
                    "summary": "one request of one or many records",
                    "parameters": [
                        _header(
                            "Accept",
                            "media types wanted, with q-values; absent or */* "
                            "falls back to SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT",
                        ),
                        _header(names.CUSTOM_ATTRIBUTES, "passed to the stage as sent"),
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            media.CSV: {"schema": _TEXT},
                            media.JSON: {"schema": {}},
                            media.JSONLINES: {"schema": _TEXT},
                            media.NPY: {"schema": _BINARY},
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "one output record per input record, in order",
                            "content": {t: {"schema": _BINARY} for t in emits},
                        },
                        **errors,
                    },
                }
            },
        },
        "components": {"schemas": {"Error": CONTAINER_ERROR_SCHEMA}},
    }


def front_document(endpoints: tuple[str, ...] = ()) -> dict[str, Any]:
    """The local endpoint's front: InvokeEndpoint on loopback. `endpoints`, when given,
    are the names it serves (the rest are a 400, as on SageMaker)."""
    name_schema: dict[str, Any] = {
        "type": "string",
        "pattern": "^[a-zA-Z0-9](-*[a-zA-Z0-9])*$",
        "maxLength": 63,
    }
    if endpoints:
        name_schema = {"type": "string", "enum": list(endpoints)}
    error_type = {
        names.ERROR_TYPE: {
            "required": True,
            "schema": _TEXT,
            "description": "the error's type, as boto3 reads it",
        }
    }
    errors = _json_errors(FRONT_ERRORS, "#/components/schemas/Error", error_type)
    text = {"text/plain": {"schema": _TEXT}}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "inferpipe local endpoint: SageMaker Runtime InvokeEndpoint",
            "version": __version__,
            "description": "`inferpipe local up` serves this on 127.0.0.1; boto3's "
            "sagemaker-runtime client works against it with endpoint_url.",
        },
        "paths": {
            "/ping": {
                "get": {
                    "operationId": "ping",
                    "responses": {
                        "200": {"description": "up", "content": text},
                        "405": errors["405"],
                    },
                }
            },
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "responses": {
                        "200": {
                            "description": "Prometheus text",
                            "content": {"text/plain": {"schema": _TEXT}},
                        },
                        "405": errors["405"],
                    },
                }
            },
            "/endpoints/{EndpointName}/invocations": {
                "post": {
                    "operationId": "invokeEndpoint",
                    "parameters": [
                        {
                            "name": "EndpointName",
                            "in": "path",
                            "required": True,
                            "schema": name_schema,
                        },
                        _header("Accept", "passed to the last container"),
                        _header(names.CUSTOM_ATTRIBUTES, "passed to every container"),
                        _header(names.TARGET_VARIANT, "a production variant by name"),
                        _header(
                            names.TARGET_CONTAINER_HOSTNAME, "one container of a Direct pipeline"
                        ),
                        _header(names.INFERENCE_ID, "passed to every container"),
                    ],
                    # SageMaker forwards an empty body too: the first container judges it.
                    "requestBody": {"required": False, "content": {"*/*": {"schema": _BINARY}}},
                    "responses": {
                        "200": {
                            "description": "the last container's answer",
                            "headers": {
                                names.INVOKED_PRODUCTION_VARIANT: {
                                    "required": True,
                                    "schema": _TEXT,
                                }
                            },
                            "content": {"*/*": {"schema": _BINARY}},
                        },
                        **errors,
                    },
                }
            },
        },
        "components": {"schemas": {"Error": FRONT_ERROR_SCHEMA}},
    }


__all__ = ["CONTAINER_ERRORS", "FRONT_ERRORS", "container_document", "front_document"]
