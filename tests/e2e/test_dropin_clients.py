"""Drop-in (issue #10) end to end: an AWS-style featurizer script in front of the
built-in XGBoost hop on both engines, and the SageMaker Python SDK's Predictor (v2) and
sagemaker-core's Endpoint.invoke as the clients."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
import xgboost
import yaml
from inferpipe_testing.abalone import FEATURES, raw_rows
from inferpipe_testing.local import abalone_train_module, endpoint_per_engine, local_endpoint

SCRIPTS = Path(__file__).resolve().parents[1] / "data" / "scripts"
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def featurizer_spec(abalone_dir: Path, folder: Path) -> Path:
    """script (AWS-style featurizer) -> built-in XGBoost, variants A and B."""
    build = abalone_dir / "build"
    (folder / "featurizer" / "code").mkdir(parents=True, exist_ok=True)
    shutil.copy(build / "preprocess" / "model.joblib", folder / "featurizer" / "model.joblib")
    shutil.copy(
        SCRIPTS / "featurizer_inference.py", folder / "featurizer" / "code" / "inference.py"
    )
    shutil.copytree(build / "xgboost", folder / "xgboost", dirs_exist_ok=True)
    document = {
        "spec_version": 1,
        "endpoint": "featurized",
        "region": "us-east-1",
        "models": {
            "m": {
                "role": "arn:aws:iam::123456789012:role/SageMakerExecution",
                "containers": [
                    {
                        "name": "featurizer",
                        "image": f"{ECR}/inferpipe-preprocess:0.1.0",
                        "artifact": "featurizer",
                        "emits": "text/csv",
                    },
                    {
                        "name": "model",
                        "builtin": {"algorithm": "xgboost", "version": "1.7-1"},
                        "artifact": "xgboost",
                        "accepts": "text/csv",
                    },
                ],
            }
        },
        "variants": [
            {"name": "A", "model": "m", "instance_type": "ml.m5.large", "weight": 0.5},
            {"name": "B", "model": "m", "instance_type": "ml.m5.large", "weight": 0.5},
        ],
    }
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def composed_scores(abalone_dir: Path, csv_text: str) -> np.ndarray:
    """The featurizer and the booster composed in this process: the oracle."""
    frame = pd.read_csv(io.StringIO(csv_text), header=None, names=FEATURES)
    features = joblib.load(abalone_dir / "build" / "preprocess" / "model.joblib").transform(frame)
    booster = xgboost.Booster()
    booster.load_model(
        bytearray((abalone_dir / "build" / "xgboost" / "xgboost-model").read_bytes())
    )
    return booster.predict(xgboost.DMatrix(np.asarray(features, dtype=np.float64)))


@pytest.fixture(scope="module", params=["process", "docker"])
def featurized(
    request: pytest.FixtureRequest, abalone_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    spec = featurizer_spec(abalone_dir, tmp_path_factory.mktemp("featurized"))
    yield from endpoint_per_engine(request, spec, tmp_path_factory)


def test_aws_style_featurizer_before_xgboost_equals_the_composition(
    featurized: Any, abalone_dir: Path
) -> None:
    rows = raw_rows(200, abalone_train_module().DATA)
    answer = featurized.invoke_endpoint(
        EndpointName="featurized", ContentType="text/csv", Body=rows
    )
    scores = np.loadtxt(io.StringIO(answer["Body"].read().decode()))
    np.testing.assert_allclose(scores, composed_scores(abalone_dir, rows), rtol=1e-6)


@pytest.fixture(scope="module")
def sdk_endpoint(
    abalone_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, str]]:
    """The featurized spec on the process engine, with the front's URL for SDK clients."""
    spec = featurizer_spec(abalone_dir, tmp_path_factory.mktemp("sdk"))
    with local_endpoint(spec, "process", tmp_path_factory.mktemp("state")) as client:
        yield client, client.front_url


@pytest.fixture(autouse=True)
def quiet_sdk_v2(monkeypatch: pytest.MonkeyPatch) -> None:
    """SDK v2 warns about its deprecation on every object (and warnings fail the suite)."""
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")


def _predictor(client: Any, **kwargs: Any) -> Any:
    import boto3
    import sagemaker
    from sagemaker.predictor import Predictor

    session = sagemaker.Session(
        boto_session=boto3.Session(region_name="us-east-1"),
        sagemaker_runtime_client=client,
    )
    return Predictor("featurized", sagemaker_session=session, **kwargs)


def test_sdk_predictor_with_csv_numpy_and_pandas(
    sdk_endpoint: tuple[Any, str], abalone_dir: Path
) -> None:
    from sagemaker.deserializers import CSVDeserializer, NumpyDeserializer, PandasDeserializer
    from sagemaker.serializers import CSVSerializer

    client, _ = sdk_endpoint
    rows = raw_rows(20, abalone_train_module().DATA)
    expected = composed_scores(abalone_dir, rows)
    records = [line.split(",") for line in rows.splitlines()]

    as_csv = _predictor(client, serializer=CSVSerializer(), deserializer=CSVDeserializer())
    got = as_csv.predict(records, target_variant="B")
    np.testing.assert_allclose([float(r[0]) for r in got], expected, rtol=1e-6)

    as_numpy = _predictor(
        client, serializer=CSVSerializer(), deserializer=NumpyDeserializer(accept="text/csv")
    )
    np.testing.assert_allclose(as_numpy.predict(rows).reshape(-1), expected, rtol=1e-6)

    as_pandas = _predictor(
        client,
        serializer=CSVSerializer(),
        deserializer=PandasDeserializer(accept="text/csv"),
    )
    frame = as_pandas.predict(rows)
    scores = np.concatenate([[float(frame.columns[0])], frame.iloc[:, 0].to_numpy(np.float64)])
    np.testing.assert_allclose(scores, expected, rtol=1e-6)


def test_sdk_predictor_json_and_json_lines_through_the_script(
    sdk_endpoint: tuple[Any, str],
) -> None:
    """A target variant, and the featurizer's own JSON (`{"instances": ...}`) asked for."""
    from sagemaker.deserializers import JSONDeserializer, JSONLinesDeserializer
    from sagemaker.serializers import CSVSerializer

    client, _ = sdk_endpoint
    rows = raw_rows(3, abalone_train_module().DATA)
    predictor = _predictor(client, serializer=CSVSerializer(), deserializer=JSONDeserializer())
    # The last container (XGBoost) answers JSON when the client asks for it.
    answer = predictor.predict(rows, target_variant="A")
    assert [list(p) for p in answer["predictions"]] == [["score"]] * 3
    lines = _predictor(
        client, serializer=CSVSerializer(), deserializer=JSONLinesDeserializer()
    ).predict(rows)
    assert len(lines) == 3 and all(set(line) == {"score"} for line in lines)


def test_sklearn_predictor_style_npy_round_trip(tmp_path: Path, classifier_dir: Path) -> None:
    """SKLearnPredictor's defaults (npy in, npy out) against a script with default hooks."""
    from sagemaker.deserializers import JSONDeserializer, NumpyDeserializer
    from sagemaker.serializers import JSONLinesSerializer, JSONSerializer, NumpySerializer

    model = tmp_path / "byo"
    (model / "code").mkdir(parents=True)
    shutil.copy(classifier_dir / "model.joblib", model / "model.joblib")
    shutil.copy(SCRIPTS / "byo_model.py", model / "code" / "inference.py")
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "spec_version": 1,
                "endpoint": "featurized",
                "region": "us-east-1",
                "models": {
                    "m": {
                        "role": "arn:aws:iam::123456789012:role/SageMakerExecution",
                        "containers": [
                            {
                                "name": "sk",
                                "image": f"{ECR}/inferpipe-preprocess:0.1.0",
                                "artifact": "byo",
                            }
                        ],
                    }
                },
                "variants": [{"name": "A", "model": "m", "instance_type": "ml.m5.large"}],
            }
        )
    )
    rows = [[3.0, 3.0], [-3.0, -3.0], [2.0, 2.5]]
    with local_endpoint(spec, "process", tmp_path / "state") as client:
        predictor = _predictor(
            client, serializer=NumpySerializer(), deserializer=NumpyDeserializer()
        )
        answer = predictor.predict(np.array(rows))
        as_json = _predictor(
            client, serializer=JSONSerializer(), deserializer=JSONDeserializer()
        ).predict(rows)
        as_lines = _predictor(
            client, serializer=JSONLinesSerializer(), deserializer=JSONDeserializer()
        ).predict(rows)
    assert answer.shape == (3,) and answer.tolist() == [1, 0, 1]
    # The script stage answers JSON by default, as AWS's scikit-learn container does.
    assert as_json == [1, 0, 1] and as_lines == [1, 0, 1]


def test_sagemaker_core_endpoint_invoke(
    sdk_endpoint: tuple[Any, str], abalone_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What SDK v3 users call: sagemaker-core's Endpoint.invoke, pointed at the front."""
    _, url = sdk_endpoint
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", url)
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    from sagemaker_core.main.resources import Endpoint

    rows = raw_rows(4, abalone_train_module().DATA)
    endpoint = Endpoint(endpoint_name="featurized")
    answer = endpoint.invoke(body=rows, content_type="text/csv", accept="application/json")
    document = json.loads(answer.body.read())
    got = [p["score"] for p in document["predictions"]]
    np.testing.assert_allclose(got, composed_scores(abalone_dir, rows), rtol=1e-6)
