from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from inferpipe.protocol import media
from inferpipe.protocol.errors import MalformedPayload, NotAcceptable, SchemaMismatch
from inferpipe.serving import codecs
from inferpipe.serving.schema import load_schema_text

SCHEMA = load_schema_text(
    json.dumps(
        {
            "input": [
                {"name": "name", "type": "string"},
                {"name": "size", "type": "double"},
                {"name": "count", "type": "integer"},
                {"name": "ok", "type": "boolean"},
            ]
        }
    ),
    "test",
)


def decode(body: bytes, content_type: str, schema=SCHEMA) -> pd.DataFrame:
    return codecs.decode(body, media.parse_media_type(content_type), schema)


def test_csv_quoted_fields_with_commas_quotes_and_newlines_decode() -> None:
    body = b'"a, b",1.5,2,true\n"say ""hi""",2,3,false\n"two\nlines",3,4,1\n'
    frame = decode(body, "text/csv")
    assert frame["name"].tolist() == ["a, b", 'say "hi"', "two\nlines"]
    assert frame["size"].dtype == np.float64
    assert frame["count"].tolist() == [2, 3, 4]
    assert frame["ok"].tolist() == [True, False, True]


def test_csv_empty_numeric_and_string_fields_are_missing() -> None:
    frame = decode(b",,5,0\n", "text/csv")
    assert frame["name"].isna().all() and frame["size"].isna().all()


def test_csv_crlf_and_blank_lines_are_tolerated() -> None:
    assert len(decode(b"a,1,1,true\r\n\r\nb,2,2,false\r\n", "text/csv")) == 2


def test_csv_spaces_after_commas_are_tolerated_in_numbers() -> None:
    frame = decode(b"a, 1.5, 2,true\n", "text/csv")
    assert frame["size"].tolist() == [1.5] and frame["count"].tolist() == [2]


def test_csv_wrong_field_count_names_the_record() -> None:
    with pytest.raises(SchemaMismatch, match="record 2 has 3 fields, expected 4"):
        decode(b"a,1,1,true\nb,2,2\n", "text/csv")


def test_csv_bad_number_names_record_and_column() -> None:
    with pytest.raises(SchemaMismatch, match="record 1, column 'size': 'abc' is not a number"):
        decode(b"a,abc,1,true\n", "text/csv")


def test_csv_fractional_integer_is_refused() -> None:
    with pytest.raises(SchemaMismatch, match=r"'count': '1\.5' is not an integer"):
        decode(b"a,1,1.5,true\n", "text/csv")


def test_csv_unterminated_quote_is_malformed() -> None:
    with pytest.raises(MalformedPayload, match="CSV line"):
        decode(b'"abc,1,1,true\n', "text/csv")


def test_csv_invalid_utf8_is_malformed_naming_the_byte() -> None:
    with pytest.raises(MalformedPayload, match="byte 0"):
        decode(b"\xff\xfe,1,1,true\n", "text/csv")


def test_csv_header_present_parameter_maps_columns_by_name() -> None:
    body = b"ok,count,size,name\ntrue,2,1.5,x\n"
    frame = decode(body, "text/csv; header=present")
    assert frame.iloc[0].tolist() == ["x", 1.5, 2, True]


def test_csv_without_schema_infers_numbers_and_strings() -> None:
    frame = decode(b"1,a\n2.5,b\n", "text/csv", schema=None)
    assert frame[0].tolist() == [1.0, 2.5] and frame[1].tolist() == ["a", "b"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"instances": [["a", 1, 2, true]]}',
        b'[["a", 1, 2, true]]',
        b'[{"name": "a", "size": 1, "count": 2, "ok": true}]',
        b'{"name": "a", "size": 1, "count": 2, "ok": true}',
        b'{"predictions": [{"name": "a", "size": 1, "count": 2, "ok": true, "extra": 0}]}',
    ],
)
def test_json_shapes_decode_to_the_same_frame(body: bytes) -> None:
    frame = decode(body, "application/json")
    assert frame.iloc[0].tolist() == ["a", 1.0, 2, True]


def test_json_mixed_record_shapes_name_the_odd_record() -> None:
    with pytest.raises(SchemaMismatch, match="record 2 is an object"):
        decode(b'[["a", 1, 2, true], {"name": "b"}]', "application/json")


def test_invalid_json_names_line_and_column() -> None:
    with pytest.raises(MalformedPayload, match="line 1, column"):
        decode(b'{"instances": [', "application/json")


def test_jsonlines_decode_one_record_per_line() -> None:
    frame = decode(b'["a", 1, 2, true]\n\n["b", 2, 3, false]\n', "application/jsonlines")
    assert frame["name"].tolist() == ["a", "b"]


def test_jsonlines_bad_line_is_named() -> None:
    with pytest.raises(MalformedPayload, match="line 2"):
        decode(b'["a", 1, 2, true]\n[oops\n', "application/jsonlines")


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=array.dtype == object)
    return buffer.getvalue()


def test_npy_2d_array_is_rows() -> None:
    frame = decode(npy_bytes(np.array([[1.0, 2.0], [3.0, 4.0]])), "application/x-npy", None)
    assert frame.to_numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_npy_1d_array_is_one_column_and_one_column_is_1d() -> None:
    frame = decode(npy_bytes(np.array([1.0, 2.0, 3.0])), "application/x-npy", None)
    assert frame.shape == (3, 1)
    assert np.load(io.BytesIO(codecs.encode(frame, media.NPY))).shape == (3,)


def test_npy_object_array_is_refused_without_unpickling() -> None:
    body = npy_bytes(np.array([{"evil": 1}], dtype=object))
    with pytest.raises(MalformedPayload, match="object arrays are refused"):
        decode(body, "application/x-npy", None)


def test_npy_garbage_is_malformed() -> None:
    with pytest.raises(MalformedPayload):
        decode(b"not numpy at all", "application/x-npy", None)


def test_csv_floats_round_trip_exactly() -> None:
    values = np.random.default_rng(0).normal(size=(50, 3))
    text = codecs.encode(pd.DataFrame(values), media.CSV).decode()
    parsed = np.array([[float(x) for x in line.split(",")] for line in text.splitlines()])
    assert np.array_equal(parsed, values)


def test_csv_missing_values_encode_as_empty_fields() -> None:
    assert codecs.encode(pd.DataFrame([[1.0, np.nan]]), media.CSV) == b"1.0,\n"


def test_csv_list_cells_are_flattened_and_strings_quoted() -> None:
    frame = pd.DataFrame({"labels": [["a", "b, c"]], "score": [0.5]})
    assert codecs.encode(frame, media.CSV) == b'a,"b, c",0.5\n'


def test_json_encodes_objects_for_named_columns_and_null_for_nan() -> None:
    frame = pd.DataFrame({"label": ["x"], "score": [np.nan]})
    assert json.loads(codecs.encode(frame, media.JSON)) == {
        "predictions": [{"label": "x", "score": None}]
    }


def test_json_encodes_scalars_for_one_positional_column() -> None:
    assert json.loads(codecs.encode(pd.DataFrame([[1.5], [2.5]]), media.JSON)) == {
        "predictions": [1.5, 2.5]
    }


def test_jsonlines_encodes_one_line_per_record() -> None:
    assert codecs.encode(pd.DataFrame([[1, 2], [3, 4]]), media.JSONLINES) == b"[1,2]\n[3,4]\n"


def test_npy_encodes_numbers_and_refuses_mixed_types() -> None:
    body = codecs.encode(pd.DataFrame([[1.0, 2.0]]), media.NPY)
    assert np.load(io.BytesIO(body), allow_pickle=False).tolist() == [[1.0, 2.0]]
    with pytest.raises(NotAcceptable):
        codecs.encode(pd.DataFrame({"a": ["x"], "b": [1.0]}), media.NPY)


def test_encoded_output_decodes_back_to_the_same_records() -> None:
    frame = pd.DataFrame([[0.1, 2.0], [3.3, np.nan]])
    for media_type in (media.CSV, media.JSON, media.JSONLINES, media.NPY):
        body = codecs.encode(frame, media_type)
        again = codecs.decode(body, media.parse_media_type(media_type), None)
        assert np.array_equal(again.to_numpy(dtype=float), frame.to_numpy(), equal_nan=True)


@pytest.mark.parametrize("body", [b"[" * 5000, b'{"a":' * 3000])
@pytest.mark.parametrize("media_type", ["application/json", "application/jsonlines"])
def test_deeply_nested_json_is_a_400_not_a_crash(body: bytes, media_type: str) -> None:
    with pytest.raises(MalformedPayload, match="nested too deeply"):
        decode(body, media_type, None)
