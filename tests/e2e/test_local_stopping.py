"""SIGTERM (and Ctrl-C) while `local up` is under load: every request the endpoint took
is answered, the rest are refused plainly — none is dropped silently — and nothing
outlives it. Three slow script containers make sure requests are in flight."""

from __future__ import annotations

import http.client
import json
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from inferpipe_testing.containers import free_port
from inferpipe_testing.local import script_pipeline_spec, start_local_up

from inferpipe.pipeline_spec.local.front import STOPPING_MESSAGE

SLOW_SCRIPT = """
    import time

    def model_fn(model_dir):
        return None

    def transform_fn(model, body, content_type, accept):
        time.sleep(0.25)
        return body, "text/csv"
"""
CLIENTS = 6


@dataclass
class Outcome:
    started: float
    ended: float
    result: str  # "200", "503-stopping", "refused", or what went wrong


def _one_call(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        try:
            connection.connect()
        except ConnectionRefusedError:
            return "refused"
        connection.request(
            "POST",
            "/endpoints/slow/invocations",
            body=b"1,2,3\n",
            headers={"Content-Type": "text/csv"},
        )
        answer = connection.getresponse()
        body = answer.read()
        if answer.status == 503 and json.loads(body).get("message") == STOPPING_MESSAGE:
            return "503-stopping"
        return str(answer.status) if answer.status == 200 else f"{answer.status}: {body[:200]!r}"
    except Exception as exc:  # the test's point: anything else is a dropped request
        return f"{type(exc).__name__}: {exc}"
    finally:
        connection.close()


def _load(port: int, until: threading.Event, outcomes: list[Outcome]) -> None:
    while not until.is_set():
        started = time.monotonic()
        result = _one_call(port)
        outcomes.append(Outcome(started, time.monotonic(), result))
        if result == "refused":
            return


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopping_under_load_answers_every_request_it_took(
    tmp_path: Path, signum: signal.Signals
) -> None:
    spec = script_pipeline_spec(
        tmp_path / "spec", "slow", [(name, SLOW_SCRIPT) for name in ("first", "second", "third")]
    )
    port = free_port()
    up = start_local_up(str(spec), str(tmp_path / "state"), port)
    containers = [child.pid for child in psutil.Process(up.pid).children()]
    outcomes: list[Outcome] = []
    done = threading.Event()
    clients = [
        threading.Thread(target=_load, args=(port, done, outcomes), daemon=True)
        for _ in range(CLIENTS)
    ]
    try:
        for client in clients:
            client.start()
        time.sleep(2.0)
        signalled = time.monotonic()
        up.send_signal(signum)
        assert up.wait(timeout=60) == 0
        stopped = time.monotonic()
    finally:
        done.set()
        up.kill()
    for client in clients:
        client.join(timeout=35)

    in_flight = [o for o in outcomes if o.started < signalled < o.ended]
    assert len(in_flight) >= CLIENTS // 2, outcomes  # the signal did land mid-request
    assert {o.result for o in in_flight} == {"200"}, in_flight
    before = [o for o in outcomes if o.started < signalled]
    assert {o.result for o in before} == {"200"}
    assert {o.result for o in outcomes} <= {"200", "503-stopping", "refused"}, outcomes
    print(
        f"{signum.name}: {len(before)} requests before the signal, {len(in_flight)} in flight "
        f"at it, all answered 200; stopped in {stopped - signalled:.1f} s"
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(psutil.pid_exists(p) for p in containers):
        time.sleep(0.2)
    alive = [
        p for p in containers if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"
    ]
    assert alive == []
