"""deploy, traffic, import and teardown against a local AWS API through the real boto3 client.

The local API (moto) has no UpdateEndpoint and drops InferenceExecutionConfig, so the
update request is checked against botocore's service model instead.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from inferpipe_testing.aws import DUMMY_CREDENTIALS, moto_server

from inferpipe.cli import main
from inferpipe.pipeline_spec.botocore_check import check_request
from inferpipe.pipeline_spec.deploy import render_update_endpoint
from inferpipe.pipeline_spec.importer import import_endpoint
from inferpipe.pipeline_spec.loader import load_spec, parse_spec
from inferpipe.pipeline_spec.package import package_spec
from inferpipe.pipeline_spec.render_aws import render_requests

ROOT = Path(__file__).resolve().parents[3]
BUCKET = "sagemaker-us-east-1-123456789012"


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "examples" / "abalone" / "spec.yaml", tmp_path / "spec.yaml")
    for name in ("preprocess", "xgboost", "postprocess"):
        (tmp_path / "build" / name).mkdir(parents=True)
        (tmp_path / "build" / name / "model.joblib").write_bytes(name.encode())
    return tmp_path


@pytest.fixture()
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with moto_server() as url:
        for key, value in {**DUMMY_CREDENTIALS, "AWS_ENDPOINT_URL": url}.items():
            monkeypatch.setenv(key, value)
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield url


def deploy(workdir: Path, *extra: str) -> int:
    return main(
        [
            "deploy",
            str(workdir / "spec.yaml"),
            "--build-dir",
            str(workdir / "art"),
            "--poll-seconds",
            "0.05",
            *extra,
        ]
    )


def test_deploy_creates_what_the_spec_says_and_reruns_change_nothing(
    workdir: Path, aws: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy(workdir) == 0
    out = capsys.readouterr()
    assert "instances: A: 1 x ml.m5.large, B: 1 x ml.c5.large" in out.err
    assert "endpoint: create" in out.out
    _, packaged = package_spec(load_spec(workdir / "spec.yaml"), workdir, workdir / "art")
    expected = render_requests(packaged)
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    endpoint = sagemaker.describe_endpoint(EndpointName="abalone")
    assert endpoint["EndpointStatus"] == "InService"
    assert endpoint["EndpointConfigName"] == expected["CreateEndpointConfig"]["EndpointConfigName"]
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    assert [
        (v["VariantName"], v["InstanceType"], v["InitialVariantWeight"])
        for v in config["ProductionVariants"]
    ] == [("A", "ml.m5.large", 0.9), ("B", "ml.c5.large", 0.1)]
    model = sagemaker.describe_model(ModelName=expected["CreateModel"][0]["ModelName"])
    for sent, stored in zip(
        expected["CreateModel"][0]["Containers"], model["Containers"], strict=True
    ):
        assert stored["Image"] == sent["Image"]
        assert stored["ModelDataUrl"] == sent["ModelDataUrl"]
        assert stored.get("Environment", {}) == sent.get("Environment", {})
        key = sent["ModelDataUrl"].split("/", 3)[3]
        assert boto3.client("s3").head_object(Bucket=BUCKET, Key=key)["ContentLength"] > 0
    scaling = boto3.client("application-autoscaling", region_name="us-east-1")
    targets = scaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert [(t["ResourceId"], t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [
        ("endpoint/abalone/variant/A", 1, 4)
    ]
    policy = scaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"]
    assert policy[0]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 1200.0

    assert deploy(workdir) == 0
    again = capsys.readouterr().out
    assert "created:" not in again and "endpoint: unchanged" in again


def test_dry_run_creates_nothing(
    workdir: Path, aws: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy(workdir, "--dry-run") == 0
    assert "would create: model abalone-v1-" in capsys.readouterr().out
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert sagemaker.list_models()["Models"] == []


def test_traffic_import_and_teardown(
    workdir: Path, aws: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy(workdir) == 0
    spec_path = str(workdir / "spec.yaml")
    assert main(["traffic", spec_path, "--weights", "A=0.5,B=0.5"]) == 0
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    variants = sagemaker.describe_endpoint(EndpointName="abalone")["ProductionVariants"]
    assert {v["VariantName"]: v["DesiredWeight"] for v in variants} == {"A": 0.5, "B": 0.5}
    assert main(["traffic", spec_path, "--weights", "C=1"]) == 2

    document = import_endpoint(
        "abalone",
        "us-east-1",
        sagemaker,
        boto3.client("application-autoscaling", region_name="us-east-1"),
    )
    imported = parse_spec(yaml.safe_load(yaml.safe_dump(document)))
    assert [v.name for v in imported.variants] == ["A", "B"]
    assert imported.variants[0].autoscaling is not None
    assert imported.variants[0].autoscaling.target_value == 1200.0
    containers = next(iter(imported.models.values())).containers
    assert containers[1].builtin is not None and containers[1].builtin.version == "1.7-1"

    capsys.readouterr()
    assert main(["teardown", spec_path]) == 0
    removed = capsys.readouterr().out
    assert "removed: endpoint abalone" in removed and "removed: model abalone-v1-" in removed
    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert sagemaker.list_models()["Models"] == []
    assert main(["teardown", spec_path]) == 0
    assert "nothing to remove" in capsys.readouterr().out


def test_update_request_with_rollback_alarms_passes_botocore() -> None:
    spec = load_spec(ROOT / "examples" / "abalone" / "spec.yaml")
    request = render_update_endpoint(spec, "abalone-12345678", alarms=["abalone-5xx"])
    assert request["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"] == [
        {"AlarmName": "abalone-5xx"}
    ]
    assert check_request("UpdateEndpoint", request) == []


class FailingSageMaker:
    """DescribeEndpoint as SageMaker answers it for a failed deployment (a process edge)."""

    def describe_endpoint(self, EndpointName: str) -> dict[str, str]:
        return {
            "EndpointStatus": "Failed",
            "FailureReason": "The primary container for production variant A did not "
            "pass the ping health check.",
        }


def test_failed_endpoint_reports_the_reason_and_the_log_group() -> None:
    from inferpipe.pipeline_spec.deploy import wait_in_service
    from inferpipe.pipeline_spec.errors import DeployError

    progress: list[str] = []
    with pytest.raises(DeployError) as raised:
        wait_in_service(FailingSageMaker(), "abalone", progress.append, poll_seconds=0)
    assert "did not pass the ping health check" in raised.value.message
    assert "/aws/sagemaker/Endpoints/abalone" in raised.value.message
    assert progress == ["endpoint abalone: Failed (0 s)"]


class UpdatingSageMaker:
    """Just enough of SageMaker for the update path, which the local AWS API lacks.

    It records calls; `roll_back` makes the endpoint come back on its old config.
    """

    def __init__(self, old_config: str, roll_back: bool = False) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.config = old_config
        self.roll_back = roll_back
        self.configs = {
            old_config: {
                "ProductionVariants": [
                    {"VariantName": "A", "ModelName": "abalone-v1-old"},
                    {"VariantName": "old-variant", "ModelName": "abalone-v1-old"},
                ]
            }
        }

    def _record(self, name: str, **kwargs: Any) -> None:
        self.calls.append((name, kwargs))

    def describe_model(self, ModelName: str) -> dict[str, Any]:
        raise _not_found()

    def create_model(self, **kwargs: Any) -> None:
        self._record("create_model", **kwargs)

    def describe_endpoint_config(self, EndpointConfigName: str) -> dict[str, Any]:
        if EndpointConfigName in self.configs:
            return self.configs[EndpointConfigName]
        raise _not_found()

    def create_endpoint_config(self, **kwargs: Any) -> None:
        self._record("create_endpoint_config", **kwargs)

    def describe_endpoint(self, EndpointName: str) -> dict[str, Any]:
        return {
            "EndpointStatus": "InService",
            "EndpointConfigName": self.config,
            "ProductionVariants": [{"VariantName": "A"}, {"VariantName": "old-variant"}],
        }

    def update_endpoint(self, **kwargs: Any) -> None:
        self._record("update_endpoint", **kwargs)
        if not self.roll_back:
            self.config = kwargs["EndpointConfigName"]

    def delete_endpoint_config(self, **kwargs: Any) -> None:
        self._record("delete_endpoint_config", **kwargs)

    def delete_model(self, **kwargs: Any) -> None:
        self._record("delete_model", **kwargs)


class RecordingAutoscaling:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        return lambda **kwargs: self.calls.append((name, kwargs))


def _not_found() -> Exception:
    from botocore.exceptions import ClientError

    return ClientError(
        {"Error": {"Code": "ValidationException", "Message": "Could not find it"}}, "Describe"
    )


def _packaged_example(tmp_path: Path) -> Any:
    for name in ("preprocess", "xgboost", "postprocess"):
        (tmp_path / "build" / name).mkdir(parents=True)
        (tmp_path / "build" / name / "model.joblib").write_bytes(name.encode())
    return package_spec(
        load_spec(ROOT / "examples" / "abalone" / "spec.yaml"), tmp_path, tmp_path / "art"
    )[1]


def test_update_deregisters_running_variants_switches_and_removes_what_it_replaced(
    tmp_path: Path,
) -> None:
    from inferpipe.pipeline_spec.deploy import deploy_spec

    spec = _packaged_example(tmp_path)
    sagemaker, autoscaling = UpdatingSageMaker("abalone-old"), RecordingAutoscaling()
    report = deploy_spec(
        spec, sagemaker, autoscaling, lambda m: None, poll_seconds=0, alarms=["abalone-5xx"]
    )
    assert report.endpoint_action == "update"
    names = [name for name, _ in sagemaker.calls]
    assert names == [
        "create_model",
        "create_endpoint_config",
        "update_endpoint",
        "delete_endpoint_config",
        "delete_model",
    ]
    update = dict(sagemaker.calls)["update_endpoint"]
    assert check_request("UpdateEndpoint", update) == []
    assert update["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"] == [
        {"AlarmName": "abalone-5xx"}
    ]
    deregistered = [
        kw["ResourceId"] for name, kw in autoscaling.calls if name == "deregister_scalable_target"
    ]
    assert deregistered == ["endpoint/abalone/variant/A", "endpoint/abalone/variant/old-variant"]
    assert "register_scalable_target" in [name for name, _ in autoscaling.calls]
    assert report.removed == ["endpoint config abalone-old", "model abalone-v1-old"]


def test_a_rolled_back_update_is_reported_and_nothing_is_removed(tmp_path: Path) -> None:
    from inferpipe.pipeline_spec.deploy import deploy_spec
    from inferpipe.pipeline_spec.errors import DeployError

    sagemaker = UpdatingSageMaker("abalone-old", roll_back=True)
    with pytest.raises(DeployError, match="rolled back to abalone-old"):
        deploy_spec(
            _packaged_example(tmp_path),
            sagemaker,
            RecordingAutoscaling(),
            lambda m: None,
            poll_seconds=0,
        )
    assert "delete_model" not in [name for name, _ in sagemaker.calls]
