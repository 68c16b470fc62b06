"""Spark's SQLTransformer: `SELECT ... FROM __THIS__ [WHERE ...]`, in Python.

The statement is parsed once with sqlglot (Spark dialect) and checked: anything outside
the subset below is refused at load, naming the construct. Each request walks the tree
over numpy columns with Spark's rules (`sql_values`): `log`/`ln` of x <= 0 is null,
`round` is HALF_UP on the double's shortest decimal text, `trim` removes spaces only,
`substring` is 1-based (0 counts as 1, negative from the end), `concat` is null when an
argument is. ANSI mode follows the save's Spark version (on from 4.0): a division by
zero or a CAST that cannot convert is then a 400 naming the record, else null.

Subset: columns, `*`, literals, + - * / % div, unary minus, = <> < <= > >=, AND OR NOT,
IS [NOT] NULL, BETWEEN, IN, CASE (both forms), IF, COALESCE / NVL / IFNULL, NULLIF,
CAST / TRY_CAST to numeric, string or boolean types, abs, sqrt, exp, ln / log (one or
two arguments), log10, log2, pow / power, round, floor, ceil, signum, lower, upper,
trim, ltrim, rtrim, length, substring / substr, concat, concat_ws. A SELECT writes
exactly the columns it lists, as Spark's does; the WHERE clause drops rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import numpy as np

from inferpipe.protocol.errors import ArtifactError
from inferpipe.transformers.sparkml.columns import BOOLEAN, STRING, Frame
from inferpipe.transformers.sparkml.op import Op, first_row
from inferpipe.transformers.sparkml.sql_values import (
    DOUBLE,
    LONG,
    NUMERIC,
    Semantics,
    SqlError,
    Value,
    constant,
    from_column,
    to_column,
)

ARITHMETIC = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "Mod": "%", "IntDiv": "div"}
COMPARISONS = {"EQ": "=", "NEQ": "<>", "LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}
UNARY_MATH: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "Abs": np.abs,
    "Sqrt": np.sqrt,
    "Exp": np.exp,
    "Sign": np.sign,
}
STRING_CASE = {"Lower": str.lower, "Upper": str.upper}
ALLOWED = {
    *ARITHMETIC, *COMPARISONS, *UNARY_MATH, *STRING_CASE,
    "Select", "From", "Table", "Where", "Alias", "Column", "Identifier", "Star", "Literal",
    "Null", "Boolean", "Neg", "Paren", "And", "Or", "Not", "Is", "Between", "In", "Case",
    "If", "Coalesce", "Nullif", "Cast", "TryCast", "DataType", "Ln", "Log", "Pow", "Round",
    "Floor", "Ceil", "Trim", "Length", "Substring", "Concat", "ConcatWs", "TableAlias",
}  # fmt: skip
SELECT_ONLY = ("joins", "group", "having", "order", "limit", "distinct", "windows", "offset")


@dataclass(frozen=True)
class Plan:
    """A checked statement: output (name, expression) pairs, the optional filter, and
    each node's SQL text (for messages; made once, not per request)."""

    outputs: list[tuple[str, Any]]
    where: Any = None
    texts: dict[int, str] = field(default_factory=dict)
    #: The input columns the statement reads (what the schema check looks for).
    reads: list[str] = field(default_factory=list)


def plan(statement: str, uid: str) -> Plan:
    """Parse and check a SQLTransformer statement; ArtifactError names what is refused."""
    import sqlglot
    from sqlglot import exp

    where = f"SQLTransformer {uid!r}"
    try:
        tree = sqlglot.parse_one(statement, read="spark")
    except sqlglot.errors.ParseError as exc:
        raise ArtifactError(f"{where}: {statement!r} does not parse: {exc}") from None
    if not isinstance(tree, exp.Select):
        raise ArtifactError(f"{where}: only SELECT ... FROM __THIS__ is supported")
    source = tree.args.get("from_") or tree.args.get("from")
    table = source.this if source is not None else None
    if not isinstance(table, exp.Table) or table.name != "__THIS__":
        raise ArtifactError(f"{where}: the statement must select FROM __THIS__")
    for key in SELECT_ONLY:
        if tree.args.get(key):
            raise ArtifactError(f"{where}: {key.upper()} is not supported in a SQLTransformer")
    texts = {}
    for node in tree.walk():
        name = type(node).__name__
        texts[id(node)] = node.sql(dialect="spark")[:60]
        if name not in ALLOWED:
            text = node.sql(dialect="spark")[:60] if hasattr(node, "sql") else name
            raise ArtifactError(
                f"{where}: {name} ({text}) is not supported; supported: the subset in "
                "the README's Spark ML section"
            )
    outputs = []
    for item in tree.expressions:
        if isinstance(item, exp.Star):
            outputs.append(("*", item))
        elif isinstance(item, exp.Alias):
            outputs.append((item.alias, item.this))
        elif isinstance(item, exp.Column):
            outputs.append((item.name, item))
        else:
            raise ArtifactError(
                f"{where}: name the expression {item.sql(dialect='spark')[:60]!r} with AS"
            )
    condition = tree.args.get("where")
    reads = sorted({c.name for c in tree.find_all(exp.Column)})
    return Plan(outputs, condition.this if condition is not None else None, texts, reads)


def _round_half_up(value: float, digits: int) -> float:
    if not math.isfinite(value):
        return value
    try:
        exact = Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return value
    return float(exact)


def _substring(text: str, start: int, length: int) -> str:
    count = len(text)
    begin = start - 1 if start > 0 else (count + start if start < 0 else 0)
    end = begin + length
    begin = max(begin, 0)
    return "" if begin >= end else text[begin:end]


@dataclass
class Walker:
    """Evaluates expression trees over one frame."""

    frame: Frame
    rules: Semantics
    texts: dict[int, str]
    cache: dict[str, Value] = field(default_factory=dict)

    @property
    def length(self) -> int:
        return self.frame.length

    def column(self, name: str) -> Value:
        if name not in self.cache:
            try:
                self.cache[name] = from_column(self.frame.get(name, "SQLTransformer"))
            except ValueError as exc:
                raise ArtifactError(f"column {name!r}: {exc}") from None
        return self.cache[name]

    def literal(self, node: Any) -> Value:
        if node.is_string:
            return constant(STRING, node.this, self.length)
        text = str(node.this)
        integral = text.lstrip("-").isdigit()
        return constant(LONG if integral else DOUBLE, float(text), self.length)

    def strings(self, value: Value, what: str) -> list[str | None]:
        if value.kind != STRING:
            value = self.rules.cast(value, "STRING", safe=True, what=what)
        return [None if n else str(v) for v, n in zip(value.values, value.nulls, strict=True)]

    def from_strings(self, texts: list[Any], kind: str = STRING) -> Value:
        nulls = np.array([t is None for t in texts], dtype=bool)
        if kind == STRING:
            return Value(STRING, np.array(texts, dtype=object), nulls)
        numbers = np.array([math.nan if t is None else float(t) for t in texts])
        return Value(kind, numbers, nulls)

    def truth(self, value: Value) -> np.ndarray:
        """Rows where a condition is true (null is not)."""
        return (value.values != 0) & ~value.nulls

    def evaluate(self, node: Any) -> Value:
        name = type(node).__name__
        what = self.texts.get(id(node), name)
        method = getattr(self, f"_{name.lower()}", None)
        if method is not None:
            return method(node, what)  # type: ignore[no-any-return]
        if name in ARITHMETIC:
            left, right = self.evaluate(node.this), self.evaluate(node.expression)
            return self.rules.arithmetic(left, right, ARITHMETIC[name], what)
        if name in COMPARISONS:
            left, right = self.evaluate(node.this), self.evaluate(node.expression)
            return self.rules.compare(left, right, COMPARISONS[name], what)
        if name in UNARY_MATH:
            value = self.rules.numeric(self.evaluate(node.this), what)
            with np.errstate(all="ignore"):
                result = UNARY_MATH[name](value.values)
            kind = value.kind if name == "Abs" else DOUBLE
            return Value(kind, np.where(value.nulls, np.nan, result), value.nulls)
        if name in STRING_CASE:
            texts = self.strings(self.evaluate(node.this), what)
            return self.from_strings([None if t is None else STRING_CASE[name](t) for t in texts])
        raise ArtifactError(f"{name} cannot be evaluated")

    # -- leaves and structure -------------------------------------------------
    def _column(self, node: Any, _what: str) -> Value:
        return self.column(node.name)

    def _literal(self, node: Any, _what: str) -> Value:
        return self.literal(node)

    def _null(self, _node: Any, _what: str) -> Value:
        return constant(DOUBLE, None, self.length)

    def _boolean(self, node: Any, _what: str) -> Value:
        return constant(BOOLEAN, 1.0 if node.this else 0.0, self.length)

    def _paren(self, node: Any, _what: str) -> Value:
        return self.evaluate(node.this)

    def _neg(self, node: Any, what: str) -> Value:
        value = self.rules.numeric(self.evaluate(node.this), what)
        return Value(value.kind, -value.values, value.nulls)

    # -- logic ------------------------------------------------------------------
    def _and(self, node: Any, _what: str) -> Value:
        a, b = self.evaluate(node.this), self.evaluate(node.expression)
        false = (~a.nulls & (a.values == 0)) | (~b.nulls & (b.values == 0))
        true = self.truth(a) & self.truth(b)
        return Value(BOOLEAN, true.astype(np.float64), ~(true | false))

    def _or(self, node: Any, _what: str) -> Value:
        a, b = self.evaluate(node.this), self.evaluate(node.expression)
        true = self.truth(a) | self.truth(b)
        false = (~a.nulls & (a.values == 0)) & (~b.nulls & (b.values == 0))
        return Value(BOOLEAN, true.astype(np.float64), ~(true | false))

    def _not(self, node: Any, _what: str) -> Value:
        value = self.evaluate(node.this)
        return Value(BOOLEAN, np.where(value.nulls, 0.0, (value.values == 0) * 1.0), value.nulls)

    def _is(self, node: Any, _what: str) -> Value:
        value = self.evaluate(node.this)
        return Value(BOOLEAN, value.nulls.astype(np.float64), np.zeros(self.length, dtype=bool))

    def _between(self, node: Any, what: str) -> Value:
        value = self.evaluate(node.this)
        low = self.rules.compare(value, self.evaluate(node.args["low"]), ">=", what)
        high = self.rules.compare(value, self.evaluate(node.args["high"]), "<=", what)
        true = self.truth(low) & self.truth(high)
        false = (~low.nulls & (low.values == 0)) | (~high.nulls & (high.values == 0))
        return Value(BOOLEAN, true.astype(np.float64), ~(true | false))

    def _in(self, node: Any, what: str) -> Value:
        value = self.evaluate(node.this)
        found = np.zeros(self.length, dtype=bool)
        unknown = np.zeros(self.length, dtype=bool)
        for item in node.expressions:
            equal = self.rules.compare(value, self.evaluate(item), "=", what)
            found |= self.truth(equal)
            unknown |= equal.nulls
        nulls = value.nulls | (~found & unknown)
        return Value(BOOLEAN, np.where(nulls, 0.0, found * 1.0), nulls)

    # -- choices -------------------------------------------------------------
    def _choose(self, branches: list[tuple[np.ndarray, Any]], default: Any) -> Value:
        """First branch whose condition holds; values evaluated once, kinds unified."""
        values = [self.evaluate(v) for _, v in branches]
        fallback = self.evaluate(default) if default is not None else None
        known = [v for v in [*values, fallback] if v is not None and not v.nulls.all()]
        kind = _common_kind({v.kind for v in known})
        result = fallback if fallback is not None else constant(kind, None, self.length)
        result = self._as(result, kind)
        chosen = np.zeros(self.length, dtype=bool)
        out_values = result.values.copy()
        out_nulls = result.nulls.copy()
        for (condition, _), value in zip(branches, values, strict=True):
            value = self._as(value, kind)
            take = condition & ~chosen
            out_values = np.where(take, value.values, out_values)
            out_nulls = np.where(take, value.nulls, out_nulls)
            chosen |= condition
        return Value(kind, out_values, out_nulls)

    def _as(self, value: Value, kind: str) -> Value:
        if value.kind == kind:
            return value
        if value.nulls.all():
            return constant(kind, None, self.length)
        if kind == STRING:
            return self.rules.cast(value, "STRING", safe=True, what="")
        if kind in NUMERIC and value.kind in (*NUMERIC, BOOLEAN):
            return Value(kind, value.values, value.nulls)
        raise ArtifactError(f"cannot mix {value.kind} and {kind} values in one expression")

    def _case(self, node: Any, what: str) -> Value:
        subject = self.evaluate(node.this) if node.this is not None else None
        branches = []
        for branch in node.args.get("ifs") or []:
            condition = self.evaluate(branch.this)
            if subject is not None:
                condition = self.rules.compare(subject, condition, "=", what)
            branches.append((self.truth(condition), branch.args["true"]))
        return self._choose(branches, node.args.get("default"))

    def _if(self, node: Any, _what: str) -> Value:
        condition = self.truth(self.evaluate(node.this))
        return self._choose([(condition, node.args["true"])], node.args.get("false"))

    def _coalesce(self, node: Any, _what: str) -> Value:
        items = [node.this, *node.expressions]
        values = [self.evaluate(item) for item in items]
        kind = _common_kind({v.kind for v in values if not v.nulls.all()} or {DOUBLE})
        result = self._as(values[0], kind)
        out_values, out_nulls = result.values.copy(), result.nulls.copy()
        for value in values[1:]:
            value = self._as(value, kind)
            out_values = np.where(out_nulls, value.values, out_values)
            out_nulls = out_nulls & value.nulls
        return Value(kind, out_values, out_nulls)

    def _nullif(self, node: Any, what: str) -> Value:
        value = self.evaluate(node.this)
        equal = self.truth(self.rules.compare(value, self.evaluate(node.expression), "=", what))
        return Value(value.kind, value.values, value.nulls | equal)

    # -- casts and functions ---------------------------------------------------------
    def _cast(self, node: Any, what: str) -> Value:
        target = str(node.to.this.name if hasattr(node.to.this, "name") else node.to.this)
        target = target.split(".")[-1].upper()
        return self.rules.cast(self.evaluate(node.this), target, bool(node.args.get("safe")), what)

    _trycast = _cast

    def _ln(self, node: Any, what: str) -> Value:
        return self._log_of(self.evaluate(node.this), None, what)

    def _log(self, node: Any, what: str) -> Value:
        if node.expression is None:
            return self._log_of(self.evaluate(node.this), None, what)
        base = self.rules.numeric(self.evaluate(node.this), what)
        return self._log_of(self.evaluate(node.expression), base, what)

    def _log_of(self, argument: Value, base: Value | None, what: str) -> Value:
        """Spark's Logarithm: null where x <= 0 (or the base is); NaN stays NaN."""
        x = self.rules.numeric(argument, what)
        with np.errstate(all="ignore"):
            nulls = x.nulls | (x.values <= 0)
            result = np.log(x.values)
            if base is not None:
                nulls = nulls | base.nulls | (base.values <= 0)
                result = result / np.log(base.values)
        return Value(DOUBLE, np.where(nulls, np.nan, result), nulls)

    def _pow(self, node: Any, what: str) -> Value:
        a = self.rules.numeric(self.evaluate(node.this), what)
        b = self.rules.numeric(self.evaluate(node.expression), what)
        nulls = a.nulls | b.nulls
        with np.errstate(all="ignore"):
            result = np.power(a.values, b.values)
        return Value(DOUBLE, np.where(nulls, np.nan, result), nulls)

    def _round(self, node: Any, what: str) -> Value:
        value = self.rules.numeric(self.evaluate(node.this), what)
        digits = int(node.args["decimals"].this) if node.args.get("decimals") else 0
        rounded = [_round_half_up(float(v), digits) for v in value.values.tolist()]
        return Value(value.kind, np.where(value.nulls, np.nan, rounded), value.nulls)

    def _floor(self, node: Any, what: str) -> Value:
        return self._to_long(self.evaluate(node.this), np.floor, what)

    def _ceil(self, node: Any, what: str) -> Value:
        return self._to_long(self.evaluate(node.this), np.ceil, what)

    def _to_long(
        self, value: Value, rounding: Callable[[np.ndarray], np.ndarray], what: str
    ) -> Value:
        number = self.rules.numeric(value, what)
        with np.errstate(all="ignore"):
            result = rounding(number.values)
        # Java's double-to-long: NaN is 0, the infinities saturate.
        result = np.clip(np.nan_to_num(result, nan=0.0), -(2.0**63), 2.0**63 - 1)
        return Value(LONG, np.where(number.nulls, np.nan, result), number.nulls)

    def _trim(self, node: Any, what: str) -> Value:
        position = str(node.args.get("position") or "BOTH").upper()
        strip = {"LEADING": str.lstrip, "TRAILING": str.rstrip}.get(position, str.strip)
        texts = self.strings(self.evaluate(node.this), what)
        return self.from_strings([None if t is None else strip(t, " ") for t in texts])

    def _length(self, node: Any, what: str) -> Value:
        texts = self.strings(self.evaluate(node.this), what)
        return self.from_strings([None if t is None else len(t) for t in texts], LONG)

    def _substring(self, node: Any, what: str) -> Value:
        texts = self.strings(self.evaluate(node.this), what)
        start = self.rules.numeric(self.evaluate(node.args["start"]), what)
        length_node = node.args.get("length")
        length = self.rules.numeric(self.evaluate(length_node), what) if length_node else None
        out: list[str | None] = []
        for i, text in enumerate(texts):
            if text is None or start.nulls[i] or (length is not None and length.nulls[i]):
                out.append(None)
                continue
            count = int(length.values[i]) if length is not None else 2**31 - 1
            out.append(_substring(text, int(start.values[i]), count))
        return self.from_strings(out)

    def _concat(self, node: Any, what: str) -> Value:
        parts = [self.strings(self.evaluate(e), what) for e in node.expressions]
        joined: list[str | None] = []
        for row in zip(*parts, strict=True):
            joined.append(None if None in row else "".join(p for p in row if p is not None))
        return self.from_strings(joined if parts else [""] * self.length)

    def _concatws(self, node: Any, what: str) -> Value:
        separator, *items = [self.strings(self.evaluate(e), what) for e in node.expressions]
        out: list[str | None] = []
        for i, sep in enumerate(separator):
            kept = [text for part in items if (text := part[i]) is not None]
            out.append(None if sep is None else sep.join(kept))
        return self.from_strings(out)


def _common_kind(kinds: set[str]) -> str:
    if len(kinds) <= 1:
        return next(iter(kinds), DOUBLE)
    if kinds <= {LONG, DOUBLE, BOOLEAN}:
        return DOUBLE if DOUBLE in kinds else LONG
    if STRING in kinds:
        return STRING
    raise ArtifactError(f"cannot mix {sorted(kinds)} values in one expression")


def run(query: Plan, frame: Frame, ansi: bool) -> Frame:
    """The statement's output frame: the listed columns, rows the WHERE keeps."""
    walker = Walker(frame, Semantics(ansi), query.texts)
    columns = {}
    for name, node in query.outputs:
        if name == "*":
            columns.update(frame.columns)
        else:
            columns[name] = to_column(walker.evaluate(node))
    result = Frame(columns, frame.length)
    if query.where is not None:
        result = result.take(walker.truth(walker.evaluate(query.where)))
    return result


@dataclass
class SQLTransformer(Op):
    """A fitted SQLTransformer: its statement, checked at load, and ANSI mode."""

    statement: str = ""
    ansi: bool = False
    label = "SQLTransformer"

    def __post_init__(self) -> None:
        self.query = plan(self.statement, self.uid)
        self.inputs = self.query.reads
        self.outputs = [name for name, _ in self.query.outputs if name != "*"]

    def apply(self, frame: Frame) -> Frame:
        try:
            return run(self.query, frame, self.ansi)
        except SqlError as error:
            mode = "ANSI mode, as Spark 4 runs SQL" if self.ansi else "Spark SQL"
            raise self.fail(f"record {first_row(error.mask)}: {error.message} ({mode})") from None
