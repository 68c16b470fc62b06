"""Responses in AWS's SparkML container formats, one line per record.

- `text/csv`: the output value, or a vector/array's values comma-separated;
- `application/jsonlines`: `{"features": [...]}` for vectors and arrays (what
  SageMaker's built-in algorithms read), `{"<output name>": value}` for a basic
  output (AWS sends a bare value, which is not JSON Lines);
- `application/jsonlines;data=text`: `{"source": "values joined by spaces"}`;
- `application/json`: `{"predictions": [value-or-list, ...]}`.

Spark keeps null apart from NaN, and so does every format here: null is an empty CSV
field and JSON `null`; NaN and the infinities are `NaN`, `Infinity`, `-Infinity` in CSV
(as Spark and AWS's SparkML container print doubles) and those strings in JSON (JSON has
no such numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from inferpipe.serving.wire import json_ready, json_text, quote_field, write_lines

#: How Spark (Java's Double.toString) spells the doubles JSON and repr() spell otherwise.
NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


@dataclass(frozen=True)
class SparkOutput:
    """The output column's values (one per record) and its name."""

    values: list[Any]
    name: str


def _field(value: Any) -> str:
    """One CSV field: null empty, floats in shortest round-trip form, NaN as `NaN`."""
    if value is None:
        return ""
    if isinstance(value, float):
        text = repr(value)
        return NON_FINITE.get(text, text)
    return quote_field(str(value))


def _csv_line(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(_field, value))
    return _field(value)


def _spark_json(value: Any) -> Any:
    """JSON-ready, with NaN and the infinities as Spark's strings (null stays null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return NON_FINITE[repr(value)]
    if isinstance(value, list):
        return [_spark_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _spark_json(v) for k, v in value.items()}
    return json_ready(value)


def _dumps(value: Any) -> str:
    return json_text(_spark_json(value))


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
