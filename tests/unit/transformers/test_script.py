from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from inferpipe.protocol.errors import ArtifactError
from inferpipe.serving import create_app
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage_loader import load_stage


def script_client(tmp_path: Path, source: str, **env: str) -> FlaskClient:
    (tmp_path / "code").mkdir(exist_ok=True)
    (tmp_path / "code" / "inference.py").write_text(textwrap.dedent(source))
    settings = ServingSettings.from_environ(
        {k.upper(): v for k, v in env.items()}, model_dir=tmp_path
    )
    return create_app(load_stage(settings), settings).test_client()


FOUR_HOOKS = """
    import json

    def model_fn(model_dir):
        return {"factor": 2}

    def input_fn(body, content_type):
        assert isinstance(body, str), type(body)
        return [float(x) for x in body.split(",")]

    def predict_fn(data, model):
        return [x * model["factor"] for x in data]

    def output_fn(prediction, accept):
        return json.dumps(prediction), "application/json"
"""


def test_four_hooks_run_like_sagemaker_framework_containers(tmp_path: Path) -> None:
    client = script_client(tmp_path, FOUR_HOOKS)
    response = client.post("/invocations", data="1,2.5", content_type="text/csv; charset=utf-8")
    assert response.status_code == 200
    assert response.get_json() == [2.0, 5.0]
    assert response.headers["Content-Type"] == "application/json"


def test_transform_fn_with_context_gets_raw_types(tmp_path: Path) -> None:
    client = script_client(
        tmp_path,
        """
        def model_fn(model_dir, context):
            return model_dir

        def transform_fn(model, body, content_type, accept, context):
            return f"{content_type}|{accept}|{context.request_id}|{body}"
    """,
    )
    response = client.post(
        "/invocations",
        data="x",
        content_type="text/csv",
        headers={"Accept": "text/plain", "X-Amzn-SageMaker-Inference-Id": "req-1"},
    )
    assert response.data == b"text/csv|text/plain|req-1|x"
    assert response.headers["Content-Type"] == "text/plain"


def test_default_hooks_decode_predict_and_encode(tmp_path: Path, classifier_dir: Path) -> None:
    (tmp_path / "model.joblib").write_bytes((classifier_dir / "model.joblib").read_bytes())
    client = script_client(tmp_path, "# only defaults\n")
    response = client.post(
        "/invocations", data="3,3\n-3,-3\n", content_type="text/csv", headers={"Accept": "text/csv"}
    )
    assert response.data == b"1\n0\n"
    # Without Accept the answer is JSON, as in AWS's framework containers (#10).
    answer = client.post("/invocations", data="3,3\n-3,-3\n", content_type="text/csv")
    assert answer.headers["Content-Type"] == "application/json" and answer.get_json() == [1, 0]


def test_hook_error_with_status_code_becomes_that_4xx(tmp_path: Path) -> None:
    client = script_client(
        tmp_path,
        """
        class UnsupportedFormat(Exception):
            status_code = 415

        def model_fn(model_dir):
            return None

        def input_fn(body, content_type):
            raise UnsupportedFormat("this script wants JSON")
    """,
    )
    response = client.post("/invocations", data="1", content_type="text/csv")
    assert response.status_code == 415
    assert response.get_json()["message"] == "this script wants JSON"
    assert response.get_json()["stage"] == "script"


def test_hook_raising_bad_input_gets_400(tmp_path: Path) -> None:
    client = script_client(
        tmp_path,
        """
        from inferpipe.serving import BadInput

        def model_fn(model_dir):
            return None

        def transform_fn(model, body, content_type, accept):
            raise BadInput("field 'age' must be positive")
    """,
    )
    response = client.post("/invocations", data="1", content_type="text/csv")
    assert response.status_code == 400 and "age" in response.get_json()["message"]


def test_crashing_hook_is_500_and_the_worker_keeps_serving(tmp_path: Path) -> None:
    client = script_client(
        tmp_path,
        """
        def model_fn(model_dir):
            return None

        def transform_fn(model, body, content_type, accept):
            if body == "boom":
                raise KeyError("internal")
            return body
    """,
    )
    assert client.post("/invocations", data="boom", content_type="text/csv").status_code == 500
    assert client.post("/invocations", data="ok", content_type="text/csv").data == b"ok"


def test_transform_fn_mixed_with_input_fn_fails_at_load(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="keep one style"):
        script_client(
            tmp_path,
            """
            def model_fn(d): return None
            def input_fn(b, c): return b
            def transform_fn(m, b, c, a): return b
        """,
        )


def test_hook_with_wrong_arity_fails_at_load(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="predict_fn takes 1 arguments"):
        script_client(
            tmp_path,
            """
            def model_fn(d): return None
            def predict_fn(data): return data
        """,
        )


def test_script_that_fails_to_import_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"inference.py failed to import: ZeroDivisionError"):
        script_client(tmp_path, "1 / 0\n")


def test_helper_modules_next_to_the_script_import(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "helper_mod_xyz.py").write_text("FACTOR = 3\n")
    client = script_client(
        tmp_path,
        """
        from helper_mod_xyz import FACTOR

        def model_fn(d): return FACTOR
        def transform_fn(model, body, content_type, accept): return str(model)
    """,
    )
    assert client.post("/invocations", data="x", content_type="text/csv").data == b"3"


def test_requirements_are_not_installed_unless_opted_in(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "requirements.txt").write_text("package-that-does-not-exist-xyz\n")
    client = script_client(
        tmp_path,
        """
        def model_fn(d): return None
        def transform_fn(model, body, content_type, accept): return body
    """,
    )
    assert client.post("/invocations", data="x", content_type="text/csv").status_code == 200
