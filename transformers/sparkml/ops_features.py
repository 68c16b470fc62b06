"""More of Spark's feature stages: DCT, PolynomialExpansion, RobustScaler, NGram, Word2Vec,
FeatureHasher, the LSH models (BucketedRandomProjection, MinHash) and TargetEncoder.

Each follows Spark's own transform, including its orderings (PolynomialExpansion's
monomials, FeatureHasher's `col=value` terms) and its edge cases (a zero range scales
to 0, a sentence's unknown words still count in Word2Vec's average, MinHash refuses an
all-zero vector). The selectors (ChiSq, Univariate, VarianceThreshold) are VectorSlicers
of their selected features and need no op of their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import fft, sparse

from inferpipe.transformers.sparkml.columns import (
    BOOLEAN,
    DOUBLE,
    STRING,
    VECTOR,
    Column,
    Frame,
    array_column,
    dense,
    double_column,
    reciprocal,
    vector_column,
)
from inferpipe.transformers.sparkml.op import Op, first_row
from inferpipe.transformers.sparkml.ops_categorical import java_double_text
from inferpipe.transformers.sparkml.ops_text import murmur3_32, sparse_rows, token_lists

#: MinHashLSH's modulus (Spark's MinHashLSH.HASH_PRIME).
HASH_PRIME = 2038074743


def _vectors(op: Op, frame: Frame) -> Column:
    column = op.column(frame)
    if column.kind != VECTOR:
        raise op.fail(f"column {op.inputs[0]!r} must hold vectors, it holds {column.kind}")
    return column


@dataclass
class DCT(Op):
    """The orthonormal DCT-II of each vector (DCT-III, its inverse, with `inverse`)."""

    inverse: bool = False
    label = "DCT"

    def apply(self, frame: Frame) -> Frame:
        column = _vectors(self, frame)
        values = dense(column.values)
        transform = fft.idct if self.inverse else fft.dct
        result = transform(values, type=2, norm="ortho", axis=1) if values.shape[1] else values
        return frame.with_column(self.outputs[0], vector_column(result, column.nulls))


@lru_cache(maxsize=64)
def monomials(width: int, degree: int) -> tuple[tuple[int, ...], ...]:
    """Exponent vectors in the order Spark's PolynomialExpansion writes them: its
    recursion over the last feature first, the constant term dropped."""
    out: list[tuple[int, ...]] = []

    def expand(last: int, left: int, exponents: list[int]) -> None:
        if left == 0 or last < 0:
            out.append(tuple(exponents))
            return
        for power in range(left + 1):
            exponents[last] = power
            expand(last - 1, left - power, exponents)
        exponents[last] = 0

    expand(width - 1, degree, [0] * width)
    return tuple(out[1:])


@dataclass
class PolynomialExpansion(Op):
    degree: int = 2
    label = "PolynomialExpansion"

    def apply(self, frame: Frame) -> Frame:
        column = _vectors(self, frame)
        values = dense(column.values)
        terms = monomials(values.shape[1], self.degree)
        result = np.zeros((frame.length, len(terms)))
        for k, exponents in enumerate(terms):
            # Spark's order: from the last feature down, one multiplication per power; a
            # running product that reaches exactly 0 ends the term at 0 (NaN after it or not).
            running = np.ones(frame.length)
            zero = np.zeros(frame.length, dtype=bool)
            for feature in reversed(range(values.shape[1])):
                for _ in range(exponents[feature]):
                    running = running * values[:, feature]
                    zero |= running == 0
            result[:, k] = np.where(zero, 0.0, running)
        output = sparse.csr_matrix(result) if sparse.issparse(column.values) else result
        return frame.with_column(self.outputs[0], vector_column(output, column.nulls))


@dataclass
class RobustScaler(Op):
    """`(x - median) * (1/range)`: centring and scaling each optional, range 0 scales to 0."""

    median: np.ndarray = field(default_factory=lambda: np.zeros(0))
    range: np.ndarray = field(default_factory=lambda: np.zeros(0))
    with_centering: bool = False
    with_scaling: bool = True
    label = "RobustScaler"

    def apply(self, frame: Frame) -> Frame:
        column = _vectors(self, frame)
        if column.width != self.median.size:
            raise self.fail(f"vectors have size {column.width}, expected {self.median.size}")
        values: Any = column.values
        if self.with_centering:
            values = dense(values) - self.median
        if self.with_scaling:
            factors = reciprocal(self.range, 0.0)
            values = (
                values.multiply(factors).tocsr() if sparse.issparse(values) else values * factors
            )
        return frame.with_column(self.outputs[0], vector_column(values, column.nulls))


@dataclass
class NGram(Op):
    """Space-joined runs of n tokens; fewer than n tokens give an empty array."""

    n: int = 2
    label = "NGram"

    def apply(self, frame: Frame) -> Frame:
        grams = [
            [" ".join(tokens[i : i + self.n]) for i in range(len(tokens) - self.n + 1)]
            for tokens in (list(map(str, t)) for t in token_lists(self, frame))
        ]
        return frame.with_column(self.outputs[0], array_column(grams))


@dataclass
class Word2Vec(Op):
    """The mean of a sentence's word vectors over all its words (unknown ones add zero)."""

    words: dict[str, int] = field(default_factory=dict)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    label = "Word2Vec"

    def apply(self, frame: Frame) -> Frame:
        width = self.vectors.shape[1]
        rows = np.zeros((frame.length, width))
        for i, tokens in enumerate(token_lists(self, frame)):
            total = np.zeros(width)
            for word in tokens:  # in sentence order, as Spark adds them
                index = self.words.get(word)
                if index is not None:
                    total += self.vectors[index]
            if tokens:
                rows[i] = total * (1.0 / len(tokens))
        return frame.with_column(self.outputs[0], vector_column(rows))


@lru_cache(maxsize=65536)
def _hash_of(text: str) -> int:
    return murmur3_32(text.encode("utf-8"))


@dataclass
class FeatureHasher(Op):
    """Numeric columns add their value at hash(name); strings, booleans and the
    `categorical` columns add 1.0 at hash("name=value"); nulls add nothing."""

    num_features: int = 1 << 18
    categorical: list[str] = field(default_factory=list)
    label = "FeatureHasher"

    def _terms(self, name: str, column: Column) -> list[tuple[int, float] | None]:
        nulls = column.null_mask()
        out: list[tuple[int, float] | None] = []
        numeric = column.kind == DOUBLE and name not in self.categorical
        if column.kind not in (DOUBLE, STRING, BOOLEAN):
            raise self.fail(f"column {name!r} holds {column.kind}; FeatureHasher takes scalars")
        for i, value in enumerate(column.values.tolist()):
            if nulls[i]:
                out.append(None)
            elif numeric:
                out.append((_hash_of(name) % self.num_features, float(value)))
            else:
                if column.kind == BOOLEAN:
                    text = "true" if value else "false"
                elif column.kind == DOUBLE:
                    text = java_double_text(float(value))
                else:
                    text = str(value)
                out.append((_hash_of(f"{name}={text}") % self.num_features, 1.0))
        return out

    def apply(self, frame: Frame) -> Frame:
        rows: list[dict[int, float]] = [{} for _ in range(frame.length)]
        for j, name in enumerate(self.inputs):
            for i, term in enumerate(self._terms(name, self.column(frame, j))):
                if term is not None:
                    index, value = term
                    rows[i][index] = rows[i].get(index, 0.0) + value
        matrix = sparse_rows(rows, self.num_features)
        return frame.with_column(self.outputs[0], vector_column(matrix))


def _hash_arrays(hashes: np.ndarray) -> Column:
    """Spark's LSH output: per row an array of one-element vectors."""
    return array_column([[[float(h)] for h in row] for row in hashes.tolist()])


@dataclass
class BucketedRandomProjectionLSH(Op):
    """floor(x · v / bucketLength) for each random unit vector v."""

    unit_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    bucket_length: float = 1.0
    label = "BucketedRandomProjectionLSH"

    def apply(self, frame: Frame) -> Frame:
        column = _vectors(self, frame)
        projected = np.asarray(column.values @ self.unit_vectors.T)
        return frame.with_column(
            self.outputs[0], _hash_arrays(np.floor(projected / self.bucket_length))
        )


@dataclass
class MinHashLSH(Op):
    """min over non-zero indices e of ((1 + e) * a + b) mod HASH_PRIME, per (a, b)."""

    coefficients: list[tuple[int, int]] = field(default_factory=list)
    label = "MinHashLSH"

    def apply(self, frame: Frame) -> Frame:
        column = _vectors(self, frame)
        matrix = sparse.csr_matrix(column.values, copy=True)
        matrix.eliminate_zeros()  # Spark hashes the non-zero entries only
        counts = np.diff(matrix.indptr)
        if (counts == 0).any():
            row = first_row(counts == 0)
            raise self.fail(f"record {row}: MinHash needs at least 1 non-zero entry")
        a = np.array([c[0] for c in self.coefficients], dtype=np.int64)
        b = np.array([c[1] for c in self.coefficients], dtype=np.int64)
        hashes = np.zeros((frame.length, len(self.coefficients)))
        for i in range(frame.length):
            elements = matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]].astype(np.int64)
            hashes[i] = (((1 + elements[:, None]) * a + b) % HASH_PRIME).min(axis=0)
        return frame.with_column(self.outputs[0], _hash_arrays(hashes))


#: The category key under which Spark's TargetEncoder keeps the overall statistics
#: (Int.MaxValue in Spark 4.1's save; -1 in 4.0's).
GLOBAL_CATEGORIES = (2147483647.0, -1.0)


@dataclass
class TargetEncoder(Op):
    """Spark 4's TargetEncoder: each category index becomes its smoothed target statistic
    (`weight * category + (1 - weight) * overall`, weight = count / (count + smoothing));
    a category the fit never saw (null and NaN included) is an error or, under `keep`,
    the overall statistic. `encodings` maps column -> category -> (count, stat)."""

    encodings: list[dict[float, tuple[float, float]]] = field(default_factory=list)
    binary: bool = True
    smoothing: float = 0.0
    handle_invalid: str = "error"
    label = "TargetEncoder"

    def _encoded(self, stats: dict[float, tuple[float, float]]) -> tuple[dict[float, float], float]:
        overall = next((stats[k] for k in GLOBAL_CATEGORIES if k in stats), None)
        if overall is None:
            raise self.fail("the saved statistics have no overall entry")
        g_count, g_stat = overall
        g_value = g_stat / g_count if self.binary else g_stat
        table = {}
        for category, (count, stat) in stats.items():
            weight = count / (count + self.smoothing)
            value = stat / count if self.binary else stat
            table[category] = weight * value + (1 - weight) * g_value
        return table, g_value

    def apply(self, frame: Frame) -> Frame:
        for j, stats in enumerate(self.encodings):
            table, overall = self._encoded(stats)
            column = self.column(frame, j)
            nulls = column.null_mask()
            values = column.values.tolist()
            out = np.array(
                [
                    table.get(v, math.nan)
                    if not nulls[i] and v not in GLOBAL_CATEGORIES
                    else math.nan
                    for i, v in enumerate(values)
                ]
            )
            unseen = np.isnan(out)
            if unseen.any():
                if self.handle_invalid != "keep":
                    row = first_row(unseen)
                    raise self.fail(
                        f"record {row}: unseen value {values[row - 1]!r} in column "
                        f"{self.inputs[j]!r}; handleInvalid is 'error' (Spark's 'keep' gives "
                        "the overall statistic)"
                    )
                out[unseen] = overall
            frame = frame.with_column(self.outputs[j], double_column(out))
        return frame
