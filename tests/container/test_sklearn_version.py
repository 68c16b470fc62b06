"""build.sh --sklearn-version builds an image for another scikit-learn; an artifact saved by
a different version fails that image's start, naming both versions."""

from __future__ import annotations

from pathlib import Path

import sklearn
from inferpipe_testing.containers import Container, docker, start_container
from inferpipe_testing.images import run_build

OTHER_SKLEARN = "1.8.0"


def test_artifact_from_another_version_fails_the_start_naming_both(
    docker_engine: None, classifier_dir: Path, containers: list[Container]
) -> None:
    run_build("build", "--images", "preprocess", "--sklearn-version", OTHER_SKLEARN)
    image = f"inferpipe-preprocess:latest-sklearn{OTHER_SKLEARN}"
    version = docker(
        "run",
        "--rm",
        "--entrypoint",
        "python3",
        image,
        "-c",
        "import sklearn; print(sklearn.__version__)",
    ).stdout.strip()
    assert version == OTHER_SKLEARN
    container = start_container(image, classifier_dir, wait=False)
    containers.append(container)
    assert container.wait_exit(deadline_s=60) == 1
    log = container.logs()
    assert f"saved with scikit-learn {sklearn.__version__}" in log
    assert f"this image has scikit-learn {OTHER_SKLEARN}" in log
