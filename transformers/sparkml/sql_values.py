"""Values of Spark SQL expressions over numpy columns: arithmetic, comparisons and casts
with Spark's rules (`sql.py` parses and walks the statement).

Null propagates; NaN equals NaN and is larger than every other double; `/` always gives
a double; a division by zero or a failed CAST is null, or with ANSI mode (Spark 4's
default) an error naming the row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from inferpipe.protocol.errors import ArtifactError
from inferpipe.transformers.sparkml.columns import (
    BOOLEAN,
    DOUBLE,
    STRING,
    Column,
    double_column,
    string_column,
)
from inferpipe.transformers.sparkml.op import first_row
from inferpipe.transformers.sparkml.ops_categorical import java_double_text

LONG = "long"
NUMERIC = (DOUBLE, LONG)
INTEGER_TYPES = {"INT", "BIGINT", "SMALLINT", "TINYINT", "LONG"}
DOUBLE_TYPES = {"DOUBLE", "FLOAT", "DECIMAL"}
STRING_TYPES = {"TEXT", "VARCHAR", "CHAR", "STRING"}
TRUE_TEXT = {"t", "true", "y", "yes", "1"}
FALSE_TEXT = {"f", "false", "n", "no", "0"}


@dataclass
class Value:
    """One evaluated expression: kind (double, long, string, boolean), values, nulls."""

    kind: str
    values: np.ndarray
    nulls: np.ndarray


class SqlError(Exception):
    """A row the statement cannot evaluate under ANSI mode (becomes a 400)."""

    def __init__(self, mask: np.ndarray, message: str) -> None:
        super().__init__(message)
        self.mask = mask
        self.message = message


def constant(kind: str, value: Any, length: int) -> Value:
    if value is None:
        return Value(
            kind,
            np.full(length, np.nan) if kind != STRING else np.full(length, None, dtype=object),
            np.ones(length, dtype=bool),
        )
    if kind == STRING:
        return Value(STRING, np.full(length, value, dtype=object), np.zeros(length, dtype=bool))
    return Value(kind, np.full(length, float(value)), np.zeros(length, dtype=bool))


def from_column(column: Column) -> Value:
    nulls = column.null_mask()
    if column.kind == STRING:
        return Value(STRING, column.values, nulls)
    if column.kind == BOOLEAN:
        return Value(BOOLEAN, np.asarray(column.values, dtype=np.float64), nulls)
    if column.kind == DOUBLE:
        return Value(LONG if column.integral else DOUBLE, column.values, nulls)
    raise ValueError(f"{column.kind} columns cannot be used in SQL")


def to_column(value: Value) -> Column:
    if value.kind == STRING:
        return string_column(
            [None if n else v for v, n in zip(value.values, value.nulls, strict=True)]
        )
    nulls = value.nulls if value.nulls.any() else None
    if value.kind == BOOLEAN:
        return Column(BOOLEAN, np.where(value.nulls, 0.0, value.values), nulls)
    return double_column(value.values, nulls, integral=value.kind == LONG)


def _java_text(kind: str, number: float) -> str:
    if kind == LONG:
        return str(int(number))
    if kind == BOOLEAN:
        return "true" if number else "false"
    return java_double_text(number)


SPECIAL_DOUBLES = {"nan": math.nan, "inf": math.inf, "+inf": math.inf, "infinity": math.inf,
                   "+infinity": math.inf, "-inf": -math.inf, "-infinity": -math.inf}  # fmt: skip


def parse_double(text: str) -> float | None:
    """A string as Spark casts it to double (None when it is not a number)."""
    cleaned = text.strip()
    lowered = cleaned.lower()
    if lowered in SPECIAL_DOUBLES:
        return SPECIAL_DOUBLES[lowered]
    if lowered[-1:] in ("d", "f"):  # Java's parseDouble takes a type suffix
        cleaned = cleaned[:-1]
    if not cleaned or "_" in cleaned or lowered.startswith(("0x", "-0x")):
        return None
    try:
        return float(cleaned)
    except ValueError:
        return None


@dataclass
class Semantics:
    """Spark's operators on values, with ANSI mode on or off."""

    ansi: bool

    def fail(self, mask: np.ndarray, message: str) -> SqlError:
        return SqlError(mask, message)

    # -- numbers ---------------------------------------------------------------
    def numeric(self, value: Value, what: str) -> Value:
        if value.kind in NUMERIC:
            return value
        if value.kind == BOOLEAN:
            return Value(LONG, value.values, value.nulls)
        return self.cast(value, "DOUBLE", safe=False, what=what)

    def arithmetic(self, left: Value, right: Value, op: str, what: str) -> Value:
        a, b = self.numeric(left, what), self.numeric(right, what)
        nulls = a.nulls | b.nulls
        kind = LONG if a.kind == b.kind == LONG and op not in "/" else DOUBLE
        x, y = np.where(nulls, 0.0, a.values), np.where(nulls, 1.0, b.values)
        if op in ("/", "%", "div"):
            zero = (y == 0) & ~nulls
            if zero.any():
                if self.ansi:
                    raise self.fail(zero, f"division by zero in {what}")
                nulls = nulls | zero
                y = np.where(zero, 1.0, y)
        with np.errstate(all="ignore"):
            if op == "+":
                result = x + y
            elif op == "-":
                result = x - y
            elif op == "*":
                result = x * y
            elif op == "/":
                result = x / y
            elif op == "%":
                result = np.fmod(x, y)
            else:  # div: integral division, truncated toward zero
                result = np.trunc(x / y)
                kind = LONG
        return Value(kind, np.where(nulls, np.nan, result), nulls)

    # -- comparisons -----------------------------------------------------------
    def compare(self, left: Value, right: Value, op: str, what: str) -> Value:
        if (left.kind == STRING) != (right.kind == STRING):
            left, right = self.numeric(left, what), self.numeric(right, what)
        nulls = left.nulls | right.nulls
        if left.kind == STRING:
            a = np.array(
                ["" if n else v for v, n in zip(left.values, left.nulls, strict=True)], dtype=object
            )
            b = np.array(
                ["" if n else v for v, n in zip(right.values, right.nulls, strict=True)],
                dtype=object,
            )
            ordered = {
                "=": a == b,
                "<>": a != b,
                "<": a < b,
                "<=": a <= b,
                ">": a > b,
                ">=": a >= b,
            }
            result = np.asarray(ordered[op], dtype=bool)
        else:
            a, b = left.values, right.values
            a_nan, b_nan = np.isnan(a) & ~left.nulls, np.isnan(b) & ~right.nulls
            with np.errstate(invalid="ignore"):
                equal = (a == b) | (a_nan & b_nan)
                less = ((a < b) & ~a_nan & ~b_nan) | (~a_nan & b_nan)
            result = {"=": equal, "<>": ~equal, "<": less, "<=": less | equal,
                      ">": ~(less | equal), ">=": ~less}[op]  # fmt: skip
        return Value(BOOLEAN, np.where(nulls, 0.0, result.astype(np.float64)), nulls)

    # -- casts -----------------------------------------------------------------
    def cast(self, value: Value, target: str, safe: bool, what: str) -> Value:
        strict = self.ansi and not safe
        if target in STRING_TYPES:
            texts = [None if n else (v if value.kind == STRING else _java_text(value.kind, v))
                     for v, n in zip(value.values.tolist(), value.nulls, strict=True)]  # fmt: skip
            return Value(STRING, np.array(texts, dtype=object), value.nulls.copy())
        if target == "BOOLEAN":
            return self._to_boolean(value, strict, what)
        if target in DOUBLE_TYPES or target in INTEGER_TYPES:
            number = self._to_double(value, strict, what)
            if target == "FLOAT":
                number.values = number.values.astype(np.float32).astype(np.float64)
            if target in INTEGER_TYPES:
                return self._to_long(number, strict, what)
            return number
        raise ArtifactError(f"CAST to {target} is not supported")

    def _to_double(self, value: Value, strict: bool, what: str) -> Value:
        if value.kind != STRING:
            return Value(DOUBLE, value.values.copy(), value.nulls.copy())
        parsed = [
            None if n else parse_double(str(v))
            for v, n in zip(value.values, value.nulls, strict=True)
        ]
        bad = np.array([p is None for p in parsed]) & ~value.nulls
        if bad.any() and strict:
            raise self.fail(bad, f"{what}: {value.values[first_row(bad) - 1]!r} is not a number")
        nulls = value.nulls | bad
        return Value(DOUBLE, np.array([math.nan if p is None else p for p in parsed]), nulls)

    def _to_long(self, number: Value, strict: bool, what: str) -> Value:
        finite = np.isfinite(number.values) | number.nulls
        if strict and not finite.all():
            raise self.fail(~finite, f"{what}: NaN or an infinity cannot become an integer")
        limits = np.clip(np.nan_to_num(number.values, nan=0.0), -(2.0**63), 2.0**63 - 1)
        return Value(LONG, np.where(number.nulls, np.nan, np.trunc(limits)), number.nulls)

    def _to_boolean(self, value: Value, strict: bool, what: str) -> Value:
        if value.kind != STRING:
            truth = (value.values != 0).astype(np.float64)
            return Value(BOOLEAN, np.where(value.nulls, 0.0, truth), value.nulls.copy())
        texts = [
            None if n else str(v).strip().lower()
            for v, n in zip(value.values, value.nulls, strict=True)
        ]
        known = np.array([t in TRUE_TEXT or t in FALSE_TEXT for t in texts]) | value.nulls
        if strict and not known.all():
            raise self.fail(~known, f"{what}: the text is not a boolean")
        truth = np.array([1.0 if t in TRUE_TEXT else 0.0 for t in texts])
        return Value(BOOLEAN, truth, value.nulls | ~known)
