"""Responses in AWS's SparkML container formats, one line per record.

- `text/csv`: the output value, or a vector/array's values comma-separated;
- `application/jsonlines`: `{"features": [...]}` for vectors and arrays (what
  SageMaker's built-in algorithms read), `{"<output name>": value}` for a basic
  output (AWS sends a bare value, which is not JSON Lines);
- `application/jsonlines;data=text`: `{"source": "values joined by spaces"}`;
- `application/json`: `{"predictions": [value-or-list, ...]}`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from inferpipe.serving import media
from inferpipe.serving.errors import NotAcceptable


def _cell(value: Any) -> str:
    """One CSV field: missing (None or NaN) is empty, as the next container expects."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = repr(value) if isinstance(value, float) else str(value)
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_line(value: Any) -> str:
    if isinstance(value, list):
        try:
            # The common case, a vector of floats: shortest round-trip text, NaN empty.
            return ",".join(["" if v != v else float.__repr__(v) for v in value])
        except TypeError:
            return ",".join(_cell(v) for v in value)
    return _cell(value)


def _json_ready(value: Any) -> Any:
    """JSON has no NaN or infinity: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    return value


def _dumps(value: Any) -> str:
    return json.dumps(_json_ready(value), separators=(",", ":"), allow_nan=False)


def encode_records(values: list[Any], output_name: str, media_type: str) -> bytes:
    """Encode the output column's values (one per record) as `media_type`."""
    if media_type == media.CSV:
        lines = [_csv_line(v) for v in values]
    elif media_type == media.JSONLINES:
        lines = [
            _dumps({"features": v}) if isinstance(v, list) else _dumps({output_name: v})
            for v in values
        ]
    elif media_type == media.JSONLINES_TEXT:
        lines = [
            _dumps({"source": " ".join(str(x) for x in v) if isinstance(v, list) else str(v)})
            for v in values
        ]
    elif media_type == media.JSON:
        return _dumps({"predictions": values}).encode()
    else:
        raise NotAcceptable(f"the sparkml stage cannot encode {media_type!r}")
    return ("\n".join(lines) + "\n").encode()
