"""Helpers for oracle tests against pyspark: a local session, data, and column comparison."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from typing import Any

#: Doubles match within this relative error (Spark 4's BLAS may use SIMD), with an
#: absolute floor near zero; everything else must match exactly.
RELATIVE = 1e-9
ABSOLUTE = 1e-12

CATEGORIES = ["red", "green", "blue", "amber", "violet"]
WORDS = ["the", "a", "spark", "model", "serves", "fast", "data", "Pipeline", "of", "rows"]
SPLITS = [-math.inf, -1.0, 0.0, 0.5, 2.0, math.inf]


def spark_session() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("inferpipe-oracle")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()


def make_rows(count: int, seed: int, unseen: bool) -> list[dict[str, Any]]:
    """Mixed rows: numbers (nulls, NaN), categories (unseen, null), text, split points."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        roll = rng.random()
        category = rng.choice(CATEGORIES)
        if unseen and roll < 0.05:
            category = "unseen-" + str(i % 3)
        elif roll < 0.08:
            category = None
        x1 = rng.gauss(1.0, 2.0)
        x2: float | None = rng.uniform(-5, 5)
        if rng.random() < 0.05:
            x2 = None
        elif rng.random() < 0.05:
            x2 = math.nan
        on_split = rng.random() < 0.2
        x4 = rng.choice([-1.0, 0.0, 0.5, 2.0, -0.0]) if on_split else rng.uniform(-3, 3)
        words = [rng.choice(WORDS) for _ in range(rng.randint(0, 8))]
        text = " ".join(words)
        if rng.random() < 0.05:
            text = "  " + text + ", with-punct! " + rng.choice(WORDS).upper()
        label = 1.0 if x1 + (x2 or 0.0) * 0.3 + rng.gauss(0, 1) > 1 else 0.0
        rows.append(
            {
                "x1": x1,
                "x2": x2,
                "x3": rng.choice([-1.0, 1.5, 2.5, 7.0]),
                "x4": x4,
                "category": category,
                "shade": rng.choice(["light", "dark", "mid"]),
                "text": text,
                "label": label,
                "klass": float(rng.randrange(3)),
                "target": 3.0 * x1
                - 2.0 * (x2 if x2 is not None and x2 == x2 else 0)
                + rng.gauss(0, 1),
            }
        )
    return rows


#: Vectors wider than this are compared as {index: value} of their non-zeros (HashingTF's
#: 2^18 slots would otherwise take gigabytes as Python lists).
WIDE = 1024


def sparse_form(size: int, indices: Any, values: Any) -> dict[Any, Any]:
    form: dict[Any, Any] = {"size": int(size)}
    form.update({int(i): float(v) for i, v in zip(indices, values, strict=True) if v != 0})
    return form


def spark_value(value: Any) -> Any:
    """A Spark row value as plain Python (vectors as lists, wide ones as sparse dicts)."""
    if hasattr(value, "toArray"):
        if value.size > WIDE:
            if hasattr(value, "indices"):
                return sparse_form(value.size, value.indices, value.values)
            array = value.toArray()
            nonzero = array.nonzero()[0]
            return sparse_form(value.size, nonzero, array[nonzero])
        return [float(v) for v in value.toArray()]
    if isinstance(value, list):
        return [spark_value(v) for v in value]
    return value


def our_values(column: Any) -> list[Any]:
    """Our column as plain Python, wide vectors in the same sparse form as spark_value."""
    from scipy import sparse

    from inferpipe.transformers.sparkml.columns import VECTOR
    from inferpipe.transformers.sparkml.convert import python_values

    if column.kind != VECTOR or column.width <= WIDE:
        return python_values(column)
    matrix = sparse.csr_matrix(column.values)
    return [
        sparse_form(
            column.width,
            matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]],
            matrix.data[matrix.indptr[i] : matrix.indptr[i + 1]],
        )
        for i in range(matrix.shape[0])
    ]


def values_match(ours: Any, theirs: Any) -> bool:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(
            values_match(float(ours[k]), float(theirs[k])) for k in ours
        )
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(
            values_match(a, b) for a, b in zip(ours, theirs, strict=True)
        )
    if (
        isinstance(ours, float)
        and isinstance(theirs, (float, int))
        and not isinstance(theirs, bool)
    ):
        if math.isnan(ours) or math.isnan(float(theirs)):
            return math.isnan(ours) and math.isnan(float(theirs))
        if ours == theirs:
            return True
        return abs(ours - theirs) <= max(ABSOLUTE, RELATIVE * max(abs(ours), abs(theirs)))
    return ours == theirs


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:160] + "..."


def mismatches(column: str, ours: Sequence[Any], theirs: Sequence[Any]) -> list[str]:
    """Human-readable differences (empty when the columns agree)."""
    if len(ours) != len(theirs):
        return [f"{column}: {len(ours)} rows here, {len(theirs)} in Spark"]
    return [
        f"{column} row {i}: ours {_short(a)} vs Spark {_short(b)}"
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True))
        if not values_match(a, b)
    ][:5]
