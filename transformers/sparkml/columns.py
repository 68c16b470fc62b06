"""Columns of a Spark-ML-style frame: scalars, strings, vectors (dense or sparse), arrays.

Spark keeps null apart from NaN, and several ops treat them differently (Imputer,
Bucketizer, StringIndexer), so every column carries an explicit null mask beside
its values. Vectors are a 2-D float64 array or a scipy CSR matrix, one row per record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from inferpipe.protocol.errors import SchemaMismatch

DOUBLE = "double"
STRING = "string"
BOOLEAN = "boolean"
VECTOR = "vector"
ARRAY = "array"


@dataclass(frozen=True)
class Column:
    """One column: `kind` is double, string, boolean, vector or array.

    double/boolean: 1-D float64 values; string/array: 1-D object values;
    vector: 2-D float64 or CSR. `nulls` marks null rows (None = no nulls).
    """

    kind: str
    values: Any
    nulls: np.ndarray | None = None
    integral: bool = False

    @property
    def length(self) -> int:
        return int(self.values.shape[0])

    def null_mask(self) -> np.ndarray:
        if self.nulls is None:
            return np.zeros(self.length, dtype=bool)
        return self.nulls

    def take(self, keep: np.ndarray) -> Column:
        nulls = None if self.nulls is None else self.nulls[keep]
        return Column(self.kind, self.values[keep], nulls, self.integral)

    @property
    def width(self) -> int:
        """The size of a vector column (1 for scalars)."""
        return int(self.values.shape[1]) if self.kind == VECTOR else 1


def double_column(values: Any, nulls: np.ndarray | None = None, integral: bool = False) -> Column:
    array = np.asarray(values, dtype=np.float64)
    if nulls is not None and not nulls.any():
        nulls = None
    if nulls is not None:
        array = np.where(nulls, np.nan, array)
    return Column(DOUBLE, array, nulls, integral)


def string_column(values: Any) -> Column:
    array = np.asarray(values, dtype=object)
    nulls = np.array([v is None for v in array], dtype=bool)
    return Column(STRING, array, nulls if nulls.any() else None)


def vector_column(values: Any, nulls: np.ndarray | None = None) -> Column:
    if sparse.issparse(values):
        values = sparse.csr_matrix(values, dtype=np.float64)
    else:
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 2:
            raise ValueError(f"a vector column needs a 2-D array, got shape {values.shape}")
    if nulls is not None and not nulls.any():
        nulls = None
    return Column(VECTOR, values, nulls)


def array_column(values: list[Any]) -> Column:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    nulls = np.array([v is None for v in values], dtype=bool)
    return Column(ARRAY, array, nulls if nulls.any() else None)


def scale_vectors(values: Any, factors: np.ndarray) -> Any:
    """Each vector times `factors`, element by element; a sparse matrix stays sparse."""
    if sparse.issparse(values):
        return values.multiply(factors).tocsr()
    return values * factors


def reciprocal(values: np.ndarray, at_zero: float) -> np.ndarray:
    """1/x element by element, `at_zero` where x is 0 (how Spark's scalers treat 0)."""
    zero = values == 0
    return np.where(zero, at_zero, 1.0 / np.where(zero, 1.0, values))


def dense(values: Any) -> np.ndarray:
    """A vector column's values as a dense 2-D array."""
    return values.toarray() if sparse.issparse(values) else values


class Frame:
    """Named columns of equal length, in insertion order (a tiny LeapFrame)."""

    def __init__(self, columns: dict[str, Column], length: int) -> None:
        self.columns = columns
        self.length = length

    def __contains__(self, name: str) -> bool:
        return name in self.columns

    def get(self, name: str, op: str) -> Column:
        try:
            return self.columns[name]
        except KeyError:
            raise SchemaMismatch(
                f"{op} needs column {name!r}, which the input does not have; "
                f"columns present: {list(self.columns)}"
            ) from None

    def with_column(self, name: str, column: Column) -> Frame:
        columns = dict(self.columns)
        columns[name] = column
        return Frame(columns, self.length)

    def take(self, keep: np.ndarray) -> Frame:
        """Keep the rows where `keep` is True (Spark's handleInvalid='skip')."""
        if keep.all():
            return self
        return Frame(
            {name: column.take(keep) for name, column in self.columns.items()}, int(keep.sum())
        )
