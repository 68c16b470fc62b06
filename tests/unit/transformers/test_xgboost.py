from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xgboost
from flask.testing import FlaskClient

from inferpipe.protocol.errors import ArtifactError
from inferpipe.serving import create_app
from inferpipe.serving.settings import ServingSettings
from inferpipe.transformers.xgboost import XGBoostStage, load_booster

LEGACY = Path(__file__).resolve().parents[2] / "data" / "conformance" / "xgboost-legacy"


@pytest.fixture(scope="module")
def booster_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(5)
    features = rng.normal(size=(300, 3))
    target = features @ np.array([1.5, -2.0, 0.5]) + rng.normal(scale=0.1, size=300)
    booster = xgboost.train(
        {"objective": "reg:squarederror", "max_depth": 3},
        xgboost.DMatrix(features, label=target),
        num_boost_round=20,
    )
    model_dir = tmp_path_factory.mktemp("xgb")
    booster.save_model(model_dir / "xgboost-model.json")
    (model_dir / "xgboost-model.json").rename(model_dir / "xgboost-model")
    return model_dir


@pytest.fixture()
def client(booster_dir: Path) -> FlaskClient:
    stage = XGBoostStage()
    settings = ServingSettings.from_environ({}, model_dir=booster_dir)
    stage.load(booster_dir, settings)
    return create_app(stage, settings).test_client()


def expected(booster_dir: Path, rows: list[list[float]]) -> list[float]:
    booster = load_booster(booster_dir / "xgboost-model")
    return booster.predict(xgboost.DMatrix(np.array(rows), missing=np.nan)).tolist()


def test_csv_in_csv_out_equals_in_process_predict(client: FlaskClient, booster_dir: Path) -> None:
    rows = [[0.1, 0.2, 0.3], [1.0, -1.0, 0.5]]
    response = client.post(
        "/invocations", data="0.1,0.2,0.3\n1,-1,0.5\n", content_type="text/csv;label_size=0"
    )
    assert [float(x) for x in response.data.decode().split()] == expected(booster_dir, rows)


def test_missing_values_are_passed_as_missing(client: FlaskClient, booster_dir: Path) -> None:
    response = client.post("/invocations", data="0.1,,0.3\n", content_type="text/csv")
    assert float(response.data) == expected(booster_dir, [[0.1, np.nan, 0.3]])[0]


def test_json_and_jsonlines_outputs_use_score(client: FlaskClient, booster_dir: Path) -> None:
    score = expected(booster_dir, [[0.1, 0.2, 0.3]])[0]
    as_json = client.post(
        "/invocations",
        data="0.1,0.2,0.3",
        content_type="text/csv",
        headers={"Accept": "application/json"},
    )
    assert as_json.get_json() == {"predictions": [{"score": score}]}
    lines = client.post(
        "/invocations",
        data="0.1,0.2,0.3",
        content_type="text/csv",
        headers={"Accept": "application/jsonlines"},
    )
    assert [json.loads(x) for x in lines.data.decode().splitlines()] == [{"score": score}]


def test_libsvm_input_with_labels(client: FlaskClient, booster_dir: Path) -> None:
    response = client.post("/invocations", data="7 0:0.1 2:0.3\n", content_type="text/libsvm")
    assert float(response.data) == expected(booster_dir, [[0.1, np.nan, 0.3]])[0]


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ("1,2\n", "text/csv", "each record has 2 fields; the model expects 3"),
        ("1,x,3\n", "text/csv", "record 1, column 2: 'x' is not a number"),
        ("1 5:0.3\n", "text/libsvm", "feature index 5 is outside 0..2"),
        ("1 a:b\n", "text/libsvm", "'a:b' is not index:value"),
    ],
)
def test_bad_input_is_a_400_naming_the_problem(
    client: FlaskClient, body: str, content_type: str, message: str
) -> None:
    response = client.post("/invocations", data=body, content_type=content_type)
    assert response.status_code == 400 and message in response.get_json()["message"]
    assert client.post("/invocations", data="1,2,3", content_type="text/csv").status_code == 200


def test_json_input_is_415_like_the_builtin(client: FlaskClient) -> None:
    assert client.post("/invocations", json=[[1, 2, 3]]).status_code == 415


def test_legacy_binary_artifact_fails_with_the_way_out() -> None:
    with pytest.raises(ArtifactError, match="legacy binary format"):
        load_booster(LEGACY / "xgboost-model")
