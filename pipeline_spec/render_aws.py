"""Render a validated spec into the exact boto3 request bodies SageMaker takes (pure).

https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModel.html
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html
https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-add-code-define.html
"""

from __future__ import annotations

from typing import Any

from inferpipe.pipeline_spec.fusion import planned_spec
from inferpipe.pipeline_spec.model import PipelineSpec, VariantSpec
from inferpipe.pipeline_spec.resolve import artifact_url, content_name, resolve_containers

SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
INVOCATIONS_METRIC = "SageMakerVariantInvocationsPerInstance"
ENDPOINT_TAG = "inferpipe:endpoint"

Request = dict[str, Any]


def _tags(spec: PipelineSpec, extra: dict[str, str] | None = None) -> list[dict[str, str]]:
    tags = {**spec.tags, **(extra or {}), ENDPOINT_TAG: spec.endpoint}
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def render_create_model(spec: PipelineSpec, model_key: str) -> Request:
    """CreateModel for one pipeline model; its name carries a hash of its content."""
    model = spec.models[model_key]
    containers = []
    for container in resolve_containers(model, spec.region):
        definition: Request = {"Image": container.image}
        if container.hostname:
            definition["ContainerHostname"] = container.hostname
        url = artifact_url(spec, model_key, container)
        if url:
            definition["ModelDataUrl"] = url
        if container.environment:
            definition["Environment"] = dict(sorted(container.environment.items()))
        containers.append(definition)
    request: Request = {"ExecutionRoleArn": model.role, "Containers": containers}
    if len(containers) > 1:
        request["InferenceExecutionConfig"] = {"Mode": model.execution_mode}
    if model.network_isolation:
        request["EnableNetworkIsolation"] = True
    if model.vpc:
        request["VpcConfig"] = {
            "Subnets": list(model.vpc.subnets),
            "SecurityGroupIds": list(model.vpc.security_group_ids),
        }
    request["Tags"] = _tags(spec, model.tags)
    return {"ModelName": content_name(model_key, request), **request}


def model_names(spec: PipelineSpec) -> dict[str, str]:
    """Spec model key → the content-hashed SageMaker model name."""
    return {key: render_create_model(spec, key)["ModelName"] for key in spec.models}


def _variant(variant: VariantSpec, names: dict[str, str]) -> Request:
    rendered: Request = {"VariantName": variant.name, "ModelName": names[variant.model]}
    if variant.serverless is not None:
        rendered["ServerlessConfig"] = {
            "MemorySizeInMB": variant.serverless.memory_size_mb,
            "MaxConcurrency": variant.serverless.max_concurrency,
        }
    else:
        rendered["InstanceType"] = variant.instance_type
        rendered["InitialInstanceCount"] = variant.instance_count
    rendered["InitialVariantWeight"] = float(variant.weight)
    return rendered


def render_create_endpoint_config(spec: PipelineSpec) -> Request:
    names = model_names(spec)
    request: Request = {
        "ProductionVariants": [_variant(v, names) for v in spec.variants if not v.shadow]
    }
    shadows = [_variant(v, names) for v in spec.variants if v.shadow]
    if shadows:
        request["ShadowProductionVariants"] = shadows
    capture = spec.data_capture
    if capture is not None:
        request["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": capture.sampling_percentage,
            "DestinationS3Uri": capture.destination,
            "CaptureOptions": [{"CaptureMode": mode} for mode in capture.capture],
            **({"KmsKeyId": capture.kms_key_id} if capture.kms_key_id else {}),
        }
    request["Tags"] = _tags(spec)
    return {"EndpointConfigName": content_name(spec.endpoint, request), **request}


def render_create_endpoint(spec: PipelineSpec) -> Request:
    return {
        "EndpointName": spec.endpoint,
        "EndpointConfigName": render_create_endpoint_config(spec)["EndpointConfigName"],
        "Tags": _tags(spec),
    }


def _resource_id(spec: PipelineSpec, variant: VariantSpec) -> str:
    return f"endpoint/{spec.endpoint}/variant/{variant.name}"


def render_register_scalable_targets(spec: PipelineSpec) -> list[Request]:
    return [
        {
            "ServiceNamespace": "sagemaker",
            "ResourceId": _resource_id(spec, v),
            "ScalableDimension": SCALABLE_DIMENSION,
            "MinCapacity": v.autoscaling.min_capacity,
            "MaxCapacity": v.autoscaling.max_capacity,
        }
        for v in spec.variants
        if v.autoscaling is not None
    ]


def render_put_scaling_policies(spec: PipelineSpec) -> list[Request]:
    policies = []
    for variant in spec.variants:
        scaling = variant.autoscaling
        if scaling is None:
            continue
        policies.append(
            {
                "PolicyName": f"{spec.endpoint}-{variant.name}-invocations",
                "ServiceNamespace": "sagemaker",
                "ResourceId": _resource_id(spec, variant),
                "ScalableDimension": SCALABLE_DIMENSION,
                "PolicyType": "TargetTrackingScaling",
                "TargetTrackingScalingPolicyConfiguration": {
                    "TargetValue": scaling.target_value,
                    "PredefinedMetricSpecification": {"PredefinedMetricType": INVOCATIONS_METRIC},
                    "ScaleInCooldown": scaling.scale_in_cooldown,
                    "ScaleOutCooldown": scaling.scale_out_cooldown,
                },
            }
        )
    return policies


def render_create_transform_job(spec: PipelineSpec) -> Request | None:
    job = spec.transform
    if job is None:
        return None
    output: Request = {"S3OutputPath": job.output, "AssembleWith": job.assemble_with}
    if job.accept:
        output["Accept"] = job.accept
    request: Request = {
        "ModelName": model_names(spec)[job.model],
        "MaxConcurrentTransforms": job.max_concurrent_transforms,
        "MaxPayloadInMB": job.max_payload_mb,
        "BatchStrategy": job.strategy,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": job.input}},
            "ContentType": job.content_type,
            "SplitType": job.split_type,
        },
        "TransformOutput": output,
        "TransformResources": {
            "InstanceType": job.instance_type,
            "InstanceCount": job.instance_count,
        },
        "Tags": _tags(spec),
    }
    if job.data_processing is not None:
        request["DataProcessing"] = {
            "InputFilter": job.data_processing.input_filter,
            "OutputFilter": job.data_processing.output_filter,
            "JoinSource": job.data_processing.join_source,
        }
    return {"TransformJobName": content_name(f"{spec.endpoint}-batch", request), **request}


def render_update_weights(spec: PipelineSpec, weights: dict[str, float] | None = None) -> Request:
    """UpdateEndpointWeightsAndCapacities: the spec's weights, or `weights` by variant name."""
    chosen = weights or {v.name: v.weight for v in spec.variants if not v.shadow}
    return {
        "EndpointName": spec.endpoint,
        "DesiredWeightsAndCapacities": [
            {"VariantName": name, "DesiredWeight": float(w)} for name, w in chosen.items()
        ],
    }


def render_requests(spec: PipelineSpec) -> dict[str, Any]:
    """Every request, keyed by the SageMaker / Application Auto Scaling operation name
    (models marked `fuse: true` as their fused containers)."""
    spec = planned_spec(spec)
    requests: dict[str, Any] = {
        "CreateModel": [render_create_model(spec, key) for key in spec.models],
        "CreateEndpointConfig": render_create_endpoint_config(spec),
        "CreateEndpoint": render_create_endpoint(spec),
        "UpdateEndpointWeightsAndCapacities": render_update_weights(spec),
        "RegisterScalableTarget": render_register_scalable_targets(spec),
        "PutScalingPolicy": render_put_scaling_policies(spec),
    }
    transform = render_create_transform_job(spec)
    if transform is not None:
        requests["CreateTransformJob"] = transform
    return requests
