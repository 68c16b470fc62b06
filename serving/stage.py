"""The one interface every stage kind implements, and the request it handles.

A stage is loaded once at start-up (`load`), warmed in each worker after fork
(`warm_up`), then handles requests. The default request path is
decode → `transform` → encode with serving's codecs; a stage that needs the raw
body (a user's script) overrides `invoke` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from inferpipe.protocol import media
from inferpipe.protocol.chain import HopReply
from inferpipe.protocol.interface import StageInterface
from inferpipe.protocol.media import MediaRange
from inferpipe.serving import codecs
from inferpipe.serving.schema import Schema
from inferpipe.serving.settings import ServingSettings


@dataclass(frozen=True)
class InvocationRequest:
    """What `/invocations` received, with Content-Type resolved and Accept negotiated."""

    body: bytes
    content_type: MediaRange
    accept: str
    request_id: str
    custom_attributes: str | None = None
    accept_header: str | None = None


@dataclass(frozen=True)
class InvocationResponse:
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


def response_type(
    stage: Stage, settings: ServingSettings, content_type: str, accept_header: str | None
) -> str:
    """The media type to answer with: the stage's pick from Accept, else its default."""
    return stage.negotiate(accept_header, stage.default_response_type(settings, content_type))


class Stage:
    """Base class of stage kinds; subclasses set `kind` and override what they need."""

    kind: ClassVar[str] = "custom"
    #: The formats the default `invoke` decodes and encodes with.
    codec_registry: ClassVar[codecs.CodecRegistry[Any, Any]] = codecs.TABULAR
    accepts: ClassVar[tuple[str, ...]] = codecs.TABULAR.decodable
    emits: ClassVar[tuple[str, ...]] = codecs.TABULAR.encodable
    #: True for a stage that takes requests as they came (a fused chain, whose first
    #: inner stage checks Content-Type, Accept and the body itself): the route calls
    #: `invoke_raw` and answers what it returns, status and headers included.
    raw_requests: ClassVar[bool] = False

    def __init__(self) -> None:
        self.schema: Schema | None = None
        self.model_dir: Path | None = None

    def load(self, model_dir: Path, settings: ServingSettings) -> None:
        """Load the artifact from `model_dir`; raise ArtifactError when it is unusable."""
        self.model_dir = model_dir

    def default_response_type(self, settings: ServingSettings, content_type: str) -> str:
        """The answer type when Accept is absent or `*/*`: SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT,
        else the request's own type when the stage emits it, else the stage's first."""
        if settings.default_accept:
            return settings.default_accept
        if content_type in self.emits or media.ANY in self.emits:
            return content_type
        return self.emits[0]

    def negotiate(self, accept_header: str | None, default: str) -> str:
        """The first type of the Accept header this stage emits (406 when none)."""
        return media.negotiate_accept(accept_header, self.emits, default)

    def interface(self) -> StageInterface | None:
        """The columns the loaded stage reads and writes, for the schema chain check
        (None: the stage cannot tell, e.g. a user's script)."""
        return None

    def warm_up(self) -> None:
        """Run once per worker after fork (threaded numeric code is safe here)."""

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Turn decoded input records into output records, one per input, in order."""
        return frame

    def invoke_raw(self, body: bytes, headers: Mapping[str, str]) -> HopReply:
        """Answer a request as it came (only stages with `raw_requests`)."""
        raise NotImplementedError(f"the {self.kind} stage does not take raw requests")

    def invoke(self, request: InvocationRequest) -> InvocationResponse:
        """Handle one request: decode, transform, encode."""
        frame = self.codec_registry.decode(request.body, request.content_type, self.schema)
        result = self.transform(frame)
        return InvocationResponse(
            self.codec_registry.encode(result, request.accept), request.accept
        )
