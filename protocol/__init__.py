"""The SageMaker protocol as data and pure functions: errors, media types, names,
safe archives and the serial-chain runner.

The bottom layer: standard library only, importable without any extra, imported by
`inferpipe.serving`, `inferpipe.transformers` and `inferpipe.pipeline_spec` alike.
"""

from __future__ import annotations

from inferpipe.protocol.chain import (
    ChainError,
    ChainObserver,
    ChainRequest,
    ChainResult,
    Hop,
    HopEvent,
    HopReply,
    Transport,
    run_chain,
)
from inferpipe.protocol.errors import (
    ArtifactError,
    BadInput,
    ClientError,
    ConfigError,
    EmptyBody,
    InferpipeError,
    MalformedPayload,
    NotAcceptable,
    NotReady,
    PayloadTooLarge,
    SchemaMismatch,
    StageFailed,
    Timeout,
    UnsafeArchive,
    UnsupportedMediaType,
)

__all__ = [
    "ArtifactError",
    "BadInput",
    "ChainError",
    "ChainObserver",
    "ChainRequest",
    "ChainResult",
    "ClientError",
    "ConfigError",
    "EmptyBody",
    "Hop",
    "HopEvent",
    "HopReply",
    "InferpipeError",
    "MalformedPayload",
    "NotAcceptable",
    "NotReady",
    "PayloadTooLarge",
    "SchemaMismatch",
    "StageFailed",
    "Timeout",
    "Transport",
    "UnsafeArchive",
    "UnsupportedMediaType",
    "run_chain",
]
