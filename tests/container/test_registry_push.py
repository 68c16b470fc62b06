"""build.sh push to a real registry on loopback with htpasswd authentication, then pull back."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
import requests
from inferpipe_testing.containers import REPO_ROOT, docker, free_port

USER = "inferpipe-ci"
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's docker-registry on 127.0.0.1 with bcrypt htpasswd auth."""
    if shutil.which("docker-registry") is None:
        pytest.fail("docker-registry is not installed; the README's test command installs it")
    root = tmp_path_factory.mktemp("registry")
    htpasswd = subprocess.run(
        ["htpasswd", "-niB", USER], input=PASSWORD, text=True, capture_output=True, check=True
    ).stdout
    (root / "htpasswd").write_text(htpasswd)
    port = free_port()
    (root / "config.yml").write_text(f"""version: 0.1
storage:
  filesystem:
    rootdirectory: {root / "data"}
http:
  addr: 127.0.0.1:{port}
auth:
  htpasswd:
    realm: inferpipe-test
    path: {root / "htpasswd"}
""")
    with (root / "registry.log").open("w") as log:
        process = subprocess.Popen(
            ["docker-registry", "serve", str(root / "config.yml")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://{address}/v2/", timeout=1).status_code == 401:
                break
        except requests.RequestException:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"registry did not start: {(root / 'registry.log').read_text()[-2000:]}")
    yield address
    process.terminate()
    process.wait(timeout=10)
    # The pushed tags keep this run's layers alive after the next build: drop them.
    listed = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    pushed = [name for name in listed if name.startswith(f"{address}/")]
    if pushed:
        docker("image", "rm", *pushed)
    docker("logout", address, check=False)


def push(address: str, password: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "INFERPIPE_REGISTRY_USER": USER, "INFERPIPE_REGISTRY_PASSWORD": password}
    return subprocess.run(
        [str(REPO_ROOT / "build.sh"), "push", "--registry", address, "--images", "preprocess"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def test_wrong_password_fails_clearly(images: dict[str, str], registry: str) -> None:
    done = push(registry, "wrong-password")
    assert done.returncode != 0
    assert f"docker login to {registry} failed" in done.stderr
    assert "wrong-password" not in done.stderr + done.stdout


def test_push_with_credentials_from_the_environment_then_pull_back(
    images: dict[str, str], registry: str
) -> None:
    done = push(registry, PASSWORD)
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stderr + done.stdout
    local_id = docker("image", "inspect", "--format", "{{.Id}}", images["preprocess"]).stdout
    remote = f"{registry}/inferpipe-preprocess:latest"
    docker("image", "rm", remote)
    docker("pull", remote, timeout=300)
    assert docker("image", "inspect", "--format", "{{.Id}}", remote).stdout == local_id
    tags = requests.get(
        f"http://{registry}/v2/inferpipe-preprocess/tags/list", auth=(USER, PASSWORD), timeout=5
    ).json()["tags"]
    assert {"latest", "0.1.0"} <= set(tags) and len(tags) >= 3
