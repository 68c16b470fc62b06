"""VectorIndexer's handleInvalid rules, and null kept apart from NaN in every output format
of the sparkml stage (served from the committed Spark 4.1 save of a VectorIndexer pipeline)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from inferpipe.protocol import media
from inferpipe.protocol.errors import SchemaMismatch
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage import InvocationRequest
from inferpipe.transformers.sparkml.columns import Frame, vector_column
from inferpipe.transformers.sparkml.ops_vector import VectorIndexer
from inferpipe.transformers.sparkml.stage import SparkMLStage

LAYOUT = Path(__file__).resolve().parents[3] / "data" / "spark-layouts" / "spark-4.1.4" / "indexer"
INPUTS = [{"name": n, "type": "double"} for n in ("x5", "x4", "x1")]


def _indexer(handle_invalid: str) -> VectorIndexer:
    return VectorIndexer(
        "vi", ["v"], ["o"], num_features=2,
        category_maps={0: {0.0: 0, 5.0: 1, math.nan: 2}}, handle_invalid=handle_invalid,
    )  # fmt: skip


def _frame(rows: list[list[float]]) -> Frame:
    return Frame({"v": vector_column(np.array(rows))}, len(rows))


def test_unseen_values_are_an_error_an_extra_index_or_a_dropped_row() -> None:
    rows = [[5.0, 0.25], [7.0, 1.0], [math.nan, 2.0], [0.0, 3.0]]
    kept = _indexer("keep").apply(_frame(rows)).columns["o"].values
    assert kept.tolist() == [[1.0, 0.25], [3.0, 1.0], [2.0, 2.0], [0.0, 3.0]]
    skipped = _indexer("skip").apply(_frame(rows))
    assert skipped.length == 3 and skipped.columns["o"].values[:, 1].tolist() == [0.25, 2.0, 3.0]
    with pytest.raises(SchemaMismatch, match=r"record 2: invalid value 7.0 on feature index 0"):
        _indexer("error").apply(_frame(rows))
    with pytest.raises(SchemaMismatch, match="vectors of size 3; the model was fitted on size 2"):
        _indexer("keep").apply(_frame([[0.0, 1.0, 2.0]]))


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> SparkMLStage:
    model_dir = tmp_path_factory.mktemp("indexer")
    shutil.copytree(LAYOUT / "model", model_dir, dirs_exist_ok=True)
    schema = {"input": INPUTS, "output": {"name": "x5", "type": "double"}}
    (model_dir / "schema.json").write_text(json.dumps(schema))
    loaded = SparkMLStage()
    loaded.load(model_dir, ServingSettings.from_environ({}))
    return loaded


def _answer(stage: SparkMLStage, body: bytes, accept: str) -> bytes:
    request = InvocationRequest(body, media.parse_media_type(media.CSV), accept, "t")
    return stage.invoke(request).body


def test_null_and_nan_stay_apart_in_csv_json_and_json_lines(stage: SparkMLStage) -> None:
    # x5 empty (null), NaN, and a number; the pipeline's VectorIndexer runs on each row.
    body = b",1.0,0.5\nNaN,0.0,1.5\n2.0,0.5,-1.0\n"
    assert _answer(stage, body, media.CSV) == b"\nNaN\n2.0\n"
    assert _answer(stage, body, media.JSONLINES) == b'{"x5":null}\n{"x5":"NaN"}\n{"x5":2.0}\n'
    assert json.loads(_answer(stage, body, media.JSON)) == {"predictions": [None, "NaN", 2.0]}
