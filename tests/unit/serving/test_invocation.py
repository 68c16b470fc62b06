"""The request path shared by the Flask route and the in-process transport (invocation.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inferpipe.protocol.errors import EmptyBody, PayloadTooLarge, UnsupportedMediaType
from inferpipe.serving.invocation import CaseBlindHeaders, error_body, read_invocation
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage import Stage


def _read(body: bytes, content_type: str = "text/csv", limit_mb: int = 1) -> None:
    settings = ServingSettings(model_dir=Path("."), max_payload_mb=limit_mb)
    headers = CaseBlindHeaders({"content-type": content_type})
    read_invocation(Stage(), settings, headers, lambda _limit: body, "test")


def test_empty_body_is_refused() -> None:
    with pytest.raises(EmptyBody):
        _read(b"  \n")


def test_body_over_the_limit_is_refused() -> None:
    with pytest.raises(PayloadTooLarge, match="SAGEMAKER_MAX_PAYLOAD_IN_MB"):
        _read(b"1" * (1024 * 1024 + 1))


def test_content_type_is_checked_before_the_body() -> None:
    with pytest.raises(UnsupportedMediaType):
        _read(b"", content_type="image/png")


def test_headers_are_looked_up_case_blind() -> None:
    headers = CaseBlindHeaders({"CONTENT-TYPE": "text/csv"})
    assert headers.get("Content-Type") == "text/csv" and headers.get("Accept") is None


def test_error_body_is_what_flask_jsonify_writes() -> None:
    assert error_body("bad-input", "x", "sklearn") == (
        b'{"error":"bad-input","message":"x","stage":"sklearn"}\n'
    )
