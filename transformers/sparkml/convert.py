"""Build columns from plain Python values (requests, pandas batches) and turn them back.

Requests name a type per column (AWS's schema: double, string, ... with a basic,
vector or array struct); a bad value is a 400 naming the record, the column and
the expected type.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse

from inferpipe.protocol.errors import SchemaMismatch
from inferpipe.transformers.sparkml.columns import (
    ARRAY,
    BOOLEAN,
    STRING,
    VECTOR,
    Column,
    array_column,
    double_column,
    string_column,
    vector_column,
)

INTEGRAL_TYPES = {"integer", "int", "long", "short", "byte"}
NUMERIC_TYPES = INTEGRAL_TYPES | {"double", "float"}
TRUE_WORDS = {"true", "1", "1.0", "t", "yes"}
FALSE_WORDS = {"false", "0", "0.0", "f", "no"}


def _missing(value: Any) -> bool:
    """None and empty (or blank) text are missing values, as in serving's CSV codec."""
    return value is None or (isinstance(value, str) and not value.strip())


def _bad(row: int, name: str, value: Any, expected: str) -> SchemaMismatch:
    return SchemaMismatch(
        f"record {row + 1}, column {name!r}: {value!r} is not {expected} "
        "(the schema says so; see SAGEMAKER_SPARKML_SCHEMA or schema.json)"
    )


def _number(value: Any, row: int, name: str, col_type: str) -> float:
    if isinstance(value, bool):
        return float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _bad(row, name, value, f"a {col_type}") from None
    if col_type in INTEGRAL_TYPES and math.isfinite(number) and not number.is_integer():
        raise _bad(row, name, value, f"an {col_type}")
    return number


def _boolean(value: Any, row: int, name: str) -> float:
    if isinstance(value, bool):
        return float(value)
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return 1.0
    if word in FALSE_WORDS:
        return 0.0
    raise _bad(row, name, value, "a boolean")


def _fast_numbers(values: Sequence[Any], col_type: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(values, null mask) parsed by numpy in one pass, or None to take the careful path."""
    raw = np.asarray(values, dtype=object)
    nulls = np.array([_missing(v) for v in values], dtype=bool)
    if raw.dtype != object or raw.ndim != 1:
        return None
    try:
        numbers = np.where(nulls, 0.0, raw).astype(np.float64)
    except (TypeError, ValueError):
        return None
    if col_type in INTEGRAL_TYPES:
        finite = np.isfinite(numbers)
        if not np.array_equal(numbers[finite], np.floor(numbers[finite])):
            return None
    return numbers, nulls


def basic_column(values: Sequence[Any], name: str, col_type: str) -> Column:
    """One basic (scalar) column of the schema's type; empty and null are null."""
    if col_type == "string":
        return string_column([None if v is None else str(v) for v in values])
    fast = _fast_numbers(values, col_type) if col_type != "boolean" else None
    if fast is not None:
        numbers, nulls = fast
        return double_column(numbers, nulls if nulls.any() else None, col_type in INTEGRAL_TYPES)
    nulls = np.array([_missing(v) for v in values], dtype=bool)
    out = np.zeros(len(values))
    for i, value in enumerate(values):
        if nulls[i]:
            continue
        if col_type == "boolean":
            out[i] = _boolean(value, i, name)
        else:
            out[i] = _number(value, i, name, col_type)
    if col_type == "boolean":
        return Column(BOOLEAN, out, nulls if nulls.any() else None)
    return double_column(out, nulls if nulls.any() else None, col_type in INTEGRAL_TYPES)


def vector_values(values: Sequence[Any], name: str) -> Column:
    """A vector column from lists of numbers (all the same length)."""
    rows = []
    nulls = np.zeros(len(values), dtype=bool)
    width = None
    for i, value in enumerate(values):
        if value is None:
            nulls[i] = True
            rows.append(None)
            continue
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if not isinstance(value, (list, tuple)):
            raise _bad(i, name, value, "a list of numbers (a vector)")
        row = [_number(v, i, name, "double") for v in value]
        if width is not None and len(row) != width:
            raise SchemaMismatch(
                f"record {i + 1}, column {name!r}: the vector has {len(row)} values, "
                f"record 1 has {width}"
            )
        width = len(row)
        rows.append(row)
    width = width or 0
    matrix = np.array([r if r is not None else [np.nan] * width for r in rows], dtype=np.float64)
    return vector_column(matrix.reshape(len(values), width), nulls)


def array_values(values: Sequence[Any], name: str, col_type: str) -> Column:
    """An array column (e.g. tokens) from lists."""
    out: list[Any] = []
    for i, value in enumerate(values):
        if value is None:
            out.append(None)
            continue
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if not isinstance(value, (list, tuple)):
            raise _bad(i, name, value, f"a list of {col_type} (an array)")
        if col_type == "string":
            out.append([None if v is None else str(v) for v in value])
        else:
            out.append([_number(v, i, name, col_type) for v in value])
    return array_column(out)


def column_from_values(values: Sequence[Any], name: str, col_type: str, struct: str) -> Column:
    if struct == "vector":
        return vector_values(values, name)
    if struct == "array":
        return array_values(values, name, col_type)
    return basic_column(values, name, col_type)


#: Sparse matrices up to this many cells are densified at once; wider ones row by row.
DENSE_AT_ONCE_CELLS = 1 << 22


def _dense_rows(values: Any) -> list[list[float]]:
    """Each row of a dense or CSR matrix as a list of floats (the output formats are dense)."""
    if not sparse.issparse(values):
        return values.tolist()
    if values.shape[0] * values.shape[1] <= DENSE_AT_ONCE_CELLS:
        return values.toarray().tolist()
    matrix = sparse.csr_matrix(values)
    rows = []
    for i in range(matrix.shape[0]):
        row = np.zeros(matrix.shape[1])
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        row[matrix.indices[start:end]] = matrix.data[start:end]
        rows.append(row.tolist())
    return rows


def python_values(column: Column) -> list[Any]:
    """A column as Python values: floats (None for null, NaN kept), strings, lists."""
    nulls = column.null_mask()
    if column.kind == VECTOR:
        rows = _dense_rows(column.values)
        return [None if nulls[i] else row for i, row in enumerate(rows)]
    if column.kind in (STRING, ARRAY):
        return [None if nulls[i] else v for i, v in enumerate(column.values.tolist())]
    values = column.values.tolist()
    if column.kind == BOOLEAN:
        return [None if nulls[i] else bool(v) for i, v in enumerate(values)]
    # NaN stays a float NaN: Spark keeps it apart from null, and so do the encoders.
    return [None if nulls[i] else v for i, v in enumerate(values)]
