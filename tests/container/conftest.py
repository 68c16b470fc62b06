"""Container tests: build the real images with build.sh once per run, then talk HTTP to them.

A missing Docker engine fails these tests; it never skips them (the README's test
command starts one).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from inferpipe_testing.containers import Container, start_container


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/container/" in str(item.path):
            item.add_marker(pytest.mark.container)


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
