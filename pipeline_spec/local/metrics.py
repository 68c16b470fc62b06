"""Counters and latency sums of the local endpoint, served in the Prometheus text format."""

from __future__ import annotations

import threading
from collections import defaultdict

from inferpipe.protocol import fused
from inferpipe.protocol.chain import HopEvent


class HopTimer:
    """A chain observer that keeps (container name, seconds) of every answered hop; a
    fused container's hop counts as the original containers it ran, by their names.
    `hop_seconds` is the hops' wall time as the front saw it, HTTP and codecs included:
    SageMaker's ModelLatency, whatever a fused container reports inside."""

    def __init__(self) -> None:
        self.timings: list[tuple[str, float]] = []
        self.hop_seconds = 0.0

    def on_hop(self, event: HopEvent) -> None:
        if event.reply is None:
            return
        self.hop_seconds += event.seconds
        inner = event.reply.header(fused.STAGE_TIMINGS_HEADER)
        if inner:
            self.timings += fused.parse_timings_header(inner)
        else:
            self.timings.append((event.hop.name, event.seconds))


class EndpointMetrics:
    """Thread-safe invocation, error and latency totals per variant and container."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._lock = threading.Lock()
        self.invocations: dict[str, int] = defaultdict(int)
        self.errors: dict[str, int] = defaultdict(int)
        self.container_seconds: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
        self.model_seconds: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        self.overhead_seconds: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])

    def record(
        self,
        variant: str,
        hops: list[tuple[str, float]],
        total: float,
        failed: bool,
        hop_seconds: float | None = None,
    ) -> None:
        """One invocation: `hops` per container, `hop_seconds` their wall time (model
        latency; the sum of `hops` when not given), the rest of `total` overhead."""
        with self._lock:
            self.invocations[variant] += 1
            if failed:
                self.errors[variant] += 1
            for container, seconds in hops:
                entry = self.container_seconds[(variant, container)]
                entry[0] += seconds
                entry[1] += 1
            model = sum(s for _, s in hops) if hop_seconds is None else hop_seconds
            for table, value in (
                (self.model_seconds, model),
                (self.overhead_seconds, max(total - model, 0.0)),
            ):
                table[variant][0] += value
                table[variant][1] += 1

    def render(self) -> str:
        """The Prometheus exposition text."""
        with self._lock:
            lines = [
                "# HELP inferpipe_invocations_total Invocations per variant.",
                "# TYPE inferpipe_invocations_total counter",
            ]
            labels = f'endpoint="{self.endpoint}"'
            for variant, count in sorted(self.invocations.items()):
                lines.append(f'inferpipe_invocations_total{{{labels},variant="{variant}"}} {count}')
            lines += [
                "# HELP inferpipe_invocation_errors_total Failed invocations per variant.",
                "# TYPE inferpipe_invocation_errors_total counter",
            ]
            for variant in sorted(self.invocations):
                lines.append(
                    f'inferpipe_invocation_errors_total{{{labels},variant="{variant}"}}'
                    f" {self.errors.get(variant, 0)}"
                )
            for name, table in (("model", self.model_seconds), ("overhead", self.overhead_seconds)):
                metric = f"inferpipe_{name}_latency_seconds"
                lines += [
                    f"# HELP {metric} {name.capitalize()} latency per variant.",
                    f"# TYPE {metric} summary",
                ]
                for variant, (seconds, calls) in sorted(table.items()):
                    tag = f'{labels},variant="{variant}"'
                    lines += [
                        f"{metric}_sum{{{tag}}} {seconds!r}",
                        f"{metric}_count{{{tag}}} {int(calls)}",
                    ]
            metric = "inferpipe_container_latency_seconds"
            lines += [
                f"# HELP {metric} Latency of each container call.",
                f"# TYPE {metric} summary",
            ]
            for (variant, container), (seconds, calls) in sorted(self.container_seconds.items()):
                tag = f'{labels},variant="{variant}",container="{container}"'
                lines += [
                    f"{metric}_sum{{{tag}}} {seconds!r}",
                    f"{metric}_count{{{tag}}} {int(calls)}",
                ]
        return "\n".join(lines) + "\n"
