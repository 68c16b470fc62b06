"""Frames built from typed arrays without pandas' constructor checks equal the ones the
constructor builds (string columns aside: they stay numpy object arrays)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from inferpipe.serving.frames import (
    column_arrays,
    column_dtypes,
    frame_of_columns,
    frame_of_matrix,
)
from inferpipe.transformers.postprocess import op_round


def _arrays(rows: int) -> tuple[list[np.ndarray], list[str]]:
    generator = np.random.default_rng(rows)
    floats = generator.normal(size=rows) * 1e3
    floats[::3] = np.nan
    words = np.array([("a", "b", np.nan)[i % 3] for i in range(rows)], dtype=object)
    ints = generator.integers(-5, 5, size=rows)
    flags = ints > 0
    return [floats, words, ints, flags], ["f", "s", "i", "b"]


@pytest.mark.parametrize("rows", [0, 1, 7, 1000])
def test_a_frame_of_arrays_equals_pandas_own(rows: int) -> None:
    arrays, labels = _arrays(rows)
    ours = frame_of_columns(arrays, labels)
    theirs = pd.DataFrame(dict(zip(labels, arrays, strict=True))).astype({"s": object})
    pd.testing.assert_frame_equal(ours, theirs)
    assert ours["s"].dtype == object
    assert column_dtypes(ours) == ours.dtypes.tolist()
    assert all(a is b for a, b in zip(column_arrays(ours), arrays, strict=True))
    # A derived frame no longer carries the arrays: its dtypes come from pandas.
    derived = ours.assign(extra=1.0)
    assert column_dtypes(derived) == derived.dtypes.tolist()


def test_a_frame_of_a_matrix_equals_pandas_own() -> None:
    matrix = np.arange(12.0).reshape(4, 3)
    ours = frame_of_matrix(matrix)
    pd.testing.assert_frame_equal(ours, pd.DataFrame(matrix))
    assert [a.tolist() for a in column_arrays(ours)] == matrix.T.tolist()


@pytest.mark.parametrize("columns", [None, ["f"], ["i", "f"]])
def test_round_equals_pandas_round(columns: list[str] | None) -> None:
    arrays, labels = _arrays(50)
    frame = frame_of_columns(arrays, labels)
    expected = frame.copy()
    for label in columns or labels:
        if pd.api.types.is_float_dtype(expected[label]):
            expected[label] = expected[label].round(2)
    result = op_round(frame, 2, columns)
    pd.testing.assert_frame_equal(result, expected)
    # Repeated labels take pandas' own path, with the same numbers.
    twice = pd.concat([frame[["f"]], frame[["f"]]], axis=1)
    rounded = op_round(twice, 2, None)
    assert np.allclose(rounded.to_numpy(), twice.round(2).to_numpy(), equal_nan=True)
