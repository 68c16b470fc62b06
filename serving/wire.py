"""The readers and writers every codec shares: charset decoding, RFC 4180 CSV rows,
JSON documents and JSON Lines in; CSV fields, JSON values and lines out.

Registered codecs (`serving/codecs.py` and the variants stages register) build on
these, so no format is parsed or written two ways.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import numpy as np

from inferpipe.protocol.errors import MalformedPayload, UnsupportedMediaType
from inferpipe.protocol.media import MediaRange


def read_text(body: bytes, content_type: MediaRange) -> str:
    """The body as text in the Content-Type's charset (UTF-8 by default)."""
    charset = content_type.params.get("charset", "utf-8")
    try:
        return body.decode(charset)
    except LookupError:
        raise UnsupportedMediaType(f"charset {charset!r} is not known") from None
    except UnicodeDecodeError as exc:
        raise MalformedPayload(
            f"the body is not valid {charset} at byte {exc.start}: {exc.reason}"
        ) from None


def read_csv_rows(text: str) -> list[list[str]]:
    """Header-less CSV rows as sent (quoted fields per RFC 4180); blank lines skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        return [row for row in reader if row]
    except csv.Error as exc:
        raise MalformedPayload(f"CSV line {reader.line_num}: {exc}") from None


def read_json(text: str, where: str = "the body") -> Any:
    """One JSON document; a broken one is a 400 naming where it broke."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedPayload(
            f"invalid JSON in {where} at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise MalformedPayload(f"the JSON in {where} is nested too deeply") from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise MalformedPayload(
            f"the JSON in {where} holds a number it cannot read: {exc}"
        ) from None


def read_json_lines(text: str) -> list[Any]:
    """One JSON record per line; blank lines are skipped."""
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise MalformedPayload(
                f"invalid JSON on line {number}, column {exc.colno}: {exc.msg}"
            ) from None
        except RecursionError:
            raise MalformedPayload(f"the JSON on line {number} is nested too deeply") from None
        except ValueError as exc:
            raise MalformedPayload(
                f"the JSON on line {number} holds a number it cannot read: {exc}"
            ) from None
    return records


def json_ready(value: Any) -> Any:
    """A JSON-ready Python value: numpy unwrapped, NaN and infinities as null."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.ndarray):
        return [json_ready(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    return value


def json_text(value: Any) -> str:
    """Compact JSON of a value already made `json_ready`."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def quote_field(text: str) -> str:
    """Quote a CSV field when it holds a comma, a quote or a line break (RFC 4180)."""
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def field_text(value: Any) -> str:
    """A plain scalar as unquoted CSV text: missing (None, NaN) is empty, floats in
    shortest round-trip form so the next container parses the same double."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def float_fields(values: list[float]) -> list[str]:
    """CSV fields of floats (missing as empty)."""
    return ["" if v != v else repr(v) for v in values]


def float_matrix_lines(array: np.ndarray) -> list[str]:
    """CSV lines of a 2-D float array, the hot path of every numeric response: one
    NaN check for the whole array, then C-level `map(repr, row)` per line."""
    rows = array.tolist()
    if not np.isnan(array).any():
        return [",".join(map(repr, row)) for row in rows]
    return [",".join(float_fields(row)) for row in rows]


def write_lines(lines: list[str]) -> bytes:
    """Lines joined with a newline after each; nothing for no lines."""
    return ("\n".join(lines) + "\n").encode() if lines else b""
