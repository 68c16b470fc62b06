"""Input checks a compiled step makes, worded as scikit-learn's validation words them.

scikit-learn refuses NaN or infinity, or a wrong number of features, with a ValueError
before it computes anything; a compiled step must refuse the same inputs (the stage
turns the ValueError into a 400) and let the same ones through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from inferpipe.serving.frames import column_arrays

FLOAT_TYPES = (np.float64, np.float32)


def as_matrix(data: Any) -> np.ndarray:
    """A 2-D array of a frame or array, without copying when it already is one."""
    if isinstance(data, np.ndarray):
        return data if data.ndim == 2 else data.reshape(len(data), -1)
    if hasattr(data, "columns"):
        columns = column_arrays(data)
        if not columns:
            return np.empty((len(data), 0))
        return np.column_stack(columns)
    return np.asarray(data)


def check_width(matrix: Any, expected: int | None, name: str) -> None:
    if expected is not None and matrix.shape[1] != expected:
        raise ValueError(
            f"X has {matrix.shape[1]} features, but {name} is expecting {expected} "
            "features as input."
        )


def float_matrix(
    data: Any, name: str, width: int | None, allow_nan: bool | None, dtype: Any = None
) -> np.ndarray:
    """The step's input as a float array (a fresh copy), checked as check_array checks it.

    `dtype=None` keeps float32 and float64 and turns anything else into float64, as
    scikit-learn's FLOAT_DTYPES does; tree models pass float32. `allow_nan=None` skips
    the finiteness check (HistGradientBoosting takes NaN and infinity as they are)."""
    matrix = as_matrix(data)
    check_width(matrix, width, name)
    if dtype is None:
        dtype = matrix.dtype if matrix.dtype in FLOAT_TYPES else np.float64
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            matrix = np.array(matrix, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} needs numbers: {exc}") from None
    if allow_nan is not None:
        check_finite(matrix, allow_nan)
    return matrix


def check_finite(matrix: np.ndarray, allow_nan: bool) -> None:
    if matrix.dtype.kind != "f":
        return
    finite = np.isfinite(matrix)
    if finite.all():
        return
    if np.isinf(matrix).any():
        raise ValueError(
            f"Input X contains infinity or a value too large for dtype({matrix.dtype.name!r})."
        )
    if not allow_nan:
        raise ValueError("Input X contains NaN.")


def matrix_reader(params: dict[str, Any]) -> Callable[[Any], np.ndarray]:
    """`float_matrix` with the check a Plan's `reader_params` recorded."""
    name, width, nan_ok = params["name"], params["width"], params["nan_ok"]
    dtype = None if params.get("dtype") is None else np.dtype(params["dtype"])
    return lambda data: float_matrix(data, name, width, nan_ok, dtype)
