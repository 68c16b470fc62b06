"""Requests in AWS's SparkML container formats, decoded into a frame.

- `text/csv`: header-less rows in schema order (many rows per request here; AWS
  takes one);
- `application/json`: `{"schema": ..., "data": row-or-rows}` (a schema in the
  payload wins over the configured one), or `{"instances": [...]}` of rows/objects;
- `application/jsonlines`: one `{"data": row}`, row list or object per line.
https://github.com/aws/sagemaker-sparkml-serving-container#request-structure
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from inferpipe.serving import media
from inferpipe.serving.errors import ArtifactError, EmptyBody, MalformedPayload, SchemaMismatch
from inferpipe.serving.media import MediaRange
from inferpipe.serving.schema import Schema, parse_schema
from inferpipe.transformers.sparkml.columns import Frame
from inferpipe.transformers.sparkml.convert import column_from_values

ROW_KEYS = ("data", "instances")


def _text(body: bytes, content_type: MediaRange) -> str:
    charset = content_type.params.get("charset", "utf-8")
    try:
        return body.decode(charset)
    except (LookupError, UnicodeDecodeError) as exc:
        raise MalformedPayload(f"the body is not valid {charset}: {exc}") from None


def _is_row(candidate: Any, schema: Schema) -> bool:
    if not isinstance(candidate, list) or len(candidate) != len(schema.input):
        return False
    return all(
        isinstance(value, list) == (column.struct != "basic") or value is None
        for value, column in zip(candidate, schema.input, strict=True)
    )


def _rows_of(data: Any, schema: Schema) -> list[Any]:
    """`data` is one row or a list of rows (AWS sends both shapes)."""
    if isinstance(data, dict):
        return [data]
    if _is_row(data, schema):
        return [data]
    if isinstance(data, list) and data and all(isinstance(r, (list, dict)) for r in data):
        return list(data)
    raise SchemaMismatch(
        f"'data' is neither a row of {len(schema.input)} values ({schema.names}) nor a list of "
        "such rows"
    )


def frame_from_rows(rows: list[Any], schema: Schema) -> Frame:
    """Rows (lists in schema order, or objects keyed by column name) as a frame."""
    if not rows:
        raise EmptyBody("the request holds no records")
    columns = {}
    width = len(schema.input)
    table: list[list[Any]] = []
    for i, row in enumerate(rows):
        if isinstance(row, dict):
            row = [row.get(name) for name in schema.names]
        if not isinstance(row, list) or len(row) != width:
            got = len(row) if isinstance(row, list) else type(row).__name__
            raise SchemaMismatch(
                f"record {i + 1} has {got} fields; the schema expects {width}: {schema.names}"
            )
        table.append(row)
    for j, column in enumerate(schema.input):
        values = [row[j] for row in table]
        columns[column.name] = column_from_values(values, column.name, column.type, column.struct)
    return Frame(columns, len(table))


def _need(schema: Schema | None) -> Schema:
    if schema is None:
        raise SchemaMismatch(
            "no input schema: set SAGEMAKER_SPARKML_SCHEMA, put schema.json in the model "
            'artifact, or send {"schema": ..., "data": ...} as application/json'
        )
    return schema


def _csv_rows(text: str, schema: Schema) -> list[Any]:
    structs = [c.name for c in schema.input if c.struct != "basic"]
    if structs:
        raise SchemaMismatch(
            f"columns {structs} are vectors or arrays, which CSV cannot carry; send "
            "application/json or application/jsonlines"
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        # Strings are kept as sent; numbers may carry spaces (numpy's parse ignores them).
        rows = [row for row in reader if row]
    except csv.Error as exc:
        raise MalformedPayload(f"CSV line {reader.line_num}: {exc}") from None
    return rows


def _json_document(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedPayload(f"{where}: invalid JSON at column {exc.colno}: {exc.msg}") from None


def decode_request(
    body: bytes, content_type: MediaRange, configured: Schema | None
) -> tuple[Frame, Schema]:
    """The request's records as a frame, with the schema that typed them."""
    text = _text(body, content_type)
    if content_type.type == media.CSV:
        schema = _need(configured)
        return frame_from_rows(_csv_rows(text, schema), schema), schema
    if content_type.type == media.JSON:
        document = _json_document(text, "the body")
        schema = configured
        if isinstance(document, dict) and isinstance(document.get("schema"), dict):
            try:
                schema = parse_schema(document["schema"], "the payload's schema")
            except ArtifactError as exc:
                raise SchemaMismatch(exc.message) from None
        schema = _need(schema)
        if isinstance(document, dict):
            key = next((k for k in ROW_KEYS if k in document), None)
            if key is None:
                raise SchemaMismatch("the JSON body has no 'data' (or 'instances') field")
            return frame_from_rows(_rows_of(document[key], schema), schema), schema
        return frame_from_rows(_rows_of(document, schema), schema), schema
    schema = _need(configured)
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        record = _json_document(line, f"line {number}")
        if isinstance(record, dict) and "data" in record:
            record = record["data"]
        rows.append(record)
    return frame_from_rows(rows, schema), schema
