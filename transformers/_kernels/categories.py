"""Categorical columns as lookup tables: each known value maps to a row of output numbers.

Built once at load time from a fitted encoder (one table per input column); a request's
values are looked up in a dict, missing values (None, NaN) under one key of their own.
A value the table does not know takes the `unknown` row, or is refused when there is none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The key missing values (None, NaN) are looked up under.
MISSING = ("inferpipe", "missing")


def category_key(value: Any) -> Any:
    """The dict key of one cell: the value itself, or MISSING for None and NaN."""
    if value is None or (value != value):  # NaN is the one value unequal to itself
        return MISSING
    return value


@dataclass
class CategoryTable:
    """Output rows of one input column: `rows[index[key]]`, else `unknown`."""

    index: dict[Any, int]
    rows: np.ndarray
    unknown: np.ndarray | None
    column: int

    def __post_init__(self) -> None:
        # The unknown row sits after the known ones, so one `take` serves both.
        self._table = (
            self.rows if self.unknown is None else np.vstack([self.rows, self.unknown[None, :]])
        )

    def encode(self, values: Sequence[Any]) -> np.ndarray:
        """Rows x width output block for one column's values."""
        lookup = self.index.get
        codes = np.fromiter(
            (lookup(category_key(v), -1) for v in values), dtype=np.int64, count=len(values)
        )
        if self.unknown is None:
            if (codes < 0).any():
                unknown = sorted({str(values[i]) for i in np.flatnonzero(codes < 0)})
                raise ValueError(
                    f"Found unknown categories {unknown} in column {self.column} during transform"
                )
            return self.rows.take(codes, axis=0)
        return self._table.take(np.where(codes < 0, len(self.rows), codes), axis=0)


def encode_columns(tables: Sequence[CategoryTable], matrix: np.ndarray) -> np.ndarray:
    """Encode every column of `matrix` with its table and join the blocks left to right."""
    blocks = [table.encode(matrix[:, table.column].tolist()) for table in tables]
    return np.hstack(blocks) if blocks else np.empty((matrix.shape[0], 0))
