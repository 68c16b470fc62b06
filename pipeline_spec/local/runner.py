"""Start every container a spec's variants need, wait for their /ping, and build the
local endpoint that routes to them. Stopping stops them all."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from inferpipe.pipeline_spec.errors import DeployError
from inferpipe.pipeline_spec.fusion import write_fused_artifacts
from inferpipe.pipeline_spec.local.chain import prepare_containers
from inferpipe.pipeline_spec.local.endpoint import HttpSend, LocalEndpoint, LocalVariant
from inferpipe.pipeline_spec.local.engines import DockerEngine, ProcessEngine, Running
from inferpipe.pipeline_spec.local.shadow import ShadowMirror, shadow_log
from inferpipe.pipeline_spec.model import ContainerSpec, PipelineSpec, VariantSpec
from inferpipe.protocol import names
from inferpipe.protocol.chain import Hop

logger = logging.getLogger(__name__)

START_DEADLINE_SECONDS = 120.0
TRANSFORM_VARIANT = "batch-transform"
#: Local runs default to one worker per container: a pipeline of 15 would otherwise
#: start 15 x CPU-count processes on a laptop.
LOCAL_DEFAULTS = {names.MODEL_SERVER_WORKERS: "1"}


def local_defaults(members: int) -> dict[str, str]:
    """One worker per container; a fused container keeps the processes its members had
    (up to one per core), or fusing would take cores away from the chain."""
    workers = min(members, os.cpu_count() or 1)
    return {**LOCAL_DEFAULTS, names.MODEL_SERVER_WORKERS: str(max(workers, 1))}


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
    #: Starts the container again (same port, model dir and environment).
    start_again: Callable[[], Running] | None = None
    restarts: int = 0


def stop_all(containers: list[StartedContainer]) -> None:
    """Stop every container at once (each may take seconds to drain), not one by one."""
    threads = [threading.Thread(target=c.running.stop, daemon=True) for c in containers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@dataclass
class LocalDeployment:
    """Everything `local up` started; `stop` ends it all. `supervise` restarts a
    container that dies, as the platform replaces an unhealthy one."""

    endpoint: LocalEndpoint
    containers: list[StartedContainer] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        self._stopping.set()
        if self.endpoint.shadow is not None:
            self.endpoint.shadow.stop()
        stop_all(self.containers)

    def supervise(
        self,
        progress: Callable[[str], None],
        on_restart: Callable[[], None] = lambda: None,
        interval: float = 1.0,
    ) -> threading.Thread:
        """Watch the containers from a background thread; restart any that exits."""

        def watch() -> None:
            while not self._stopping.wait(interval):
                for container in self.containers:
                    if self._stopping.is_set():
                        return
                    if container.start_again is None or container.running.alive():
                        continue
                    self._restart(container, progress)
                    on_restart()

        thread = threading.Thread(target=watch, name="inferpipe-supervisor", daemon=True)
        thread.start()
        return thread

    def _restart(self, container: StartedContainer, progress: Callable[[str], None]) -> None:
        assert container.start_again is not None
        if self._stopping.is_set():
            return
        progress(
            f"{container.model}/{container.name} exited; restarting it. Last log lines:\n"
            f"{container.running.log_tail(10)}"
        )
        container.running.stop()  # the docker engine removes the dead container first
        container.running = container.start_again()
        container.restarts += 1
        try:
            wait_ready([container], progress)
        except DeployError as exc:
            progress(f"restart of {container.model}/{container.name} failed: {exc}")


def _model_dirs_in(root: Path) -> Callable[[int, ContainerSpec], Path]:
    """Where each container's model dir goes: `<root>/<container name>/model`."""
    return lambda _index, container: root / container.name / "model"


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
    send: HttpSend,
    progress: Callable[[str], None],
    s3: Any = None,
    seed: int = 0,
) -> LocalDeployment:
    """Start the containers of every model a variant uses, and the endpoint over them."""
    spec, runs = write_fused_artifacts(spec, spec_dir, state_dir / "fused", s3=s3)
    members = {(run.model, run.name): len(run.members) for run in runs}
    used = {v.model for v in spec.variants} | ({spec.transform.model} if spec.transform else set())
    started: list[StartedContainer] = []
    hops: dict[str, tuple[Hop, ...]] = {}
    try:
        for key in sorted(used):
            model_hops = []
            prepared = prepare_containers(spec, key, spec_dir, _model_dirs_in(state_dir / key), s3)
            for ready in prepared:
                container = ready.container
                port = free_port()
                environment = {
                    **local_defaults(members.get((key, container.name), 1)),
                    **ready.environment,
                    names.SAFE_PORT_RANGE: f"{port}-{port}",
                }
                log = state_dir / key / container.name / "container.log"
                start_again = partial(
                    engine.start, container, ready.model_dir, port, environment, log
                )
                url = f"http://127.0.0.1:{port}"
                started.append(
                    StartedContainer(key, container.name, url, start_again(), start_again)
                )
                model_hops.append(ready.hop(url))
            hops[key] = tuple(model_hops)
        progress(f"started {len(started)} containers with the {engine.name} engine")
        wait_ready(started, progress)
    except BaseException:
        stop_all(started)
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
                TRANSFORM_VARIANT,
                0.0,
                spec.models[job_model].execution_mode,
                hops[job_model],
                hidden=True,
            )
        )
    endpoint = LocalEndpoint(spec.endpoint, spec.region, variants, send, seed)
    for shadow in (v for v in spec.variants if v.shadow):
        endpoint.shadow = _mirror(spec, shadow, hops[shadow.model], endpoint, state_dir, seed)
    return LocalDeployment(endpoint, started)


def _mirror(
    spec: PipelineSpec,
    shadow: VariantSpec,
    hops: tuple[Hop, ...],
    endpoint: LocalEndpoint,
    state_dir: Path,
    seed: int,
) -> ShadowMirror:
    """The shadow variant's mirror: sampled at its weight relative to production's."""
    variant = LocalVariant(shadow.name, 0.0, spec.models[shadow.model].execution_mode, hops)
    production = [v for v in spec.variants if not v.shadow]
    total = sum(v.weight for v in production)

    def run(body: bytes, headers: Mapping[str, str]) -> tuple[int, str, bytes]:
        answer = endpoint.run_variant(variant, body, headers)
        return answer.status, answer.headers.get(names.CONTENT_TYPE, ""), answer.body

    mirror = ShadowMirror(
        production="+".join(v.name for v in production),
        shadow=shadow.name,
        fraction=min(1.0, shadow.weight / total) if total else 1.0,
        run=run,
        log=shadow_log(state_dir),
        seed=seed,
    )
    mirror.start()
    return mirror
