"""Start every container a spec's variants need, wait for their /ping, and build the
local endpoint that routes to them. Stopping stops them all."""

from __future__ import annotations

import logging
import socket
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inferpipe.pipeline_spec.local.artifacts import prepare_model_dir
from inferpipe.pipeline_spec.local.endpoint import Hop, LocalEndpoint, LocalVariant, Transport
from inferpipe.pipeline_spec.local.engines import DockerEngine, ProcessEngine, Running
from inferpipe.pipeline_spec.model import PipelineSpec
from inferpipe.pipeline_spec.resolve import resolve_containers
from inferpipe.serving.errors import DeployError

logger = logging.getLogger(__name__)

START_DEADLINE_SECONDS = 120.0
TRANSFORM_VARIANT = "batch-transform"
#: Local runs default to one worker per container: a pipeline of 15 would otherwise
#: start 15 x CPU-count processes on a laptop.
LOCAL_DEFAULTS = {"SAGEMAKER_MODEL_SERVER_WORKERS": "1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class StartedContainer:
    model: str
    name: str
    url: str
    running: Running


@dataclass
class LocalDeployment:
    """Everything `local up` started; `stop` ends it all."""

    endpoint: LocalEndpoint
    containers: list[StartedContainer] = field(default_factory=list)

    def stop(self) -> None:
        for container in self.containers:
            container.running.stop()


def ping_problem(url: str) -> str | None:
    """None when `url`/ping answers 200, else what went wrong ("HTTP 503", "down (...)")."""
    try:
        with urllib.request.urlopen(f"{url}/ping", timeout=2) as response:
            return None if response.status == 200 else f"HTTP {response.status}"
    except OSError as exc:
        return f"down ({exc})"


def wait_ready(
    containers: list[StartedContainer],
    progress: Callable[[str], None],
    deadline_seconds: float = START_DEADLINE_SECONDS,
) -> None:
    """Wait for every /ping; on a failure name the container and show its log tail."""
    started = time.monotonic()
    pending = list(containers)
    while pending:
        for container in list(pending):
            if ping_problem(container.url) is None:
                pending.remove(container)
                progress(
                    f"{container.model}/{container.name} ready on {container.url} "
                    f"after {time.monotonic() - started:.1f} s"
                )
            elif not container.running.alive():
                raise DeployError(
                    f"container {container.model}/{container.name} exited "
                    f"during start; last log lines:\n"
                    f"{container.running.log_tail()}"
                )
        if pending and time.monotonic() - started > deadline_seconds:
            names = ", ".join(f"{c.model}/{c.name}" for c in pending)
            raise DeployError(
                f"no /ping answer from {names} within {deadline_seconds:.0f} s; "
                f"last log lines:\n{pending[0].running.log_tail()}"
            )
        time.sleep(0.2)


def start_local(
    spec: PipelineSpec,
    spec_dir: Path,
    engine: ProcessEngine | DockerEngine,
    state_dir: Path,
    transport: Transport,
    progress: Callable[[str], None],
    s3: Any = None,
    seed: int = 0,
) -> LocalDeployment:
    """Start the containers of every model a variant uses, and the endpoint over them."""
    used = {v.model for v in spec.variants} | ({spec.transform.model} if spec.transform else set())
    started: list[StartedContainer] = []
    hops: dict[str, tuple[Hop, ...]] = {}
    try:
        for key in sorted(used):
            model = spec.models[key]
            model_hops = []
            for index, (container, resolved) in enumerate(
                zip(model.containers, resolve_containers(model, spec.region), strict=True)
            ):
                model_dir = prepare_model_dir(
                    resolved.artifact,
                    spec_dir,
                    state_dir / key / container.name / "model",
                    resolved.artifact_files,
                    s3,
                )
                port = free_port()
                environment = {
                    **LOCAL_DEFAULTS,
                    **resolved.environment,
                    "SAGEMAKER_SAFE_PORT_RANGE": f"{port}-{port}",
                }
                log = state_dir / key / container.name / "container.log"
                running = engine.start(container, model_dir, port, environment, log)
                url = f"http://127.0.0.1:{port}"
                started.append(StartedContainer(key, container.name, url, running))
                display = container.hostname or f"container-{index + 1}"
                model_hops.append(Hop(display, url, container.hostname))
            hops[key] = tuple(model_hops)
        progress(f"started {len(started)} containers with the {engine.name} engine")
        wait_ready(started, progress)
    except BaseException:
        for begun in started:
            begun.running.stop()
        raise
    variants = [
        LocalVariant(v.name, v.weight, spec.models[v.model].execution_mode, hops[v.model])
        for v in spec.variants
        if not v.shadow
    ]
    if spec.transform is not None:
        # Batch jobs reach their model as a variant that weighted routing never picks.
        job_model = spec.transform.model
        variants.append(
            LocalVariant(
                TRANSFORM_VARIANT, 0.0, spec.models[job_model].execution_mode, hops[job_model]
            )
        )
    endpoint = LocalEndpoint(spec.endpoint, spec.region, variants, transport, seed)
    return LocalDeployment(endpoint, started)
