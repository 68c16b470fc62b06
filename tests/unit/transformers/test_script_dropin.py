"""AWS-style serving scripts run unchanged in the script stage (issue #10): toolkit
imports answered by our stand-ins, response objects, the toolkit's default output."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import io
import json
import shutil
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from flask.testing import FlaskClient
from inferpipe_testing.abalone import FEATURES, raw_rows
from inferpipe_testing.local import abalone_train_module

from inferpipe.serving import create_app
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage_loader import load_stage
from inferpipe.transformers._script_io import COMPAT_DIR, COMPAT_PACKAGES

SCRIPTS = Path(__file__).resolve().parents[2] / "data" / "scripts"


def serve_script(model_dir: Path, script: str | Path, **env: str) -> FlaskClient:
    """The script as code/inference.py of a model dir holding the abalone featurizer."""
    (model_dir / "code").mkdir(parents=True, exist_ok=True)
    target = model_dir / "code" / "inference.py"
    if isinstance(script, Path):
        shutil.copy(script, target)
    else:
        target.write_text(textwrap.dedent(script))
    settings = ServingSettings.from_environ(env, model_dir=model_dir)
    return create_app(load_stage(settings), settings).test_client()


class _WithoutRealToolkit(importlib.abc.MetaPathFinder):
    """Hides AWS's installed toolkit, as in the images: only our stand-ins import."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname.split(".")[0] not in COMPAT_PACKAGES:
            return None
        search = list(path) if path else [p for p in sys.path if p == str(COMPAT_DIR)]
        spec = importlib.machinery.PathFinder.find_spec(fullname, search)
        if spec is None:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return spec


@pytest.fixture(autouse=True)
def without_real_toolkit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    saved = {m: sys.modules.pop(m) for m in list(sys.modules) if m.split(".")[0] in COMPAT_PACKAGES}
    monkeypatch.setattr(sys, "meta_path", [_WithoutRealToolkit(), *sys.meta_path])
    yield
    for name in [m for m in sys.modules if m.split(".")[0] in COMPAT_PACKAGES]:
        del sys.modules[name]
    sys.modules.update(saved)


@pytest.fixture()
def featurizer_dir(tmp_path: Path, abalone_dir: Path) -> Path:
    shutil.copy(abalone_dir / "build" / "preprocess" / "model.joblib", tmp_path / "model.joblib")
    return tmp_path


def _expected_features(abalone_dir: Path, csv_text: str) -> np.ndarray:
    frame = pd.read_csv(io.StringIO(csv_text), header=None, names=FEATURES)
    model = joblib.load(abalone_dir / "build" / "preprocess" / "model.joblib")
    return np.asarray(model.transform(frame), dtype=np.float64)


@pytest.mark.parametrize("script", ["featurizer_inference.py", "featurizer_containers.py"])
def test_aws_style_featurizer_answers_json_and_csv(
    script: str, featurizer_dir: Path, abalone_dir: Path
) -> None:
    client = serve_script(featurizer_dir, SCRIPTS / script)
    rows = _abalone_rows(5)
    expected = _expected_features(abalone_dir, rows)

    as_json = client.post("/invocations", data=rows, content_type="text/csv")
    assert as_json.status_code == 200, as_json.data
    assert as_json.headers["Content-Type"] == "application/json"
    got = [instance["features"] for instance in as_json.get_json()["instances"]]
    np.testing.assert_allclose(got, expected, rtol=1e-12)

    as_csv = client.post(
        "/invocations", data=rows, content_type="text/csv", headers={"Accept": "text/csv"}
    )
    assert as_csv.status_code == 200 and as_csv.headers["Content-Type"] == "text/csv"
    np.testing.assert_allclose(
        np.loadtxt(io.StringIO(as_csv.data.decode()), delimiter=","), expected
    )


def _abalone_rows(count: int) -> str:
    return raw_rows(count, abalone_train_module().DATA)


def test_default_accept_follows_sagemaker_default_invocations_accept(featurizer_dir: Path) -> None:
    client = serve_script(
        featurizer_dir,
        SCRIPTS / "featurizer_inference.py",
        SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT="text/csv",
    )
    response = client.post("/invocations", data=_abalone_rows(2), content_type="text/csv")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv"


def test_a_json_only_output_fn_works_for_csv_requests_without_accept(tmp_path: Path) -> None:
    client = serve_script(
        tmp_path,
        """
        import json

        def model_fn(model_dir):
            return None

        def predict_fn(data, model):
            return data.tolist()

        def output_fn(prediction, accept):
            if accept != "application/json":
                raise RuntimeError(accept)
            return json.dumps(prediction)
        """,
    )
    response = client.post("/invocations", data="1,2\n", content_type="text/csv")
    assert response.status_code == 200 and response.get_json() == [[1, 2]]


@pytest.mark.parametrize(
    ("prediction", "expected"),
    [
        ("{'label': 'yes', 'score': np.float64(0.75)}", {"label": "yes", "score": 0.75}),
        ("np.int64(7)", 7),
        ("[{'a': 1}, {'a': 2}]", [{"a": 1}, {"a": 2}]),
        ("np.array([0.5, 1.5])", [0.5, 1.5]),
    ],
)
def test_any_json_serialisable_prediction_is_encoded_like_the_toolkit(
    tmp_path: Path, prediction: str, expected: object
) -> None:
    client = serve_script(
        tmp_path,
        f"""
        import numpy as np

        def model_fn(model_dir):
            return None

        def predict_fn(data, model):
            return {prediction}
        """,
    )
    response = client.post("/invocations", data="1\n", content_type="text/csv")
    assert response.status_code == 200, response.data
    assert response.get_json() == expected


def test_accept_list_picks_the_first_type_the_default_output_writes(tmp_path: Path) -> None:
    client = serve_script(
        tmp_path,
        """
        import numpy as np

        def model_fn(model_dir):
            return None

        def predict_fn(data, model):
            return np.array([1.5, 2.5])
        """,
    )
    response = client.post(
        "/invocations",
        data="1\n",
        content_type="text/csv",
        headers={"Accept": "unsupported/type, text/csv"},
    )
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv"
    assert response.data == b"1.5\n2.5\n"


def test_1d_npy_predictions_keep_their_shape(tmp_path: Path) -> None:
    client = serve_script(
        tmp_path,
        """
        import numpy as np

        def model_fn(model_dir):
            return None

        def predict_fn(data, model):
            return np.array([0.25, 0.75, 1.0])
        """,
    )
    response = client.post(
        "/invocations", data="1\n", content_type="text/csv", headers={"Accept": "application/x-npy"}
    )
    array = np.load(io.BytesIO(response.data), allow_pickle=False)
    assert array.shape == (3,) and array.tolist() == [0.25, 0.75, 1.0]


def test_response_with_a_4xx_status_is_that_client_error(tmp_path: Path) -> None:
    client = serve_script(
        tmp_path,
        """
        import flask

        def model_fn(model_dir):
            return None

        def transform_fn(model, body, content_type, accept):
            return flask.Response(response="no rows for you", status=422, mimetype="text/plain")
        """,
    )
    response = client.post("/invocations", data="1\n", content_type="text/csv")
    assert response.status_code == 422
    assert response.get_json()["message"] == "no rows for you"


def test_compat_decoder_refuses_pickled_npy(tmp_path: Path) -> None:
    client = serve_script(
        tmp_path,
        """
        from sagemaker_inference import decoder

        def model_fn(model_dir):
            return None

        def input_fn(body, content_type):
            return decoder.decode(body, content_type)

        def predict_fn(data, model):
            return data
        """,
    )
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    response = client.post("/invocations", data=buffer.getvalue(), content_type="application/x-npy")
    assert (
        response.status_code == 400
        and "object arrays are refused" in response.get_json()["message"]
    )


def test_scripts_bring_your_own_model_defaults(featurizer_dir: Path, classifier_dir: Path) -> None:
    shutil.copy(classifier_dir / "model.joblib", featurizer_dir / "model.joblib")
    client = serve_script(featurizer_dir, SCRIPTS / "byo_model.py")
    response = client.post("/invocations", data="3,3\n-3,-3\n", content_type="text/csv")
    assert response.status_code == 200 and json.loads(response.data) == [1, 0]


def test_output_fn_returning_a_dict_answers_json(tmp_path: Path) -> None:
    client = serve_script(
        tmp_path,
        """
        import numpy as np

        def model_fn(model_dir):
            return None

        def predict_fn(data, model):
            return np.array([2, 3])

        def output_fn(prediction, accept):
            return {"predictions": prediction.tolist()}
        """,
    )
    response = client.post("/invocations", data="1\n", content_type="text/csv")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    assert response.get_json() == {"predictions": [2, 3]}
