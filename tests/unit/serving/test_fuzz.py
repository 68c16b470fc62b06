"""Property-based fuzzing (hypothesis, fixed seed) of every tabular codec and of the
HTTP app: no input gives anything but a 4xx InferpipeError (never a 5xx, never another
exception), and encode -> decode round-trips are lossless within the README's
missing-value rules (NaN written as an empty CSV field / JSON null, read back as NaN).
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferpipe.protocol import media
from inferpipe.protocol.errors import InferpipeError
from inferpipe.serving import codecs, wire
from inferpipe.serving.app import create_app
from inferpipe.serving.schema import parse_schema
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage_loader import load_stage

FUZZ = settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SCHEMA = parse_schema(
    {
        "input": [
            {"name": "label", "type": "string"},
            {"name": "x", "type": "double"},
            {"name": "n", "type": "integer"},
        ]
    },
    "fuzz schema",
)
TYPES = [media.parse_media_type(t) for t in codecs.TABULAR.decodable]


def _decodes_or_refuses(body: bytes, content_type: media.MediaRange, schema: object) -> None:
    try:
        frame = codecs.TABULAR.decode(body, content_type, schema)  # type: ignore[arg-type]
    except InferpipeError as error:
        assert 400 <= error.status < 500, (error.status, error.message)
        assert error.message
        return
    assert isinstance(frame, pd.DataFrame)


@FUZZ
@given(
    body=st.binary(max_size=400),
    kind=st.sampled_from(TYPES),
    schema=st.sampled_from([None, SCHEMA]),
)
def test_any_bytes_decode_or_get_a_4xx(body: bytes, kind: media.MediaRange, schema: object) -> None:
    _decodes_or_refuses(body, kind, schema)


NPY_DTYPES = ["<f8", "<i4", "|b1", "<U3", "|S2", "<c16", "|O", "<M8[s]", "V4", "zz"]


@FUZZ
@given(
    dtype=st.sampled_from(NPY_DTYPES),
    shape=st.lists(st.integers(0, 10**6), max_size=3).map(tuple),
    data=st.binary(max_size=64),
    version=st.sampled_from([(1, 0), (2, 0)]),
)
def test_any_npy_header_and_data_decode_or_get_a_4xx(
    dtype: str, shape: tuple[int, ...], data: bytes, version: tuple[int, int]
) -> None:
    """Headers that lie about the data's size, odd dtypes, pickle's: never a 5xx, and
    never an allocation the body does not pay for."""
    header = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape!r}, }}"
    padded = header + " " * (63 - (len(header) + 10) % 64) + "\n"
    size = len(padded).to_bytes(2 if version == (1, 0) else 4, "little")
    body = b"\x93NUMPY" + bytes(version) + size + padded.encode("latin-1") + data
    _decodes_or_refuses(body, media.parse_media_type(media.NPY), None)


FIELD = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
CSV_TEXT = st.lists(
    st.lists(
        st.one_of(FIELD, st.sampled_from(["", "nan", "inf", "-0", "1e308", '"', '""'])), max_size=5
    ),
    min_size=1,
    max_size=6,
).map(lambda rows: "\n".join(",".join(row) for row in rows))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | FIELD,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(FIELD, inner, max_size=4),
    max_leaves=20,
)


@FUZZ
@given(text=CSV_TEXT, schema=st.sampled_from([None, SCHEMA]))
def test_csv_like_text_decodes_or_gets_a_4xx(text: str, schema: object) -> None:
    _decodes_or_refuses(text.encode(), media.parse_media_type(media.CSV), schema)


@FUZZ
@given(document=JSON_VALUES, schema=st.sampled_from([None, SCHEMA]), lines=st.booleans())
def test_any_json_decodes_or_gets_a_4xx(document: object, schema: object, lines: bool) -> None:
    if lines and isinstance(document, list):
        body = "\n".join(json.dumps(item) for item in document).encode()
        kind = media.JSONLINES
    else:
        body, kind = json.dumps(document).encode(), media.JSON
    _decodes_or_refuses(body, media.parse_media_type(kind), schema)


FLOATS = st.floats(allow_infinity=False, width=64)


def _same(got: float, want: float) -> bool:
    return (math.isnan(got) and math.isnan(want)) or got == want


@FUZZ
@given(
    rows=st.lists(st.lists(FLOATS, min_size=3, max_size=3), min_size=1, max_size=8),
    kind=st.sampled_from([media.CSV, media.JSON, media.JSONLINES, media.NPY]),
)
def test_numbers_round_trip_with_nan_as_missing(rows: list[list[float]], kind: str) -> None:
    frame = pd.DataFrame(rows, dtype=np.float64)
    body = codecs.TABULAR.encode(frame, kind)
    back = codecs.TABULAR.decode(body, media.parse_media_type(kind), None)
    assert back.shape == frame.shape
    values = back.to_numpy(dtype=np.float64)
    for got, want in zip(values.ravel(), frame.to_numpy().ravel(), strict=True):
        assert _same(float(got), float(want)), (kind, body, got, want)


LABELS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=10
).filter(lambda text: text.strip() == text and text.lower() not in {"nan", "null", "none"})


@FUZZ
@given(
    records=st.lists(
        st.tuples(LABELS, FLOATS, st.integers(-(2**40), 2**40)), min_size=1, max_size=6
    ),
    kind=st.sampled_from([media.CSV, media.JSON, media.JSONLINES]),
)
def test_records_with_strings_round_trip_through_the_schema(
    records: list[tuple[str, float, int]], kind: str
) -> None:
    frame = pd.DataFrame(records, columns=["label", "x", "n"])
    body = codecs.TABULAR.encode(frame, kind)
    back = codecs.TABULAR.decode(body, media.parse_media_type(kind), SCHEMA)
    assert list(back["label"]) == [r[0] for r in records], body
    assert all(_same(float(a), r[1]) for a, r in zip(back["x"], records, strict=True)), body
    assert [int(v) for v in back["n"]] == [r[2] for r in records], body


@pytest.fixture(scope="module")
def app_client(mixed_pipeline_dir: Path):  # type: ignore[no-untyped-def]
    settings_ = ServingSettings.from_environ({}, model_dir=mixed_pipeline_dir)
    stage = load_stage(settings_)
    stage.warm_up()
    return create_app(stage, settings_).test_client()


HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)


@FUZZ
@given(
    body=st.one_of(st.binary(max_size=300), CSV_TEXT.map(str.encode)),
    content_type=st.one_of(
        st.sampled_from([*codecs.TABULAR.decodable, "text/csv; charset=latin-1"]), HEADER_TEXT
    ),
    accept=st.one_of(
        st.none(),
        st.sampled_from(["*/*", "application/json", "text/csv;q=0.1, application/jsonlines"]),
        HEADER_TEXT,
    ),
)
def test_the_app_answers_every_request_below_500(
    app_client,
    body: bytes,
    content_type: str,
    accept: str | None,  # type: ignore[no-untyped-def]
) -> None:
    headers = {"Content-Type": content_type}
    if accept is not None:
        headers["Accept"] = accept
    answer = app_client.post("/invocations", data=body, headers=headers)
    assert answer.status_code < 500, (answer.status_code, answer.data)
    if answer.status_code != 200:
        assert json.loads(answer.data)["error"]


def test_the_app_still_answers_after_the_fuzzing(app_client) -> None:  # type: ignore[no-untyped-def]
    answer = app_client.post("/invocations", data=b"M,red,1,1,1,1,true\n", content_type="text/csv")
    assert answer.status_code == 200
    assert io.BytesIO(answer.data).read()


def _outcome_of(decode: object) -> object:
    """A decoded frame as comparable data (labels, dtypes, cells), or the error raised."""
    try:
        frame = decode()  # type: ignore[operator]
    except InferpipeError as error:
        return (type(error).__name__, error.status, error.message)
    cells = [[None if v is None or v != v else v for v in row] for row in frame.to_numpy().tolist()]
    return (list(frame.columns), [str(t) for t in frame.dtypes], cells)


#: Fields the plain split must read as the csv module does: numbers in Python's and
#: numpy's edge forms, words, blanks, spaces, unicode digits and separators.
NUMBER_FIELDS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(
        [
            "",
            " ",
            " 1",
            "1 ",
            "1_000",
            "nan",
            "-inf",
            "Infinity",
            "+1.5",
            "1e400",
            "0x10",
            "\u0661\u0662",
            "1.0",
            "-0",
            "2.5",
        ]
    ),
)
INTEGER_FIELDS = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["1.0", "-0", " 3", "1_000", "1e3", "7"]),
)
CSV_FIELDS = st.one_of(
    NUMBER_FIELDS,
    st.sampled_from(["\u2028", "\u00a0", "M", "true", "F", "x\u0085y", ";", "\t"]),
    st.text(alphabet=st.characters(exclude_characters='"\r\x00,\n'), max_size=6),
)
PLAIN_SCHEMA = parse_schema(
    {
        "input": [
            {"name": "label", "type": "string"},
            {"name": "x", "type": "double"},
            {"name": "n", "type": "integer"},
            {"name": "extra", "type": "string"},
        ]
    },
    "plain CSV schema",
)


@st.composite
def csv_tables(draw: st.DrawFn) -> tuple[str, bool]:
    """A CSV body (rows of one width, now and then a ragged one, blank lines, a header
    naming the schema's columns in any order; numbers mostly in x and n) and whether it
    has that header."""
    width = draw(st.sampled_from([1, 2, 3, 4, 4, 4]))
    header = draw(st.booleans())
    names = draw(st.permutations(PLAIN_SCHEMA.names)) if header else PLAIN_SCHEMA.names
    fields = {"x": NUMBER_FIELDS, "n": INTEGER_FIELDS}
    kinds = [fields.get(name, CSV_FIELDS) for name in names[:width]]
    rows = draw(st.lists(st.tuples(*kinds).map(list), min_size=1, max_size=6))
    if draw(st.integers(0, 4)) == 0:
        rows.append(draw(st.lists(CSV_FIELDS, min_size=1, max_size=5)))
    lines = [",".join(row) for row in rows]
    for position in draw(st.lists(st.integers(0, 6), max_size=2)):
        lines.insert(min(position, len(lines)), "")
    if header:
        lines.insert(0, ",".join(names[:width]))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"])), header


@FUZZ
@given(table=csv_tables(), schema=st.sampled_from([None, PLAIN_SCHEMA]))
def test_the_plain_csv_split_decodes_as_the_csv_module_does(
    table: tuple[str, bool], schema: object
) -> None:
    text, header = table
    content_type = media.parse_media_type("text/csv;header=present" if header else "text/csv")
    fast = _outcome_of(lambda: codecs.decode_csv(text.encode(), content_type, schema))
    reference = _outcome_of(
        lambda: codecs._decode_csv_rows(
            codecs.read_csv_rows(text),
            header,
            schema,  # type: ignore[arg-type]
        )
    )
    assert fast == reference


def test_the_plain_csv_split_takes_plain_bodies_and_leaves_the_rest() -> None:
    assert wire.read_plain_csv_columns("a,1\n\nb,2\n") == [["a", "b"], ["1", "2"]]
    assert wire.read_plain_csv_columns("1\n2") == [["1", "2"]]
    for needs_reader in ['"a",1\n', "a,1\r\nb,2", "a,1\nb", "a\x00,1", "\n\n"]:
        assert wire.read_plain_csv_columns(needs_reader) is None, needs_reader
