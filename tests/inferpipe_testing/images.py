"""Build the project's images with build.sh for tests, on the local base image when present."""

from __future__ import annotations

import os
import subprocess

import pytest

from inferpipe_testing.containers import REPO_ROOT, docker

DEFAULT_LOCAL_BASE = "inferpipe-base:bookworm"


def base_image() -> str | None:
    """INFERPIPE_BASE_IMAGE, else the debootstrap image setup-machine.sh makes, if present."""
    configured = os.environ.get("INFERPIPE_BASE_IMAGE")
    if configured:
        return configured
    if docker("image", "inspect", DEFAULT_LOCAL_BASE, check=False).returncode == 0:
        return DEFAULT_LOCAL_BASE
    return None


def run_build(*args: str) -> str:
    """Run build.sh; fail the test with its output when it fails. Returns its log."""
    command = [str(REPO_ROOT / "build.sh"), *args]
    base = base_image()
    if base:
        command += ["--base-image", base]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1200, check=False)
    if done.returncode != 0:
        pytest.fail(f"build.sh {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return done.stderr
