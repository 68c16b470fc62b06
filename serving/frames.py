"""Build typed pandas frames from decoded rows and records, naming bad cells.

Every codec turns its payload into rows (lists) or objects (dicts); this module
turns those into a DataFrame whose columns carry the schema's types, so a stage
sees the same frame whatever format the request used. A frame whose column
labels are strings has named columns; integer labels mean positional columns.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from inferpipe.protocol.errors import SchemaMismatch
from inferpipe.serving.schema import NUMERIC_TYPES, Schema

INTEGER_TYPES = {"integer", "int", "long", "short", "byte"}
#: `DataFrame.attrs` key of the numpy arrays a decoded frame was built from.
COLUMN_ARRAYS = "inferpipe.column_arrays"
TRUE_WORDS = {"true", "1", "t", "yes"}
FALSE_WORDS = {"false", "0", "f", "no"}


def _is_missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _where(index: int, label: Any) -> str:
    return (
        f"record {index + 1}, column {label!r}"
        if isinstance(label, str)
        else (f"record {index + 1}, column {int(label) + 1}")
    )


def _to_float(values: Sequence[Any], label: Any) -> np.ndarray:
    try:
        # The common case, every field present: numpy parses the whole column at once
        # (None becomes NaN as below); empty fields and bad cells take the slower paths.
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        pass
    try:
        return np.array([np.nan if _is_missing(v) else v for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        pass
    out = np.empty(len(values), dtype=np.float64)
    for i, value in enumerate(values):
        try:
            out[i] = np.nan if _is_missing(value) else float(value)
        except (TypeError, ValueError):
            raise SchemaMismatch(f"{_where(i, label)}: {value!r} is not a number") from None
    return out


def _to_integer(values: Sequence[Any], label: Any) -> np.ndarray:
    out = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        if _is_missing(value):
            raise SchemaMismatch(f"{_where(i, label)}: an integer column cannot be empty")
        try:
            number = float(value)
            if not number.is_integer():
                raise ValueError
            out[i] = int(number)
        except (TypeError, ValueError, OverflowError):
            raise SchemaMismatch(f"{_where(i, label)}: {value!r} is not an integer") from None
    return out


def _to_boolean(values: Sequence[Any], label: Any) -> np.ndarray:
    out = np.empty(len(values), dtype=bool)
    for i, value in enumerate(values):
        word = str(value).strip().lower()
        if isinstance(value, bool):
            out[i] = value
        elif word in TRUE_WORDS:
            out[i] = True
        elif word in FALSE_WORDS:
            out[i] = False
        else:
            raise SchemaMismatch(f"{_where(i, label)}: {value!r} is not a boolean")
    return out


def _to_string(values: Sequence[Any]) -> np.ndarray:
    return np.array([np.nan if _is_missing(v) else str(v) for v in values], dtype=object)


def _text_column(fields: list[str]) -> np.ndarray:
    """`_to_string` of fields that are all str: empty is missing, the rest as they are."""
    return np.array([field or np.nan for field in fields], dtype=object)


def _infer(values: Sequence[Any]) -> np.ndarray:
    """Numbers when every present value parses as one, else the values as they are."""
    if any(isinstance(v, (list, dict)) for v in values):
        cells = np.empty(len(values), dtype=object)
        cells[:] = list(values)
        return cells
    try:
        return _to_float(values, 0)
    except SchemaMismatch:
        return np.array([np.nan if _is_missing(v) else v for v in values], dtype=object)


def convert_column(values: Sequence[Any], col_type: str | None, label: Any) -> np.ndarray:
    """Convert one column's raw values to its schema type (or infer one)."""
    if col_type is None:
        return _infer(values)
    if col_type in INTEGER_TYPES:
        return _to_integer(values, label)
    if col_type in NUMERIC_TYPES:
        return _to_float(values, label)
    if col_type == "boolean":
        return _to_boolean(values, label)
    return _to_string(values)


def frame_from_rows(
    rows: Sequence[Sequence[Any]], schema: Schema | None, names: Sequence[str] | None = None
) -> pd.DataFrame:
    """Build a frame from positional rows, checking each row has the expected width."""
    width = len(schema.input) if schema else len(names) if names else len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            raise SchemaMismatch(f"record {i + 1} has {len(row)} fields, expected {width}")
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]
    return frame_from_columns(columns, schema, names)


def frame_from_columns(
    columns: list[list[Any]],
    schema: Schema | None,
    names: Sequence[str] | None = None,
    text: bool = False,
) -> pd.DataFrame:
    """Build a frame from columns of equal length, as many as the schema (or `names`) has;
    `text` says every cell is a str (CSV fields), which string columns take as they are."""
    if schema:
        data = {
            c.name: _text_column(columns[j])
            if text and c.type == "string"
            else convert_column(columns[j], c.type, c.name)
            for j, c in enumerate(schema.input)
        }
        return _frame(data, schema.names)
    labels: list[Any] = list(names) if names else list(range(len(columns)))
    return _frame({labels[j]: _infer(columns[j]) for j in range(len(columns))}, labels)


@functools.lru_cache(maxsize=256)
def _column_index(labels: tuple[Any, ...]) -> pd.Index:
    """The columns Index of these labels, built once: pandas infers the labels' dtype
    on every construction (~20 us), and an Index is immutable, so frames can share it."""
    index: pd.Index = pd.Index(list(labels))
    return index


def _frame(data: dict[Any, np.ndarray], labels: list[Any]) -> pd.DataFrame:
    """A frame of the columns in `data`, remembering the arrays it was built from.

    The arrays are already typed and of one length (`convert_column`), so pandas' own
    checks and conversions are skipped: the public constructor costs ~70 us for nine
    columns, most of a one-row request's decoding, this ~13 us. String columns stay
    numpy object arrays (the constructor would copy them into pandas' str dtype)."""
    arrays = list(data.values())
    rows = len(arrays[0]) if arrays else 0
    plain = all(a.ndim == 1 and len(a) == rows for a in arrays)
    if len(data) != len(labels) or not data or not plain:  # pandas checks and lays out
        return pd.DataFrame(data, columns=labels)
    frame: pd.DataFrame = pd.DataFrame._from_arrays(  # type: ignore[attr-defined]
        arrays,
        columns=_column_index(tuple(labels)),
        index=pd.RangeIndex(rows),
        verify_integrity=False,
    )
    frame.attrs[COLUMN_ARRAYS] = _SourceArrays(list(data.values()))
    return frame


class _SourceArrays:
    """The arrays a decoded frame was built from. pandas deep-copies `attrs` onto every
    frame derived from this one, whose columns may differ: the copy is None."""

    __slots__ = ("arrays",)

    def __init__(self, arrays: list[np.ndarray]) -> None:
        self.arrays = arrays

    def __deepcopy__(self, memo: dict[int, Any]) -> None:
        return None


def column_arrays(frame: pd.DataFrame) -> list[np.ndarray]:
    """The frame's columns as numpy arrays, in order, without pandas indexing per column.

    Frames fresh from a codec carry the arrays they were built from (pandas would
    otherwise convert each column on the way out: ~10 us a column, more than a small
    request's arithmetic); derived frames and others are read column by column. Read it
    before changing the frame in place: the arrays are not updated."""
    source = frame.attrs.get(COLUMN_ARRAYS)
    if isinstance(source, _SourceArrays) and len(source.arrays) == frame.shape[1]:
        return list(source.arrays)
    return [frame.iloc[:, j].to_numpy() for j in range(frame.shape[1])]


def column_dtypes(frame: pd.DataFrame) -> list[Any]:
    """The frame's column dtypes, from the arrays it was built from when it carries them
    (`frame.dtypes` builds a Series: ~25 us, a tenth of a one-row request)."""
    source = frame.attrs.get(COLUMN_ARRAYS)
    if isinstance(source, _SourceArrays) and len(source.arrays) == frame.shape[1]:
        return [array.dtype for array in source.arrays]
    return frame.dtypes.tolist()


def frame_of_columns(arrays: list[np.ndarray], labels: list[Any]) -> pd.DataFrame:
    """A frame of typed 1-D arrays of one length under distinct labels, remembering them."""
    return _frame(dict(zip(labels, arrays, strict=True)), labels)


def frame_of_matrix(array: np.ndarray) -> pd.DataFrame:
    """A frame of a 2-D array's columns (labelled 0..n-1), remembering them as its arrays."""
    frame = pd.DataFrame(array, copy=False)
    frame.attrs[COLUMN_ARRAYS] = _SourceArrays([array[:, j] for j in range(array.shape[1])])
    return frame


def frame_from_objects(objects: Sequence[dict[str, Any]], schema: Schema | None) -> pd.DataFrame:
    """Build a frame from name→value records; missing names become missing values."""
    if schema:
        names = schema.names
    else:
        seen: dict[str, None] = {}
        for obj in objects:
            seen.update(dict.fromkeys(obj))
        names = list(seen)
    rows = [[obj.get(name) for name in names] for obj in objects]
    if schema:
        return frame_from_rows(rows, schema)
    return frame_from_rows(rows, None, names) if rows else pd.DataFrame(columns=names)


def frame_from_records(records: Sequence[Any], schema: Schema | None) -> pd.DataFrame:
    """Build a frame from JSON-style records: all scalars, all lists, or all objects."""
    if not records:
        raise SchemaMismatch("the payload holds no records")
    kinds = {_record_kind(r) for r in records}
    if len(kinds) > 1:
        first = _record_kind(records[0])
        bad = next(i for i, r in enumerate(records) if _record_kind(r) != first)
        raise SchemaMismatch(
            f"record {bad + 1} is {_record_kind(records[bad])} but record 1 is {first}; "
            "send all records in one shape"
        )
    kind = kinds.pop()
    if kind == "an object":
        return frame_from_objects(records, schema)
    if kind == "a list":
        return frame_from_rows(records, schema)
    return frame_from_rows([[r] for r in records], schema)


def _record_kind(record: Any) -> str:
    if isinstance(record, dict):
        return "an object"
    if isinstance(record, list):
        return "a list"
    return "a scalar"


def has_named_columns(frame: pd.DataFrame) -> bool:
    """True when the frame's columns are names (from a schema, objects or a stage)."""
    labels = frame.columns.tolist()
    return len(labels) > 0 and all(isinstance(c, str) for c in labels)
