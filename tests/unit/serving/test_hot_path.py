"""The hot path (`serving/hot_path.py`) answers what Flask's views answer, and its
deadline watcher (`serving/deadlines.py`) answers a stuck call's 504 while the call is
still running: in process, over a socket pair, and through `inferpipe serve` for real."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from inferpipe_testing.bad_requests import BAD_REQUESTS, GOOD_ROW
from werkzeug.test import EnvironBuilder

from inferpipe.serving import create_app
from inferpipe.serving.deadlines import TICK_SECONDS, AnsweredLate, Deadlines
from inferpipe.serving.hot_path import HotPath
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage_loader import load_stage


def _call(app: Any, environ: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app(environ, start_response))
    headers = dict(seen["headers"])
    headers.pop("X-Request-Id")
    return seen["status"], headers, body


REQUESTS = [
    ("good row", "POST", "/invocations", GOOD_ROW.encode(), "text/csv", None),
    ("good row as json", "POST", "/invocations", GOOD_ROW.encode(), "text/csv", "application/json"),
    *[(case[0], "POST", "/invocations", *case[1:4]) for case in BAD_REQUESTS],
    ("ping", "GET", "/ping", b"", None, None),
]


@pytest.mark.parametrize(("case", "method", "path", "body", "content_type", "accept"), REQUESTS)
def test_the_hot_path_answers_what_the_flask_views_answer(
    mixed_pipeline_dir: Path,
    case: str,
    method: str,
    path: str,
    body: bytes,
    content_type: str | None,
    accept: str | None,
) -> None:
    settings = ServingSettings.from_environ({}, model_dir=mixed_pipeline_dir)
    app = create_app(load_stage(settings), settings)
    hot_path = app.wsgi_app
    assert isinstance(hot_path, HotPath)

    def environ() -> dict[str, Any]:
        headers = {"Accept": accept} if accept else {}
        built = EnvironBuilder(
            path=path, method=method, data=body, content_type=content_type, headers=headers
        )
        return built.get_environ()

    flask_answer = _call(hot_path.fallback, environ())  # Flask's routing and views
    assert _call(hot_path, environ()) == flask_answer, case
    assert flask_answer[0].startswith(("200", "4")), flask_answer


def test_other_routes_and_methods_are_flasks_as_json(mixed_pipeline_dir: Path) -> None:
    settings = ServingSettings.from_environ({}, model_dir=mixed_pipeline_dir)
    client = create_app(load_stage(settings), settings).test_client()
    wrong_method = client.get("/invocations")
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["Allow"]
    assert wrong_method.get_json()["error"] == "method-not-allowed"
    assert client.get("/nowhere").get_json()["error"] == "not-found"
    head = client.head("/ping")
    assert head.status_code == 200 and head.headers["X-Request-Id"]
    asked = client.get("/ping", headers={"X-Amzn-SageMaker-Inference-Id": "abc"})
    assert asked.headers["X-Request-Id"] == "abc"


def test_a_call_within_its_deadline_returns_its_value() -> None:
    left, right = socket.socketpair()
    with left, right:
        deadlines = Deadlines(5)
        assert deadlines.call(lambda: 42, left, lambda sock: None) == 42
        assert not deadlines._running


def test_a_stuck_call_gets_its_answer_written_while_it_still_runs() -> None:
    left, right = socket.socketpair()
    expired: list[float] = []
    release = threading.Event()
    started = time.monotonic()

    def expire(sock: socket.socket) -> None:
        expired.append(time.monotonic() - started)
        sock.sendall(b"504 from the watcher")

    deadlines = Deadlines(0.3)
    outcome: list[BaseException] = []

    def stuck() -> None:
        try:
            deadlines.call(lambda: release.wait(10), left, expire)
        except BaseException as error:
            outcome.append(error)

    caller = threading.Thread(target=stuck)
    caller.start()
    right.settimeout(5)
    assert right.recv(100) == b"504 from the watcher"
    assert right.recv(100) == b""  # and the connection is shut down
    assert 0.3 <= expired[0] <= 0.3 + 3 * TICK_SECONDS + 0.5
    assert caller.is_alive()  # the call itself still runs
    release.set()
    caller.join(5)
    assert len(expired) == 1 and isinstance(outcome[0], AnsweredLate)
    left.close()
    right.close()


def test_a_late_call_without_a_socket_is_a_timeout_when_it_returns() -> None:
    deadlines = Deadlines(0.1)
    with pytest.raises(TimeoutError):
        deadlines.call(lambda: time.sleep(0.3), None, lambda sock: None)


SLOW_SCRIPT = """
import time


def model_fn(model_dir):
    return None


def transform_fn(model, body, content_type, accept):
    time.sleep(float(body))
    return "slept", "text/plain"
"""


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[int]:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "inference.py").write_text(SLOW_SCRIPT)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {
        **os.environ,
        "SAGEMAKER_MODEL_SERVER_WORKERS": "2",
        "SAGEMAKER_MODEL_SERVER_TIMEOUT": "1",
    }
    log = (tmp_path / "serve.log").open("wb")
    command = [sys.executable, "-P", "-m", "inferpipe", "serve", "--model-dir", str(tmp_path)]
    process = subprocess.Popen([*command, "--port", str(port)], env=env, stderr=log, stdout=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if _post(port, b"0")[0] == 200:
                break
        except OSError:
            time.sleep(0.1)
    yield port
    process.terminate()
    process.wait(timeout=60)
    log.close()


def _post(port: int, body: bytes) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/invocations", body, {"Content-Type": "text/csv"})
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def test_inferpipe_serve_answers_504_on_time_and_keeps_serving(
    slow_server: int, tmp_path: Path
) -> None:
    started = time.monotonic()
    status, body = _post(slow_server, b"6")
    took = time.monotonic() - started
    assert status == 504 and b'"error":"timeout"' in body
    assert took < 1 + 1.5, f"the 504 came after {took:.1f} s; the stage sleeps 6 s"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if _post(slow_server, b"0") == (200, b"slept"):
                break
        except OSError:
            time.sleep(0.2)
    else:
        pytest.fail("no answer after the timeout")
    assert b"recycling worker" in (tmp_path / "serve.log").read_bytes()
