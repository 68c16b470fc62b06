"""Decode request bodies into frames and encode frames into response bodies.

Formats: `text/csv` (RFC 4180, no header unless `header=present`), `application/json`,
`application/jsonlines`, `application/x-npy` (never with pickle). One output record
per input record, in order (SageMaker's MultiRecord batch semantics).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from inferpipe.serving import media
from inferpipe.serving.errors import (
    EmptyBody,
    MalformedPayload,
    NotAcceptable,
    UnsupportedMediaType,
)
from inferpipe.serving.frames import frame_from_records, frame_from_rows, has_named_columns
from inferpipe.serving.media import MediaRange
from inferpipe.serving.schema import Schema

TABULAR_TYPES = (media.CSV, media.JSON, media.JSONLINES, media.NPY)
#: Top-level JSON keys that wrap a list of records.
RECORD_KEYS = ("instances", "predictions", "inputs", "data")


def _text(body: bytes, content_type: MediaRange) -> str:
    charset = content_type.params.get("charset", "utf-8")
    try:
        return body.decode(charset)
    except LookupError:
        raise UnsupportedMediaType(f"charset {charset!r} is not known") from None
    except UnicodeDecodeError as exc:
        raise MalformedPayload(
            f"the body is not valid {charset} at byte {exc.start}: {exc.reason}"
        ) from None


def decode_csv(body: bytes, content_type: MediaRange, schema: Schema | None) -> pd.DataFrame:
    """Parse header-less CSV rows (quoted fields per RFC 4180); blank lines are skipped."""
    reader = csv.reader(io.StringIO(_text(body, content_type), newline=""), strict=True)
    try:
        rows = [row for row in reader if row]
    except csv.Error as exc:
        raise MalformedPayload(f"CSV line {reader.line_num}: {exc}") from None
    names = None
    if content_type.params.get("header", "").lower() == "present" and rows:
        names, rows = rows[0], rows[1:]
    if not rows:
        raise EmptyBody("the CSV body holds no rows")
    if names is not None and schema is not None:
        by_name = dict(zip(names, zip(*rows, strict=False), strict=False))
        missing = [n for n in schema.names if n not in by_name]
        if missing:
            raise MalformedPayload(f"the CSV header lacks columns {missing}")
        rows = [list(r) for r in zip(*(by_name[n] for n in schema.names), strict=True)]
        names = None
    return frame_from_rows(rows, schema, names)


def _records_of(document: Any) -> list[Any]:
    if isinstance(document, dict):
        for key in RECORD_KEYS:
            if isinstance(document.get(key), list):
                return list(document[key])
        return [document]
    if isinstance(document, list):
        return document
    return [document]


def decode_json(body: bytes, content_type: MediaRange, schema: Schema | None) -> pd.DataFrame:
    """Parse `{"instances": [...]}`, `{"predictions": [...]}`, a list, or one object."""
    try:
        document = json.loads(_text(body, content_type))
    except json.JSONDecodeError as exc:
        raise MalformedPayload(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    return frame_from_records(_records_of(document), schema)


def decode_jsonlines(body: bytes, content_type: MediaRange, schema: Schema | None) -> pd.DataFrame:
    """Parse one JSON record per line; blank lines are skipped."""
    records = []
    for number, line in enumerate(_text(body, content_type).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise MalformedPayload(f"invalid JSON on line {number}: {exc.msg}") from None
    if not records:
        raise EmptyBody("the JSON Lines body holds no records")
    return frame_from_records(records, schema)


def decode_npy(body: bytes, content_type: MediaRange, schema: Schema | None) -> pd.DataFrame:
    """Load an .npy array without pickle: 2-D is rows, 1-D is one record."""
    try:
        array = np.load(io.BytesIO(body), allow_pickle=False)
    except ValueError as exc:
        raise MalformedPayload(
            f"not a loadable .npy array (object arrays are refused): {exc}"
        ) from None
    except (OSError, EOFError) as exc:
        raise MalformedPayload(f"not an .npy array: {exc}") from None
    if array.dtype.names:
        names = list(array.dtype.names)
        rows = [list(r) for r in array.reshape(-1).tolist()]
        return frame_from_rows(rows, schema, None if schema else names)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2:
        raise MalformedPayload(f"expected a 1-D or 2-D array, got shape {array.shape}")
    return frame_from_rows(array.tolist(), schema)


DECODERS = {
    media.CSV: decode_csv,
    media.JSON: decode_json,
    media.JSONLINES: decode_jsonlines,
    media.NPY: decode_npy,
}


def decode(body: bytes, content_type: MediaRange, schema: Schema | None) -> pd.DataFrame:
    """Decode a request body of a tabular media type into a frame."""
    if not body.strip():
        raise EmptyBody("the request body is empty; send at least one record")
    decoder = DECODERS.get(content_type.type)
    if decoder is None:
        raise UnsupportedMediaType(f"no decoder for {content_type.type!r}")
    return decoder(body, content_type, schema)


def _plain(value: Any) -> Any:
    """A JSON-ready Python value: numpy scalars unwrapped, NaN as null."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def iter_records(frame: pd.DataFrame) -> Iterator[Any]:
    """Yield each row as an object (named columns), a scalar (one column) or a list."""
    named = has_named_columns(frame)
    columns = [str(c) for c in frame.columns]
    for row in frame.itertuples(index=False, name=None):
        values = [_plain(v) for v in row]
        if named:
            yield dict(zip(columns, values, strict=True))
        elif len(values) == 1:
            yield values[0]
        else:
            yield values


def encode_json(frame: pd.DataFrame) -> bytes:
    return json.dumps(
        {"predictions": list(iter_records(frame))}, separators=(",", ":"), allow_nan=False
    ).encode()


def encode_jsonlines(frame: pd.DataFrame) -> bytes:
    lines = [json.dumps(r, separators=(",", ":"), allow_nan=False) for r in iter_records(frame)]
    return ("\n".join(lines) + "\n").encode()


def _cell_text(value: Any) -> str:
    """A plain scalar as CSV text: missing is empty, floats in shortest round-trip form."""
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def _csv_cells(values: tuple[Any, ...]) -> list[str]:
    cells: list[str] = []
    for value in values:
        value = _plain(value)
        if isinstance(value, list):
            cells.extend(_csv_cells(tuple(value)))
        else:
            cells.append(_cell_text(value))
    return cells


def _quote(text: str) -> str:
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_column(values: pd.Series) -> list[str] | None:
    """One column's CSV cells, or None when a cell holds a list (those need flattening)."""
    if pd.api.types.is_float_dtype(values.dtype):
        return ["" if v != v else repr(v) for v in values.tolist()]
    if pd.api.types.is_integer_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return [str(v) for v in values.tolist()]
    cells = []
    for value in values.tolist():
        value = _plain(value)
        if isinstance(value, list):
            return None
        cells.append(_quote(_cell_text(value)))
    return cells


def _csv_body(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode() if lines else b""


def encode_csv(frame: pd.DataFrame) -> bytes:
    """One line per record; floats in shortest round-trip form, missing as empty.

    Built column by column (a float's repr is the cost that matters); cells holding
    lists, such as top-k labels, are flattened into consecutive fields.
    """
    if len(frame.columns) and all(pd.api.types.is_float_dtype(t) for t in frame.dtypes):
        rows = frame.to_numpy(dtype=np.float64).tolist()
        return _csv_body([",".join(["" if v != v else repr(v) for v in row]) for row in rows])
    columns = [_csv_column(frame.iloc[:, j]) for j in range(frame.shape[1])]
    if all(column is not None for column in columns):
        return _csv_body([",".join(cells) for cells in zip(*columns, strict=True)])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in frame.itertuples(index=False, name=None):
        writer.writerow(_csv_cells(row))
    return buffer.getvalue().encode()


def encode_npy(frame: pd.DataFrame) -> bytes:
    array = frame.to_numpy()
    if array.dtype == object:
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise NotAcceptable(
                "these records mix types or hold lists, which .npy cannot carry without "
                "pickle; ask for text/csv or application/json"
            ) from None
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


ENCODERS = {
    media.CSV: encode_csv,
    media.JSON: encode_json,
    media.JSONLINES: encode_jsonlines,
    media.NPY: encode_npy,
}


def encode(frame: pd.DataFrame, media_type: str) -> bytes:
    """Encode a frame as `media_type` (one of TABULAR_TYPES)."""
    encoder = ENCODERS.get(media_type)
    if encoder is None:
        raise NotAcceptable(f"no encoder for {media_type!r}")
    return encoder(frame)
