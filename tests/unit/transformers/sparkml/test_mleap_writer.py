"""The MLeap writer: bundles our loader reads back, and clear refusals."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
import pytest

from inferpipe.protocol.errors import ArtifactError
from inferpipe.transformers.sparkml.artifact import load_model
from inferpipe.transformers.sparkml.columns import Frame, vector_column
from inferpipe.transformers.sparkml.convert import python_values
from inferpipe.transformers.sparkml.mleap_writer import write_bundle
from inferpipe.transformers.sparkml.op import Pipeline
from inferpipe.transformers.sparkml.ops_numeric import Bucketizer, Normalizer

SAMPLE = Frame({"v": vector_column(np.array([[1.0, -2.0], [0.5, 4.0]]))}, 2)


def test_normalizer_with_infinite_p_is_refused_naming_the_stage(tmp_path: Path) -> None:
    root = Pipeline("p", [], [], stages=[Normalizer("norm_1", ["v"], ["n"], p=math.inf)])
    with pytest.raises(ArtifactError, match="'norm_1' uses p=Infinity"):
        write_bundle(root, SAMPLE, tmp_path / "b.zip")


def test_directory_bundle_has_aws_layout_and_infinite_splits_round_trip(tmp_path: Path) -> None:
    splits = np.array([-math.inf, 0.0, math.inf])
    stage = Bucketizer("b_1", ["x"], ["xb"], splits=[splits])
    target = tmp_path / "bundle"
    sample = Frame({"x": vector_column(np.zeros((1, 1)))}, 1)
    write_bundle(Pipeline("p", [], [], stages=[stage]), sample, target)
    assert (target / "bundle.json").is_file() and (target / "root" / "model.json").is_file()
    root, what = load_model(target)
    assert what == "MLeap bundle"
    loaded = root.flat()[0]
    assert isinstance(loaded, Bucketizer) and loaded.splits[0].tolist() == splits.tolist()


def test_zip_bundle_is_found_in_a_model_dir(tmp_path: Path) -> None:
    root = Pipeline("p", [], [], stages=[Normalizer("norm_2", ["v"], ["n"], p=1.0)])
    write_bundle(root, SAMPLE, tmp_path / "model.zip")
    assert "bundle.json" in zipfile.ZipFile(tmp_path / "model.zip").namelist()
    loaded, what = load_model(tmp_path)
    assert what == "MLeap bundle model.zip"
    assert python_values(loaded.apply(SAMPLE).get("n", "t")) == [
        [1 / 3, -2 / 3],
        [0.5 / 4.5, 4 / 4.5],
    ]
