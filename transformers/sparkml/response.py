"""Responses in AWS's SparkML container formats, one line per record.

- `text/csv`: the output value, or a vector/array's values comma-separated;
- `application/jsonlines`: `{"features": [...]}` for vectors and arrays (what
  SageMaker's built-in algorithms read), `{"<output name>": value}` for a basic
  output (AWS sends a bare value, which is not JSON Lines);
- `application/jsonlines;data=text`: `{"source": "values joined by spaces"}`;
- `application/json`: `{"predictions": [value-or-list, ...]}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inferpipe.serving.wire import (
    field_text,
    float_fields,
    json_ready,
    json_text,
    quote_field,
    write_lines,
)


@dataclass(frozen=True)
class SparkOutput:
    """The output column's values (one per record) and its name."""

    values: list[Any]
    name: str


def _csv_line(value: Any) -> str:
    if isinstance(value, list):
        try:
            # The common case, a vector of floats.
            return ",".join(float_fields(value))
        except TypeError:
            return ",".join(quote_field(field_text(v)) for v in value)
    return quote_field(field_text(value))


def _dumps(value: Any) -> str:
    return json_text(json_ready(value))


def encode_csv(output: SparkOutput) -> bytes:
    """The output value, or a vector's values comma-separated, one line per record."""
    return write_lines([_csv_line(v) for v in output.values])


def encode_jsonlines(output: SparkOutput) -> bytes:
    """`{"features": [...]}` for vectors and arrays, `{"<output name>": value}` else."""
    return write_lines(
        [
            _dumps({"features": v}) if isinstance(v, list) else _dumps({output.name: v})
            for v in output.values
        ]
    )


def encode_jsonlines_text(output: SparkOutput) -> bytes:
    """`{"source": "values joined by spaces"}` per record."""
    return write_lines(
        [
            _dumps({"source": " ".join(str(x) for x in v) if isinstance(v, list) else str(v)})
            for v in output.values
        ]
    )


def encode_json(output: SparkOutput) -> bytes:
    """`{"predictions": [value-or-list, ...]}`."""
    return _dumps({"predictions": output.values}).encode()
