"""The SageMaker container runtime: a Flask app under gunicorn that serves one stage.

This package is the bottom layer: it never imports `inferpipe.transformers` or
`inferpipe.pipeline_spec`; stages are found by import string.
"""

from __future__ import annotations

from typing import Any

from inferpipe.serving.errors import (
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
from inferpipe.serving.settings import ServingSettings

#: Names that need flask or pandas, imported on first use so that the spec side
#: can use errors, media types and settings without the serving extra.
_LAZY = {
    "create_app": "inferpipe.serving.app",
    "InvocationRequest": "inferpipe.serving.stage",
    "InvocationResponse": "inferpipe.serving.stage",
    "Stage": "inferpipe.serving.stage",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'inferpipe.serving' has no attribute {name!r}")


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
