"""The worker class: a busy worker leaves new connections to an idle one, and new
connections are still taken when every worker is busy.

Runs `inferpipe serve` for real (two workers, one thread each) with a script stage that
takes 0.5 s and answers its worker's PID; two keep-alive clients that connect while the
first is being served must land on different workers and finish together. Then 16
keep-alive clients that never pause: every one must get its first answer promptly.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

SCRIPT = """
import gc
import os
import time


def model_fn(model_dir):
    return None


def transform_fn(model, body, content_type, accept):
    time.sleep(0.5)
    return f"{os.getpid()} {gc.get_freeze_count()}", "text/plain"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


FAST_SCRIPT = SCRIPT.replace("time.sleep(0.5)", "time.sleep(0.001)")


@pytest.fixture(params=[SCRIPT])
def two_workers(tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "inference.py").write_text(request.param)
    port = free_port()
    env = {**os.environ, "SAGEMAKER_MODEL_SERVER_WORKERS": "2", "INFERPIPE_WORKER_THREADS": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-P",
            "-m",
            "inferpipe",
            "serve",
            "--model-dir",
            str(tmp_path),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/ping")
            if connection.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.1)
        finally:
            connection.close()
    yield port
    process.terminate()
    process.wait(timeout=30)


def test_a_busy_worker_leaves_the_next_connection_to_an_idle_one(two_workers: int) -> None:
    pids: list[str] = []

    def call() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", two_workers, timeout=10)
        connection.request(
            "POST", "/invocations", body=b"x", headers={"Content-Type": "text/plain"}
        )
        pids.append(connection.getresponse().read().decode())
        connection.close()

    for _ in range(3):  # a warm-up pair, then the pairs that count
        pids.clear()
        started = time.monotonic()
        first = threading.Thread(target=call)
        first.start()
        time.sleep(0.15)  # the first request is being served now
        second = threading.Thread(target=call)
        second.start()
        first.join()
        second.join()
        elapsed = time.monotonic() - started
    assert len({p.split()[0] for p in pids}) == 2, pids
    assert elapsed < 0.95  # served side by side, not one after the other
    # What was loaded before fork sits outside the collector, so full collections in a
    # worker scan request garbage only (1,000-row p99 94 -> 13 ms measured).
    assert all(int(p.split()[1]) > 1000 for p in pids), pids


@pytest.mark.parametrize("two_workers", [FAST_SCRIPT], indirect=True)
def test_new_connections_are_taken_while_every_worker_is_busy(two_workers: int) -> None:
    """Kept-alive clients keep both workers busy all the time; a worker that accepted only
    with a free thread left later connections in the backlog for seconds (6 of 16 got
    their first answer after 6 s; wrk's c=16 p99 was 0.3-1.6 s)."""
    first_answer: dict[int, float] = {}
    answered: dict[int, int] = {}

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", two_workers, timeout=10)
        started = time.monotonic()
        end = started + 3
        count = 0
        while time.monotonic() < end:
            connection.request(
                "POST", "/invocations", body=b"x", headers={"Content-Type": "text/plain"}
            )
            connection.getresponse().read()
            if count == 0:
                first_answer[index] = time.monotonic() - started
            count += 1
        answered[index] = count
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(first_answer) == 16
    assert max(first_answer.values()) < 1.0, sorted(first_answer.values())
    assert min(answered.values()) >= max(answered.values()) // 4, answered
