"""AWS-style serving scripts and a user's own stage, unchanged, in the preprocess image
(which carries neither AWS toolkit: our stand-ins answer their imports)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from inferpipe_testing.abalone import FEATURES, raw_rows
from inferpipe_testing.containers import Container, start_container
from inferpipe_testing.local import abalone_train_module

SCRIPTS = Path(__file__).resolve().parents[1] / "data" / "scripts"
README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


@pytest.mark.parametrize("script", ["featurizer_inference.py", "featurizer_containers.py"])
def test_aws_style_featurizer_runs_unchanged_in_the_image(
    script: str,
    images: dict[str, str],
    abalone_dir: Path,
    tmp_path: Path,
    containers: list[Container],
) -> None:
    model_dir = tmp_path / "model"
    (model_dir / "code").mkdir(parents=True)
    shutil.copy(abalone_dir / "build" / "preprocess" / "model.joblib", model_dir)
    shutil.copy(SCRIPTS / script, model_dir / "code" / "inference.py")
    container = start_container(images["preprocess"], model_dir)
    containers.append(container)
    rows = raw_rows(10, abalone_train_module().DATA)
    frame = pd.read_csv(io.StringIO(rows), header=None, names=FEATURES)
    expected = joblib.load(model_dir / "model.joblib").transform(frame)

    as_json = container.post(rows, "text/csv")
    assert as_json.status_code == 200, as_json.text
    assert as_json.headers["Content-Type"] == "application/json"
    got = [item["features"] for item in as_json.json()["instances"]]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    as_csv = container.post(rows, "text/csv", accept="text/csv")
    assert as_csv.headers["Content-Type"] == "text/csv"
    np.testing.assert_allclose(np.loadtxt(io.StringIO(as_csv.text), delimiter=","), expected)
    assert "stand-ins answer imports" in container.logs()


def test_own_stage_from_the_model_dir_runs_in_the_image(
    images: dict[str, str], tmp_path: Path, containers: list[Container]
) -> None:
    block = README.split("<!-- example: code/scaler_stage.py -->", 1)[1]
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "scaler_stage.py").write_text(
        block.split("```python", 1)[1].split("```", 1)[0]
    )
    (tmp_path / "factor.txt").write_text("2")
    container = start_container(
        images["preprocess"], tmp_path, env={"INFERPIPE_STAGE": "scaler_stage:ScalerStage"}
    )
    containers.append(container)
    answer = container.post("1,2\n", "text/csv", accept="application/json")
    assert answer.status_code == 200 and json.loads(answer.text) == {"predictions": [[2.0, 4.0]]}
