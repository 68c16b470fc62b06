"""Failing and dying stages through the local endpoint, on both engines: container-2
answers 500, hangs past SAGEMAKER_MODEL_SERVER_TIMEOUT, or has its worker killed
(`kill -9`) mid-request. Each is a SageMaker-shaped ModelError naming container-2; the
endpoint stays up and the next request succeeds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from inferpipe_testing.local import PASS_THROUGH_SCRIPT, endpoint_per_engine, script_pipeline_spec

FAULT_SCRIPT = """
    import os
    import signal
    import time

    def model_fn(model_dir):
        return None

    def transform_fn(model, body, content_type, accept):
        fault = (body if isinstance(body, bytes) else str(body).encode()).strip()
        if fault == b"fail":
            raise RuntimeError("the stage broke")
        if fault == b"hang":
            time.sleep(30)
        if fault == b"die":
            os.kill(os.getpid(), signal.SIGKILL)
        return body, "text/csv"
"""


@pytest.fixture(scope="module", params=["process", "docker"])
def runtime(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    scripts = [
        ("first", PASS_THROUGH_SCRIPT),
        ("faulty", FAULT_SCRIPT),
        ("last", PASS_THROUGH_SCRIPT),
    ]
    spec = script_pipeline_spec(
        tmp_path_factory.mktemp("faults"),
        "faults",
        scripts,
        environment={"SAGEMAKER_MODEL_SERVER_TIMEOUT": "3"},
    )
    yield from endpoint_per_engine(request, spec, tmp_path_factory)


def _invoke(client: Any, body: bytes) -> bytes:
    answer = client.invoke_endpoint(EndpointName="faults", Body=body, ContentType="text/csv")
    return bytes(answer["Body"].read())


@pytest.mark.parametrize(
    ("fault", "original_status", "kind"),
    [("fail", 500, "server"), ("hang", 504, "server"), ("die", None, None)],
)
def test_a_faulty_container_is_a_model_error_naming_it_and_the_next_request_works(
    runtime: Any, fault: str, original_status: int | None, kind: str | None
) -> None:
    assert _invoke(runtime, b"1,2\n") == b"1,2\n"
    with pytest.raises(runtime.exceptions.ModelError) as raised:
        _invoke(runtime, fault.encode() + b"\n")
    response = raised.value.response
    message = response["Error"]["Message"]
    assert "container-2" in message, message
    if original_status is not None:
        assert response["OriginalStatusCode"] == original_status
        assert message.startswith(f"Received {kind} error ({original_status}) from container-2")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 424
    # The endpoint stays up; a killed worker is replaced by the container's server.
    for _ in range(3):
        assert _invoke(runtime, b"3,4\n") == b"3,4\n"
