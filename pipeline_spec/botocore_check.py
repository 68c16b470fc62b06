"""Check rendered requests against botocore's own service models, as boto3 would before sending.

This catches a wrong key or type in what we render even where a local AWS stand-in
accepts anything.
"""

from __future__ import annotations

from typing import Any

AUTOSCALING_OPERATIONS = {"RegisterScalableTarget", "PutScalingPolicy"}


def check_request(operation: str, body: dict[str, Any]) -> list[str]:
    """Problems botocore finds in one request body (empty when it would send it)."""
    import botocore.session
    from botocore.validate import ParamValidator

    service = "application-autoscaling" if operation in AUTOSCALING_OPERATIONS else "sagemaker"
    model = botocore.session.get_session().get_service_model(service)
    report = ParamValidator().validate(body, model.operation_model(operation).input_shape)
    return [
        f"{operation}: {line.strip()}"
        for line in report.generate_report().splitlines()
        if line.strip() and not line.startswith("Parameter validation failed")
    ]


def check_requests(requests: dict[str, Any]) -> list[str]:
    """Check every request `render_requests` produced; returns all problems found."""
    problems = []
    for operation, bodies in requests.items():
        for body in bodies if isinstance(bodies, list) else [bodies]:
            problems += check_request(operation, body)
    return problems
