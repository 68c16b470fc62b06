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


#: Characters that make a CSV body need the full RFC 4180 reader: quoting, the other
#: line terminator, and NUL (which the csv module treats on its own terms).
_NEEDS_CSV_READER = ('"', "\r", "\x00")


def read_plain_csv_columns(text: str) -> list[list[str]] | None:
    """The columns of a CSV body without quoting whose rows all have one width, or None
    when the body needs `read_csv_rows` (quotes, CR, NUL, ragged rows, no rows).

    For such a body `read_csv_rows` gives exactly these fields, row by row; taking them
    column by column from one flat split skips the csv module's per-field loop and the
    transpose, the bulk of decoding a 1,000-row request."""
    if any(mark in text for mark in _NEEDS_CSV_READER):
        return None
    text = text.strip("\n")
    if "\n\n" in text:  # blank lines, as the csv reader skips them
        text = "\n".join(line for line in text.split("\n") if line)
    if not text:
        return None
    rows = text.count("\n") + 1
    stride = text.split("\n", 1)[0].count(",") + 2  # the fields of a row and its "\n"
    # Each line break becomes a field of its own: the rows have one width exactly when
    # those fields sit every `stride` places.
    fields = text.replace("\n", ",\n,").split(",")
    if len(fields) != rows * stride - 1 or fields[stride - 1 :: stride].count("\n") != rows - 1:
        return None
    if len(text) > csv.field_size_limit() and max(map(len, fields)) > csv.field_size_limit():
        return None  # the csv reader refuses such a field: its 400, not ours
    return [fields[j::stride] for j in range(stride - 1)]


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
    if not np.isnan(array).any():
        if array.shape[1] == 1:  # one prediction per record: no join per line
            return list(map(repr, array[:, 0].tolist()))
        return [",".join(map(repr, row)) for row in array.tolist()]
    return [",".join(float_fields(row)) for row in array.tolist()]


def write_lines(lines: list[str]) -> bytes:
    """Lines joined with a newline after each; nothing for no lines."""
    return ("\n".join(lines) + "\n").encode() if lines else b""
