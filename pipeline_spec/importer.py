"""Write a spec from an endpoint that already runs, so hand-made or SDK deployments move over."""

from __future__ import annotations

from typing import Any

from inferpipe.pipeline_spec import builtins
from inferpipe.pipeline_spec.builtin_registry import ALGORITHMS
from inferpipe.pipeline_spec.render_aws import ENDPOINT_TAG


def _builtin_of(image: str) -> dict[str, str] | None:
    """{algorithm, version} when `image` is a known built-in image, else None."""
    parsed = builtins.parse_ecr_uri(image)
    if parsed is None or parsed.tag is None:
        return None
    for algorithm, (repository, _, _, tags) in ALGORITHMS.items():
        if parsed.repository == repository:
            for version, tag in tags.items():
                if tag == parsed.tag:
                    return {"algorithm": algorithm, "version": version}
    return None


def _container(index: int, definition: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": definition.get("ContainerHostname") or f"container-{index + 1}"
    }
    builtin = _builtin_of(definition["Image"])
    if builtin:
        container["builtin"] = builtin
    else:
        container["image"] = definition["Image"]
    if definition.get("ModelDataUrl"):
        container["artifact"] = definition["ModelDataUrl"]
    if definition.get("Environment"):
        container["environment"] = dict(definition["Environment"])
    if definition.get("ContainerHostname"):
        container["hostname"] = definition["ContainerHostname"]
    return container


def _model(described: dict[str, Any]) -> dict[str, Any]:
    definitions = described.get("Containers") or [described["PrimaryContainer"]]
    model: dict[str, Any] = {
        "role": described["ExecutionRoleArn"],
        "containers": [_container(i, d) for i, d in enumerate(definitions)],
    }
    mode = (described.get("InferenceExecutionConfig") or {}).get("Mode")
    if mode and mode != "Serial":
        model["execution_mode"] = mode
    if described.get("EnableNetworkIsolation"):
        model["network_isolation"] = True
    vpc = described.get("VpcConfig")
    if vpc:
        model["vpc"] = {"subnets": vpc["Subnets"], "security_group_ids": vpc["SecurityGroupIds"]}
    return model


def _scaling(autoscaling: Any, endpoint: str, variant: str) -> dict[str, Any] | None:
    resource = f"endpoint/{endpoint}/variant/{variant}"
    targets = autoscaling.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[resource]
    )["ScalableTargets"]
    if not targets:
        return None
    scaling: dict[str, Any] = {
        "min_capacity": targets[0]["MinCapacity"],
        "max_capacity": targets[0]["MaxCapacity"],
    }
    policies = autoscaling.describe_scaling_policies(
        ServiceNamespace="sagemaker", ResourceId=resource
    )["ScalingPolicies"]
    for policy in policies:
        config = policy.get("TargetTrackingScalingPolicyConfiguration")
        if config:
            scaling["target_invocations"] = config["TargetValue"]
            scaling["scale_in_cooldown"] = config.get("ScaleInCooldown", 300)
            scaling["scale_out_cooldown"] = config.get("ScaleOutCooldown", 60)
    return scaling if "target_invocations" in scaling else None


def _variant(raw: dict[str, Any], model_keys: dict[str, str], shadow: bool) -> dict[str, Any]:
    variant: dict[str, Any] = {"name": raw["VariantName"], "model": model_keys[raw["ModelName"]]}
    if raw.get("ServerlessConfig"):
        variant["serverless"] = {
            "memory_size_mb": raw["ServerlessConfig"]["MemorySizeInMB"],
            "max_concurrency": raw["ServerlessConfig"]["MaxConcurrency"],
        }
    else:
        variant["instance_type"] = raw["InstanceType"]
        variant["instance_count"] = raw.get("InitialInstanceCount", 1)
    variant["weight"] = raw.get("InitialVariantWeight", 1.0)
    if shadow:
        variant["shadow"] = True
    return variant


def import_endpoint(endpoint: str, region: str, sagemaker: Any, autoscaling: Any) -> dict[str, Any]:
    """A spec document describing the running endpoint (models keyed by their names)."""
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    config = sagemaker.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    groups = [(v, False) for v in config.get("ProductionVariants", [])] + [
        (v, True) for v in config.get("ShadowProductionVariants", [])
    ]
    model_keys: dict[str, str] = {}
    models: dict[str, Any] = {}
    for raw, _ in groups:
        name = raw["ModelName"]
        if name not in model_keys:
            model_keys[name] = name
            models[name] = _model(sagemaker.describe_model(ModelName=name))
    variants = []
    for raw, shadow in groups:
        variant = _variant(raw, model_keys, shadow)
        scaling = _scaling(autoscaling, endpoint, raw["VariantName"])
        if scaling:
            variant["autoscaling"] = scaling
        variants.append(variant)
    document: dict[str, Any] = {
        "spec_version": 1,
        "endpoint": endpoint,
        "region": region,
        "models": models,
        "variants": variants,
    }
    capture = config.get("DataCaptureConfig")
    if capture and capture.get("EnableCapture", True):
        document["data_capture"] = {
            "destination": capture["DestinationS3Uri"],
            "sampling_percentage": capture["InitialSamplingPercentage"],
            "capture": [o["CaptureMode"] for o in capture["CaptureOptions"]],
        }
    tags = {
        t["Key"]: t["Value"]
        for t in sagemaker.list_tags(ResourceArn=described["EndpointArn"]).get("Tags", [])
        if t["Key"] != ENDPOINT_TAG
    }
    if tags:
        document["tags"] = tags
    return document
