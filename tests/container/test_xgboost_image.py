"""The inferpipe-xgboost image: the built-in XGBoost hop, served for real."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import xgboost
from inferpipe_testing.containers import Container, start_container


@pytest.fixture(scope="module")
def booster_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(9)
    features = rng.normal(size=(400, 4))
    labels = (features[:, 0] - features[:, 2] > 0).astype(float)
    booster = xgboost.train(
        {"objective": "binary:logistic", "max_depth": 3},
        xgboost.DMatrix(features, label=labels),
        num_boost_round=15,
    )
    model_dir = tmp_path_factory.mktemp("xgb-image")
    booster.save_model(model_dir / "model.ubj")
    (model_dir / "model.ubj").rename(model_dir / "xgboost-model")
    return model_dir


def test_predictions_equal_in_process_xgboost(
    images: dict[str, str], booster_dir: Path, containers: list[Container]
) -> None:
    container = start_container(images["xgboost"], booster_dir)
    containers.append(container)
    rows = np.random.default_rng(1).normal(size=(1000, 4))
    body = "\n".join(",".join(repr(v) for v in row) for row in rows.tolist()) + "\n"
    response = container.post(body, "text/csv")
    assert response.status_code == 200, response.text
    booster = xgboost.Booster()
    booster.load_model(bytearray((booster_dir / "xgboost-model").read_bytes()))
    expected = booster.predict(xgboost.DMatrix(rows)).tolist()
    assert [float(x) for x in response.text.split()] == expected
    scores = container.post(body, "text/csv", accept="application/json").json()["predictions"]
    assert [s["score"] for s in scores] == expected
    bad = container.post("1,2\n", "text/csv")
    assert bad.status_code == 400 and "expects 4" in bad.json()["message"]


def test_xgboost_image_passes_the_contract(
    images: dict[str, str], booster_dir: Path, tmp_path: Path
) -> None:
    sample = tmp_path / "rows.csv"
    sample.write_text("0.1,0.2,0.3,0.4\n")
    done = subprocess.run(
        [
            "inferpipe",
            "check-container",
            images["xgboost"],
            "--model-dir",
            str(booster_dir),
            "--sample",
            str(sample),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["passed"] is True
