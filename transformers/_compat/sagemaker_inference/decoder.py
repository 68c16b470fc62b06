"""Request bodies to numpy, as the toolkit's default `input_fn` decodes them (npy and
npz without pickle)."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np

from inferpipe.protocol.errors import MalformedPayload
from inferpipe.serving.codecs import check_npy_size

from . import content_types, errors


def _text(data: str | bytes) -> str:
    return data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data


def _json_to_numpy(string_like: str | bytes, dtype: Any = None) -> np.ndarray:
    return np.array(json.loads(_text(string_like)), dtype=dtype)


def _csv_to_numpy(string_like: str | bytes, dtype: Any = None) -> np.ndarray:
    return np.genfromtxt(io.StringIO(_text(string_like)), dtype=dtype, delimiter=",")


def _npy_to_numpy(npy_array: bytes) -> np.ndarray:
    try:
        check_npy_size(npy_array)
    except MalformedPayload as exc:
        raise errors.GenericInferenceToolkitError(400, exc.message) from None
    try:
        return np.load(io.BytesIO(npy_array), allow_pickle=False)
    except ValueError as exc:
        raise errors.GenericInferenceToolkitError(
            400, f"not a loadable .npy array (object arrays are refused): {exc}"
        ) from None


def _npz_to_sparse(npz_bytes: bytes) -> Any:
    import scipy.sparse

    return scipy.sparse.load_npz(io.BytesIO(npz_bytes))


_decoder_map = {
    content_types.NPY: _npy_to_numpy,
    content_types.CSV: _csv_to_numpy,
    content_types.JSON: _json_to_numpy,
    content_types.NPZ: _npz_to_sparse,
}


def decode(obj: Any, content_type: str) -> Any:
    """Decode a body of one of the default content types."""
    decoder = _decoder_map.get(content_type)
    if decoder is None:
        raise errors.UnsupportedFormatError(content_type, 415)
    return decoder(obj)
