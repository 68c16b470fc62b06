"""Saved layouts of several Spark versions (made by scripts/make_spark_layouts.py with that
Spark, committed under tests/data/spark-layouts/) load and reproduce that Spark's outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from inferpipe_testing.spark import mismatches, our_values

from inferpipe.transformers.sparkml.columns import Frame
from inferpipe.transformers.sparkml.convert import column_from_values
from inferpipe.transformers.sparkml.spark_native import load_stage_dir

LAYOUTS = Path(__file__).resolve().parents[3] / "data" / "spark-layouts"
SAVES = sorted(p for p in LAYOUTS.glob("spark-*/*") if (p / "model").is_dir())


def test_layouts_of_more_than_one_spark_version_are_committed() -> None:
    versions = {p.parent.name for p in SAVES}
    assert {"spark-3.5.9", "spark-4.1.4"} <= versions


@pytest.mark.parametrize("save", SAVES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_saved_pipeline_reproduces_the_saving_sparks_transform(save: Path) -> None:
    document = json.loads((save / "input.json").read_text())
    rows = document["rows"]
    columns = {
        name: column_from_values([r[name] for r in rows], name, kind, "basic")
        for name, kind in document["types"].items()
    }
    result = load_stage_dir(save / "model").apply(Frame(columns, len(rows)))
    expected = json.loads((save / "expected.json").read_text())
    problems = []
    for column, theirs in expected.items():
        problems += mismatches(column, our_values(result.get(column, "test")), theirs)
    assert not problems, "\n".join(problems)
