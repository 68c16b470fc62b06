"""A fitted RFormula at prediction time: the label column is absent, so its label step
is skipped (as Spark's RFormulaModel does), and the features come out as when it is there."""

from __future__ import annotations

import json
from pathlib import Path

from inferpipe_testing.spark import mismatches, our_values

from inferpipe.transformers.sparkml.columns import Frame
from inferpipe.transformers.sparkml.convert import column_from_values
from inferpipe.transformers.sparkml.op import columns_needed
from inferpipe.transformers.sparkml.spark_native import load_stage_dir

SAVE = Path(__file__).resolve().parents[3] / "data" / "spark-layouts" / "spark-4.1.4" / "rformula"


def test_without_the_label_column_the_features_match_spark_and_no_label_is_made() -> None:
    document = json.loads((SAVE / "input.json").read_text())
    rows, types = document["rows"], document["types"]
    kept = {n: k for n, k in types.items() if n != "label"}
    columns = {
        n: column_from_values([r[n] for r in rows], n, kind, "basic") for n, kind in kept.items()
    }
    pipeline = load_stage_dir(SAVE / "model")
    result = pipeline.apply(Frame(columns, len(rows)))
    expected = json.loads((SAVE / "expected.json").read_text())
    column = "numeric_label_features"
    assert not mismatches(column, our_values(result.get(column, "test")), expected[column])
    assert "numeric_label" not in result
    needed, _ = columns_needed(pipeline.flat())
    assert "label" not in needed  # a serving schema need not carry the label
