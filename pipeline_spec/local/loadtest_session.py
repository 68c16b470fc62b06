"""`inferpipe loadtest`: start a spec on the local endpoint, find each variant's MAX_RPS
within a p99 objective, and write the autoscaling target into a copy of the spec."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from inferpipe.pipeline_spec import builtins
from inferpipe.pipeline_spec.errors import SpecError
from inferpipe.pipeline_spec.loadtest import (
    Send,
    StepResult,
    autoscaling_target,
    find_max_rps,
)
from inferpipe.pipeline_spec.local.runner import free_port
from inferpipe.pipeline_spec.local.session import bring_up, take_down
from inferpipe.pipeline_spec.model import PipelineSpec
from inferpipe.protocol import names

DEFAULT_SAFETY_FACTOR = 0.5


@dataclass(frozen=True)
class VariantLoad:
    variant: str
    max_rps: float | None
    safety_factor: float
    steps: list[StepResult]

    @property
    def target(self) -> float | None:
        return (
            None if self.max_rps is None else autoscaling_target(self.max_rps, self.safety_factor)
        )


@dataclass(frozen=True)
class LoadSettings:
    body: bytes
    content_type: str
    p99_ms: float = 100.0
    duration: float = 60.0
    step_seconds: float = 5.0
    start_rps: float = 5.0
    engine: str | None = "process"


def sender(url: str) -> Send:
    import urllib3

    pool = urllib3.PoolManager(maxsize=64, retries=False)

    def send(body: bytes, headers: dict[str, str]) -> int:
        try:
            answer = pool.request("POST", url, body=body, headers=headers, timeout=30)
        except urllib3.exceptions.HTTPError as exc:
            raise OSError(str(exc)) from exc
        return int(answer.status)

    return send


def load_test(
    spec: PipelineSpec,
    spec_dir: Path,
    state_dir: Path,
    settings: LoadSettings,
    variants: list[str] | None,
    progress: Callable[[str], None],
) -> list[VariantLoad]:
    """Each chosen variant's MAX_RPS on this machine, one variant at a time."""
    chosen = variants or [v.name for v in spec.variants if not v.shadow]
    unknown = sorted(set(chosen) - {v.name for v in spec.variants})
    if unknown:
        raise SpecError(
            f"--variant {unknown} not in the spec; it has {[v.name for v in spec.variants]}"
        )
    deployment, front = bring_up(spec, spec_dir, settings.engine, free_port(), state_dir, progress)
    results = []
    try:
        send = sender(f"{front.url}/endpoints/{spec.endpoint}/invocations")
        for name in chosen:
            variant = next(v for v in spec.variants if v.name == name)
            safety = (
                variant.autoscaling.safety_factor if variant.autoscaling else DEFAULT_SAFETY_FACTOR
            )
            headers = {names.CONTENT_TYPE: settings.content_type, names.TARGET_VARIANT: name}

            def report(step: StepResult, number: int, steps: int, name: str = name) -> None:
                verdict = (
                    "ok"
                    if step.passes(settings.p99_ms)
                    else ("generator short" if not step.counted else "objective broken")
                )
                progress(
                    f"[{name} {number}/{steps}] asked {step.target_rps:.1f} rps, got "
                    f"{step.achieved_rps:.1f}: p50 {step.p50_ms:.1f} ms, p99 {step.p99_ms:.1f} ms, "
                    f"{step.errors} errors — {verdict}"
                )

            best, steps = find_max_rps(
                send,
                settings.body,
                headers,
                settings.p99_ms,
                settings.duration,
                settings.step_seconds,
                settings.start_rps,
                report,
            )
            results.append(VariantLoad(name, best, safety, steps))
    finally:
        take_down(deployment, front)
    return results


@dataclass(frozen=True)
class SweepPoint:
    """One server setting tried by `loadtest --sweep`, and what each variant did under it."""

    workers: int
    threads: int
    loads: list[VariantLoad]

    @property
    def label(self) -> str:
        return f"{self.workers} workers x {self.threads} threads"

    @property
    def environment(self) -> dict[str, str]:
        return server_environment(self.workers, self.threads)


def server_environment(workers: int, threads: int) -> dict[str, str]:
    return {names.MODEL_SERVER_WORKERS: str(workers), names.WORKER_THREADS: str(threads)}


def sweep_candidates(cores: int) -> list[tuple[int, int]]:
    """Worker and thread counts worth trying on `cores` cores: one worker, one per core
    and two per core, each with one and two request threads."""
    return [(w, t) for w in sorted({1, cores, 2 * cores}) for t in (1, 2)]


def _tunable(image: str | None) -> bool:
    """Only inferpipe's containers are given the swept settings (others have their own)."""
    return image is not None and builtins.is_inferpipe_image(image)


def with_server_settings(spec: PipelineSpec, workers: int, threads: int) -> PipelineSpec:
    """The spec with every inferpipe container set to `workers` x `threads`."""
    extra = server_environment(workers, threads)
    models = {}
    for key, model in spec.models.items():
        containers = [
            c.model_copy(update={"environment": {**c.environment, **extra}})
            if _tunable(c.image)
            else c
            for c in model.containers
        ]
        models[key] = model.model_copy(update={"containers": containers})
    return spec.model_copy(update={"models": models})


def sweep(
    spec: PipelineSpec,
    spec_dir: Path,
    state_dir: Path,
    settings: LoadSettings,
    variants: list[str] | None,
    progress: Callable[[str], None],
    candidates: list[tuple[int, int]],
) -> list[SweepPoint]:
    """Load-test the spec once per worker/thread setting (the local analogue of Inference
    Recommender, on this machine's cores, not the instance type's)."""
    points = []
    for number, (workers, threads) in enumerate(candidates, start=1):
        progress(f"[sweep {number}/{len(candidates)}] {workers} workers x {threads} threads")
        tuned = with_server_settings(spec, workers, threads)
        loads = load_test(tuned, spec_dir, state_dir, settings, variants, progress)
        points.append(SweepPoint(workers, threads, loads))
    return points


def best_points(points: list[SweepPoint]) -> dict[str, SweepPoint]:
    """Per variant, the setting with the highest MAX_RPS (ties: fewer processes)."""
    best: dict[str, SweepPoint] = {}
    for point in points:
        for load in point.loads:
            if load.max_rps is None:
                continue
            current = best.get(load.variant)
            rate = _rate(current, load.variant) if current else -1.0
            if load.max_rps > rate:
                best[load.variant] = point
    return best


def _rate(point: SweepPoint, variant: str) -> float:
    load = next(load for load in point.loads if load.variant == variant)
    return load.max_rps if load.max_rps is not None else -1.0


def write_spec_with_targets(
    source: Path,
    target: Path,
    loads: list[VariantLoad],
    environments: dict[str, dict[str, str]] | None = None,
) -> list[str]:
    """A copy of the spec with each measured variant's `autoscaling.max_rps` set and, from
    a sweep, the recommended server settings on its model's inferpipe containers (the
    user's file is never rewritten). Returns the variants left alone and why."""
    if target.resolve() == source.resolve():
        raise SpecError("-o must name a new file: the spec itself is never rewritten")
    document: dict[str, Any] = yaml.safe_load(source.read_text())
    skipped = []
    by_name = {load.variant: load for load in loads}
    for variant in document.get("variants", []):
        load = by_name.get(variant.get("name"))
        if load is None:
            continue
        environment = (environments or {}).get(load.variant)
        if environment:
            model = document.get("models", {}).get(variant.get("model"), {})
            for container in model.get("containers", []):
                if _tunable(container.get("image")):
                    container["environment"] = {**container.get("environment", {}), **environment}
        if load.max_rps is None:
            skipped.append(f"{load.variant}: no step met the objective")
        elif not variant.get("autoscaling"):
            skipped.append(f"{load.variant}: has no autoscaling section to put max_rps in")
        else:
            variant["autoscaling"].pop("target_invocations", None)
            variant["autoscaling"]["max_rps"] = round(load.max_rps, 2)
    target.write_text(yaml.safe_dump(document, sort_keys=False))
    return skipped


def plot_loads(loads: list[VariantLoad], p99_ms: float, target: Path) -> None:
    """Latency against achieved rate per variant, with the objective, as a PNG."""
    try:
        import matplotlib
    except ImportError as exc:
        raise SpecError("the plot needs matplotlib: pip install 'inferpipe[bench]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4.5))
    for load in loads:
        rates = [s.achieved_rps for s in load.steps]
        axis.plot(rates, [s.p99_ms for s in load.steps], marker="o", label=f"{load.variant} p99")
        axis.plot(rates, [s.p50_ms for s in load.steps], ls="--", label=f"{load.variant} p50")
    axis.axhline(p99_ms, color="red", lw=1, label=f"objective p99 {p99_ms:g} ms")
    axis.set_xlabel("achieved requests / s")
    axis.set_ylabel("latency (ms)")
    axis.set_title(f"inferpipe loadtest on this machine ({os.cpu_count()} cores)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(target, dpi=110)


def plot_sweep(points: list[SweepPoint], target: Path) -> None:
    """MAX_RPS per setting and variant, as a bar chart PNG."""
    try:
        import matplotlib
    except ImportError as exc:
        raise SpecError("the plot needs matplotlib: pip install 'inferpipe[bench]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = sorted({load.variant for point in points for load in point.loads})
    figure, axis = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / max(len(variants), 1)
    for index, variant in enumerate(variants):
        rates = [max(_rate(point, variant), 0.0) for point in points]
        axis.bar([i + index * width for i in range(len(points))], rates, width, label=variant)
    axis.set_xticks(
        [i + width * (len(variants) - 1) / 2 for i in range(len(points))],
        [point.label.replace(" x ", "\nx ") for point in points],
    )
    axis.set_ylabel("MAX_RPS within the p99 objective")
    axis.set_title(f"inferpipe loadtest --sweep on this machine ({os.cpu_count()} cores)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(target, dpi=110)
