from __future__ import annotations

import pytest

from inferpipe.protocol import media
from inferpipe.protocol.errors import NotAcceptable, UnsupportedMediaType

TABULAR = (media.CSV, media.JSON, media.JSONLINES, media.NPY)


def test_csv_with_charset_param_is_accepted() -> None:
    parsed = media.parse_content_type("text/csv; charset=utf-8", TABULAR)
    assert parsed.type == media.CSV
    assert parsed.params == {"charset": "utf-8"}


def test_content_type_without_space_and_odd_case_is_accepted() -> None:
    assert media.parse_content_type("Text/CSV;label_size=0", TABULAR).type == media.CSV


def test_jsonlines_aliases_resolve_to_one_type() -> None:
    assert media.parse_content_type("application/x-ndjson", TABULAR).type == media.JSONLINES


def test_unknown_content_type_raises_415_naming_the_header() -> None:
    with pytest.raises(UnsupportedMediaType, match="text/plain"):
        media.parse_content_type("text/plain", TABULAR)


def test_missing_content_type_raises_415() -> None:
    with pytest.raises(UnsupportedMediaType, match="no Content-Type"):
        media.parse_content_type(None, TABULAR)


def test_absent_or_wildcard_accept_falls_back_to_default() -> None:
    assert media.negotiate_accept(None, TABULAR, media.JSON) == media.JSON
    assert media.negotiate_accept("*/*", TABULAR, media.JSON) == media.JSON


def test_accept_q_values_pick_the_preferred_type() -> None:
    header = "text/csv;q=0.5, application/json;q=0.9, image/png"
    assert media.negotiate_accept(header, TABULAR, media.CSV) == media.JSON


def test_accept_list_skips_unsupported_types() -> None:
    assert media.negotiate_accept("image/png, text/csv", TABULAR, media.JSON) == media.CSV


def test_accept_type_range_matches() -> None:
    assert media.negotiate_accept("application/*", TABULAR, media.CSV) == media.JSON


def test_accept_q_zero_is_refused() -> None:
    with pytest.raises(NotAcceptable):
        media.negotiate_accept("text/csv;q=0", TABULAR, media.JSON)


def test_unknown_accept_raises_406_listing_what_is_emitted() -> None:
    with pytest.raises(NotAcceptable, match="text/csv, application/json"):
        media.negotiate_accept("image/png", TABULAR, media.CSV)


def test_stage_emitting_anything_takes_the_concrete_accept() -> None:
    assert media.negotiate_accept("image/png", (media.ANY,), media.CSV) == "image/png"


SPARKML_EMITS = (media.CSV, media.JSONLINES, media.JSONLINES_TEXT, media.JSON)


def test_accept_with_a_format_parameter_picks_the_parameterised_type() -> None:
    chosen = media.negotiate_accept("application/jsonlines;data=text", SPARKML_EMITS, media.CSV)
    assert chosen == media.JSONLINES_TEXT
    spaced = media.negotiate_accept("application/jsonlines; data=text", SPARKML_EMITS, media.CSV)
    assert spaced == media.JSONLINES_TEXT


def test_accept_without_parameters_never_picks_a_parameterised_type() -> None:
    assert media.negotiate_accept("application/jsonlines", SPARKML_EMITS, media.CSV) == (
        media.JSONLINES
    )
    assert media.negotiate_accept("text/csv; charset=utf-8", SPARKML_EMITS, media.JSON) == media.CSV


def test_unknown_parameter_value_is_406() -> None:
    with pytest.raises(NotAcceptable):
        media.negotiate_accept("application/jsonlines;data=binary", SPARKML_EMITS, media.CSV)
