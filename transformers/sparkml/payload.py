"""Requests in AWS's SparkML container formats, decoded into a frame.

- `text/csv`: header-less rows in schema order (many rows per request here; AWS
  takes one);
- `application/json`: `{"schema": ..., "data": row-or-rows}` (a schema in the
  payload wins over the configured one), or `{"instances": [...]}` of rows/objects;
- `application/jsonlines`: one `{"data": row}`, row list or object per line.
https://github.com/aws/sagemaker-sparkml-serving-container#request-structure
"""

from __future__ import annotations

from typing import Any

from inferpipe.protocol.errors import ArtifactError, EmptyBody, SchemaMismatch
from inferpipe.protocol.media import MediaRange
from inferpipe.serving.schema import Schema, parse_schema
from inferpipe.serving.wire import read_csv_rows, read_json, read_json_lines, read_text
from inferpipe.transformers.sparkml.columns import Frame
from inferpipe.transformers.sparkml.convert import column_from_values

ROW_KEYS = ("data", "instances")

#: A decoded request: its records, and the schema that typed them.
Decoded = tuple[Frame, Schema]


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


def decode_csv(body: bytes, content_type: MediaRange, configured: Schema | None) -> Decoded:
    """Header-less rows in schema order; strings are kept as sent (numbers may carry
    spaces, which numpy's parse ignores)."""
    schema = _need(configured)
    structs = [c.name for c in schema.input if c.struct != "basic"]
    if structs:
        raise SchemaMismatch(
            f"columns {structs} are vectors or arrays, which CSV cannot carry; send "
            "application/json or application/jsonlines"
        )
    rows: list[Any] = read_csv_rows(read_text(body, content_type))
    return frame_from_rows(rows, schema), schema


def decode_json(body: bytes, content_type: MediaRange, configured: Schema | None) -> Decoded:
    """`{"schema": ..., "data": row-or-rows}` (the payload's schema wins), `{"instances":
    [...]}`, or a bare row or list of rows."""
    document = read_json(read_text(body, content_type))
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


def decode_jsonlines(body: bytes, content_type: MediaRange, configured: Schema | None) -> Decoded:
    """One `{"data": row}`, row list or object per line."""
    schema = _need(configured)
    rows = [
        record["data"] if isinstance(record, dict) and "data" in record else record
        for record in read_json_lines(read_text(body, content_type))
    ]
    return frame_from_rows(rows, schema), schema
