"""Deploy a packaged spec with boto3: create what is new, switch the endpoint, remove what
it replaced, then register autoscaling. Idempotent: a re-run with no change does nothing.

Models and endpoint configs are immutable in SageMaker, so their names carry a content
hash (render_aws) and a change means new resources plus UpdateEndpoint.
https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails.html
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from inferpipe.pipeline_spec.aws_clients import delete_if_present, is_not_found
from inferpipe.pipeline_spec.errors import DeployError, SpecError
from inferpipe.pipeline_spec.model import PipelineSpec
from inferpipe.pipeline_spec.render_aws import (
    SCALABLE_DIMENSION,
    render_requests,
    render_update_weights,
)

Progress = Callable[[str], None]


@dataclass
class DeployReport:
    """What a deploy did (or, with dry_run, would do)."""

    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    endpoint_action: str = "none"


def cost_line(spec: PipelineSpec) -> str:
    """Instance types times counts per variant, printed before anything is created."""
    parts = []
    for variant in spec.variants:
        if variant.serverless is not None:
            parts.append(
                f"{variant.name}: serverless {variant.serverless.memory_size_mb} MB "
                f"x {variant.serverless.max_concurrency} concurrent"
            )
        else:
            role = " (shadow)" if variant.shadow else ""
            parts.append(
                f"{variant.name}{role}: {variant.instance_count} x {variant.instance_type}"
            )
    return "instances: " + ", ".join(parts)


def _exists(describe: Callable[..., Any], **name: str) -> dict[str, Any] | None:
    try:
        return dict(describe(**name))
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise DeployError(f"{next(iter(name.values()))}: {exc}") from exc


def render_update_endpoint(
    spec: PipelineSpec, config_name: str, alarms: list[str] | None = None
) -> dict[str, Any]:
    """UpdateEndpoint, with auto-rollback on the given CloudWatch alarms."""
    request: dict[str, Any] = {"EndpointName": spec.endpoint, "EndpointConfigName": config_name}
    if alarms:
        request["DeploymentConfig"] = {
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": a} for a in alarms]}
        }
    return request


def wait_in_service(
    sagemaker: Any,
    endpoint: str,
    progress: Progress,
    poll_seconds: float = 15,
    timeout_seconds: float = 3600,
) -> None:
    """Poll DescribeEndpoint until InService; on Failed, raise with the reason and log group."""
    started = time.monotonic()
    while True:
        described = sagemaker.describe_endpoint(EndpointName=endpoint)
        status = described["EndpointStatus"]
        elapsed = time.monotonic() - started
        progress(f"endpoint {endpoint}: {status} ({elapsed:.0f} s)")
        if status == "InService":
            return
        if status in {"Failed", "OutOfService"}:
            raise DeployError(
                f"endpoint {endpoint} is {status}: "
                f"{described.get('FailureReason', 'no reason given')}; read the "
                f"container logs in CloudWatch log group "
                f"/aws/sagemaker/Endpoints/{endpoint}"
            )
        if elapsed > timeout_seconds:
            raise DeployError(f"endpoint {endpoint} still {status} after {timeout_seconds:.0f} s")
        time.sleep(poll_seconds)


def _wait_deleted(
    sagemaker: Any, endpoint: str, poll_seconds: float, timeout_seconds: float = 1800
) -> None:
    started = time.monotonic()
    while _exists(sagemaker.describe_endpoint, EndpointName=endpoint) is not None:
        if time.monotonic() - started > timeout_seconds:
            raise DeployError(f"endpoint {endpoint} was not deleted in {timeout_seconds:.0f} s")
        time.sleep(poll_seconds)


def _deregister_current_variants(autoscaling: Any, endpoint: str, current: dict[str, Any]) -> None:
    """SageMaker refuses to update an endpoint whose variants are registered for
    autoscaling; deregister the running ones (the spec's are registered again after)."""
    for variant in current.get("ProductionVariants", []):
        delete_if_present(
            autoscaling.deregister_scalable_target,
            ServiceNamespace="sagemaker",
            ResourceId=f"endpoint/{endpoint}/variant/{variant['VariantName']}",
            ScalableDimension=SCALABLE_DIMENSION,
        )


def _create_missing(
    sagemaker: Any, requests: dict[str, Any], report: DeployReport, dry_run: bool
) -> None:
    for body in requests["CreateModel"]:
        if _exists(sagemaker.describe_model, ModelName=body["ModelName"]):
            report.unchanged.append(f"model {body['ModelName']}")
            continue
        if not dry_run:
            sagemaker.create_model(**body)
        report.created.append(f"model {body['ModelName']}")
    config = requests["CreateEndpointConfig"]
    if _exists(sagemaker.describe_endpoint_config, EndpointConfigName=config["EndpointConfigName"]):
        report.unchanged.append(f"endpoint config {config['EndpointConfigName']}")
    else:
        if not dry_run:
            sagemaker.create_endpoint_config(**config)
        report.created.append(f"endpoint config {config['EndpointConfigName']}")


def _remove_replaced(
    sagemaker: Any, old_config: str, keep_models: set[str], report: DeployReport
) -> None:
    described = _exists(sagemaker.describe_endpoint_config, EndpointConfigName=old_config)
    if described is None:
        return
    old_models = {v["ModelName"] for v in described.get("ProductionVariants", [])}
    sagemaker.delete_endpoint_config(EndpointConfigName=old_config)
    report.removed.append(f"endpoint config {old_config}")
    for model in sorted(old_models - keep_models):
        sagemaker.delete_model(ModelName=model)
        report.removed.append(f"model {model}")


def register_autoscaling(autoscaling: Any, requests: dict[str, Any], progress: Progress) -> None:
    for target in requests["RegisterScalableTarget"]:
        autoscaling.register_scalable_target(**target)
    for policy in requests["PutScalingPolicy"]:
        autoscaling.put_scaling_policy(**policy)
        target = policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
        progress(
            f"autoscaling {policy['ResourceId']}: target {target:g} invocations per "
            "instance per minute"
        )


def deploy_spec(
    spec: PipelineSpec,
    sagemaker: Any,
    autoscaling: Any,
    progress: Progress,
    dry_run: bool = False,
    alarms: list[str] | None = None,
    poll_seconds: float = 15,
) -> DeployReport:
    """Create or update the endpoint a (packaged) spec describes."""
    if any(
        c.artifact and not c.artifact.startswith("s3://")
        for m in spec.models.values()
        for c in m.containers
    ):
        raise SpecError(
            "the spec still has local artifacts: run `inferpipe package` (or "
            "deploy through the CLI, which packages first)"
        )
    requests = render_requests(spec)
    report = DeployReport()
    progress(cost_line(spec))
    _create_missing(sagemaker, requests, report, dry_run)
    config_name = requests["CreateEndpointConfig"]["EndpointConfigName"]
    current = _exists(sagemaker.describe_endpoint, EndpointName=spec.endpoint)
    if current is not None and current.get("EndpointStatus") == "Failed" and not dry_run:
        # A failed endpoint cannot be updated; SageMaker needs it deleted and created again.
        progress(f"endpoint {spec.endpoint} is Failed: deleting it to create it again")
        sagemaker.delete_endpoint(EndpointName=spec.endpoint)
        _wait_deleted(sagemaker, spec.endpoint, poll_seconds)
        current = None
    if current is None:
        report.endpoint_action = "create"
        if not dry_run:
            sagemaker.create_endpoint(**requests["CreateEndpoint"])
    elif current["EndpointConfigName"] != config_name:
        report.endpoint_action = "update"
        if not dry_run:
            _deregister_current_variants(autoscaling, spec.endpoint, current)
            sagemaker.update_endpoint(**render_update_endpoint(spec, config_name, alarms))
    action = "unchanged" if report.endpoint_action == "none" else report.endpoint_action
    progress(f"endpoint {spec.endpoint}: {action}")
    if dry_run:
        return report
    if report.endpoint_action != "none":
        wait_in_service(sagemaker, spec.endpoint, progress, poll_seconds)
        serving = sagemaker.describe_endpoint(EndpointName=spec.endpoint)["EndpointConfigName"]
        if serving != config_name:
            raise DeployError(
                f"endpoint {spec.endpoint} rolled back to {serving} (an alarm "
                "fired or the update failed); the new config stays for a retry"
            )
    if report.endpoint_action == "update" and current is not None:
        keep = {m["ModelName"] for m in requests["CreateModel"]}
        _remove_replaced(sagemaker, current["EndpointConfigName"], keep, report)
    register_autoscaling(autoscaling, requests, progress)
    return report


def shift_traffic(spec: PipelineSpec, weights: dict[str, float], sagemaker: Any) -> None:
    """Set variant weights on the running endpoint without redeploying."""
    known = {v.name for v in spec.variants if not v.shadow}
    unknown = sorted(set(weights) - known)
    if unknown:
        raise SpecError(
            f"--weights names unknown variants {unknown}; variants: {', '.join(sorted(known))}"
        )
    if any(w < 0 for w in weights.values()) or not any(weights.values()):
        raise SpecError("--weights must be >= 0 and not all 0")
    sagemaker.update_endpoint_weights_and_capacities(**render_update_weights(spec, weights))
