"""Vector ops: VectorAssembler, VectorSlicer, VectorIndexer, and MLeap's math_unary /
math_binary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from inferpipe.protocol.errors import ArtifactError
from inferpipe.transformers.sparkml.columns import (
    STRING,
    VECTOR,
    Column,
    Frame,
    dense,
    double_column,
    vector_column,
)
from inferpipe.transformers.sparkml.op import Op, first_row


@dataclass
class VectorAssembler(Op):
    """Concatenate numeric columns and vectors (a null vector under 'keep' becomes NaNs)."""

    handle_invalid: str = "error"
    label = "VectorAssembler"

    def _part(self, column: Column, j: int) -> tuple[object, np.ndarray, np.ndarray]:
        """(block, null rows, NaN rows) for one input."""
        nulls = column.null_mask()
        if column.kind == VECTOR:
            return column.values, nulls, np.zeros_like(nulls)
        if column.kind == STRING:
            raise self.fail(f"column {self.inputs[j]!r} holds strings; index them first")
        values = column.values.reshape(-1, 1)
        return values, nulls, np.isnan(column.values) & ~nulls

    def apply(self, frame: Frame) -> Frame:
        parts = [self._part(self.column(frame, j), j) for j in range(len(self.inputs))]
        invalid = np.zeros(frame.length, dtype=bool)
        for j, (_, nulls, nans) in enumerate(parts):
            bad = nulls | nans
            if bad.any() and self.handle_invalid == "error":
                row = first_row(bad)
                what = "null" if nulls[row - 1] else "NaN"
                raise self.fail(
                    f"record {row}, column {self.inputs[j]!r}: {what} cannot be assembled "
                    "(handleInvalid is 'error'; Spark's 'keep' gives NaN, 'skip' drops the row)"
                )
            invalid |= bad
        blocks = []
        for block, nulls, _ in parts:
            if nulls.any() and sparse.issparse(block):
                block = dense(block)
            if nulls.any():
                block = np.where(nulls[:, None], np.nan, block)
            blocks.append(block)
        if any(sparse.issparse(b) for b in blocks):
            result = sparse.hstack([sparse.csr_matrix(b) for b in blocks], format="csr")
        else:
            result = np.hstack(blocks) if blocks else np.zeros((frame.length, 0))
        frame = frame.with_column(self.outputs[0], vector_column(result))
        if self.handle_invalid == "skip":
            frame = frame.take(~invalid)
        return frame


@dataclass
class VectorIndexer(Op):
    """Replace each categorical feature's value by its category index, as Spark's fitted
    VectorIndexerModel does; other features pass unchanged, sparse vectors stay sparse.

    `category_maps` is {feature index: {value: category index}}. A value the map lacks
    (NaN included) is an error, dropped (`skip`) or the extra index len(map) (`keep`)."""

    num_features: int = 0
    category_maps: dict[int, dict[float, int]] = field(default_factory=dict)
    handle_invalid: str = "error"
    label = "VectorIndexer"

    def apply(self, frame: Frame) -> Frame:
        column = self.column(frame)
        if column.kind != VECTOR:
            raise self.fail(f"column {self.inputs[0]!r} must hold vectors")
        if column.width != self.num_features:
            raise self.fail(
                f"column {self.inputs[0]!r} holds vectors of size {column.width}; the model "
                f"was fitted on size {self.num_features}"
            )
        was_sparse = sparse.issparse(column.values)
        values = np.array(dense(column.values), dtype=np.float64)
        nulls = column.null_mask()
        keep = np.ones(frame.length, dtype=bool)
        for feature, mapping in sorted(self.category_maps.items()):
            original = values[:, feature]
            # Spark's map finds a NaN key for a NaN value (boxed Double equality); Python's not.
            at_nan = next((i for v, i in mapping.items() if v != v), -1)
            indices = np.array(
                [mapping.get(v, -1) if v == v else at_nan for v in original.tolist()],
                dtype=np.float64,
            )
            invalid = (indices < 0) & ~nulls
            if invalid.any():
                if self.handle_invalid == "error":
                    row = first_row(invalid)
                    value = float(original[row - 1])
                    raise self.fail(
                        f"record {row}: invalid value {value!r} on feature index "
                        f"{feature} (known values: {sorted(mapping)[:10]}); handleInvalid is "
                        "'error' (Spark's 'keep' gives an extra index, 'skip' drops the row)"
                    )
                if self.handle_invalid == "keep":
                    indices[invalid] = float(len(mapping))
                else:
                    keep &= ~invalid
            values[:, feature] = indices
        result = sparse.csr_matrix(values) if was_sparse else values
        frame = frame.with_column(self.outputs[0], vector_column(result, column.nulls))
        return frame.take(keep)


@dataclass
class VectorSlicer(Op):
    indices: list[int] = field(default_factory=list)
    label = "VectorSlicer"

    def apply(self, frame: Frame) -> Frame:
        column = self.column(frame)
        if column.kind != VECTOR:
            raise self.fail(f"column {self.inputs[0]!r} must hold vectors")
        width = column.values.shape[1]
        if self.indices and max(self.indices) >= width:
            raise self.fail(f"index {max(self.indices)} is outside vectors of size {width}")
        result = column.values[:, self.indices]
        return frame.with_column(self.outputs[0], vector_column(result, column.nulls))


UNARY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "logit": lambda x: np.log(x / (1.0 - x)),
}

#: MLeap's operation names (and the long spellings some writers use).
BINARY: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "add": np.add,
    "sub": np.subtract,
    "subtract": np.subtract,
    "mul": np.multiply,
    "multiply": np.multiply,
    "div": np.divide,
    "divide": np.divide,
    "rem": np.fmod,
    "remainder": np.fmod,
    "log_n": lambda a, b: np.log(a) / np.log(b),
    "pow": np.power,
    "min": np.minimum,
    "max": np.maximum,
}


@dataclass
class MathUnary(Op):
    operation: str = "abs"
    label = "math_unary"

    def __post_init__(self) -> None:
        if self.operation not in UNARY:
            raise ArtifactError(
                f"math_unary {self.uid!r}: operation {self.operation!r} is not one of "
                f"{sorted(UNARY)}"
            )

    def apply(self, frame: Frame) -> Frame:
        column = self.column(frame)
        with np.errstate(all="ignore"):
            result = UNARY[self.operation](column.values.astype(np.float64))
        return frame.with_column(self.outputs[0], double_column(result, column.nulls))


@dataclass
class MathBinary(Op):
    """`a op b`; an absent input (MLeap allows either) takes its default value."""

    operation: str = "add"
    default_a: float | None = None
    default_b: float | None = None
    input_a: str | None = None
    input_b: str | None = None
    label = "math_binary"

    def __post_init__(self) -> None:
        if self.operation not in BINARY:
            raise ArtifactError(
                f"math_binary {self.uid!r}: operation {self.operation!r} is not one of "
                f"{sorted(BINARY)}"
            )

    def _operand(self, frame: Frame, name: str | None, default: float | None) -> np.ndarray:
        if name is not None:
            return frame.get(name, f"math_binary {self.uid!r}").values.astype(np.float64)
        if default is None:
            raise self.fail("an input is missing and has no default")
        return np.full(frame.length, default)

    def apply(self, frame: Frame) -> Frame:
        a = self._operand(frame, self.input_a, self.default_a)
        b = self._operand(frame, self.input_b, self.default_b)
        with np.errstate(all="ignore"):
            result = BINARY[self.operation](a, b)
        return frame.with_column(self.outputs[0], double_column(result))
