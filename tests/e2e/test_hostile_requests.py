"""Hostile and careless requests (issue #13), against a real `inferpipe serve` (two
workers, the mixed-type sklearn artifact, a 1 MiB payload limit, a 3 s read bound)
and against the local endpoint's front in front of the same container.

Every case is sent by each ordinary client (urllib, urllib3, curl; boto3 too through
the front) or, where only a raw socket can say it, by a raw socket. Each asserts the
status, the error code, that the answer arrived before the connection closed, that no
worker was replaced and that the next request works.
"""

from __future__ import annotations

import json
import socket
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from inferpipe_testing.aws import DUMMY_CREDENTIALS
from inferpipe_testing.hostile import (
    CLIENTS,
    FRONT_ENDPOINT,
    READ_BOUND_SECONDS,
    ROW,
    Case,
    RawCase,
    Reply,
    Target,
    front_of,
    ordinary_cases,
    parse_first,
    raw_cases,
    read_until_closed,
    send_raw,
    served_container,
    via_curl,
    via_urllib,
    via_urllib3,
)

ORDINARY = ordinary_cases()
RAW = raw_cases()


@pytest.fixture(scope="module")
def container(mixed_pipeline_dir: Path) -> Iterator[Target]:
    with served_container(mixed_pipeline_dir) as target:
        yield target


@pytest.fixture(scope="module")
def front(mixed_pipeline_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with front_of(mixed_pipeline_dir, tmp_path_factory.mktemp("hostile-front")) as target:
        yield target


def _error_code(reply: Reply) -> str | None:
    assert (reply.header("Content-Type") or "").startswith("application/json"), reply
    return json.loads(reply.body).get("error")


def _still_serving(target: Target, before: set[int]) -> None:
    """Nothing was replaced and the next request works."""
    assert target.pids() == before, "a worker or a container process was replaced"
    answer = via_urllib3(target.url, Case("good", ROW, {"Content-Type": "text/csv"}, 200))
    assert answer.status == 200, answer


def _send(client: str, url: str, case: Case, scratch: Path) -> Reply:
    if client == "urllib":
        return via_urllib(url, case)
    if client == "urllib3":
        return via_urllib3(url, case)
    return via_curl(url, case, str(scratch / "body"))


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("case", ORDINARY, ids=[c.name for c in ORDINARY])
def test_container_answers(container: Target, case: Case, client: str, tmp_path: Path) -> None:
    before = container.pids()
    reply = _send(client, container.url, case, tmp_path)
    assert reply.status == case.status, reply.body[:300]
    if case.code:
        assert _error_code(reply) == case.code, reply.body[:300]
    _still_serving(container, before)


@pytest.mark.parametrize("case", RAW, ids=[c.name for c in RAW])
def test_container_answers_raw(container: Target, case: RawCase) -> None:
    _raw(container, case, *case.container, stage_errors=True)


def _raw(target: Target, case: RawCase, status: int, code: str | None, stage_errors: bool) -> None:
    before = target.pids()
    request = case.request.replace(b"{path}", target.path.encode())
    raw, seconds = send_raw(target.port, request, case.half_close, case.wait)
    if not raw:
        assert not case.must_answer, "the connection closed without an answer"
        assert seconds <= READ_BOUND_SECONDS + 1, f"closed after {seconds:.1f} s"
    else:
        reply = parse_first(raw)
        assert reply.status == status, raw[:300]
        if stage_errors and code:
            assert _error_code(reply) == code, raw[:300]
        elif code:
            assert reply.header("x-amzn-ErrorType") == code, raw[:300]
            assert "message" in json.loads(reply.body) or "Message" in json.loads(reply.body)
        if status == 408:
            assert seconds <= READ_BOUND_SECONDS + 1, f"408 after {seconds:.1f} s"
    _still_serving(target, before)


def _front_expectation(case: Case) -> tuple[int, str | None]:
    """A container's 4xx reaches an InvokeEndpoint client as a 424 ModelError."""
    return (200, None) if case.status == 200 else (424, "ModelError")


def _via_boto3(target: Target, case: Case) -> tuple[int, str | None, dict[str, Any]]:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    client = boto3.client(
        "sagemaker-runtime",
        endpoint_url=f"http://127.0.0.1:{target.port}",
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, read_timeout=60),
        **{k.lower(): v for k, v in DUMMY_CREDENTIALS.items() if k != "AWS_DEFAULT_REGION"},
    )
    arguments: dict[str, Any] = {"EndpointName": FRONT_ENDPOINT, "Body": case.body}
    if case.headers.get("Content-Type"):
        arguments["ContentType"] = case.headers["Content-Type"]
    if case.headers.get("Accept"):
        arguments["Accept"] = case.headers["Accept"]
    try:
        answer = client.invoke_endpoint(**arguments)
    except ClientError as error:
        response = error.response
        return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response
    answer["Body"].read()
    return 200, None, answer


@pytest.mark.parametrize("client", [*CLIENTS, "boto3"])
@pytest.mark.parametrize("case", ORDINARY, ids=[c.name for c in ORDINARY])
def test_front_answers(front: Target, case: Case, client: str, tmp_path: Path) -> None:
    before = front.pids()
    status, error_type = _front_expectation(case)
    if client == "boto3":
        got_status, got_type, response = _via_boto3(front, case)
        assert (got_status, got_type) == (status, error_type), response
        if status == 424:
            assert response["OriginalStatusCode"] == case.status
            assert json.loads(response["OriginalMessage"])["error"] == case.code
    else:
        reply = _send(client, front.url, case, tmp_path)
        assert reply.status == status, reply.body[:300]
        assert reply.header("x-amzn-ErrorType") == error_type
        if status == 424:
            document = json.loads(reply.body)
            assert document["OriginalStatusCode"] == case.status
            assert json.loads(document["OriginalMessage"])["error"] == case.code
    _still_serving(front, before)


@pytest.mark.parametrize("case", RAW, ids=[c.name for c in RAW])
def test_front_answers_raw(front: Target, case: RawCase) -> None:
    _raw(front, case, *case.front, stage_errors=False)


def test_front_refuses_over_its_own_limit_before_the_container(front: Target) -> None:
    """Over the platform's 6 MB the front answers itself (a 413 ValidationError, after
    reading the body away so the client can read it); at exactly 6 MB it forwards."""
    from inferpipe_testing.hostile import FRONT_LIMIT, exactly

    for size, status, error_type in (
        (FRONT_LIMIT, 424, "ModelError"),  # the container's own 1 MiB limit refuses it
        (FRONT_LIMIT + 1, 413, "ValidationError"),
        (FRONT_LIMIT * 2, 413, "ValidationError"),
    ):
        case = Case(f"{size} bytes", exactly(size), {"Content-Type": "text/csv"}, status)
        for send in (via_urllib, via_urllib3):
            reply = send(front.url, case)
            assert (reply.status, reply.header("x-amzn-ErrorType")) == (status, error_type)


def test_front_keeps_serving_while_100_uploads_stall(front: Target) -> None:
    """Stalled uploads hold a front thread each, never the valid requests: their p50
    stays within 3x of the idle one, none takes a second, and every stalled upload is
    answered 408 and closed within the bound + 1 s."""
    good = Case("good", ROW, {"Content-Type": "text/csv"}, 200)

    def timed() -> float:
        started = time.perf_counter()
        assert via_urllib3(front.url, good).status == 200
        return time.perf_counter() - started

    before = front.pids()
    idle = statistics.median([timed() for _ in range(40)][10:])
    head = (
        f"POST {front.path} HTTP/1.1\r\nHost: t\r\nContent-Type: text/csv\r\n"
        "Content-Length: 100000\r\n\r\nM,red"
    ).encode()
    opened = time.monotonic()
    stalled = [socket.create_connection(("127.0.0.1", front.port), timeout=10) for _ in range(100)]
    for sock in stalled:
        sock.sendall(head)
    loaded = [timed() for _ in range(40)]
    assert max(loaded) < 1.0, loaded
    assert statistics.median(loaded) <= 3 * idle + 0.002, (idle, loaded)
    deadline = opened + READ_BOUND_SECONDS + 1
    for sock in stalled:
        received = read_until_closed(sock, deadline)
        sock.close()
        assert parse_first(received).status == 408, received
    _still_serving(front, before)
