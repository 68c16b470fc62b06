"""The codec registry: request bodies decoded into frames, frames encoded into bodies.

Formats: `text/csv` (RFC 4180, no header unless `header=present`), `application/json`,
`application/jsonlines`, `application/x-npy` (never with pickle). One output record
per input record, in order (SageMaker's MultiRecord batch semantics). A stage with
formats of its own (AWS's SparkML shapes) registers a variant of the registry, keyed
by media type with the parameters that select a format
(`application/jsonlines;data=text`), built on the shared readers and writers in
`serving/wire.py`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd

from inferpipe.protocol import media
from inferpipe.protocol.errors import (
    EmptyBody,
    MalformedPayload,
    NotAcceptable,
    UnsupportedMediaType,
)
from inferpipe.protocol.media import MediaRange
from inferpipe.serving.frames import (
    column_dtypes,
    frame_from_columns,
    frame_from_records,
    frame_from_rows,
    has_named_columns,
)
from inferpipe.serving.schema import Schema
from inferpipe.serving.wire import (
    field_text,
    float_fields,
    float_matrix_lines,
    json_ready,
    json_text,
    quote_field,
    read_csv_rows,
    read_json,
    read_json_lines,
    read_plain_csv_columns,
    read_text,
    write_lines,
)

DecodedT = TypeVar("DecodedT")
EncodedT = TypeVar("EncodedT")

#: Top-level JSON keys that wrap a list of records.
RECORD_KEYS = ("instances", "predictions", "inputs", "data")


class CodecRegistry(Generic[DecodedT, EncodedT]):
    """Decoders and encoders by media type (with its format-selecting parameters)."""

    def __init__(
        self,
        decoders: Mapping[str, Callable[[bytes, MediaRange, Schema | None], DecodedT]],
        encoders: Mapping[str, Callable[[EncodedT], bytes]],
    ) -> None:
        self._decoders = dict(decoders)
        self._encoders = dict(encoders)

    @property
    def decodable(self) -> tuple[str, ...]:
        """The media types requests may use, in registration order."""
        return tuple(self._decoders)

    @property
    def encodable(self) -> tuple[str, ...]:
        """The media types responses may use, in registration order."""
        return tuple(self._encoders)

    def decode(self, body: bytes, content_type: MediaRange, schema: Schema | None) -> DecodedT:
        """Decode a request body with the decoder its Content-Type selects."""
        decoder = self._decoders.get(media.format_media_type(content_type)) or self._decoders.get(
            content_type.type
        )
        if decoder is None:
            raise UnsupportedMediaType(f"no decoder for {content_type.type!r}")
        return decoder(body, content_type, schema)

    def encode(self, value: EncodedT, media_type: str) -> bytes:
        """Encode a result as `media_type` (one of `encodable`)."""
        encoder = self._encoders.get(media.format_media_type(media.parse_media_type(media_type)))
        if encoder is None:
            raise NotAcceptable(f"no encoder for {media_type!r}")
        return encoder(value)


def decode_csv(body: bytes, content_type: MediaRange, schema: Schema | None) -> pd.DataFrame:
    """Parse header-less CSV rows (quoted fields per RFC 4180); blank lines are skipped."""
    text = read_text(body, content_type)
    header = content_type.params.get("header", "").lower() == "present"
    columns = read_plain_csv_columns(text)
    if columns is None or (schema is not None and not header and len(columns) != len(schema.input)):
        return _decode_csv_rows(read_csv_rows(text), header, schema)
    names = None
    if header:
        names, columns = [c[0] for c in columns], [c[1:] for c in columns]
    if not columns[0]:
        raise EmptyBody("the CSV body holds no rows")
    if names is not None and schema is not None:
        by_name = dict(zip(names, columns, strict=True))
        _check_header(by_name, schema)
        columns, names = [by_name[n] for n in schema.names], None
    return frame_from_columns(columns, schema, names, text=True)


def _check_header(by_name: Mapping[str, Any], schema: Schema) -> None:
    """A 400 naming the schema's columns a CSV header does not name."""
    missing = [n for n in schema.names if n not in by_name]
    if missing:
        raise MalformedPayload(f"the CSV header lacks columns {missing}")


def _decode_csv_rows(rows: list[list[str]], header: bool, schema: Schema | None) -> pd.DataFrame:
    """`decode_csv` for bodies the plain split does not take (quoting, ragged rows)."""
    names = None
    if header and rows:
        names, rows = rows[0], rows[1:]
    if not rows:
        raise EmptyBody("the CSV body holds no rows")
    if names is not None and schema is not None:
        by_name = dict(zip(names, zip(*rows, strict=False), strict=False))
        _check_header(by_name, schema)
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
    document = read_json(read_text(body, content_type))
    return frame_from_records(_records_of(document), schema)


def decode_jsonlines(body: bytes, content_type: MediaRange, schema: Schema | None) -> pd.DataFrame:
    """Parse one JSON record per line; blank lines are skipped."""
    records = read_json_lines(read_text(body, content_type))
    if not records:
        raise EmptyBody("the JSON Lines body holds no records")
    return frame_from_records(records, schema)


def check_npy_size(body: bytes) -> None:
    """Refuse an .npy whose header declares more data than the body holds, before
    numpy allocates it: a 100-byte body may claim a 74 GiB array."""
    stream = io.BytesIO(body)
    try:
        version = np.lib.format.read_magic(stream)
        reader = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, _fortran, dtype = reader(stream)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
        raise MalformedPayload(f"not a loadable .npy array: {exc}") from None
    if dtype.hasobject:
        raise MalformedPayload("not a loadable .npy array: object arrays are refused")
    declared = math.prod(shape) * dtype.itemsize
    held = len(body) - stream.tell()
    if declared != held:
        raise MalformedPayload(
            f"the .npy header declares shape {tuple(shape)} of {dtype} ({declared} bytes) "
            f"but the body holds {held} bytes of data"
        )


def decode_npy(body: bytes, content_type: MediaRange, schema: Schema | None) -> pd.DataFrame:
    """Load an .npy array without pickle: 2-D is rows; 1-D is one column (one value per
    record, like a JSON list of scalars and like the toolkit's 1-D predictions)."""
    check_npy_size(body)
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
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise MalformedPayload(f"expected a 1-D or 2-D array, got shape {array.shape}")
    if array.shape[0] == 0:
        raise EmptyBody(f"the .npy array of shape {array.shape} holds no records")
    return frame_from_rows(array.tolist(), schema)


def iter_records(frame: pd.DataFrame) -> Iterator[Any]:
    """Yield each row as an object (named columns), a scalar (one column) or a list."""
    named = has_named_columns(frame)
    columns = [str(c) for c in frame.columns]
    for row in frame.itertuples(index=False, name=None):
        values = [json_ready(v) for v in row]
        if named:
            yield dict(zip(columns, values, strict=True))
        elif len(values) == 1:
            yield values[0]
        else:
            yield values


def encode_json(frame: pd.DataFrame) -> bytes:
    return json_text({"predictions": list(iter_records(frame))}).encode()


def encode_jsonlines(frame: pd.DataFrame) -> bytes:
    return write_lines([json_text(r) for r in iter_records(frame)])


def _csv_cells(values: tuple[Any, ...]) -> list[str]:
    cells: list[str] = []
    for value in values:
        value = json_ready(value)
        if isinstance(value, list):
            cells.extend(_csv_cells(tuple(value)))
        else:
            cells.append(field_text(value))
    return cells


def _csv_column(values: pd.Series) -> list[str] | None:
    """One column's CSV cells, or None when a cell holds a list (those need flattening)."""
    if pd.api.types.is_float_dtype(values.dtype):
        return float_fields(values.tolist())
    if pd.api.types.is_integer_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return [str(v) for v in values.tolist()]
    cells = []
    for value in values.tolist():
        value = json_ready(value)
        if isinstance(value, list):
            return None
        cells.append(quote_field(field_text(value)))
    return cells


def encode_csv(frame: pd.DataFrame) -> bytes:
    """One line per record; floats in shortest round-trip form, missing as empty.

    Built column by column (a float's repr is the cost that matters); cells holding
    lists, such as top-k labels, are flattened into consecutive fields.
    """
    if len(frame.columns) and all(pd.api.types.is_float_dtype(t) for t in column_dtypes(frame)):
        return write_lines(float_matrix_lines(frame.to_numpy(dtype=np.float64)))
    columns = [_csv_column(frame.iloc[:, j]) for j in range(frame.shape[1])]
    if all(column is not None for column in columns):
        return write_lines([",".join(cells) for cells in zip(*columns, strict=True)])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in frame.itertuples(index=False, name=None):
        writer.writerow(_csv_cells(row))
    return buffer.getvalue().encode()


def encode_npy(frame: pd.DataFrame) -> bytes:
    """Rows as a 2-D array; a single column as a 1-D array (the inverse of decode_npy)."""
    array = frame.to_numpy()
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
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


#: inferpipe's tabular formats, used by every stage that decodes into a frame.
TABULAR: CodecRegistry[pd.DataFrame, pd.DataFrame] = CodecRegistry(
    {
        media.CSV: decode_csv,
        media.JSON: decode_json,
        media.JSONLINES: decode_jsonlines,
        media.NPY: decode_npy,
    },
    {
        media.CSV: encode_csv,
        media.JSON: encode_json,
        media.JSONLINES: encode_jsonlines,
        media.NPY: encode_npy,
    },
)
TABULAR_TYPES = TABULAR.decodable


def decode(body: bytes, content_type: MediaRange, schema: Schema | None) -> pd.DataFrame:
    """Decode a request body of a tabular media type into a frame."""
    return TABULAR.decode(body, content_type, schema)


def encode(frame: pd.DataFrame, media_type: str) -> bytes:
    """Encode a frame as `media_type` (one of TABULAR_TYPES)."""
    return TABULAR.encode(frame, media_type)
