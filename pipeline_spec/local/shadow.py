"""Shadow variants on the local endpoint: a copy of client requests goes to the shadow
after the production variant has answered, and both answers are recorded side by side.

The platform sends a shadow variant a sample of the production traffic (its weight
relative to the production variants' total, at most all of it) and never lets it
delay or change the client's answer. Here one background thread runs the shadow chain
from a bounded queue; when the shadow cannot keep up, copies are dropped and counted,
never waited for. Each pair becomes one JSON line in `<state-dir>/<endpoint>/shadow.jsonl`
(flushed per line, so a killed `local up` loses at most the line being written), which
`inferpipe local shadow-report` summarises.
"""

from __future__ import annotations

import base64
import json
import math
import queue
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Copies waiting for the shadow beyond this many are dropped (and counted).
QUEUE_LIMIT = 256
#: Bytes of each answer kept in the record.
KEPT_BYTES = 4096
#: Numbers this close count as the same answer (float formatting, BLAS order).
RELATIVE_TOLERANCE = 1e-6

#: (body, lower-cased headers) -> (status, content type, body) of the shadow's chain.
RunShadow = Callable[[bytes, Mapping[str, str]], tuple[int, str, bytes]]


def shadow_log(work_dir: Path) -> Path:
    """Where an endpoint's pairs go: its work dir under --state-dir (kept after stopping,
    started afresh by the next `local up`)."""
    return work_dir / "shadow.jsonl"


def _numbers(body: bytes) -> list[float] | None:
    """The numbers of a CSV or JSON answer, in order; None when it holds anything else."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = [cell for line in text.splitlines() for cell in line.split(",")]
    flat: list[Any] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key in sorted(value):
                walk(value[key])
        elif isinstance(value, list):
            for item in value:
                walk(item)
        else:
            flat.append(value)

    walk(parsed)
    try:
        return [float(value) for value in flat if not isinstance(value, bool)]
    except (TypeError, ValueError):
        return None


def answers_agree(first: bytes, second: bytes) -> bool:
    """Equal bytes, or the same numbers within RELATIVE_TOLERANCE."""
    if first.strip() == second.strip():
        return True
    a, b = _numbers(first), _numbers(second)
    if a is None or b is None or len(a) != len(b) or not a:
        return False
    return all(
        math.isclose(x, y, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12)
        for x, y in zip(a, b, strict=True)
    )


def _kept(body: bytes) -> str:
    try:
        return body[:KEPT_BYTES].decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(body[:KEPT_BYTES]).decode()


@dataclass
class ShadowMirror:
    """Copies sampled client requests to the shadow variant, off the request path."""

    production: str
    shadow: str
    fraction: float
    run: RunShadow
    log: Path
    seed: int = 0
    dropped: int = 0
    _queue: queue.Queue[tuple[bytes, dict[str, str], int, str, bytes, float] | None] = field(
        default_factory=lambda: queue.Queue(QUEUE_LIMIT)
    )
    _random: random.Random = field(init=False)
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.log.write_text("")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="inferpipe-shadow", daemon=True)
        self._thread.start()

    def offer(
        self,
        body: bytes,
        headers: Mapping[str, str],
        status: int,
        content_type: str,
        answer: bytes,
        seconds: float,
    ) -> None:
        """Called after production answered; returns at once whatever the shadow does."""
        if self._random.random() >= self.fraction:
            return
        try:
            self._queue.put_nowait((body, dict(headers), status, content_type, answer, seconds))
        except queue.Full:
            self.dropped += 1
            self._write({"dropped": 1, "time": time.time()})

    def stop(self, seconds: float = 5.0) -> None:
        """Finish the copies already queued (up to `seconds`), then end the thread."""
        if self._thread is None:
            return
        try:
            self._queue.put(None, timeout=seconds)
        except queue.Full:
            return
        self._thread.join(seconds)

    def _write(self, record: dict[str, Any]) -> None:
        with self.log.open("a") as out:
            out.write(json.dumps(record) + "\n")

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            body, headers, status, content_type, answer, seconds = item
            started = time.perf_counter()
            shadow_status, shadow_type, shadow_answer = self.run(body, headers)
            shadow_seconds = time.perf_counter() - started
            self._write(
                {
                    "time": time.time(),
                    "request": _kept(body),
                    "production": {
                        "variant": self.production,
                        "status": status,
                        "content_type": content_type,
                        "ms": round(seconds * 1000, 3),
                        "body": _kept(answer),
                    },
                    "shadow": {
                        "variant": self.shadow,
                        "status": shadow_status,
                        "content_type": shadow_type,
                        "ms": round(shadow_seconds * 1000, 3),
                        "body": _kept(shadow_answer),
                    },
                    "agree": status == shadow_status and answers_agree(answer, shadow_answer),
                }
            )


@dataclass
class ShadowReport:
    pairs: int
    agreeing: int
    dropped: int
    shadow_errors: int
    latency_ms: dict[str, dict[str, float]]
    disagreements: list[dict[str, Any]]

    @property
    def agreement(self) -> float:
        return self.agreeing / self.pairs if self.pairs else 0.0


def _quantile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def read_report(log: Path, first: int = 5) -> ShadowReport:
    """Agreement, latency per variant and the first disagreeing records of a shadow log."""
    pairs, dropped = [], 0
    for line in log.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut by a killed `local up`
        if "dropped" in record:
            dropped += int(record["dropped"])
        else:
            pairs.append(record)
    latency: dict[str, dict[str, float]] = {}
    for role in ("production", "shadow"):
        times = [p[role]["ms"] for p in pairs]
        if times:
            name = pairs[0][role]["variant"]
            latency[name] = {"p50": _quantile(times, 0.5), "p99": _quantile(times, 0.99)}
    return ShadowReport(
        pairs=len(pairs),
        agreeing=sum(1 for p in pairs if p["agree"]),
        dropped=dropped,
        shadow_errors=sum(1 for p in pairs if p["shadow"]["status"] != 200),
        latency_ms=latency,
        disagreements=[p for p in pairs if not p["agree"]][:first],
    )
