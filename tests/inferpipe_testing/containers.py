"""Run real containers for tests: start, wait for /ping, talk HTTP, stop, read logs."""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import requests

from inferpipe.pipeline_spec.local.artifacts import prepare_model_dir
from inferpipe.pipeline_spec.local.runner import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]


def docker(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=check, timeout=timeout
    )


def share_model_dir(model_dir: Path) -> Path:
    """Copy a model dir where any container uid can read it (pytest's tmp is 0700)."""
    shared = Path(tempfile.mkdtemp(prefix="inferpipe-model-", dir="/tmp"))
    shared.chmod(0o755)
    return prepare_model_dir(str(model_dir.resolve()), shared, shared / "model", {})


@dataclass
class Container:
    """A running container with its host port published on 127.0.0.1."""

    name: str
    port: int
    removed: bool = field(default=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post(
        self, body: bytes | str, content_type: str, accept: str | None = None, timeout: float = 60
    ) -> requests.Response:
        headers = {"Content-Type": content_type} if content_type else {}
        if accept:
            headers["Accept"] = accept
        return requests.post(f"{self.url}/invocations", data=body, headers=headers, timeout=timeout)

    def logs(self) -> str:
        done = docker("logs", self.name, check=False)
        return done.stdout + done.stderr

    def state(self, template: str) -> str:
        return docker("inspect", "--format", template, self.name).stdout.strip()

    def wait_ready(self, deadline_s: float = 60) -> None:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            try:
                if requests.get(f"{self.url}/ping", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.state("{{.State.Running}}") != "true":
                raise AssertionError(f"container {self.name} exited:\n{self.logs()[-3000:]}")
            time.sleep(0.2)
        raise AssertionError(
            f"container {self.name} not ready in {deadline_s}s:\n{self.logs()[-3000:]}"
        )

    def wait_exit(self, deadline_s: float = 60) -> int:
        done = docker("wait", self.name, timeout=deadline_s)
        return int(done.stdout.strip())

    def remove(self) -> None:
        if not self.removed:
            docker("rm", "--force", self.name, check=False)
            self.removed = True


def start_container(
    image: str,
    model_dir: Path | None,
    env: dict[str, str] | None = None,
    container_port: int = 8080,
    extra: Sequence[str] = (),
    wait: bool = True,
) -> Container:
    """Start `image serve` read-only, as a non-root uid, with the model dir mounted."""
    port = free_port()
    name = f"inferpipe-test-{port}-{int(time.time() * 1000) % 100000}"
    args = [
        "run",
        "--detach",
        "--name",
        name,
        "--read-only",
        "--tmpfs",
        "/tmp",
        "--user",
        "12345:12345",
        "--publish",
        f"127.0.0.1:{port}:{container_port}",
    ]
    for key, value in (env or {}).items():
        args += ["--env", f"{key}={value}"]
    if model_dir is not None:
        args += ["--volume", f"{share_model_dir(model_dir)}:/opt/ml/model:ro"]
    docker(*args, *extra, image, "serve")
    container = Container(name, port)
    if wait:
        try:
            container.wait_ready()
        except AssertionError:
            container.remove()
            raise
    return container
