"""Test your own pipelines and images in your own CI.

    from inferpipe.testing import local_endpoint, check_container

    with local_endpoint("spec.yaml") as endpoint:          # the whole pipeline, locally
        answer = endpoint.invoke(b"M,0.45,0.36,0.09,0.51,0.22,0.1,0.15\\n")

    report = check_container("my-image:latest", "model/")  # the SageMaker contract
    assert report.passed, report.summary()

With pytest, the `inferpipe_endpoint` fixture (from the plugin inferpipe installs) starts
the spec named by `--inferpipe-spec` or the ini option `inferpipe_spec` once per session
and hands back boto3's sagemaker-runtime client pointed at it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ContainerReport", "LocalEndpointClient", "check_container", "local_endpoint"]


@dataclass
class LocalEndpointClient:
    """A running local endpoint: boto3's sagemaker-runtime client and its name."""

    runtime: Any
    url: str
    endpoint_name: str

    def invoke(
        self,
        body: bytes | str,
        content_type: str = "text/csv",
        accept: str | None = None,
        **options: Any,
    ) -> bytes:
        """InvokeEndpoint through boto3; returns the answer's body (errors raise as boto3's)."""
        arguments: dict[str, Any] = {
            "EndpointName": self.endpoint_name,
            "Body": body,
            "ContentType": content_type,
            **options,
        }
        if accept:
            arguments["Accept"] = accept
        return bytes(self.runtime.invoke_endpoint(**arguments)["Body"].read())


@contextmanager
def local_endpoint(
    spec: str | Path,
    engine: str = "process",
    state_dir: str | Path | None = None,
    port: int | None = None,
) -> Iterator[LocalEndpointClient]:
    """Start the spec's local endpoint (as `inferpipe local up`), yield a client, stop it."""
    import boto3

    from inferpipe.pipeline_spec.loader import load_spec
    from inferpipe.pipeline_spec.local.runner import free_port
    from inferpipe.pipeline_spec.local.session import bring_up, take_down

    spec_path = Path(spec).resolve()
    loaded = load_spec(spec_path)
    with tempfile.TemporaryDirectory(prefix="inferpipe-testing-") as scratch:
        deployment, front = bring_up(
            loaded,
            spec_path.parent,
            engine,
            port or free_port(),
            Path(state_dir) if state_dir else Path(scratch),
            progress=lambda _message: None,
        )
        try:
            runtime = boto3.client(
                "sagemaker-runtime",
                endpoint_url=front.url,
                region_name=loaded.region,
                # The local endpoint does not check signatures; boto3 needs something to sign with.
                aws_access_key_id="inferpipe-local",
                aws_secret_access_key="inferpipe-local",
            )
            yield LocalEndpointClient(runtime, front.url, loaded.endpoint)
        finally:
            take_down(deployment, front)


@dataclass(frozen=True)
class ContainerReport:
    """The contract checks' results for one image."""

    image: str
    results: list[Any] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def failures(self) -> list[Any]:
        return [r for r in self.results if r.status == "fail"]

    def summary(self) -> str:
        from inferpipe.pipeline_spec.contract.report import render_table

        return render_table(self.image, self.results)


def check_container(
    image: str,
    model_dir: str | Path,
    sample: bytes | None = None,
    content_type: str = "text/csv",
    environment: Mapping[str, str] | None = None,
    start_timeout: float = 120,
) -> ContainerReport:
    """`inferpipe check-container` as a function (needs a Docker engine)."""
    from inferpipe.pipeline_spec.contract.runner import check_image

    results = check_image(
        image, Path(model_dir), sample, content_type, dict(environment or {}), start_timeout
    )
    return ContainerReport(image, results)
