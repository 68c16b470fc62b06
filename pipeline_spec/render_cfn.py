"""Render a validated spec as a CloudFormation template (pure): models, endpoint config,
endpoint, and per-variant autoscaling.

https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/AWS_SageMaker.html
"""

from __future__ import annotations

import re
from typing import Any

from inferpipe.pipeline_spec.fusion import planned_spec
from inferpipe.pipeline_spec.model import PipelineSpec
from inferpipe.pipeline_spec.render_aws import (
    render_create_endpoint_config,
    render_create_model,
    render_create_transform_job,
    render_put_scaling_policies,
    render_register_scalable_targets,
)

Template = dict[str, Any]


def _logical_id(prefix: str, name: str) -> str:
    return prefix + "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name))


def _model_resource(request: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "AWS::SageMaker::Model", "Properties": request}


def render_template(spec: PipelineSpec) -> Template:
    """A CloudFormation template that creates what `deploy` would."""
    spec = planned_spec(spec)
    resources: dict[str, Any] = {}
    model_ids = {}
    for key in spec.models:
        logical = _logical_id("Model", key)
        resources[logical] = _model_resource(render_create_model(spec, key))
        model_ids[resources[logical]["Properties"]["ModelName"]] = logical
    config = render_create_endpoint_config(spec)
    for group in ("ProductionVariants", "ShadowProductionVariants"):
        for variant in config.get(group, []):
            variant["ModelName"] = {"Fn::GetAtt": [model_ids[variant["ModelName"]], "ModelName"]}
    resources["EndpointConfig"] = {"Type": "AWS::SageMaker::EndpointConfig", "Properties": config}
    resources["Endpoint"] = {
        "Type": "AWS::SageMaker::Endpoint",
        "Properties": {
            "EndpointName": spec.endpoint,
            "EndpointConfigName": {"Fn::GetAtt": ["EndpointConfig", "EndpointConfigName"]},
            "Tags": config["Tags"],
        },
    }
    policies = {p["ResourceId"]: p for p in render_put_scaling_policies(spec)}
    for target in render_register_scalable_targets(spec):
        variant = target["ResourceId"].rsplit("/", 1)[-1]
        target_id = _logical_id("ScalableTarget", variant)
        resources[target_id] = {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "DependsOn": "Endpoint",
            "Properties": target,
        }
        policy = dict(policies[target["ResourceId"]])
        for key in ("ServiceNamespace", "ResourceId", "ScalableDimension"):
            policy.pop(key)
        policy["ScalingTargetId"] = {"Ref": target_id}
        resources[_logical_id("ScalingPolicy", variant)] = {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": policy,
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"inferpipe: SageMaker inference pipeline endpoint {spec.endpoint}",
        "Resources": resources,
        "Outputs": {"EndpointName": {"Value": {"Fn::GetAtt": ["Endpoint", "EndpointName"]}}},
    }


#: AWS::SageMaker::TransformJob's properties: CreateTransformJob's, less the job name
#: (CloudFormation names the job). https://docs.aws.amazon.com/AWSCloudFormation/latest/
#: TemplateReference/aws-resource-sagemaker-transformjob.html
TRANSFORM_JOB_PROPERTIES = {
    "BatchStrategy", "DataCaptureConfig", "DataProcessing", "Environment", "ExperimentConfig",
    "MaxConcurrentTransforms", "MaxPayloadInMB", "ModelClientConfig", "ModelName", "Tags",
    "TransformInput", "TransformOutput", "TransformResources",
}  # fmt: skip


def render_transform_template(spec: PipelineSpec) -> Template | None:
    """A template of the spec's batch transform job (None without `transform`), apart from
    the endpoint's: a job runs once, and its model must exist first (the endpoint stack's)."""
    request = render_create_transform_job(planned_spec(spec))
    if request is None:
        return None
    properties = {k: v for k, v in request.items() if k in TRANSFORM_JOB_PROPERTIES}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"inferpipe: batch transform with the pipeline model {request['ModelName']}",
        "Resources": {
            "BatchTransform": {"Type": "AWS::SageMaker::TransformJob", "Properties": properties}
        },
    }
