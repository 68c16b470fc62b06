"""The README's "answer types and shapes per stage kind" table, one test per row."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xgboost
from flask.testing import FlaskClient
from inferpipe_testing.titanic import AWS_SPARKML, TITANIC_SCHEMA, unpack_titanic

from inferpipe.serving import create_app
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage_loader import load_stage

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def client_for(model_dir: Path, **env: str) -> FlaskClient:
    settings = ServingSettings.from_environ(env, model_dir=model_dir)
    return create_app(load_stage(settings), settings).test_client()


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_the_table_has_one_row_per_stage_kind() -> None:
    from inferpipe.serving.stage_loader import STAGE_KINDS

    table = README[README.index("<!-- answer-shapes") : README.index("<!-- end answer-shapes")]
    rows = [line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| ")]
    assert sorted(rows[1:]) == sorted(STAGE_KINDS)


def test_sklearn_row(classifier_dir: Path) -> None:
    client = client_for(classifier_dir)
    plain = client.post("/invocations", data="3,3\n-3,-3\n", content_type="text/csv")
    assert plain.headers["Content-Type"] == "text/csv"
    as_json = client.post(
        "/invocations",
        data="3,3\n",
        content_type="text/csv",
        headers={"Accept": "application/json"},
    )
    assert as_json.get_json() == {"predictions": [1]}
    as_npy = client.post(
        "/invocations",
        data=npy(np.array([[3.0, 3.0], [-3.0, -3.0]])),
        content_type="application/x-npy",
    )
    assert np.load(io.BytesIO(as_npy.data)).tolist() == [1, 0]


def test_postprocess_row(tmp_path: Path) -> None:
    (tmp_path / "postprocess.json").write_text(
        json.dumps({"input_columns": ["a", "b"], "steps": [{"op": "round", "decimals": 1}]})
    )
    client = client_for(tmp_path)
    plain = client.post("/invocations", data="1.26,2\n", content_type="text/csv")
    assert plain.headers["Content-Type"] == "text/csv" and plain.data == b"1.3,2.0\n"
    as_json = client.post(
        "/invocations",
        data="1.26,2\n",
        content_type="text/csv",
        headers={"Accept": "application/json"},
    )
    assert as_json.get_json() == {"predictions": [{"a": 1.3, "b": 2.0}]}
    as_npy = client.post(
        "/invocations", data=npy(np.array([[1.26, 2.0]])), content_type="application/x-npy"
    )
    assert np.load(io.BytesIO(as_npy.data)).tolist() == [[1.3, 2.0]]


def test_sparkml_row(tmp_path: Path) -> None:
    client = client_for(
        unpack_titanic(tmp_path), SAGEMAKER_SPARKML_SCHEMA=json.dumps(TITANIC_SCHEMA)
    )
    row = (AWS_SPARKML / "valid_input.csv").read_text().strip()
    plain = client.post("/invocations", data=row, content_type="text/csv")
    assert plain.headers["Content-Type"] == "text/csv"
    as_json = client.post(
        "/invocations", data=row, content_type="text/csv", headers={"Accept": "application/json"}
    )
    assert as_json.get_json() == {"predictions": [[1.0, 0.0, 38.0, 1.0, 71.5, 0.0, 1.0]]}
    refused = client.post(
        "/invocations", data=row, content_type="text/csv", headers={"Accept": "application/x-npy"}
    )
    assert refused.status_code == 406


def test_xgboost_row(tmp_path: Path) -> None:
    booster = xgboost.train(
        {"objective": "reg:squarederror"},
        xgboost.DMatrix(np.array([[0.0], [1.0]]), label=[0.0, 1.0]),
        num_boost_round=2,
    )
    booster.save_model(tmp_path / "xgboost-model.json")
    (tmp_path / "xgboost-model.json").replace(tmp_path / "xgboost-model")
    client = client_for(tmp_path)
    libsvm = client.post("/invocations", data="0 0:1\n", content_type="text/libsvm")
    assert libsvm.status_code == 200 and libsvm.headers["Content-Type"] == "text/csv"
    as_json = client.post(
        "/invocations", data="1\n", content_type="text/csv", headers={"Accept": "application/json"}
    )
    assert list(as_json.get_json()["predictions"][0]) == ["score"]
    refused = client.post(
        "/invocations", data="1\n", content_type="text/csv", headers={"Accept": "application/x-npy"}
    )
    assert refused.status_code == 406


@pytest.mark.parametrize("default_accept", [None, "text/csv"])
def test_script_row(tmp_path: Path, default_accept: str | None) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "inference.py").write_text(
        textwrap.dedent(
            """
            import numpy as np

            def model_fn(model_dir):
                return None

            def predict_fn(data, model):
                return np.array([1, 0])
            """
        )
    )
    env = {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": default_accept} if default_accept else {}
    client = client_for(tmp_path, **env)
    plain = client.post("/invocations", data="1\n", content_type="text/csv")
    if default_accept:
        assert plain.headers["Content-Type"] == "text/csv" and plain.data == b"1\n0\n"
        return
    assert plain.headers["Content-Type"] == "application/json" and plain.data == b"[1, 0]"
    as_npy = client.post(
        "/invocations", data="1\n", content_type="text/csv", headers={"Accept": "application/x-npy"}
    )
    assert np.load(io.BytesIO(as_npy.data)).shape == (2,)
