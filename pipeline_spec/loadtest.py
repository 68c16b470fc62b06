"""Stepped fixed-rate load against a local endpoint, to find the rate a variant sustains
within a p99 objective and the autoscaling target that follows from it.

An open-loop generator: request i is due at t0 + i / rate and its latency is counted
from when it was due, so a server falling behind shows up in the p99 instead of slowing
the generator down (no coordinated omission). The generator shares the machine's cores
with the endpoint: each step reports the rate it achieved, and a step more than 5 %
short of its target is not counted. Loopback only, bounded in time.
https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-loadtest.html
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: A step whose achieved rate is further below its target than this is not counted.
SHORTFALL = 0.05
#: Each step asks for this much more than the last.
GROWTH = 1.5

#: (body, headers) -> HTTP status; raises OSError when the call fails.
Send = Callable[[bytes, dict[str, str]], int]


@dataclass(frozen=True)
class StepResult:
    target_rps: float
    achieved_rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int

    @property
    def counted(self) -> bool:
        """False when the generator could not offer the rate (the machine is shared)."""
        return self.achieved_rps >= self.target_rps * (1 - SHORTFALL)

    def passes(self, p99_ms: float) -> bool:
        return self.counted and self.errors == 0 and self.p99_ms <= p99_ms


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("inf")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def run_step(
    send: Send,
    body: bytes,
    headers: dict[str, str],
    rate: float,
    seconds: float,
    threads: int,
    record: list[float] | None = None,
) -> StepResult:
    """Offer `rate` requests/s for `seconds`; latencies count from each request's due time.
    `record`, when given, receives every latency (ms), for percentiles over many steps."""
    total = max(1, int(rate * seconds))
    lock = threading.Lock()
    next_index = [0]
    latencies: list[float] = []
    errors = [0]
    started = time.perf_counter() + 0.05

    def worker() -> None:
        while True:
            with lock:
                index = next_index[0]
                next_index[0] += 1
            if index >= total:
                return
            due = started + index / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            try:
                ok = 200 <= send(body, headers) < 300
            except OSError:
                ok = False
            finished = time.perf_counter()
            with lock:
                latencies.append((finished - due) * 1000)
                errors[0] += 0 if ok else 1

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = max(time.perf_counter() - started, 1e-9)
    ordered = sorted(latencies)
    if record is not None:
        record.extend(ordered)
    return StepResult(
        rate,
        len(ordered) / max(elapsed, seconds),
        percentile(ordered, 0.50),
        percentile(ordered, 0.99),
        errors[0],
        len(ordered),
    )


def find_max_rps(
    send: Send,
    body: bytes,
    headers: dict[str, str],
    p99_ms: float,
    duration: float,
    step_seconds: float,
    start_rps: float,
    progress: Callable[[StepResult, int, int], None],
    threads: int = 32,
) -> tuple[float | None, list[StepResult]]:
    """Raise the rate step by step until the p99 objective breaks (or time runs out).

    Returns the highest achieved rate of a passing step (None when none passed) and
    every step."""
    steps = max(1, int(duration // step_seconds))
    results: list[StepResult] = []
    best: float | None = None
    rate = start_rps
    for number in range(1, steps + 1):
        result = run_step(send, body, headers, rate, step_seconds, threads)
        results.append(result)
        progress(result, number, steps)
        if not result.passes(p99_ms):
            break
        best = max(best or 0.0, result.achieved_rps)
        rate *= GROWTH
    return best, results


def autoscaling_target(max_rps: float, safety_factor: float) -> float:
    """SageMakerVariantInvocationsPerInstance = MAX_RPS * SAFETY_FACTOR * 60."""
    return round(max_rps * safety_factor * 60, 2)
