"""`inferpipe local up|down|status|logs`: run a local endpoint in the foreground and find it
again from other shells through a small state file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inferpipe.pipeline_spec.errors import DeployError
from inferpipe.pipeline_spec.local.engines import (
    DockerEngine,
    DockerRunning,
    choose_engine,
    sweep_orphans,
)
from inferpipe.pipeline_spec.local.front import (
    READ_TIMEOUT_SECONDS,
    FrontServer,
    pooled_transport,
)
from inferpipe.pipeline_spec.local.runner import LocalDeployment, ping_problem, start_local
from inferpipe.pipeline_spec.model import PipelineSpec
from inferpipe.protocol.chain import HOP_TIMEOUT_SECONDS

Progress = Callable[[str], None]
#: How long stopping waits for requests in flight: one hop's whole timeout, after which
#: a hop would have failed anyway.
DRAIN_SECONDS = HOP_TIMEOUT_SECONDS


def state_file(state_dir: Path, endpoint: str) -> Path:
    return state_dir / f"{endpoint}.json"


def _s3_client(spec: PipelineSpec) -> Any:
    needs_s3 = any(
        c.artifact and c.artifact.startswith("s3://")
        for m in spec.models.values()
        for c in m.containers
    )
    if not needs_s3:
        return None
    from inferpipe.pipeline_spec.aws_clients import aws_client

    return aws_client("s3", spec.region)


def bring_up(
    spec: PipelineSpec,
    spec_dir: Path,
    engine_name: str | None,
    port: int,
    state_dir: Path,
    progress: Progress,
    seed: int = 0,
    read_timeout: float = READ_TIMEOUT_SECONDS,
) -> tuple[LocalDeployment, FrontServer]:
    """Start containers and the front server (in a background thread); write the state file."""
    engine = choose_engine(engine_name)
    if isinstance(engine, DockerEngine):
        for name in sweep_orphans():
            progress(f"removed {name}, left behind by a local endpoint that was killed")
    work = state_dir / spec.endpoint
    deployment = start_local(
        spec, spec_dir, engine, work, pooled_transport(), progress, _s3_client(spec), seed
    )
    try:
        front = FrontServer(port, {spec.endpoint: deployment.endpoint}, read_timeout)
    except OSError as exc:
        deployment.stop()
        raise DeployError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from exc
    front.start_background()

    def write_state() -> None:
        state = {
            "pid": os.getpid(),
            "url": front.url,
            "engine": engine.name,
            "containers": [
                {
                    "model": c.model,
                    "name": c.name,
                    "url": c.url,
                    "log": str(work / c.model / c.name / "container.log"),
                    "docker": c.running.name if isinstance(c.running, DockerRunning) else None,
                    "restarts": c.restarts,
                }
                for c in deployment.containers
            ],
        }
        path = state_file(state_dir, spec.endpoint)
        if path.parent.is_dir() and not deployment.stopping:
            path.write_text(json.dumps(state, indent=2))

    write_state()
    deployment.supervise(progress, on_restart=write_state)
    return deployment, front


def take_down(deployment: LocalDeployment, front: FrontServer) -> None:
    """End what `bring_up` started inside this process (no state file to remove, no
    requests to wait for): the front's loop and socket, then every container."""
    front.shutdown()
    front.server_close()
    deployment.stop()


def run_until_signal(
    spec: PipelineSpec,
    deployment: LocalDeployment,
    front: FrontServer,
    state_dir: Path,
    progress: Progress,
) -> None:
    """Serve until SIGTERM or Ctrl-C, then stop: no new connections, requests in flight
    answered (up to DRAIN_SECONDS; a second signal cuts the wait short), containers
    stopped in parallel, the state file removed."""
    signals = threading.Semaphore(0)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: signals.release())
    progress(
        f"endpoint {spec.endpoint} at {front.url} (boto3: "
        f"client('sagemaker-runtime', endpoint_url='{front.url}')); Ctrl-C stops it"
    )
    try:
        signals.acquire()
    finally:
        progress("stopping: answering the requests in flight (Ctrl-C again to skip)")
        left = front.drain(DRAIN_SECONDS, cut_short=lambda: signals.acquire(blocking=False))
        if left:
            progress(f"stopping with {left} request(s) still in flight")
        deployment.stop()
        state_file(state_dir, spec.endpoint).unlink(missing_ok=True)


def read_state(state_dir: Path, endpoint: str) -> dict[str, Any]:
    path = state_file(state_dir, endpoint)
    if not path.is_file():
        raise DeployError(f"no local endpoint {endpoint} is running (no {path})")
    return dict(json.loads(path.read_text()))


def bring_down(
    state_dir: Path, endpoint: str, deadline_seconds: float = DRAIN_SECONDS + 45
) -> list[str]:
    """Signal the `local up` process and wait for it to clean up; first remove docker
    containers a killed `local up` left behind. Returns what was swept."""
    swept = sweep_orphans()
    if swept and not state_file(state_dir, endpoint).is_file():
        return swept
    state = read_state(state_dir, endpoint)
    try:
        os.kill(int(state["pid"]), signal.SIGTERM)
    except ProcessLookupError:
        state_file(state_dir, endpoint).unlink(missing_ok=True)
        return swept
    end = time.monotonic() + deadline_seconds
    while state_file(state_dir, endpoint).exists() and time.monotonic() < end:
        time.sleep(0.2)
    if state_file(state_dir, endpoint).exists():
        raise DeployError(
            f"local endpoint {endpoint} (pid {state['pid']}) did not stop in "
            f"{deadline_seconds:.0f} s"
        )
    return swept


def _answers(url: str) -> str:
    return ping_problem(url) or "up"


def describe_status(state_dir: Path, endpoint: str) -> list[str]:
    state = read_state(state_dir, endpoint)
    lines = [
        f"{endpoint}: {state['url']} ({state['engine']} engine, pid {state['pid']}): "
        f"{_answers(state['url'])}"
    ]
    for c in state["containers"]:
        restarts = int(c.get("restarts", 0))
        again = f" (restarted {restarts} time{'s' if restarts != 1 else ''})" if restarts else ""
        lines.append(f"  {c['model']}/{c['name']}: {c['url']}: {_answers(c['url'])}{again}")
    return lines


def read_logs(state_dir: Path, endpoint: str, container: str | None, lines: int) -> str:
    state = read_state(state_dir, endpoint)
    chunks = []
    for entry in state["containers"]:
        if container and container not in (entry["name"], f"{entry['model']}/{entry['name']}"):
            continue
        if entry.get("docker"):
            done = subprocess.run(
                ["docker", "logs", "--tail", str(lines), entry["docker"]],
                capture_output=True,
                text=True,
                check=False,
            )
            text = done.stdout + done.stderr
        else:
            path = Path(entry["log"])
            text = (
                "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
                if path.exists()
                else "(no log yet)"
            )
        chunks.append(f"== {entry['model']}/{entry['name']} ==\n{text.rstrip()}")
    if not chunks:
        raise DeployError(f"no container {container!r} in local endpoint {endpoint}")
    return "\n".join(chunks)
