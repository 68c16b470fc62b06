"""The feature stages MLeap defines (DCT, PolynomialExpansion, NGram, Word2Vec,
FeatureHasher, the selectors, both LSH models), loaded from the committed Spark 3.5.9 and
4.1.4 saves, written by our MLeap exporter, read back by our MLeap loader and run by the
real MLeap runtime: every column equals that Spark's own `transform`.

RobustScaler, UnivariateFeatureSelector's and VarianceThresholdSelector's Spark classes
have no MLeap op; the selectors are written as MLeap's vector_slicer (what they compute),
RobustScaler stays out of the bundle. MinHashLSH is read from MLeap bundles (with Spark's
numbers) but not written: MLeap 0.20's runtime hashes in 32-bit arithmetic and differs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from inferpipe_testing.mleap_oracle import MleapOracle, leap_frame
from inferpipe_testing.spark import mismatches, our_values

from inferpipe.protocol.errors import ArtifactError
from inferpipe.transformers.sparkml.columns import Frame
from inferpipe.transformers.sparkml.convert import column_from_values
from inferpipe.transformers.sparkml.mleap_bundle import load_bundle
from inferpipe.transformers.sparkml.mleap_files import open_bundle
from inferpipe.transformers.sparkml.mleap_writer import write_bundle
from inferpipe.transformers.sparkml.op import DropColumns, Pipeline, WhenPresent
from inferpipe.transformers.sparkml.ops_features import MinHashLSH, RobustScaler
from inferpipe.transformers.sparkml.spark_native import load_stage_dir

LAYOUTS = Path(__file__).resolve().parents[3] / "data" / "spark-layouts"
SAVES = [
    LAYOUTS / v / n
    for v in ("spark-3.5.9", "spark-4.1.4")
    for n in ("features2", "text2", "interaction")
    if (LAYOUTS / v / n).is_dir()
]


def _frame(rows: list[dict[str, Any]], types: dict[str, str]) -> Frame:
    columns = {
        name: column_from_values([r[name] for r in rows], name, kind, "basic")
        for name, kind in types.items()
    }
    return Frame(columns, len(rows))


def _present(value: Any) -> bool:
    return value is not None and value == value


@pytest.mark.parametrize("save", SAVES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_exported_feature_stages_match_spark_in_our_loader_and_mleaps(
    save: Path, oracle: MleapOracle, tmp_path: Path
) -> None:
    document = json.loads((save / "input.json").read_text())
    rows, types = document["rows"], document["types"]
    expected = json.loads((save / "expected.json").read_text())
    ops = [
        op
        for op in load_stage_dir(save / "model").flat()
        # RFormula's column pruner and label cast are ours, not MLeap ops (its
        # indexer, interactions and assembler are).
        if not isinstance(op, (RobustScaler, MinHashLSH, DropColumns, WhenPresent))
    ]
    kept = {name for op in ops for name in op.outputs}
    expected = {column: values for column, values in expected.items() if column in kept}
    assert len(expected) >= 4, expected.keys()

    bundle = write_bundle(
        Pipeline("export", [], [], stages=ops), _frame(rows[:5], types), tmp_path / "b.zip"
    )
    ours = load_bundle(open_bundle(bundle)).apply(_frame(rows, types))
    problems = []
    for column, theirs in expected.items():
        problems += mismatches(column, our_values(ours.get(column, "test")), theirs)

    # MLeap's JSON frames carry no NaN and MLeap has its own null rules: clean rows only.
    used = {name for op in ops for name in op.inputs if name in types}
    clean = [i for i, r in enumerate(rows) if all(_present(r[n]) for n in used)]
    frame = leap_frame({n: (types[n], [rows[i][n] for i in clean]) for n in sorted(used)})
    runtime = oracle.transform(bundle, frame)
    for column, theirs in expected.items():
        wanted = [theirs[i] for i in clean]
        got = runtime[column]
        if column == "brp":  # MLeap's LSH output is one (n, 1) tensor, Spark's n vectors
            got = [[[value] for value in row] for row in got]
        if column == "i_onehot":
            # MLeap 0.20's interaction reads a sparse input (the one-hot vector) by the
            # position of each stored value, not its index: [0, 1, 0] counts as [1, 0, 0].
            # Spark and we use the index; our loader is compared above.
            continue
        problems += [f"MLeap runtime: {p}" for p in mismatches(column, got, wanted)]
    assert not problems, "\n".join(problems[:20])
    assert len(clean) > 500


def test_min_hash_is_read_from_mleap_but_not_written(tmp_path: Path) -> None:
    save = LAYOUTS / "spark-4.1.4" / "features2"
    document = json.loads((save / "input.json").read_text())
    ops = load_stage_dir(save / "model").flat()
    min_hash = next(op for op in ops if isinstance(op, MinHashLSH))
    upstream = [op for op in ops[: ops.index(min_hash)] if not isinstance(op, RobustScaler)]
    with pytest.raises(ArtifactError, match="32-bit arithmetic"):
        write_bundle(
            Pipeline("p", [], [], stages=[*upstream, min_hash]),
            _frame(document["rows"][:5], document["types"]),
            tmp_path / "b.zip",
        )
