"""Container tests: build the real images with build.sh once per run, then talk HTTP to them.

A missing Docker engine fails these tests; it never skips them (the README's test
command starts one).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from inferpipe_testing.containers import Container, docker, start_container
from inferpipe_testing.images import run_build


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/container/" in str(item.path):
            item.add_marker(pytest.mark.container)


@pytest.fixture(scope="session")
def docker_engine() -> None:
    done = docker("info", "--format", "{{.ServerVersion}}", check=False)
    if done.returncode != 0:
        pytest.fail(
            "no Docker engine answers; run scripts/setup-machine.sh (the README's "
            f"test command does): {done.stderr.strip()}"
        )


@pytest.fixture(scope="session")
def images(docker_engine: None) -> dict[str, str]:
    """Build both images with build.sh (cached layers make reruns fast)."""
    log = run_build("build", "--images", "preprocess,postprocess,xgboost")
    for line in log.splitlines():
        if line.startswith("build.sh: built"):
            print(line)
    return {name: f"inferpipe-{name}:latest" for name in ("preprocess", "postprocess", "xgboost")}


@pytest.fixture()
def containers() -> Iterator[list[Container]]:
    """Collect containers a test starts and remove them afterwards, whatever happens."""
    started: list[Container] = []
    yield started
    for container in started:
        container.remove()


@pytest.fixture(scope="module")
def mixed_container(images: dict[str, str], mixed_pipeline_dir: Path) -> Iterator[Container]:
    container = start_container(
        images["preprocess"], mixed_pipeline_dir, env={"SAGEMAKER_MODEL_SERVER_WORKERS": "2"}
    )
    yield container
    container.remove()
