"""The WSGI app through Flask's test client, serving a real sklearn stage."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from flask.testing import FlaskClient
from inferpipe_testing.bad_requests import BAD_REQUESTS, GOOD_ROW
from inferpipe_testing.data import make_mixed_rows, read_oracle_frame, rows_to_csv

from inferpipe.protocol.errors import ConfigError
from inferpipe.serving import create_app
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage import Stage
from inferpipe.serving.stage_loader import load_stage


def client_for(model_dir: Path, **env: str) -> FlaskClient:
    settings = ServingSettings.from_environ(
        {k.upper(): v for k, v in env.items()}, model_dir=model_dir
    )
    return create_app(load_stage(settings), settings).test_client()


@pytest.fixture()
def client(mixed_pipeline_dir: Path) -> FlaskClient:
    return client_for(mixed_pipeline_dir)


def csv_matrix(body: bytes) -> np.ndarray:
    return np.array([[float(x) for x in line.split(",")] for line in body.decode().splitlines()])


def test_ping_is_200_with_empty_body(client: FlaskClient) -> None:
    response = client.get("/ping")
    assert response.status_code == 200 and response.data == b""


def test_execution_parameters_report_batch_settings(mixed_pipeline_dir: Path) -> None:
    client = client_for(
        mixed_pipeline_dir, sagemaker_max_payload_in_mb="12", sagemaker_model_server_workers="3"
    )
    assert client.get("/execution-parameters").get_json() == {
        "MaxConcurrentTransforms": 3,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": 12,
    }


def test_csv_rows_equal_the_in_process_pipeline(
    client: FlaskClient, mixed_pipeline_dir: Path
) -> None:
    import joblib

    text = rows_to_csv(make_mixed_rows(200))
    expected = joblib.load(mixed_pipeline_dir / "model.joblib").transform(read_oracle_frame(text))
    response = client.post("/invocations", data=text, content_type="text/csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv"
    assert np.array_equal(csv_matrix(response.data), expected)


def test_json_objects_in_and_json_out(client: FlaskClient) -> None:
    record = {
        "sex": "M",
        "color": "red",
        "length": 0.5,
        "diameter": None,
        "weight": 1.0,
        "count": 3,
        "flag": True,
    }
    response = client.post(
        "/invocations", json={"instances": [record, record]}, headers={"Accept": "application/json"}
    )
    predictions = response.get_json()["predictions"]
    assert response.headers["Content-Type"] == "application/json"
    assert len(predictions) == 2 and predictions[0] == predictions[1]


def test_default_accept_variable_is_used_for_wildcard_accept(mixed_pipeline_dir: Path) -> None:
    client = client_for(
        mixed_pipeline_dir, sagemaker_default_invocations_accept="application/jsonlines"
    )
    response = client.post(
        "/invocations",
        data="M,red,1,1,1,1,true\n",
        content_type="text/csv",
        headers={"Accept": "*/*"},
    )
    assert response.headers["Content-Type"] == "application/jsonlines"


def test_default_accept_the_stage_cannot_emit_stops_the_start(mixed_pipeline_dir: Path) -> None:
    settings = ServingSettings.from_environ(
        {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "image/png"}, model_dir=mixed_pipeline_dir
    )
    with pytest.raises(ConfigError, match="image/png"):
        create_app(load_stage(settings), settings)


@pytest.mark.parametrize(
    ("case", "body", "content_type", "accept", "status", "code"),
    BAD_REQUESTS,
    ids=[c[0] for c in BAD_REQUESTS],
)
def test_bad_request_gets_json_error_and_next_request_works(
    client: FlaskClient,
    case: str,
    body: bytes,
    content_type: str,
    accept: str | None,
    status: int,
    code: str,
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    if accept:
        headers["Accept"] = accept
    response = client.post("/invocations", data=body, headers=headers)
    assert response.status_code == status
    error = response.get_json()
    assert error["error"] == code and error["stage"] == "sklearn" and error["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    assert client.post("/invocations", data=GOOD_ROW, content_type="text/csv").status_code == 200


def test_oversized_body_gets_413(mixed_pipeline_dir: Path) -> None:
    client = client_for(mixed_pipeline_dir, sagemaker_max_payload_in_mb="1")
    body = b"M,red,1,1,1,1,true\n" * 60000
    response = client.post("/invocations", data=body, content_type="text/csv")
    assert response.status_code == 413
    assert response.get_json()["error"] == "payload-too-large"


def test_npy_request_is_loaded_without_pickle(classifier_dir: Path) -> None:
    client = client_for(classifier_dir)
    buffer = io.BytesIO()
    np.save(buffer, np.array([[1.0, 1.0], [-1.0, -1.0]]))
    response = client.post(
        "/invocations",
        data=buffer.getvalue(),
        content_type="application/x-npy",
        headers={"Accept": "text/csv"},
    )
    assert response.data == b"1\n0\n"


def test_unknown_route_is_json_404(client: FlaskClient) -> None:
    response = client.get("/nope")
    assert response.status_code == 404 and response.get_json()["stage"] == "sklearn"


class SlowStage(Stage):
    kind = "slow"

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        time.sleep(float(frame.iloc[0, 0]))
        return frame


class BrokenStage(Stage):
    kind = "broken"

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        raise RuntimeError("secret internal detail")


def test_request_past_the_timeout_gets_504_and_the_callback_runs() -> None:
    calls = []
    settings = ServingSettings.from_environ({"SAGEMAKER_MODEL_SERVER_TIMEOUT": "1"})
    client = create_app(SlowStage(), settings, on_timeout=lambda: calls.append(1)).test_client()
    response = client.post("/invocations", data="1.5\n", content_type="text/csv")
    assert response.status_code == 504 and response.get_json()["error"] == "timeout"
    assert calls == [1]
    assert client.post("/invocations", data="0\n", content_type="text/csv").status_code == 200


def test_unexpected_failure_is_500_without_internals() -> None:
    client = create_app(BrokenStage(), ServingSettings.from_environ({})).test_client()
    response = client.post("/invocations", data="1\n", content_type="text/csv")
    assert response.status_code == 500
    assert response.get_json()["error"] == "stage-failed"
    assert "secret" not in response.get_data(as_text=True)


def test_response_content_type_is_bare(client: FlaskClient) -> None:
    response = client.post(
        "/invocations",
        data="M,red,1,1,1,1,true\n",
        content_type="text/csv; charset=utf-8",
        headers={"Accept": "application/json"},
    )
    assert response.headers["Content-Type"] == "application/json"
    json.loads(response.data)
