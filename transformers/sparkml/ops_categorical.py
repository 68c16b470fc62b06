"""Categorical ops: StringIndexer, IndexToString, OneHotEncoder and MLeap's string_map.

Spark's rules copied here: StringIndexer casts numbers to their Java string form
and, with handleInvalid='keep', gives unseen values and null the same index
(numLabels); OneHotEncoder emits sparse vectors, keep adds an extra slot that
dropLast then drops. https://spark.apache.org/docs/latest/ml-features.html
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from inferpipe.transformers.sparkml.columns import (
    STRING,
    Column,
    Frame,
    double_column,
    string_column,
    vector_column,
)
from inferpipe.transformers.sparkml.op import Op, first_row

HANDLE_INVALID = ("error", "skip", "keep")


def java_double_text(value: float) -> str:
    """`Double.toString` as Java writes it (Spark casts doubles to strings this way)."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(float(value))
    mantissa, exponent = np.format_float_scientific(value, unique=True).split("e")
    if mantissa.endswith("."):
        mantissa += "0"
    return f"{mantissa}E{int(exponent)}"


def as_strings(column: Column) -> np.ndarray:
    """The column's values as Spark's cast to string gives them (None for null)."""
    if column.kind == STRING:
        return column.values
    nulls = column.null_mask()
    out = np.empty(column.length, dtype=object)
    for i, value in enumerate(column.values.tolist()):
        if nulls[i]:
            out[i] = None
        elif column.integral:
            out[i] = str(int(value))
        else:
            out[i] = java_double_text(value)
    return out


@dataclass
class StringIndexer(Op):
    """Map each input column's strings to their label index (multi-column)."""

    labels: list[list[str]] = field(default_factory=list)
    handle_invalid: str = "error"
    label = "StringIndexer"

    def __post_init__(self) -> None:
        self._lookups = [{s: float(i) for i, s in enumerate(ls)} for ls in self.labels]

    def apply(self, frame: Frame) -> Frame:
        keep = np.ones(frame.length, dtype=bool)
        results = []
        for j, lookup in enumerate(self._lookups):
            strings = as_strings(self.column(frame, j))
            indices = np.array([lookup.get(s, -1.0) if s is not None else -2.0 for s in strings])
            invalid = indices < 0
            if invalid.any():
                if self.handle_invalid == "error":
                    row = first_row(invalid)
                    value = strings[row - 1]
                    what = "NULL" if value is None else f"unseen label {value!r}"
                    raise self.fail(
                        f"record {row}, column {self.inputs[j]!r}: {what} "
                        f"(known labels: {self.labels[j][:10]}); handleInvalid is 'error'"
                    )
                if self.handle_invalid == "keep":
                    indices[invalid] = float(len(lookup))
                else:
                    keep &= ~invalid
            results.append(indices)
        for name, indices in zip(self.outputs, results, strict=True):
            frame = frame.with_column(name, double_column(indices, integral=True))
        return frame.take(keep)


@dataclass
class IndexToString(Op):
    """Map indices back to labels; an index outside the labels is an error."""

    labels: list[str] = field(default_factory=list)
    label = "IndexToString"

    def apply(self, frame: Frame) -> Frame:
        column = self.column(frame)
        values = column.values
        nulls = column.null_mask()
        out: list[Any] = []
        for i, value in enumerate(values.tolist()):
            if nulls[i]:
                out.append(None)
                continue
            index = int(value) if value == value else -1
            if not 0 <= index < len(self.labels) or index != value:
                raise self.fail(f"record {i + 1}: index {value!r} has no label")
            out.append(self.labels[index])
        return frame.with_column(self.outputs[0], string_column(out))


@dataclass
class OneHotEncoder(Op):
    """Category indices to sparse one-hot vectors (multi-column)."""

    category_sizes: list[int] = field(default_factory=list)
    drop_last: bool = True
    handle_invalid: str = "error"
    label = "OneHotEncoder"

    def _size(self, categories: int) -> int:
        keep_invalid = self.handle_invalid == "keep"
        if keep_invalid and not self.drop_last:
            return categories + 1
        if self.drop_last and not keep_invalid:
            return categories - 1
        return categories

    def apply(self, frame: Frame) -> Frame:
        for j, categories in enumerate(self.category_sizes):
            column = self.column(frame, j)
            values = column.values.astype(np.float64)
            bad = column.null_mask() | ~np.isfinite(values)
            bad |= (values < 0) | (values >= categories) | (np.floor(values) != values)
            index = np.where(bad, categories, values).astype(np.int64)
            if bad.any() and self.handle_invalid != "keep":
                row = first_row(bad)
                raise self.fail(
                    f"record {row}, column {self.inputs[j]!r}: {values[row - 1]!r} is not a "
                    f"category index below {categories}; handleInvalid is 'error'"
                )
            size = self._size(categories)
            hot = index < size
            rows = np.flatnonzero(hot)
            matrix = sparse.csr_matrix(
                (np.ones(rows.size), (rows, index[hot])), shape=(frame.length, size)
            )
            frame = frame.with_column(self.outputs[j], vector_column(matrix))
        return frame


@dataclass
class StringMap(Op):
    """MLeap's string_map: look a string up in a table, else a default or an error."""

    mapping: dict[str, float] = field(default_factory=dict)
    handle_invalid: str = "error"
    default_value: float = 0.0
    label = "string_map"

    def apply(self, frame: Frame) -> Frame:
        strings = as_strings(self.column(frame))
        out = np.empty(len(strings))
        for i, value in enumerate(strings):
            if value in self.mapping:
                out[i] = self.mapping[value]
            elif self.handle_invalid == "keep":
                out[i] = self.default_value
            else:
                raise self.fail(f"record {i + 1}: {value!r} is not in the string map")
        return frame.with_column(self.outputs[0], double_column(out))
