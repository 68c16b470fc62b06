"""Remove everything a spec created: autoscaling, the endpoint, its configs and models."""

from __future__ import annotations

from typing import Any

from inferpipe.pipeline_spec.aws_clients import delete_if_present, is_not_found
from inferpipe.pipeline_spec.model import PipelineSpec
from inferpipe.pipeline_spec.render_aws import render_requests


def teardown_spec(spec: PipelineSpec, sagemaker: Any, autoscaling: Any) -> list[str]:
    """Delete the spec's resources (also those a previous deploy left); returns what went."""
    requests = render_requests(spec)
    removed = []
    for target in requests["RegisterScalableTarget"]:
        if delete_if_present(
            autoscaling.deregister_scalable_target,
            ServiceNamespace="sagemaker",
            ResourceId=target["ResourceId"],
            ScalableDimension=target["ScalableDimension"],
        ):
            removed.append(f"scalable target {target['ResourceId']}")
    configs = {requests["CreateEndpointConfig"]["EndpointConfigName"]}
    models = {m["ModelName"] for m in requests["CreateModel"]}
    try:
        current = sagemaker.describe_endpoint(EndpointName=spec.endpoint)
        configs.add(current["EndpointConfigName"])
    except Exception as exc:
        if not is_not_found(exc):
            raise
        current = None
    if current is not None:
        sagemaker.delete_endpoint(EndpointName=spec.endpoint)
        removed.append(f"endpoint {spec.endpoint}")
    for config in sorted(configs):
        try:
            described = sagemaker.describe_endpoint_config(EndpointConfigName=config)
        except Exception as exc:
            if is_not_found(exc):
                continue
            raise
        models |= {v["ModelName"] for v in described.get("ProductionVariants", [])}
        sagemaker.delete_endpoint_config(EndpointConfigName=config)
        removed.append(f"endpoint config {config}")
    for model in sorted(models):
        if delete_if_present(sagemaker.delete_model, ModelName=model):
            removed.append(f"model {model}")
    return removed
