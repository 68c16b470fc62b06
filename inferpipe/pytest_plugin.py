"""inferpipe's pytest plugin (registered as the `inferpipe` pytest11 entry point).

    # pyproject.toml: [tool.pytest.ini_options] inferpipe_spec = "spec.yaml"
    def test_rings(inferpipe_endpoint):
        answer = inferpipe_endpoint.invoke_endpoint(
            EndpointName="abalone", Body=row, ContentType="text/csv"
        )

`inferpipe_endpoint` is boto3's sagemaker-runtime client on the spec's local endpoint,
started once per session (process engine unless `--inferpipe-engine docker`);
`inferpipe_local` is the `inferpipe.testing.LocalEndpointClient` behind it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("inferpipe")
    group.addoption("--inferpipe-spec", help="pipeline spec the inferpipe_endpoint fixture runs")
    group.addoption(
        "--inferpipe-engine",
        default=None,
        help="local endpoint engine: process (default) or docker",
    )
    parser.addini("inferpipe_spec", "pipeline spec the inferpipe_endpoint fixture runs")
    parser.addini("inferpipe_engine", "local endpoint engine: process (default) or docker")


@pytest.fixture(scope="session")
def inferpipe_local(request: pytest.FixtureRequest) -> Iterator[Any]:
    from inferpipe.testing import local_endpoint

    spec = request.config.getoption("inferpipe_spec") or request.config.getini("inferpipe_spec")
    if not spec:
        raise pytest.UsageError(
            "inferpipe_endpoint needs a spec: pass --inferpipe-spec PATH or set "
            "inferpipe_spec in the pytest ini options"
        )
    path = Path(spec)
    if not path.is_absolute():
        path = Path(request.config.rootpath) / path
    engine = (
        request.config.getoption("inferpipe_engine")
        or request.config.getini("inferpipe_engine")
        or "process"
    )
    with local_endpoint(path, engine=engine) as client:
        yield client


@pytest.fixture(scope="session")
def inferpipe_endpoint(inferpipe_local: Any) -> Any:
    return inferpipe_local.runtime
