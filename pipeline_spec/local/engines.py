"""Start stage containers as local processes (`inferpipe serve`) or as Docker containers.

Both run the same runtime on a loopback port with the environment SageMaker would set.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from inferpipe.pipeline_spec import builtins
from inferpipe.pipeline_spec.errors import DeployError, SpecError
from inferpipe.pipeline_spec.model import ContainerSpec
from inferpipe.protocol import names

#: Docker label on every container `local up` starts: the pid of the process that owns it.
OWNER_LABEL = "inferpipe.local.owner"
#: Built-ins with a local stand-in image (docker engine) and stage kind (both engines).
LOCAL_BUILTINS = {
    "xgboost": ("inferpipe-xgboost:latest", "xgboost"),
    "sparkml-serving": ("inferpipe-preprocess:latest", "sparkml"),
}


class Running(Protocol):
    """A started stage: stop it, read its log, tell whether it still runs."""

    def alive(self) -> bool: ...
    def stop(self) -> None: ...
    def log_tail(self, lines: int = 30) -> str: ...
    def root_pid(self) -> int | None:
        """The host PID at the top of the stage's processes (None when not running)."""
        ...


def _builtin_stand_in(container: ContainerSpec) -> tuple[str, str]:
    """(local image, stage kind) standing in for a built-in algorithm container."""
    assert container.builtin is not None
    if container.builtin.algorithm not in LOCAL_BUILTINS:
        raise SpecError(
            f"container {container.name}: built-in {container.builtin.algorithm} "
            "has no local stand-in; set `local: {image: ..., stage: ...}`"
        )
    return LOCAL_BUILTINS[container.builtin.algorithm]


def local_stage(container: ContainerSpec) -> str | None:
    """The INFERPIPE_STAGE a container runs under locally (None: detect from the model dir)."""
    if container.local and container.local.stage:
        return container.local.stage
    return _builtin_stand_in(container)[1] if container.builtin is not None else None


def local_image(container: ContainerSpec) -> str:
    """The local tag a container's image maps to (DESIGN: 'Local images')."""
    if container.local and container.local.image:
        return container.local.image
    if container.builtin is not None:
        return _builtin_stand_in(container)[0]
    assert container.image is not None
    if builtins.is_inferpipe_image(container.image):
        return f"{builtins.repository_name(container.image)}:latest"
    return container.image


@dataclass
class ProcessRunning:
    process: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def root_pid(self) -> int | None:
        return self.process.pid if self.alive() else None

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        # Workers outlive a server killed with SIGKILL (and hold its port) until they
        # notice; the container runs in its own process group, so end them all now.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when `local up` dies, however it dies (Linux's
    PR_SET_PDEATHSIG), so no container outlives its endpoint holding a port."""
    import ctypes

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


class ProcessEngine:
    """Each container is `python -m inferpipe serve` on its own port."""

    name = "process"

    def start(
        self,
        container: ContainerSpec,
        model_dir: Path,
        port: int,
        environment: dict[str, str],
        log: Path,
    ) -> Running:
        env = {**base_environment(), **environment, names.BIND_TO_PORT: str(port)}
        with log.open("wb") as handle:
            process = subprocess.Popen(
                [sys.executable, "-P", "-m", "inferpipe", "serve", "--model-dir", str(model_dir)],
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                start_new_session=True,
            )
        return ProcessRunning(process, log)


@dataclass
class DockerRunning:
    name: str

    def _inspect(self, template: str) -> str:
        done = subprocess.run(
            ["docker", "inspect", "--format", template, self.name],
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip()

    def alive(self) -> bool:
        return self._inspect("{{.State.Running}}") == "true"

    def root_pid(self) -> int | None:
        pid = self._inspect("{{.State.Pid}}")
        return int(pid) if pid.isdigit() and pid != "0" else None

    def stop(self) -> None:
        subprocess.run(
            ["docker", "stop", "--time", "30", self.name], capture_output=True, check=False
        )
        subprocess.run(["docker", "rm", "--force", self.name], capture_output=True, check=False)

    def log_tail(self, lines: int = 30) -> str:
        done = subprocess.run(
            ["docker", "logs", "--tail", str(lines), self.name],
            capture_output=True,
            text=True,
            check=False,
        )
        return (done.stdout + done.stderr).strip()


class DockerEngine:
    """Each container is the image built by build.sh, run read-only as SageMaker would."""

    name = "docker"

    def start(
        self,
        container: ContainerSpec,
        model_dir: Path,
        port: int,
        environment: dict[str, str],
        log: Path,
    ) -> Running:
        image = local_image(container)
        name = f"inferpipe-local-{port}"
        args = [
            "docker",
            "run",
            "--detach",
            "--name",
            name,
            "--read-only",
            "--tmpfs",
            "/tmp",
            "--publish",
            f"127.0.0.1:{port}:{port}",
            "--volume",
            f"{model_dir}:/opt/ml/model:ro",
            "--env",
            f"{names.BIND_TO_PORT}={port}",
            "--label",
            f"{OWNER_LABEL}={os.getpid()}",
        ]
        for key, value in environment.items():
            args += ["--env", f"{key}={value}"]
        done = subprocess.run([*args, image, "serve"], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise DeployError(
                f"container {container.name}: docker run {image} failed: "
                f"{done.stderr.strip()[-500:]} (build images with ./build.sh)"
            )
        log.write_text(f"docker container {name} ({image}); see `docker logs {name}`\n")
        return DockerRunning(name)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_orphans() -> list[str]:
    """Remove docker containers a killed `local up` left behind (labelled with an owner
    pid that no longer runs); returns their names. Nothing happens without docker."""
    if shutil.which("docker") is None:
        return []
    listed = subprocess.run(
        [
            "docker",
            "ps",
            "-a",
            "--filter",
            f"label={OWNER_LABEL}",
            "--format",
            '{{.Names}}\t{{.Label "' + OWNER_LABEL + '"}}',
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    orphans = []
    for line in listed.stdout.splitlines():
        name, _, owner = line.partition("\t")
        if owner.isdigit() and not _pid_alive(int(owner)):
            orphans.append(name)
    if orphans:
        subprocess.run(["docker", "rm", "--force", *orphans], capture_output=True, check=False)
    return orphans


def base_environment() -> dict[str, str]:
    """What a child process needs from ours: PATH and friends, no SAGEMAKER_* leaking in."""
    keep = (
        "PATH",
        "HOME",
        "LANG",
        "LC_ALL",
        "TMPDIR",
        "PYTHONPATH",
        "VIRTUAL_ENV",
        "OPENBLAS_CORETYPE",
        "OPENBLAS_L2_SIZE",
    )
    return {k: v for k, v in os.environ.items() if k in keep}  # noqa: TID251


def choose_engine(name: str | None) -> ProcessEngine | DockerEngine:
    """`docker` or `process`; by default docker when an engine answers, else process."""
    if name == "process":
        return ProcessEngine()
    docker_ok = (
        shutil.which("docker") is not None
        and subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0
    )
    if name == "docker":
        if not docker_ok:
            raise DeployError("--engine docker needs a running Docker engine")
        return DockerEngine()
    return DockerEngine() if docker_ok else ProcessEngine()
