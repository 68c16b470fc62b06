"""A bounded soak: one fixed request rate through the local endpoint for a long time,
with the resident memory of every process sampled as it runs.

A pipeline that passes a one-minute load test can still leak: a cache that never
evicts, a list that grows per request, a worker replaced after a crash. The soak
holds one rate (open loop, latencies from each request's due time, see loadtest.py)
in windows, samples the RSS of the front and of every process of every container
between windows, and passes when there were no errors, no process was replaced, and
no process grew more than `max_growth` from the end of the warm-up to the end.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from inferpipe.pipeline_spec.errors import DeployError, SpecError
from inferpipe.pipeline_spec.loadtest import StepResult, percentile, run_step
from inferpipe.pipeline_spec.local.loadtest_session import sender
from inferpipe.pipeline_spec.local.runner import LocalDeployment, free_port
from inferpipe.pipeline_spec.local.session import bring_up, take_down
from inferpipe.pipeline_spec.model import PipelineSpec
from inferpipe.protocol import names

#: The generator's threads: enough for the rate at a few hundred ms per request.
GENERATOR_THREADS = 16
FRONT = "front + load generator"


@dataclass(frozen=True)
class SoakSettings:
    body: bytes
    content_type: str
    rate: float = 20.0
    seconds: float = 600.0
    warmup_seconds: float = 60.0
    window_seconds: float = 10.0
    max_growth: float = 0.10
    engine: str = "process"
    variant: str | None = None

    def check(self) -> None:
        if self.rate <= 0 or self.seconds <= 0 or self.window_seconds <= 0:
            raise SpecError("soak: --rate, --duration and --window must be positive")
        if not 0 <= self.warmup_seconds < self.seconds:
            raise SpecError(
                f"soak: the warm-up ({self.warmup_seconds:g} s) must be shorter than the "
                f"soak ({self.seconds:g} s), or memory growth is measured over nothing"
            )


@dataclass
class ProcessMemory:
    """One process's RSS over the soak; `baseline` is the sample that ends the warm-up."""

    label: str
    pid: int
    samples: list[tuple[float, int]] = field(default_factory=list)
    baseline: int | None = None
    gone_at: float | None = None

    @property
    def final(self) -> int:
        return self.samples[-1][1]

    @property
    def growth(self) -> float:
        baseline = self.baseline or self.samples[0][1]
        return self.final / baseline - 1 if baseline else 0.0


@dataclass
class SoakReport:
    settings: dict[str, Any]
    windows: list[StepResult]
    #: Seconds from the start at which each counted window ended.
    window_ends: list[float]
    latencies_ms: list[float]
    processes: list[ProcessMemory]
    restarts: int

    @property
    def requests(self) -> int:
        return sum(w.requests for w in self.windows)

    @property
    def errors(self) -> int:
        return sum(w.errors for w in self.windows)

    @property
    def p50_ms(self) -> float:
        return percentile(sorted(self.latencies_ms), 0.50)

    @property
    def p99_ms(self) -> float:
        return percentile(sorted(self.latencies_ms), 0.99)

    @property
    def achieved_rps(self) -> float:
        seconds = sum(w.requests / w.achieved_rps for w in self.windows if w.achieved_rps)
        return self.requests / seconds if seconds else 0.0

    def problems(self, max_growth: float) -> list[str]:
        """Why the soak failed; empty when it passed."""
        found = []
        if self.errors:
            found.append(f"{self.errors} of {self.requests} requests failed")
        if self.restarts:
            found.append(f"{self.restarts} container restart(s) during the soak")
        for process in self.processes:
            if process.gone_at is not None:
                found.append(
                    f"{process.label} (pid {process.pid}) exited at {process.gone_at:.0f} s"
                )
            elif process.growth >= max_growth:
                found.append(
                    f"{process.label} (pid {process.pid}) grew {process.growth:.1%} after the "
                    f"warm-up ({process.baseline} -> {process.final} bytes RSS; "
                    f"limit {max_growth:.0%})"
                )
        return found

    def to_json(self, max_growth: float) -> dict[str, Any]:
        problems = self.problems(max_growth)
        return {
            "settings": self.settings,
            "requests": self.requests,
            "errors": self.errors,
            "achieved_rps": round(self.achieved_rps, 2),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "restarts": self.restarts,
            "windows": [
                {"ended_at_s": at, **asdict(w)}
                for at, w in zip(self.window_ends, self.windows, strict=True)
            ],
            "processes": [
                {
                    "label": p.label,
                    "pid": p.pid,
                    "baseline_rss": p.baseline,
                    "final_rss": p.final,
                    "growth": round(p.growth, 4),
                    "exited_at_s": p.gone_at,
                    "samples": p.samples,
                }
                for p in self.processes
            ],
            "problems": problems,
            "passed": not problems,
        }


def _psutil() -> Any:
    try:
        import psutil
    except ImportError as exc:
        raise SpecError("the soak needs psutil: pip install 'inferpipe[spec]'") from exc
    return psutil


def _processes(deployment: LocalDeployment) -> dict[int, str]:
    """Every process serving the endpoint, by PID: ours, and each container's tree."""
    psutil = _psutil()
    found = {os.getpid(): FRONT}
    for container in deployment.containers:
        root = container.running.root_pid()
        if root is None:
            raise DeployError(f"{container.model}/{container.name} is not running")
        top = psutil.Process(root)
        found[root] = f"{container.model}/{container.name} server"
        for child in top.children(recursive=True):
            found[child.pid] = f"{container.model}/{container.name} worker"
    return found


def _sample(processes: dict[int, ProcessMemory], at: float) -> None:
    psutil = _psutil()
    for process in processes.values():
        if process.gone_at is not None:
            continue
        try:
            process.samples.append(
                (round(at, 2), int(psutil.Process(process.pid).memory_info().rss))
            )
        except psutil.NoSuchProcess:
            process.gone_at = round(at, 2)


def soak(
    spec: PipelineSpec,
    spec_dir: Path,
    state_dir: Path,
    settings: SoakSettings,
    progress: Callable[[str], None],
) -> SoakReport:
    """Bring the spec up locally, hold `settings.rate` for `settings.seconds`, stop."""
    settings.check()
    variant = settings.variant or next(v.name for v in spec.variants if not v.shadow)
    if variant not in {v.name for v in spec.variants}:
        raise SpecError(f"--variant {variant} not in the spec")
    deployment, front = bring_up(spec, spec_dir, settings.engine, free_port(), state_dir, progress)
    try:
        send = sender(f"{front.url}/endpoints/{spec.endpoint}/invocations")
        headers = {names.CONTENT_TYPE: settings.content_type, names.TARGET_VARIANT: variant}
        processes = {
            pid: ProcessMemory(label, pid) for pid, label in _processes(deployment).items()
        }
        windows: list[StepResult] = []
        window_ends: list[float] = []
        latencies: list[float] = []
        started, at, warm = time.monotonic(), 0.0, False
        _sample(processes, at)
        while at < settings.seconds:
            if not warm and at >= settings.warmup_seconds:
                warm = True  # memory growth counts from here
                for process in processes.values():
                    process.baseline = process.final if process.gone_at is None else None
            window = run_step(
                send,
                settings.body,
                headers,
                settings.rate,
                min(settings.window_seconds, settings.seconds - at),
                GENERATOR_THREADS,
                latencies if warm else None,
            )
            at = time.monotonic() - started
            if warm:
                windows.append(window)
                window_ends.append(round(at, 2))
            _sample(processes, at)
            rss = sum(p.final for p in processes.values() if p.gone_at is None)
            progress(
                f"[{at:5.0f}/{settings.seconds:.0f} s{'' if warm else ' warm-up'}] "
                f"{window.achieved_rps:.1f} rps: p50 {window.p50_ms:.1f} ms, "
                f"p99 {window.p99_ms:.1f} ms, {window.errors} errors; "
                f"RSS of {len(processes)} processes {rss / 2**20:.0f} MiB"
            )
        restarts = sum(c.restarts for c in deployment.containers)
    finally:
        take_down(deployment, front)
    return SoakReport(
        {**asdict(settings), "body": f"{len(settings.body)} bytes", "variant": variant},
        windows,
        window_ends,
        latencies,
        list(processes.values()),
        restarts,
    )


def write_report(report: SoakReport, max_growth: float, target: Path) -> None:
    target.write_text(json.dumps(report.to_json(max_growth), indent=2) + "\n")


def plot_soak(report: SoakReport, target: Path) -> None:
    """Latency per window and each process's RSS over time, as a PNG."""
    try:
        import matplotlib
    except ImportError as exc:
        raise SpecError("the plot needs matplotlib: pip install 'inferpipe[bench]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (latency, memory) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    ends = report.window_ends
    latency.plot(ends, [w.p99_ms for w in report.windows], marker="o", label="p99")
    latency.plot(ends, [w.p50_ms for w in report.windows], ls="--", label="p50")
    latency.set_ylabel("latency per window (ms)")
    latency.set_title(
        f"inferpipe soak: {report.settings['rate']:g} rps, {report.requests} requests, "
        f"{report.errors} errors, p99 {report.p99_ms:.1f} ms"
    )
    latency.legend()
    for process in report.processes:
        times = [at for at, _ in process.samples]
        memory.plot(
            times,
            [rss / 2**20 for _, rss in process.samples],
            label=f"{process.label} ({process.growth:+.1%})",
        )
    for axis in (latency, memory):
        axis.axvspan(0, float(report.settings["warmup_seconds"]), color="0.9", lw=0)
    memory.set_ylabel("RSS (MiB)")
    memory.set_xlabel("seconds (grey: warm-up, not counted)")
    memory.legend(fontsize="x-small", ncol=2)
    figure.tight_layout()
    figure.savefig(target, dpi=110)
