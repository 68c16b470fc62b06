"""The SageMaker container runtime: a Flask app under gunicorn that serves one stage.

It builds on `inferpipe.protocol` and never imports `inferpipe.transformers` or
`inferpipe.pipeline_spec`; stages are found by import string. The error classes are
re-exported here because users' hooks raise them (`from inferpipe.serving import BadInput`).
"""

from __future__ import annotations

from inferpipe.protocol.errors import (
    ArtifactError,
    BadInput,
    ConfigError,
    EmptyBody,
    InferpipeError,
    MalformedPayload,
    NotAcceptable,
    PayloadTooLarge,
    SchemaMismatch,
    StageFailed,
    UnsupportedMediaType,
)
from inferpipe.serving.app import create_app
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage import InvocationRequest, InvocationResponse, Stage

__all__ = [
    "ArtifactError",
    "BadInput",
    "ConfigError",
    "EmptyBody",
    "InferpipeError",
    "InvocationRequest",
    "InvocationResponse",
    "MalformedPayload",
    "NotAcceptable",
    "PayloadTooLarge",
    "SchemaMismatch",
    "ServingSettings",
    "Stage",
    "StageFailed",
    "UnsupportedMediaType",
    "create_app",
]
