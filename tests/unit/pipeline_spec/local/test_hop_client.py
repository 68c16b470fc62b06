"""The local endpoint's container client against a real HTTP server on loopback:
connections are kept and reused, a connection the server closed while idle is replaced,
and each failure comes back as the chain runner expects it (TimeoutError vs OSError)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from inferpipe.pipeline_spec.local.hop_client import HopClient

#: Answers written as bytes, each on a connection closed after it.
RAW_ANSWERS = {
    "/cut": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
    "/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
    b"X-A: 1\r\n\r\n"
    b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    "/until-close": b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end",
    "/garbage": b"SMTP ready\r\n\r\n",
}


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/slow":
            time.sleep(1.0)
        if self.path in RAW_ANSWERS:
            self.wfile.write(RAW_ANSWERS[self.path])
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("Content-Type", self.headers["Content-Type"])
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)
        # As gunicorn closes a kept-alive connection after its keep-alive timeout: the
        # answer promised nothing, the socket closes afterwards.
        self.close_connection = self.close_connection or self.path == "/then-close"

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Echo)
        self.lock = threading.Lock()
        self.connections = 0


@pytest.fixture
def server() -> Iterator[_Server]:
    running = _Server()
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


@pytest.fixture
def client() -> Iterator[HopClient]:
    pooled = HopClient()
    yield pooled
    pooled.close()


def _url(server: _Server, path: str = "/invocations") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_answers_come_back_and_one_connection_serves_them_all(
    server: _Server, client: HopClient
) -> None:
    for index in range(20):
        status, headers, body = client.send(
            _url(server), f"row {index}".encode(), {"Content-Type": "text/csv"}, 5.0
        )
        assert (status, headers["Content-Type"], body) == (200, "text/csv", f"row {index}".encode())
    assert server.connections == 1


def test_concurrent_calls_each_get_their_own_answer(server: _Server, client: HopClient) -> None:
    answers: dict[int, bytes] = {}

    def call(index: int) -> None:
        for _ in range(10):
            answers[index] = client.send(_url(server), str(index).encode(), {}, 5.0)[2]
            assert answers[index] == str(index).encode()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {i: str(i).encode() for i in range(8)}
    assert server.connections <= 8


def test_a_connection_closed_by_the_server_is_replaced(server: _Server, client: HopClient) -> None:
    assert client.send(_url(server, "/close"), b"a", {}, 5.0)[2] == b"a"
    assert client.send(_url(server), b"b", {}, 5.0)[2] == b"b"
    assert server.connections == 2


def test_an_idle_connection_the_server_dropped_is_noticed_before_reuse(
    server: _Server, client: HopClient
) -> None:
    assert client.send(_url(server, "/then-close"), b"a", {}, 5.0)[2] == b"a"
    time.sleep(0.1)  # the server's FIN arrives
    assert client.send(_url(server), b"b", {}, 5.0)[2] == b"b"
    assert server.connections == 2


def test_a_slow_container_is_a_timeout_and_an_absent_one_an_os_error(
    server: _Server, client: HopClient
) -> None:
    with pytest.raises(TimeoutError):
        client.send(_url(server, "/slow"), b"a", {}, 0.2)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with pytest.raises(OSError) as refused:
        client.send(f"http://127.0.0.1:{free}/invocations", b"a", {}, 5.0)
    assert not isinstance(refused.value, TimeoutError)
    assert client.send(_url(server), b"after", {}, 5.0)[2] == b"after"


def test_a_response_cut_short_is_an_os_error_and_the_next_call_works(
    server: _Server, client: HopClient
) -> None:
    with pytest.raises(OSError, match="closed the connection before its answer ended"):
        client.send(_url(server, "/cut"), b"a", {}, 5.0)
    assert client.send(_url(server), b"b", {}, 5.0)[2] == b"b"


def test_chunked_and_close_delimited_answers_are_read_whole(
    server: _Server, client: HopClient
) -> None:
    status, headers, body = client.send(_url(server, "/chunked"), b"a", {}, 5.0)
    assert (status, headers["X-A"], body) == (200, "1", b"abcde")
    status, headers, body = client.send(_url(server, "/until-close"), b"a", {}, 5.0)
    assert (status, headers["Content-Type"], body) == (200, "text/plain", b"to the end")
    with pytest.raises(OSError, match=r"not HTTP/1\.1"):
        client.send(_url(server, "/garbage"), b"a", {}, 5.0)
    assert client.send(_url(server), b"b", {}, 5.0)[2] == b"b"


def test_a_header_with_a_line_break_is_refused_before_anything_is_sent(
    server: _Server, client: HopClient
) -> None:
    with pytest.raises(ValueError, match="line break"):
        client.send(_url(server), b"a", {"X-Evil": "1\r\nX-Injected: 2"}, 5.0)
    assert client.send(_url(server), b"b", {"X-Fine": "yes"}, 5.0)[2] == b"b"
