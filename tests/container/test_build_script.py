"""build.sh's argument checks and messages: each bad call stops with a clear error."""

from __future__ import annotations

import subprocess

import pytest
from inferpipe_testing.containers import REPO_ROOT


def build_sh(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(REPO_ROOT / "build.sh"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["push"], "'push' needs --registry"),
        (["--tag", "bad tag!"], "is not a valid image tag"),
        (["--sklearn-version", "1.5; rm -rf /"], "is not a version"),
        (["--images", "gpu"], "unknown image 'gpu'"),
        (["--frobnicate"], "unknown argument: --frobnicate"),
    ],
)
def test_bad_arguments_stop_with_a_clear_message(args: list[str], message: str) -> None:
    done = build_sh(*args)
    assert done.returncode == 1
    assert message in done.stderr


def test_foreign_platform_without_buildx_is_a_clear_error(docker_engine: None) -> None:
    done = build_sh("build", "--platform", "linux/s390x")
    assert done.returncode == 1
    assert "cannot build for linux/s390x" in done.stderr


def test_dry_run_prints_every_command_and_runs_none() -> None:
    done = build_sh("all", "--registry", "127.0.0.1:5999", "--dry-run", "--tag", "rc1")
    assert done.returncode == 0, done.stderr
    commands = [line for line in done.stderr.splitlines() if line.startswith("+ ")]
    assert any("docker build" in c and "--tag inferpipe-preprocess:rc1" in c for c in commands)
    assert any(
        c.startswith("+ docker push --quiet 127.0.0.1:5999/inferpipe-postprocess:rc1")
        for c in commands
    )


def test_help_shows_usage() -> None:
    done = build_sh("--help")
    assert done.returncode == 0 and "./build.sh [build|push|all]" in done.stdout
