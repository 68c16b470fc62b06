"""boto3 clients for the effect layer; endpoints come from boto3's usual configuration
(AWS_ENDPOINT_URL and friends), which is how tests point them at a local AWS API."""

from __future__ import annotations

import re
from typing import Any

from inferpipe.pipeline_spec.errors import DeployError


def aws_client(service: str, region: str) -> Any:
    """A boto3 client for `service` in `region`, or DeployError naming the missing extra."""
    try:
        import boto3
    except ImportError as exc:
        raise DeployError("boto3 is missing: pip install 'inferpipe[spec]'") from exc
    return boto3.client(service, region_name=region)


NOT_FOUND = re.compile(r"could not find|not found|does not exist|no .* found", re.IGNORECASE)


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ClientError ('' for other exceptions)."""
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def is_not_found(exc: Exception) -> bool:
    """True for "no such resource" errors; SageMaker and Application Auto Scaling often
    answer them with a ValidationException whose message says so."""
    code = error_code(exc)
    if code in {"ResourceNotFound", "ObjectNotFoundException"}:
        return True
    return code == "ValidationException" and bool(NOT_FOUND.search(str(exc)))


def delete_if_present(call: Any, **kwargs: Any) -> bool:
    """Run a delete; a resource that is already gone is fine (teardown is re-runnable)."""
    try:
        call(**kwargs)
    except Exception as exc:
        if is_not_found(exc):
            return False
        raise
    return True
