"""Predictions to response bodies, as the toolkit's default `output_fn` encodes them
(JSON via `tolist`, CSV via `numpy.savetxt`, npy without pickle)."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np

from . import content_types, errors


def _array_to_json(array_like: Any) -> str:
    def default(value: Any) -> Any:
        if hasattr(value, "tolist"):
            return value.tolist()
        return json.JSONEncoder().default(value)

    return json.dumps(array_like, default=default)


def _array_to_npy(array_like: Any) -> bytes:
    buffer = io.BytesIO()
    try:
        np.save(buffer, array_like, allow_pickle=False)
    except ValueError as exc:
        raise errors.UnsupportedFormatError(content_types.NPY, 406) from exc
    return buffer.getvalue()


def _array_to_csv(array_like: Any) -> str:
    stream = io.StringIO()
    np.savetxt(stream, array_like, delimiter=",", fmt="%s")
    return stream.getvalue()


_encoder_map = {
    content_types.NPY: _array_to_npy,
    content_types.CSV: _array_to_csv,
    content_types.JSON: _array_to_json,
}

SUPPORTED_CONTENT_TYPES = set(_encoder_map)


def encode(array_like: Any, content_type: str) -> Any:
    """Encode a prediction as `content_type` (JSON, CSV or npy)."""
    encoder = _encoder_map.get(content_type)
    if encoder is None:
        raise errors.UnsupportedFormatError(content_type, 406)
    return encoder(array_like)
