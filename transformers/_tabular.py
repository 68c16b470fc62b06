"""Helpers shared by tabular stage kinds: model outputs to frames, column lookup."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from inferpipe.protocol.errors import SchemaMismatch
from inferpipe.serving.frames import frame_of_matrix


def frame_from_result(result: Any) -> pd.DataFrame:
    """Turn a model's output (array, sparse matrix, Series, DataFrame, list) into a frame.

    A 1-D result becomes one column; sparse matrices are densified so every
    codec can carry them.
    """
    if isinstance(result, pd.DataFrame):
        return result.reset_index(drop=True)
    if isinstance(result, pd.Series):
        return pd.DataFrame({0: result.to_numpy()})
    if hasattr(result, "toarray"):
        result = result.toarray()
    array = np.asarray(result)
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise SchemaMismatch(
            f"the model returned an array of shape {array.shape}; expected one row per record"
        )
    return frame_of_matrix(array)


def column_label(frame: pd.DataFrame, reference: str | int, where: str) -> Any:
    """Find a column by name, or by position when `reference` is an int."""
    if isinstance(reference, int) and not isinstance(reference, bool):
        if reference in frame.columns:
            return reference
        if 0 <= reference < len(frame.columns):
            return frame.columns[reference]
    elif reference in frame.columns:
        return reference
    raise SchemaMismatch(
        f"{where}: no column {reference!r}; the records have columns "
        f"{[str(c) for c in frame.columns]}"
    )
