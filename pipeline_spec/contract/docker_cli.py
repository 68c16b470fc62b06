"""A thin wrapper over the `docker` CLI: run, inspect, stop, logs (argument lists, no shell)."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from inferpipe.pipeline_spec.errors import DeployError


def docker(*args: str, timeout: float = 120, check: bool = True) -> str:
    """Run `docker ARGS`; returns stdout, raises DeployError with docker's message."""
    if shutil.which("docker") is None:
        raise DeployError("the docker CLI is not installed; check-container needs a Docker engine")
    try:
        done = subprocess.run(
            ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise DeployError(f"docker {args[0]} did not finish in {timeout:.0f} s") from exc
    if check and done.returncode != 0:
        raise DeployError(f"docker {args[0]} failed: {done.stderr.strip()[-600:]}")
    return done.stdout


def inspect_image(image: str) -> dict[str, Any]:
    """The image's config (labels, entrypoint, user), or DeployError if it is not local."""
    try:
        return dict(json.loads(docker("image", "inspect", image))[0])
    except DeployError as exc:
        raise DeployError(
            f"image {image!r} is not available locally (build or pull it first): {exc.message}"
        ) from exc


def container_state(name: str) -> dict[str, Any]:
    return dict(json.loads(docker("inspect", "--format", "{{json .State}}", name)))


def container_logs(name: str, tail: int = 40) -> str:
    done = subprocess.run(
        ["docker", "logs", "--tail", str(tail), name],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return (done.stdout + done.stderr).strip()


def remove_container(name: str) -> None:
    subprocess.run(["docker", "rm", "--force", name], capture_output=True, timeout=60, check=False)
