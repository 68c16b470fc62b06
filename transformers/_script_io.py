"""What the script stage needs to run AWS-style scripts unchanged: the compatibility
modules on the path, the toolkit's default output encoding, and turning whatever a
hook returned (bytes, str, `(body, type)`, a Flask or `worker.Response`) into a body.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from inferpipe.protocol import media
from inferpipe.protocol.errors import ClientError, NotAcceptable, StageFailed
from inferpipe.serving import codecs
from inferpipe.serving.frames import has_named_columns
from inferpipe.transformers._tabular import frame_from_result

COMPAT_DIR = Path(__file__).resolve().parent / "_compat"
#: Toolkit namespaces we stand in for when the real package is missing.
COMPAT_PACKAGES = ("sagemaker_inference", "sagemaker_containers")
#: What the default output_fn can write; the first of these in Accept wins.
DEFAULT_OUTPUT_TYPES = (media.JSON, media.CSV, media.NPY, media.JSONLINES)


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def add_compat_modules() -> list[str]:
    """Make AWS's toolkit imports resolve: append our stand-ins to sys.path, behind any
    real installation. Returns the namespaces our modules now answer for."""
    missing = [name for name in COMPAT_PACKAGES if not _importable(name)]
    if missing and str(COMPAT_DIR) not in sys.path:
        sys.path.append(str(COMPAT_DIR))
    return missing


def _toolkit_encode(prediction: Any, accept: str) -> bytes | str:
    """The toolkit's default output_fn: JSON via tolist, CSV via savetxt, npy as is."""
    from inferpipe.transformers._compat.sagemaker_inference import encoder

    if isinstance(prediction, pd.DataFrame):
        named = has_named_columns(prediction)
        prediction = prediction.to_dict("records") if named else prediction.to_numpy()
    try:
        body: bytes | str = encoder.encode(prediction, accept)
    except (TypeError, ValueError) as exc:
        raise NotAcceptable(
            f"the prediction ({type(prediction).__name__}) cannot be written as {accept}: "
            f"{exc}; ask for application/json or write an output_fn"
        ) from None
    return body


def default_output(prediction: Any, accept: str) -> bytes | str:
    """Encode a prediction as SageMaker's scikit-learn container does by default."""
    if isinstance(prediction, (bytes, str)):
        return prediction
    if accept in (media.JSON, media.CSV, media.NPY):
        return _toolkit_encode(prediction, accept)
    frame = prediction if isinstance(prediction, pd.DataFrame) else frame_from_result(prediction)
    return codecs.encode(frame, accept)


def _response_parts(result: Any) -> tuple[Any, str | None, int] | None:
    """Body, media type and status of a response object (Flask/werkzeug or alike)."""
    if callable(getattr(result, "get_data", None)):
        return result.get_data(), getattr(result, "mimetype", None), int(result.status_code)
    for body_name in ("body", "data"):
        if hasattr(result, body_name) and hasattr(result, "status_code"):
            mimetype = getattr(result, "mimetype", None) or getattr(result, "content_type", None)
            return getattr(result, body_name), mimetype, int(result.status_code)
    return None


def hook_result(result: Any, accept: str) -> tuple[bytes, str]:
    """Body and bare media type from what output_fn/transform_fn returned."""
    content_type = accept
    parts = _response_parts(result)
    if parts is not None:
        result, mimetype, status = parts
        content_type = mimetype or accept
        if not 200 <= status < 300:
            message = result.decode(errors="replace") if isinstance(result, bytes) else str(result)
            if 400 <= status < 500:
                raise ClientError(message or f"the script answered {status}", status)
            raise StageFailed(f"the script answered {status}: {message[:200]}")
    elif isinstance(result, tuple) and len(result) == 2:
        result, content_type = result
    elif isinstance(result, (dict, list)):
        # The toolkit's model server writes a returned dict or list as JSON.
        result, content_type = _toolkit_encode(result, media.JSON), media.JSON
    if isinstance(result, str):
        result = result.encode()
    if not isinstance(result, (bytes, bytearray)):
        raise TypeError(
            f"the script returned {type(result).__name__}; output_fn/transform_fn must return "
            "bytes, str, a dict or list (JSON), (body, content_type) or a response object"
        )
    return bytes(result), media.parse_media_type(content_type).type
