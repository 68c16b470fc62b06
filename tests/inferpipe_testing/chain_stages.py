"""Tiny stages for header-flow tests, loaded by import string like any user stage."""

from __future__ import annotations

import json
import time
from typing import ClassVar

import pandas as pd

from inferpipe.protocol import media
from inferpipe.serving.stage import InvocationRequest, InvocationResponse, Stage


class ReportStage(Stage):
    """Answers what it received: Content-Type, Accept header, the type it answers in,
    and the previous hop's report, so a chain's header flow can be read off the result."""

    kind = "report"
    accepts = (media.ANY,)
    emits: ClassVar[tuple[str, ...]] = (media.JSON, media.CSV, media.JSONLINES)

    def invoke(self, request: InvocationRequest) -> InvocationResponse:
        try:
            previous = json.loads(request.body)
        except ValueError:
            previous = request.body.decode()
        report = {
            "received": request.content_type.type,
            "params": request.content_type.params,
            "accept_header": request.accept_header,
            "answered_as": request.accept,
            "previous": previous,
        }
        return InvocationResponse(json.dumps(report).encode(), request.accept)


class AddOneStage(Stage):
    """Adds one to every numeric field (any tabular format in and out)."""

    kind = "add-one"

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame + 1


class CsvOnlyStage(Stage):
    """Reads CSV only, so any other Content-Type is a 415."""

    kind = "csv-only"
    accepts = (media.CSV,)


class SlowStage(Stage):
    """Takes three seconds per request."""

    kind = "slow"

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        time.sleep(3)
        return frame
