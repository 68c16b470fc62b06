"""Bodies to numpy and back, as `sagemaker_containers` does (npy without pickle)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import numpy as np

from inferpipe.protocol.errors import MalformedPayload
from inferpipe.serving.codecs import check_npy_size

from . import content_types, errors


def _text(data: str | bytes) -> str:
    return data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data


def array_to_npy(array_like: Any) -> bytes:
    buffer = io.BytesIO()
    try:
        np.save(buffer, array_like, allow_pickle=False)
    except ValueError as exc:
        raise errors.UnsupportedFormatError(content_types.NPY, 406) from exc
    return buffer.getvalue()


def npy_to_numpy(npy_array: bytes) -> np.ndarray:
    try:
        check_npy_size(npy_array)
    except MalformedPayload as exc:
        raise errors.ClientError(exc.message) from None
    try:
        return np.load(io.BytesIO(npy_array), allow_pickle=False)
    except ValueError as exc:
        raise errors.ClientError(
            f"not a loadable .npy array (object arrays are refused): {exc}"
        ) from None


def array_to_json(array_like: Any) -> str:
    def default(value: Any) -> Any:
        if hasattr(value, "tolist"):
            return value.tolist()
        return json.JSONEncoder().default(value)

    return json.dumps(array_like, default=default)


def json_to_numpy(string_like: str | bytes, dtype: Any = None) -> np.ndarray:
    return np.array(json.loads(_text(string_like)), dtype=dtype)


def csv_to_numpy(string_like: str | bytes, dtype: Any = None) -> np.ndarray:
    """Rows of a CSV body as an array of strings (or `dtype`), squeezed."""
    try:
        reader = csv.reader(io.StringIO(_text(string_like)), strict=True)
        array = np.array(list(reader)).squeeze()
        return array.astype(dtype) if dtype is not None else array
    except ValueError as exc:
        raise errors.ClientError(
            f"Error while writing numpy array: {exc}. dtype is: {dtype}"
        ) from None
    except csv.Error as exc:
        raise errors.ClientError(f"Error while decoding csv: {exc}") from None


def array_to_csv(array_like: Any) -> str:
    """One line per row; a 1-D array is one value per line."""
    array = np.array(array_like)
    if array.ndim == 1:
        array = array.reshape(array.shape[0], 1)
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerows(array)
    return stream.getvalue()


_encoders_map = {
    content_types.NPY: array_to_npy,
    content_types.CSV: array_to_csv,
    content_types.JSON: array_to_json,
}
_decoders_map = {
    content_types.NPY: npy_to_numpy,
    content_types.CSV: csv_to_numpy,
    content_types.JSON: json_to_numpy,
}


def decode(obj: Any, content_type: str) -> Any:
    """Decode a body of one of the default content types to a numpy array."""
    decoder = _decoders_map.get(content_type)
    if decoder is None:
        raise errors.UnsupportedFormatError(content_type, 415)
    return decoder(obj)


def encode(array_like: Any, content_type: str) -> Any:
    """Encode an array-like as `content_type` (JSON, CSV or npy)."""
    encoder = _encoders_map.get(content_type)
    if encoder is None:
        raise errors.UnsupportedFormatError(content_type, 406)
    return encoder(array_like)
