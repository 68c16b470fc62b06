"""AWS SparkML request shapes in, AWS response formats out (the sparkml codec variant)."""

from __future__ import annotations

import json

import pytest

from inferpipe.protocol import media
from inferpipe.protocol.errors import SchemaMismatch
from inferpipe.protocol.media import parse_media_type
from inferpipe.serving.schema import parse_schema
from inferpipe.transformers.sparkml.convert import python_values
from inferpipe.transformers.sparkml.response import SparkOutput
from inferpipe.transformers.sparkml.stage import SPARKML_CODECS

SCHEMA = parse_schema(
    {
        "input": [
            {"name": "n", "type": "int"},
            {"name": "s", "type": "string"},
            {"name": "v", "type": "double", "struct": "vector"},
        ],
        "output": {"name": "features", "type": "double", "struct": "vector"},
    },
    "test",
)
BASIC = parse_schema(
    {"input": [{"name": "a", "type": "double"}, {"name": "b", "type": "string"}]}, "t"
)


def _decode(body: str, content_type: str, schema=SCHEMA):  # type: ignore[no-untyped-def]
    return SPARKML_CODECS.decode(body.encode(), parse_media_type(content_type), schema)


def encode_records(values: list[object], name: str, media_type: str) -> bytes:
    return SPARKML_CODECS.encode(SparkOutput(values, name), media_type)


def test_json_data_that_is_one_row_is_one_record() -> None:
    frame, _ = _decode(json.dumps({"data": [1, "x", [1.0, 2.0]]}), media.JSON)
    assert frame.length == 1
    assert python_values(frame.get("v", "t")) == [[1.0, 2.0]]


def test_json_data_that_is_a_list_of_rows_is_many_records() -> None:
    rows = [[1, "x", [1.0, 2.0]], [2, "y", [3.0, 4.0]], [3, None, [5.0, 6.0]]]
    frame, _ = _decode(json.dumps({"data": rows}), media.JSON)
    assert frame.length == 3
    assert python_values(frame.get("s", "t")) == ["x", "y", None]


def test_json_lines_of_data_objects_and_of_named_objects() -> None:
    body = '{"data": [1, "x", [1.0, 2.0]]}\n\n{"n": 2, "s": "y", "v": [0.5, 0.25]}\n'
    frame, _ = _decode(body, media.JSONLINES)
    assert python_values(frame.get("n", "t")) == [1.0, 2.0]


def test_a_schema_in_the_payload_wins_over_the_configured_one() -> None:
    body = {"schema": {"input": [{"name": "q", "type": "double"}]}, "data": [4.5]}
    frame, schema = _decode(json.dumps(body), media.JSON)
    assert schema.names == ["q"] and python_values(frame.get("q", "t")) == [4.5]


def test_a_bad_schema_in_the_payload_is_a_400() -> None:
    body = {"schema": {"input": [{"name": "q", "type": "complex"}]}, "data": [4.5]}
    with pytest.raises(SchemaMismatch, match="complex"):
        _decode(json.dumps(body), media.JSON)


def test_csv_without_any_schema_says_where_to_put_one() -> None:
    with pytest.raises(SchemaMismatch, match="SAGEMAKER_SPARKML_SCHEMA"):
        _decode("1,x\n", media.CSV, None)


def test_csv_cannot_carry_vector_columns() -> None:
    with pytest.raises(SchemaMismatch, match=r"\['v'\] are vectors"):
        _decode("1,x,2\n", media.CSV)


def test_csv_numbers_may_carry_spaces_strings_are_kept_and_empty_is_null() -> None:
    frame, _ = _decode(" 1.5 , hello\n,world\n", media.CSV, BASIC)
    assert python_values(frame.get("a", "t")) == [1.5, None]
    assert python_values(frame.get("b", "t")) == [" hello", "world"]


def test_a_non_integer_in_an_int_column_names_record_column_and_type() -> None:
    with pytest.raises(SchemaMismatch, match=r"record 2, column 'n': 2\.5 is not an int"):
        _decode(json.dumps({"data": [[1, "x", [1.0]], [2.5, "y", [2.0]]]}), media.JSON)


def test_vectors_of_different_lengths_are_a_400() -> None:
    with pytest.raises(SchemaMismatch, match="the vector has 1 values, record 1 has 2"):
        _decode(json.dumps({"data": [[1, "x", [1.0, 2.0]], [2, "y", [2.0]]]}), media.JSON)


def test_wrong_field_count_names_the_schema() -> None:
    with pytest.raises(SchemaMismatch, match=r"record 1 has 2 fields; the schema expects 3"):
        _decode(json.dumps({"data": [[1, "x"], [2, "y"]]}), media.JSON)


def test_response_formats_for_vector_and_basic_outputs() -> None:
    vectors = [[1.0, 0.5], [float("nan"), float("-inf")]]
    assert encode_records(vectors, "features", media.CSV) == b"1.0,0.5\nNaN,-Infinity\n"
    assert encode_records(vectors, "features", media.JSONLINES) == (
        b'{"features":[1.0,0.5]}\n{"features":["NaN","-Infinity"]}\n'
    )
    # Spark keeps null apart from NaN, in every format.
    scalars = [3.0, None, float("nan"), float("inf")]
    assert encode_records(scalars, "price", media.CSV) == b"3.0\n\nNaN\nInfinity\n"
    assert encode_records(scalars, "price", media.JSONLINES) == (
        b'{"price":3.0}\n{"price":null}\n{"price":"NaN"}\n{"price":"Infinity"}\n'
    )
    assert json.loads(encode_records(scalars, "price", media.JSON)) == {
        "predictions": [3.0, None, "NaN", "Infinity"]
    }
    assert encode_records(["a b", 'say "hi", ok'], "t", media.CSV) == b'a b\n"say ""hi"", ok"\n'
    assert encode_records([["a", "b"]], "t", media.JSONLINES_TEXT) == b'{"source":"a b"}\n'
    assert json.loads(encode_records([[1.0], [2.0]], "f", media.JSON)) == {
        "predictions": [[1.0], [2.0]]
    }
