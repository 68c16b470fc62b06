"""gunicorn's responses written once (status line, headers and body in one send), the
bytes unchanged: checked on the Response class with a recording socket, and on a real
`inferpipe serve` through a raw socket for every kind of answer."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from gunicorn.config import Config
from inferpipe_testing.hostile import served_container

from inferpipe.serving.one_write_response import OneWriteResponse


class _RecordingSocket:
    def __init__(self) -> None:
        self.sends: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.sends.append(bytes(data))


def _response(method: str = "POST") -> tuple[OneWriteResponse, _RecordingSocket]:
    request = SimpleNamespace(
        version=(1, 1), method=method, should_close=lambda: False, headers=[], path="/x"
    )
    sock = _RecordingSocket()
    return OneWriteResponse(request, sock, Config()), sock


def _answer(response: OneWriteResponse, status: str, headers: list[Any], body: list[bytes]) -> None:
    response.start_response(status, headers)
    for chunk in body:
        response.write(chunk)
    response.close()


def test_headers_and_body_go_out_in_one_send() -> None:
    response, sock = _response()
    _answer(
        response, "200 OK", [("Content-Type", "text/csv"), ("Content-Length", "6")], [b"1,2,3\n"]
    )
    assert len(sock.sends) == 1
    head, _, body = sock.sends[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"Content-Length: 6" in head
    assert body == b"1,2,3\n"


def test_an_empty_body_sends_its_headers_on_close() -> None:
    response, sock = _response()
    _answer(response, "200 OK", [("Content-Length", "0")], [])
    assert len(sock.sends) == 1 and sock.sends[0].endswith(b"\r\n\r\n")


def test_a_body_in_pieces_sends_the_headers_with_the_first() -> None:
    response, sock = _response()
    _answer(response, "200 OK", [("Content-Length", "4")], [b"ab", b"cd"])
    assert [s.endswith(b"ab") for s in sock.sends] == [True, False]
    assert sock.sends[1] == b"cd"


def test_a_chunked_body_is_framed_as_gunicorn_frames_it() -> None:
    response, sock = _response()
    _answer(response, "200 OK", [("Content-Type", "text/plain")], [b"ab"])
    joined = b"".join(sock.sends)
    assert b"Transfer-Encoding: chunked" in joined
    assert joined.endswith(b"\r\n\r\n2\r\nab\r\n0\r\n\r\n")


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    return data


def test_a_real_server_answers_every_kind_of_request_whole(served_postprocess: int) -> None:
    port = served_postprocess
    ping = _raw(port, b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert ping.startswith(b"HTTP/1.1 200") and ping.endswith(b"\r\n\r\n")
    head = _raw(port, b"HEAD /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and head.endswith(b"\r\n\r\n")
    body = b"10.123456\n"
    answer = _raw(
        port,
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body),
    )
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"\r\n\r\n10.123\n")
    refused = _raw(
        port,
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
        b"Content-Length: 1\r\nConnection: close\r\n\r\nx",
    )
    assert refused.startswith(b"HTTP/1.1 415") and refused.endswith(b'"stage":"postprocess"}\n')


@pytest.fixture(scope="module")
def served_postprocess(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    model_dir = tmp_path_factory.mktemp("postprocess")
    (model_dir / "postprocess.json").write_text('{"steps": [{"op": "round", "decimals": 3}]}')
    with served_container(model_dir) as target:
        yield target.port
