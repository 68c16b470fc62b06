"""Slow clients cannot starve the server: `inferpipe serve` for real (two workers, one
request thread each) with 100 uploads stalled — headers sent, body never finished —
and more stalled in their headers; valid requests keep their speed, and every stalled
connection gets its 408 and is closed within the bound + 1 s. The workers never change.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from inferpipe_testing.hostile import read_until_closed, wait_for_processes

SCRIPT = """
import os


def model_fn(model_dir):
    return None


def transform_fn(model, body, content_type, accept):
    return str(os.getpid()), "text/plain"
"""
BOUND_SECONDS = 3
STALLED_BODIES = 100
STALLED_HEADERS = 20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _worker_pids(master: int) -> set[str]:
    return {str(child.pid) for child in psutil.Process(master).children()}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """`inferpipe serve` running: (its port, the master's PID)."""
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "inference.py").write_text(SCRIPT)
    port = _free_port()
    env = {
        **os.environ,
        "SAGEMAKER_MODEL_SERVER_WORKERS": "2",
        "INFERPIPE_WORKER_THREADS": "1",
        "INFERPIPE_REQUEST_READ_TIMEOUT": str(BOUND_SECONDS),
    }
    command = [sys.executable, "-P", "-m", "inferpipe", "serve", "--model-dir", str(tmp_path)]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            _call(port)
            break
        except OSError:
            time.sleep(0.1)
    # /ping answers as soon as the first worker runs; the test compares both workers.
    wait_for_processes(lambda: _worker_pids(process.pid), 2)
    yield port, process.pid
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture
def server(served: tuple[int, int]) -> int:
    return served[0]


def _call(port: int) -> tuple[float, str]:
    """One valid request on a new connection: (seconds, the answering worker's PID)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST", "/invocations", body=b"1\n", headers={"Content-Type": "text/csv"}
        )
        answer = connection.getresponse()
        assert answer.status == 200
        return time.perf_counter() - started, answer.read().decode()
    finally:
        connection.close()


def _stall(port: int, payload: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(payload)
    return sock


def test_stalled_uploads_neither_slow_valid_requests_nor_outlive_the_bound(
    served: tuple[int, int],
) -> None:
    server, master = served
    idle = [_call(server) for _ in range(60)]
    workers = _worker_pids(master)
    assert len(workers) == 2 and {pid for _, pid in idle} <= workers
    idle_p50 = statistics.median(seconds for seconds, _ in idle[10:])

    head = (
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
        b"Content-Length: 100000\r\n\r\n"
    )
    opened = time.monotonic()
    stalled = [_stall(server, head + b"1,2,3\n") for _ in range(STALLED_BODIES)]
    half_headers = [
        _stall(server, b"POST /invocations HTTP/1.1\r\nHost: x\r\n") for _ in range(STALLED_HEADERS)
    ]
    loaded = [_call(server) for _ in range(60)]
    loaded_seconds = [seconds for seconds, _ in loaded]
    assert max(loaded_seconds) < 1.0
    assert statistics.median(loaded_seconds) <= 3 * idle_p50 + 0.002, (idle_p50, loaded_seconds)

    deadline = opened + BOUND_SECONDS + 1
    for sock in stalled + half_headers:
        answer = read_until_closed(sock, deadline)
        sock.close()
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line == b"HTTP/1.1 408 Request Timeout", answer
        error = json.loads(rest.partition(b"\r\n\r\n")[2])
        assert error["error"] == "request-timeout"
        assert "INFERPIPE_REQUEST_READ_TIMEOUT" in error["message"]
    assert time.monotonic() <= deadline + 0.5
    # The same workers serve on: nothing was recycled or crashed.
    assert {pid for _, pid in (_call(server) for _ in range(20))} <= workers
    assert _worker_pids(master) == workers


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(server: int) -> None:
    sock = socket.create_connection(("127.0.0.1", server), timeout=10)
    assert read_until_closed(sock, time.monotonic() + BOUND_SECONDS + 1) == b""
    sock.close()


def test_a_stalled_chunked_body_is_a_408_from_the_request_thread(server: int) -> None:
    sock = _stall(
        server,
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n4\r\n1,2\n\r\n",
    )
    answer = read_until_closed(sock, time.monotonic() + BOUND_SECONDS + 2)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b'"error":"request-timeout"' in answer
    _call(server)
