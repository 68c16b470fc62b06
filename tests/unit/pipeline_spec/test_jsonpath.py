"""SageMaker's JSONPath subset for DataProcessing, with the documentation's own examples."""

from __future__ import annotations

import re

import pytest

from inferpipe.pipeline_spec.jsonpath import JsonPathError, parse

ROW = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"]
RECORD = {"id": 7, "features": [1.5, 2.5, 3.5], "meta": {"a": 1, "b": 2}}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", ROW),
        ("$[1:]", ROW[1:]),
        ("$[1:4]", ["c1", "c2", "c3", "c4"]),  # inclusive: the second through fifth column
        ("$[:5]", ROW[:6]),  # the first through the sixth column
        ("$[5:]", ROW[5:]),
        ("$[0,5:]", ["c0", "c5", "c6", "c7"]),
        ("$[1]", "c1"),
        ("$[1,3,5]", ["c1", "c3", "c5"]),
        ("$[0,-1]", ["c0", "c7"]),
        ("$[-3:-2]", ["c5", "c6"]),
        ("$[*]", ROW),
    ],
)
def test_positions_select_csv_columns_as_sagemaker_documents(path: str, expected: object) -> None:
    parsed = parse(path)
    assert parsed.by_position_only
    assert parsed.select(ROW) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.features", [1.5, 2.5, 3.5]),
        ("$['id','features']", {"id": 7, "features": [1.5, 2.5, 3.5]}),
        ("$['id']", 7),
        ("$.meta.*", [1, 2]),
        ("$.meta.['a','b']", {"a": 1, "b": 2}),
        ("$.features[0,-1]", [1.5, 3.5]),
        ("$.features[1]", 2.5),
    ],
)
def test_names_select_json_attributes(path: str, expected: object) -> None:
    parsed = parse(path)
    assert not parsed.by_position_only or path.startswith("$[")
    assert parsed.select(RECORD) == expected


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("$..id", "recursive descent"),
        ("$[?(@.id > 1)]", "filter and script expressions"),
        ("$[(@.length-1)]", "filter and script expressions"),
        ("id", "must start with $"),
        ("$[1", "never closed"),
        ("$[a-b]", "is not a supported selector"),
        ("$.", "expected a name"),
        ("$" + ".abc" * 16, "SageMaker allows 63"),
    ],
)
def test_what_sagemaker_does_not_take_is_refused_naming_it(path: str, message: str) -> None:
    with pytest.raises(JsonPathError, match=re.escape(message)):
        parse(path)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("$[8]", ROW, "index 8 is outside the record's 8 elements"),
        ("$[0:9]", ROW, "index 9 is outside"),
        ("$[5:2]", ROW, "the slice selects nothing"),
        ("$.label", RECORD, "the record has no 'label'"),
        ("$['id','x']", RECORD, "the record has no 'x'"),
        ("$.id", ROW, "a name selects from an object, not an array"),
        ("$[0]", RECORD, "an index selects from an array, not an object"),
    ],
)
def test_a_filter_that_selects_nothing_is_an_error(path: str, value: object, message: str) -> None:
    with pytest.raises(JsonPathError, match=message):
        parse(path).select(value)
