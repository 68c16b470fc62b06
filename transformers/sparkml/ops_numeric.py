"""Numeric feature ops: scalers, Normalizer, ElementwiseProduct, PCA, Binarizer,
Bucketizer (and QuantileDiscretizer's model), Imputer.

Each formula is the one Spark evaluates, operation for operation, so results match
to the last bit or within the SIMD tolerance: StandardScaler is `(x - mean) * (1/std)`
(std 0 → 0), MinMaxScaler `(x - min) * (scale/range) + min` (range 0 → the middle),
MaxAbsScaler `x * (1/maxAbs)` (maxAbs 0 → 1), Normalizer divides by the p-norm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from inferpipe.transformers.sparkml.columns import (
    DOUBLE,
    VECTOR,
    Column,
    Frame,
    dense,
    double_column,
    reciprocal,
    scale_vectors,
    vector_column,
)
from inferpipe.transformers.sparkml.op import Op, first_row


def _vectors(op: Op, frame: Frame, index: int = 0) -> Column:
    column = op.column(frame, index)
    if column.kind != VECTOR:
        raise op.fail(f"column {op.inputs[index]!r} must hold vectors, it holds {column.kind}")
    return column


@dataclass
class StandardScaler(Op):
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    with_mean: bool = False
    with_std: bool = True
    label = "StandardScaler"

    def __post_init__(self) -> None:
        use_std = self.with_std and self.std is not None
        self._scale = reciprocal(self.std, 0.0) if use_std and self.std is not None else None

    def apply(self, frame: Frame) -> Frame:
        column = _vectors(self, frame)
        values = column.values
        if self.with_mean and self.mean is not None:
            result = dense(values) - self.mean
            if self._scale is not None:
                result = result * self._scale
        elif self._scale is not None:
            result = scale_vectors(values, self._scale)
        else:
            result = values
        return frame.with_column(self.outputs[0], vector_column(result, column.nulls))


@dataclass
class MinMaxScaler(Op):
    original_min: np.ndarray = field(default_factory=lambda: np.zeros(0))
    original_max: np.ndarray = field(default_factory=lambda: np.zeros(0))
    min: float = 0.0
    max: float = 1.0
    label = "MinMaxScaler"

    def __post_init__(self) -> None:
        # scale / range, not scale * (1/range): they differ in the last bit, Spark divides.
        spread = self.original_max - self.original_min
        nonzero = spread != 0
        self._factor = np.where(
            nonzero, (self.max - self.min) / np.where(nonzero, spread, 1.0), 0.0
        )

    def apply(self, frame: Frame) -> Frame:
        column = _vectors(self, frame)
        values = dense(column.values)
        scaled = (values - self.original_min) * self._factor + self.min
        result = np.where(self._factor != 0, scaled, 0.5 * (self.max - self.min) + self.min)
        result = np.where(np.isnan(values), values, result)
        return frame.with_column(self.outputs[0], vector_column(result, column.nulls))


@dataclass
class MaxAbsScaler(Op):
    max_abs: np.ndarray = field(default_factory=lambda: np.zeros(0))
    label = "MaxAbsScaler"

    def __post_init__(self) -> None:
        self._scale = reciprocal(self.max_abs, 1.0)

    def apply(self, frame: Frame) -> Frame:
        column = _vectors(self, frame)
        result = scale_vectors(column.values, self._scale)
        return frame.with_column(self.outputs[0], vector_column(result, column.nulls))


def p_norm(values: np.ndarray, p: float) -> np.ndarray:
    magnitude = np.abs(values)
    if p == 1:
        return magnitude.sum(axis=1)
    if p == 2:
        return np.sqrt((values * values).sum(axis=1))
    if p == np.inf:
        return magnitude.max(axis=1, initial=0.0)
    return np.power(np.power(magnitude, p).sum(axis=1), 1.0 / p)


@dataclass
class Normalizer(Op):
    p: float = 2.0
    label = "Normalizer"

    def apply(self, frame: Frame) -> Frame:
        column = _vectors(self, frame)
        values = dense(column.values)
        norm = p_norm(values, self.p)
        safe = np.where(norm != 0, norm, 1.0)[:, None]
        result = np.where((norm != 0)[:, None], values / safe, values)
        return frame.with_column(self.outputs[0], vector_column(result, column.nulls))


@dataclass
class ElementwiseProduct(Op):
    scaling: np.ndarray = field(default_factory=lambda: np.zeros(0))
    label = "ElementwiseProduct"

    def apply(self, frame: Frame) -> Frame:
        column = _vectors(self, frame)
        values = column.values
        if values.shape[1] != self.scaling.size:
            raise self.fail(f"vectors have size {values.shape[1]}, expected {self.scaling.size}")
        return frame.with_column(
            self.outputs[0], vector_column(scale_vectors(values, self.scaling), column.nulls)
        )


@dataclass
class PCA(Op):
    #: numFeatures x k, as Spark stores `pc`.
    components: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    label = "PCA"

    def apply(self, frame: Frame) -> Frame:
        column = _vectors(self, frame)
        values = dense(column.values)
        if values.shape[1] != self.components.shape[0]:
            raise self.fail(
                f"vectors have size {values.shape[1]}, expected {self.components.shape[0]}"
            )
        return frame.with_column(
            self.outputs[0], vector_column(values @ self.components, column.nulls)
        )


@dataclass
class Binarizer(Op):
    thresholds: list[float] = field(default_factory=list)
    #: Spark 4 answers 0.0 for a null input; Spark 3 keeps it null.
    null_as_zero: bool = True
    label = "Binarizer"

    def apply(self, frame: Frame) -> Frame:
        for j, threshold in enumerate(self.thresholds):
            column = self.column(frame, j)
            if column.kind == VECTOR:
                result = (dense(column.values) > threshold).astype(np.float64)
                out = vector_column(result, column.nulls)
            else:
                ones = (np.nan_to_num(column.values, nan=-np.inf) > threshold).astype(np.float64)
                nulls = None if self.null_as_zero else column.nulls
                out = double_column(ones, nulls)
            frame = frame.with_column(self.outputs[j], out)
        return frame


def bucket_of(splits: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Spark's binarySearchForBuckets, vectorised; -1 marks values outside the splits.

    Java's Arrays.binarySearch orders -0.0 below 0.0, so -0.0 falls below a 0.0 split.
    """
    index = np.searchsorted(splits, values, side="right") - 1
    on_split = (index >= 0) & (index < splits.size)
    clipped = np.clip(index, 0, splits.size - 1)
    negative_zero = on_split & (values == 0) & np.signbit(values)
    below = negative_zero & (splits[clipped] == 0) & ~np.signbit(splits[clipped])
    index = np.where(below, index - 1, index)
    index = np.where(values == splits[-1], splits.size - 2, index)
    index = np.where((index < 0) | (index > splits.size - 2), -1, index)
    return index


@dataclass
class Bucketizer(Op):
    splits: list[np.ndarray] = field(default_factory=list)
    handle_invalid: str = "error"
    label = "Bucketizer"

    def apply(self, frame: Frame) -> Frame:
        keep = np.ones(frame.length, dtype=bool)
        outputs = []
        for j, splits in enumerate(self.splits):
            column = self.column(frame, j)
            values = column.values.astype(np.float64)
            nulls = column.null_mask()
            nan = np.isnan(values) & ~nulls
            buckets = bucket_of(splits, np.where(nan | nulls, 0.0, values)).astype(np.float64)
            outside = (buckets < 0) & ~nan & ~nulls
            if outside.any():
                row = first_row(outside)
                raise self.fail(
                    f"record {row}, column {self.inputs[j]!r}: {values[row - 1]!r} is outside "
                    f"the splits [{splits[0]}, {splits[-1]}]"
                )
            if nan.any():
                if self.handle_invalid == "error":
                    raise self.fail(
                        f"record {first_row(nan)}, column {self.inputs[j]!r}: NaN; "
                        "handleInvalid is 'error'"
                    )
                if self.handle_invalid == "skip":
                    keep &= ~nan
                buckets[nan] = splits.size - 1
            if self.handle_invalid == "skip":
                keep &= ~nulls
            outputs.append(double_column(buckets, nulls if nulls.any() else None, integral=True))
        for name, column in zip(self.outputs, outputs, strict=True):
            frame = frame.with_column(name, column)
        return frame.take(keep)


@dataclass
class Imputer(Op):
    surrogates: list[float] = field(default_factory=list)
    missing_value: float = float("nan")
    label = "Imputer"

    def apply(self, frame: Frame) -> Frame:
        for j, surrogate in enumerate(self.surrogates):
            column = self.column(frame, j)
            if column.kind != DOUBLE:
                raise self.fail(f"column {self.inputs[j]!r} must be numeric")
            values = column.values
            missing = column.null_mask().copy()
            if self.missing_value != self.missing_value:
                missing |= np.isnan(values)
            else:
                missing |= values == self.missing_value
            if column.integral:
                # Spark casts the result back to the integer input type, truncating.
                surrogate = float(math.trunc(surrogate))
            result = np.where(missing, surrogate, values)
            frame = frame.with_column(
                self.outputs[j], double_column(result, integral=column.integral)
            )
        return frame
