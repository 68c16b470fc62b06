"""The one interface every stage kind implements, and the request it handles.

A stage is loaded once at start-up (`load`), warmed in each worker after fork
(`warm_up`), then handles requests. The default request path is
decode → `transform` → encode with serving's codecs; a stage that needs the raw
body (a user's script) overrides `invoke` instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pandas as pd

from inferpipe.serving import codecs
from inferpipe.serving.media import MediaRange
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


class Stage:
    """Base class of stage kinds; subclasses set `kind` and override what they need."""

    kind: ClassVar[str] = "custom"
    accepts: ClassVar[tuple[str, ...]] = codecs.TABULAR_TYPES
    emits: ClassVar[tuple[str, ...]] = codecs.TABULAR_TYPES

    def __init__(self) -> None:
        self.schema: Schema | None = None
        self.model_dir: Path | None = None

    def load(self, model_dir: Path, settings: ServingSettings) -> None:
        """Load the artifact from `model_dir`; raise ArtifactError when it is unusable."""
        self.model_dir = model_dir

    def warm_up(self) -> None:
        """Run once per worker after fork (threaded numeric code is safe here)."""

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Turn decoded input records into output records, one per input, in order."""
        return frame

    def invoke(self, request: InvocationRequest) -> InvocationResponse:
        """Handle one request: decode, transform, encode."""
        frame = codecs.decode(request.body, request.content_type, self.schema)
        result = self.transform(frame)
        return InvocationResponse(codecs.encode(result, request.accept), request.accept)
