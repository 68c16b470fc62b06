"""Translators for categorical encoders: OneHotEncoder, OrdinalEncoder, TargetEncoder,
and KBinsDiscretizer (bins, then its own one-hot encoder).

An encoder maps each input column to a block of output numbers that depends on that
column's value alone, so its whole behaviour is a table per column: the block of every
fitted category, and of an unknown value (or the fact that it is refused). The tables
are read off scikit-learn itself — every fitted category is sent through `transform`
once at load — so drop, infrequent categories, unknown and missing handling come out
exactly as scikit-learn has them, with no rules of our own to drift.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from inferpipe.transformers._kernels.categories import (
    MISSING,
    CategoryTable,
    category_key,
    encode_columns,
)
from inferpipe.transformers._sklearn_fast.checks import (
    as_matrix,
    check_finite,
    check_width,
    matrix_reader,
)
from inferpipe.transformers._sklearn_fast.registry import (
    NotCompilable,
    Plan,
    Translator,
    allows_nan,
)

Kernel = Callable[[Any], Any]
UNKNOWN_TEXT = "\x00inferpipe-unknown\x00"


def _unknown_value(categories: np.ndarray) -> Any:
    if categories.dtype.kind in "OUS":
        return UNKNOWN_TEXT
    finite = categories[np.isfinite(categories.astype(np.float64))]
    return (float(finite.max()) if len(finite) else 0.0) + 1.0


def _probe_rows(categories: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Rows that send every fitted category of every column through once, and one row of
    values no column has seen."""
    height = max(len(c) for c in categories)
    known = np.empty((height, len(categories)), dtype=object)
    for j, values in enumerate(categories):
        for i in range(height):
            known[i, j] = values[min(i, len(values) - 1)]
    unknown = np.array([[_unknown_value(c) for c in categories]], dtype=object)
    return known, unknown


def _typed(rows: np.ndarray, categories: Sequence[np.ndarray]) -> np.ndarray:
    """Object rows as the dtype scikit-learn saw at fit (numbers stay numbers)."""
    if all(c.dtype.kind in "fiub" for c in categories):
        return rows.astype(np.float64)
    return rows


def _transform_quietly(est: Any, rows: np.ndarray) -> np.ndarray | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = est.transform(rows)
    except ValueError:
        return None
    return out.toarray() if hasattr(out, "toarray") else np.asarray(out)


def category_tables(
    est: Any, categories: Sequence[np.ndarray], widths: Sequence[int]
) -> list[CategoryTable]:
    """One table per column, read off `est.transform` of every fitted category."""
    known, unknown = _probe_rows(categories)
    encoded = _transform_quietly(est, _typed(known, categories))
    if encoded is None or encoded.shape[1] != sum(widths):
        raise NotCompilable("the fitted categories do not encode as expected")
    refused = _transform_quietly(est, _typed(unknown, categories))
    starts = np.cumsum([0, *widths])
    tables = []
    for j, values in enumerate(categories):
        block = encoded[: len(values), starts[j] : starts[j + 1]]
        unknown_row = None if refused is None else refused[0, starts[j] : starts[j + 1]]
        tables.append(_table(values.tolist(), np.ascontiguousarray(block), unknown_row, j))
    return tables


def _table(
    values: list[Any], rows: np.ndarray, unknown: np.ndarray | None, j: int
) -> CategoryTable:
    index = {category_key(v): i for i, v in enumerate(values)}
    if len(index) != len(values):
        raise NotCompilable(f"column {j} has categories that look alike")
    return CategoryTable(index, rows, unknown, j)


def _category_values(values: list[Any]) -> list[Any]:
    """Categories as JSON values (a missing one, NaN or None, as None)."""
    return [None if category_key(v) is MISSING else v for v in values]


def _plan_tables(est: Any, tables: list[CategoryTable]) -> Plan:
    """The tables as data: each column's categories (JSON), output rows and unknown row."""
    arrays: dict[str, np.ndarray] = {}
    columns = []
    for j, table in enumerate(tables):
        ordered = sorted(table.index.items(), key=lambda item: item[1])
        arrays[f"rows{j}"] = table.rows
        if table.unknown is not None:
            arrays[f"unknown{j}"] = table.unknown
        columns.append(
            {"column": table.column, "categories": _category_values([k for k, _ in ordered])}
        )
    params = {
        "name": type(est).__name__,
        "width": getattr(est, "n_features_in_", None),
        "columns": columns,
    }
    return Plan("category_tables", params, arrays)


def _tables_of(plan: Plan) -> list[CategoryTable]:
    """The tables `_plan_tables` recorded, rebuilt."""
    return [
        _table(
            c["categories"], plan.arrays[f"rows{j}"], plan.arrays.get(f"unknown{j}"), c["column"]
        )
        for j, c in enumerate(plan.params["columns"])
    ]


def _build_tables(plan: Plan) -> Kernel:
    tables = _tables_of(plan)
    width, name = plan.params["width"], plan.params["name"]

    def run(data: Any) -> np.ndarray:
        matrix = as_matrix(data)
        check_width(matrix, width, name)
        check_finite(matrix, allow_nan=True)
        return encode_columns(tables, matrix)

    return run


def _only_transform(method: str) -> None:
    if method != "transform":
        raise NotCompilable(f"only transform() is compiled, not {method}()")


def _one_hot(est: Any, method: str) -> Plan:
    _only_transform(method)
    widths = getattr(est, "_n_features_outs", None)
    if widths is None:
        raise NotCompilable("unknown OneHotEncoder layout")
    return _plan_tables(est, category_tables(est, est.categories_, list(widths)))


def _ordinal(est: Any, method: str) -> Plan:
    _only_transform(method)
    return _plan_tables(est, category_tables(est, est.categories_, [1] * len(est.categories_)))


def _target(est: Any, method: str) -> Plan:
    _only_transform(method)
    per_column = len(est.encodings_) // max(1, len(est.categories_))
    return _plan_tables(
        est, category_tables(est, est.categories_, [per_column] * len(est.categories_))
    )


def _kbins(est: Any, method: str) -> Plan:
    _only_transform(method)
    dtype = None if est.dtype is None else np.dtype(est.dtype).name
    arrays = {
        f"edges{j}": np.asarray(e, dtype=np.float64)[1:-1] for j, e in enumerate(est.bin_edges_)
    }
    params: dict[str, Any] = {
        "read": {
            "name": type(est).__name__,
            "width": est.n_features_in_,
            "nan_ok": allows_nan(est),
            "dtype": dtype,
        },
        "columns": len(est.bin_edges_),
    }
    encoder = getattr(est, "_encoder", None) if est.encode != "ordinal" else None
    children: tuple[Plan, ...] = ()
    if encoder is not None:
        tables = category_tables(encoder, encoder.categories_, list(encoder._n_features_outs))
        children = (_plan_tables(encoder, tables),)
    return Plan("bins", params, arrays, children)


def _build_bins(plan: Plan) -> Kernel:
    read = matrix_reader(plan.params["read"])
    edges = [plan.arrays[f"edges{j}"] for j in range(plan.params["columns"])]
    tables = _tables_of(plan.children[0]) if plan.children else None

    def run(data: Any) -> np.ndarray:
        matrix = read(data)
        for j, inner in enumerate(edges):
            matrix[:, j] = np.searchsorted(inner, matrix[:, j], side="right")
        if tables is None:
            return matrix
        return encode_columns(tables, matrix).astype(matrix.dtype, copy=False)

    return run


def _category_probe(est: Any) -> np.ndarray:
    """Every fitted category of every column (unknown values come from the tables)."""
    known, _ = _probe_rows(est.categories_)
    return _typed(known, est.categories_)


def _bins_probe(est: Any) -> np.ndarray:
    """Values on, just below and just above every bin edge, and far outside."""
    columns = []
    for edges in est.bin_edges_:
        edges = np.asarray(edges, dtype=np.float64)
        values = np.concatenate(
            [edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf), [-1e300, 1e300]]
        )
        columns.append(values)
    height = max(len(c) for c in columns)
    return np.column_stack([np.resize(c, height) for c in columns])


TRANSLATORS = {
    "OneHotEncoder": Translator(_category_probe, plan=_one_hot),
    "OrdinalEncoder": Translator(_category_probe, plan=_ordinal),
    "TargetEncoder": Translator(_category_probe, plan=_target),
    "KBinsDiscretizer": Translator(_bins_probe, plan=_kbins),
}
BUILDERS = {"category_tables": _build_tables, "bins": _build_bins}
