"""Loader errors: unsupported stages name the stage and the op, formats we cannot read say why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inferpipe.protocol.errors import ArtifactError
from inferpipe.transformers.sparkml.artifact import load_model
from inferpipe.transformers.sparkml.spark_native import load_stage_dir


def _spark_stage(folder: Path, class_name: str, params: dict[str, object]) -> Path:
    (folder / "metadata").mkdir(parents=True)
    metadata = {
        "class": class_name,
        "uid": "stage_1",
        "sparkVersion": "4.1.4",
        "paramMap": params,
        "defaultParamMap": {},
    }
    (folder / "metadata" / "part-00000").write_text(json.dumps(metadata) + "\n")
    return folder


def _bundle(folder: Path, op: str, bundle_format: str = "json") -> Path:
    (folder / "root").mkdir(parents=True)
    (folder / "bundle.json").write_text(json.dumps({"format": bundle_format, "version": "0.23.0"}))
    (folder / "root" / "model.json").write_text(json.dumps({"op": op, "attributes": {}}))
    shape = {
        "inputs": [{"name": "a", "port": "input"}],
        "outputs": [{"name": "b", "port": "output"}],
    }
    (folder / "root" / "node.json").write_text(json.dumps({"name": "node_7", "shape": shape}))
    return folder


def test_a_sql_statement_outside_the_subset_is_refused_at_load(tmp_path: Path) -> None:
    stage = _spark_stage(
        tmp_path / "sql", "org.apache.spark.ml.feature.SQLTransformer", {"statement": "SELECT *"}
    )
    with pytest.raises(ArtifactError, match="'stage_1': the statement must select FROM __THIS__"):
        load_stage_dir(stage)


def test_unsupported_spark_stage_names_the_stage_and_the_class(tmp_path: Path) -> None:
    stage = _spark_stage(tmp_path / "km", "org.apache.spark.ml.clustering.KMeansModel", {})
    with pytest.raises(ArtifactError, match="'stage_1' uses op 'KMeansModel'"):
        load_stage_dir(stage)


def test_unsupported_mleap_op_names_the_node_and_the_op(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="'node_7' uses op 'naive_bayes'"):
        load_model(_bundle(tmp_path / "b", "naive_bayes"))


def test_protobuf_bundles_are_refused_with_the_way_out(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"SerializationFormat\.Json"):
        load_model(_bundle(tmp_path / "b", "tokenizer", bundle_format="protobuf"))


def test_a_model_dir_without_an_artifact_lists_what_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"bundle\.json .*metadata/.*\*\.zip"):
        load_model(tmp_path)


def test_vector_slicer_by_names_is_refused(tmp_path: Path) -> None:
    stage = _spark_stage(
        tmp_path / "slice",
        "org.apache.spark.ml.feature.VectorSlicer",
        {"inputCol": "v", "outputCol": "s", "names": ["f1"]},
    )
    with pytest.raises(ArtifactError, match="select by indices"):
        load_stage_dir(stage)
