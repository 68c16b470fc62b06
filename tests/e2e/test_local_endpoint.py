"""The local endpoint (process engine) through boto3's sagemaker-runtime client."""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from inferpipe_testing.abalone import compose, raw_rows
from inferpipe_testing.local import EXAMPLE, endpoint_per_engine, local_endpoint

ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
ECHO_SCRIPT = """
    import json
    import os

    def model_fn(model_dir):
        return os.environ["HOP_NAME"]

    def transform_fn(model, body, content_type, accept, context):
        seen = json.loads(body) if content_type.startswith("application/vnd.hop") else []
        seen.append({"hop": model, "content_type": content_type, "accept": context.accept_header})
        return json.dumps(seen), "application/vnd.hop-" + model
"""


@pytest.fixture(scope="module", params=["process", "docker"])
def runtime(
    request: pytest.FixtureRequest, abalone_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """The abalone A/B spec on the local endpoint, once per engine."""
    yield from endpoint_per_engine(request, abalone_dir / "spec.yaml", tmp_path_factory)


def write_spec(folder: Path, document: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump({"spec_version": 1, "region": "us-east-1", **document}))
    return path


def echo_container(folder: Path, name: str) -> dict[str, Any]:
    (folder / name / "code").mkdir(parents=True, exist_ok=True)
    (folder / name / "code" / "inference.py").write_text(textwrap.dedent(ECHO_SCRIPT))
    return {
        "name": name,
        "image": "registry.example.com/echo:1",
        "artifact": name,
        "environment": {"HOP_NAME": name},
        "local": {"image": "inferpipe-preprocess:latest", "stage": "script"},
    }


def test_1000_raw_rows_equal_the_in_process_composition(runtime: Any, abalone_dir: Path) -> None:
    text = raw_rows(1000, EXAMPLE / "data" / "abalone.csv")
    answer = runtime.invoke_endpoint(
        EndpointName="abalone",
        Body=text.encode(),
        ContentType="text/csv",
        Accept="application/json",
    )
    assert answer["ContentType"] == "application/json"
    assert json.loads(answer["Body"].read())["predictions"] == compose(abalone_dir / "build", text)


def test_target_variant_call(runtime: Any) -> None:
    text = raw_rows(2, EXAMPLE / "data" / "abalone.csv")
    answer = runtime.invoke_endpoint(
        EndpointName="abalone", Body=text.encode(), ContentType="text/csv", TargetVariant="B"
    )
    assert answer["InvokedProductionVariant"] == "B"
    assert answer["ContentType"] == "text/csv"
    assert len(answer["Body"].read().decode().splitlines()) == 2


def test_bad_row_is_a_model_error_from_container_1(runtime: Any) -> None:
    with pytest.raises(runtime.exceptions.ModelError) as raised:
        runtime.invoke_endpoint(EndpointName="abalone", Body=b"M,1,2\n", ContentType="text/csv")
    response = raised.value.response
    assert response["OriginalStatusCode"] == 400
    assert "record 1 has 3 fields, expected 8" in response["OriginalMessage"]
    assert response["Error"]["Message"].startswith("Received client error (400) from container-1")
    assert response["LogStreamArn"].endswith("/aws/sagemaker/Endpoints/abalone")


def test_unknown_endpoint_is_a_validation_error(runtime: Any) -> None:
    with pytest.raises(runtime.exceptions.ValidationError, match="Endpoint nope"):
        runtime.invoke_endpoint(EndpointName="nope", Body=b"1", ContentType="text/csv")


def test_header_flow_is_sagemakers(tmp_path: Path, engine: str) -> None:
    spec = write_spec(
        tmp_path,
        {
            "endpoint": "echo",
            "models": {
                "hops": {
                    "role": ROLE,
                    "containers": [echo_container(tmp_path, n) for n in ("a", "b", "c")],
                }
            },
            "variants": [{"name": "A", "model": "hops", "instance_type": "ml.m5.large"}],
        },
    )
    with local_endpoint(spec, engine, tmp_path / "state") as client:
        answer = client.invoke_endpoint(
            EndpointName="echo",
            Body=b"1,2\n",
            ContentType="text/csv; charset=utf-8",
            Accept="application/x-client",
        )
        seen = json.loads(answer["Body"].read())
    assert seen == [
        {"hop": "a", "content_type": "text/csv", "accept": None},
        {"hop": "b", "content_type": "application/vnd.hop-a", "accept": None},
        {"hop": "c", "content_type": "application/vnd.hop-b", "accept": "application/x-client"},
    ]
    assert answer["ContentType"] == "application/vnd.hop-c"


def test_415_from_container_2_reaches_boto3_as_model_error(
    tmp_path: Path, abalone_dir: Path, engine: str
) -> None:
    spec = write_spec(
        tmp_path,
        {
            "endpoint": "mismatch",
            "models": {
                "m": {
                    "role": ROLE,
                    "containers": [
                        echo_container(tmp_path, "a"),
                        {
                            "name": "model",
                            "builtin": {"algorithm": "xgboost", "version": "1.7-1"},
                            "artifact": str(abalone_dir / "build" / "xgboost"),
                        },
                    ],
                }
            },
            "variants": [{"name": "A", "model": "m", "instance_type": "ml.m5.large"}],
        },
    )
    with (
        local_endpoint(spec, engine, tmp_path / "state") as client,
        pytest.raises(client.exceptions.ModelError) as raised,
    ):
        client.invoke_endpoint(EndpointName="mismatch", Body=b"1\n", ContentType="text/csv")
    response = raised.value.response
    assert response["OriginalStatusCode"] == 415
    assert "application/vnd.hop-a" in response["OriginalMessage"]
    assert response["Error"]["Message"].startswith("Received client error (415) from container-2")


def test_direct_mode_invokes_the_target_container(
    tmp_path: Path, abalone_dir: Path, engine: str
) -> None:
    build = abalone_dir / "build"
    spec = write_spec(
        tmp_path,
        {
            "endpoint": "direct",
            "models": {
                "m": {
                    "role": ROLE,
                    "execution_mode": "Direct",
                    "containers": [
                        {
                            "name": "pre",
                            "hostname": "pre",
                            "artifact": str(build / "preprocess"),
                            "image": f"{ECR}/inferpipe-preprocess:1",
                        },
                        {
                            "name": "post",
                            "hostname": "post",
                            "artifact": str(build / "postprocess"),
                            "image": f"{ECR}/inferpipe-postprocess:1",
                        },
                    ],
                }
            },
            "variants": [{"name": "A", "model": "m", "instance_type": "ml.m5.large"}],
        },
    )
    with local_endpoint(spec, engine, tmp_path / "state") as client:
        answer = client.invoke_endpoint(
            EndpointName="direct",
            Body=b"7.5\n12\n",
            ContentType="text/csv",
            Accept="application/json",
            TargetContainerHostname="post",
        )
        assert json.loads(answer["Body"].read())["predictions"] == [
            {"rings": 7.5, "age_band": "young"},
            {"rings": 12.0, "age_band": "old"},
        ]
        with pytest.raises(client.exceptions.ValidationError, match="Direct mode"):
            client.invoke_endpoint(EndpointName="direct", Body=b"1\n", ContentType="text/csv")


def test_90_10_weights_split_within_tolerance_over_2000_calls(tmp_path: Path, engine: str) -> None:
    spec = write_spec(
        tmp_path,
        {
            "endpoint": "ab",
            "models": {"one": {"role": ROLE, "containers": [echo_container(tmp_path, "a")]}},
            "variants": [
                {"name": "A", "model": "one", "instance_type": "ml.m5.large", "weight": 9},
                {"name": "B", "model": "one", "instance_type": "ml.m5.large", "weight": 1},
            ],
        },
    )
    with local_endpoint(spec, engine, tmp_path / "state") as client:
        split = Counter(
            client.invoke_endpoint(EndpointName="ab", Body=b"1", ContentType="text/csv")[
                "InvokedProductionVariant"
            ]
            for _ in range(2000)
        )
    assert abs(split["A"] - 1800) < 54 and split["A"] + split["B"] == 2000
