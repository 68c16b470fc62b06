"""SQLTransformer beyond the committed Spark outputs: ANSI mode's errors against the
non-ANSI nulls, constructs refused at load naming them, and Spark's edge rules."""

from __future__ import annotations

import math

import pytest

from inferpipe.protocol.errors import ArtifactError, SchemaMismatch
from inferpipe.transformers.sparkml.columns import Frame
from inferpipe.transformers.sparkml.convert import column_from_values, python_values
from inferpipe.transformers.sparkml.sql import SQLTransformer

ROWS = {
    "x": ("double", [1.0, 0.0, None, math.nan, -2.5, 2.5]),
    "s": ("string", ["12", "abc", None, " 7 ", "", "héllo wörld"]),
}


def _frame() -> Frame:
    columns = {n: column_from_values(v, n, kind, "basic") for n, (kind, v) in ROWS.items()}
    return Frame(columns, 6)


def _select(expression: str, ansi: bool = False) -> list[object]:
    """The expression's values, NaN spelled "NaN" so lists compare."""
    statement = f"SELECT {expression} AS out FROM __THIS__"
    op = SQLTransformer("sql", [], [], statement=statement, ansi=ansi)
    values = python_values(op.apply(_frame()).columns["out"])
    return ["NaN" if isinstance(v, float) and math.isnan(v) else v for v in values]


def test_division_by_zero_is_null_without_ansi_and_a_400_naming_the_record_with_it() -> None:
    assert _select("10 / x") == [10.0, None, None, "NaN", -4.0, 4.0]
    assert _select("10 % x")[1] is None
    with pytest.raises(SchemaMismatch, match=r"record 2: division by zero in 10 / x .*ANSI mode"):
        _select("10 / x", ansi=True)


def test_a_cast_that_cannot_convert_is_null_without_ansi_and_an_error_with_it() -> None:
    assert _select("CAST(s AS DOUBLE)") == [12.0, None, None, 7.0, None, None]
    assert _select("CAST(s AS INT)") == [12.0, None, None, 7.0, None, None]
    with pytest.raises(SchemaMismatch, match=r"record 2: .*'abc' is not a number"):
        _select("CAST(s AS DOUBLE)", ansi=True)
    assert _select("TRY_CAST(s AS DOUBLE)", ansi=True)[1] is None  # TRY_CAST never fails
    with pytest.raises(SchemaMismatch, match=r"record 4: .*NaN or an infinity"):
        _select("CAST(x AS INT)", ansi=True)


def test_sparks_edge_rules() -> None:
    assert _select("round(x)") == [1.0, 0.0, None, "NaN", -3.0, 3.0]  # HALF_UP, away from 0
    assert _select("round(2.675, 2)")[0] == 2.68  # the decimal text, not the binary value
    assert _select("ln(x)")[:2] == [0.0, None]  # log of x <= 0 is null
    assert _select("ln(x)")[3] == "NaN"  # NaN stays NaN
    assert _select("x = x") == [True, True, None, True, True, True]  # NaN equals NaN
    assert _select("x > 100")[3] is True  # NaN is larger than any number
    assert _select("substring(s, 0, 2)")[0] == "12" and _select("substr(s, -3)")[5] == "rld"
    assert _select("length(s)")[5] == 11.0 and _select("trim(s)")[3] == "7"
    assert _select("concat(s, '!')")[2] is None
    assert _select("x IN (1.0, NULL)") == [True, None, None, None, None, None]
    assert _select("NULL AND x > 0") == [None, False, None, None, False, None]
    assert _select("NULL OR x > 0") == [True, None, None, True, None, True]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("SELECT x FROM other", "must select FROM __THIS__"),
        ("SELECT x FROM __THIS__ JOIN t ON a = b", "JOINS is not supported"),
        ("SELECT sum(x) AS t FROM __THIS__ GROUP BY s", "GROUP is not supported"),
        ("SELECT md5(s) AS h FROM __THIS__", r"\(MD5\(s\)\) is not supported"),
        ("SELECT x + 1 FROM __THIS__", r"name the expression 'x \+ 1' with AS"),
        ("SELECT x FROM __THIS__ ORDER BY x", "ORDER is not supported"),
        ("SELEC x", "does not parse|only SELECT"),
    ],
)
def test_what_is_outside_the_subset_is_refused_at_load(statement: str, message: str) -> None:
    with pytest.raises(ArtifactError, match=message):
        SQLTransformer("sql", [], [], statement=statement)


def test_the_statement_declares_the_columns_it_reads_and_writes() -> None:
    op = SQLTransformer("sql", [], [], statement="SELECT *, x * 2 AS y FROM __THIS__ WHERE s > 'a'")
    assert op.inputs == ["s", "x"] and op.outputs == ["y"]
    assert op.apply(_frame()).length == 2  # 'abc' and 'héllo wörld' sort after 'a'
