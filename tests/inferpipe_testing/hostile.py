"""The hostile and careless requests corpus (issue #13), for a container and for the
local endpoint's front, and the ordinary clients that send it.

Every case names what the container answers (status and `error` code); the front's
answer follows from it (a container's 4xx is a 424 ModelError carrying that status)
unless the case is about the HTTP layer itself, where the front answers on its own.
The target artifact is the mixed-type ColumnTransformer of tests/conftest.py, served
with a 1 MiB payload limit.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sized
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil
import yaml

from inferpipe.protocol import media
from inferpipe_testing.bad_requests import GOOD_ROW
from inferpipe_testing.containers import free_port

#: The container's SAGEMAKER_MAX_PAYLOAD_IN_MB in these tests, and the front's own limit.
CONTAINER_LIMIT = 1024 * 1024
FRONT_LIMIT = 6 * 1024 * 1024
#: INFERPIPE_REQUEST_READ_TIMEOUT (container) and INFERPIPE_LOCAL_READ_TIMEOUT (front).
READ_BOUND_SECONDS = 3
CSV, JSON, JSONL, NPY = media.CSV, media.JSON, media.JSONLINES, media.NPY
ROW = GOOD_ROW.encode()


@dataclass(frozen=True)
class Case:
    """A request an ordinary client can send: body and headers."""

    name: str
    body: bytes
    headers: dict[str, str]
    #: What the container answers: status and `error` code (None for a 200).
    status: int
    code: str | None = None


@dataclass(frozen=True)
class RawCase:
    """A request only a raw socket sends (the HTTP layer itself is wrong): `{path}` in
    `request` is replaced by the target's invocations path."""

    name: str
    request: bytes
    container: tuple[int, str | None]
    front: tuple[int, str | None]
    #: Half-close after sending (the client says it has nothing more).
    half_close: bool = True
    #: Seconds to wait for the answer (stalled requests wait for the read bound).
    wait: float = 10.0
    #: None: an answer must arrive. False: the connection may also just be closed.
    must_answer: bool = True
    extra: dict[str, str] = field(default_factory=dict)


def exactly(size: int) -> bytes:
    """Valid CSV of exactly `size` bytes: whole rows, the last padded with spaces
    around a number (which the codec ignores)."""
    rows, rest = divmod(size, len(ROW))
    last = b"M,red,1,1,1," + b" " * rest + b"1,true\n"
    return ROW * (rows - 1) + last


def _npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _lying_npy() -> bytes:
    """A header that claims 80 GB, with 16 bytes of data."""
    buffer = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": (100_000, 100_000)}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + b"\0" * 16


def _deep_objects(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def _csv(**extra: str) -> dict[str, str]:
    return {"Content-Type": CSV, **extra}


def ordinary_cases() -> list[Case]:
    many = json.dumps([["M", "red", 1, 1, 1, 1, True]] * 20_000).encode()
    big_string = json.dumps([["x" * 500_000, "red", 1, 1, 1, 1, True]]).encode()
    return [
        Case("a good row (control)", ROW, _csv(), 200),
        Case("empty body", b"", _csv(), 400, "empty-body"),
        Case("whitespace body", b" \n\t\n ", _csv(), 400, "empty-body"),
        Case("whitespace JSON body", b"  \n", {"Content-Type": JSON}, 400, "empty-body"),
        Case("non-UTF-8 bytes", b"\xff\xfe,red,1,1,1,1,true\n", _csv(), 400, "malformed-payload"),
        Case("truncated record", b"M,red,1,1", _csv(), 400, "schema-mismatch"),
        Case("too few columns", b"M,red,1\n", _csv(), 400, "schema-mismatch"),
        Case("10,000 columns", b",".join([b"1"] * 10_000) + b"\n", _csv(), 400, "schema-mismatch"),
        Case("text in a number column", b"M,red,x,1,1,1,true\n", _csv(), 400, "schema-mismatch"),
        Case("not a boolean", b"M,red,1,1,1,1,maybe\n", _csv(), 400, "schema-mismatch"),
        Case("quoted newline and quote in a field", b'"M\nX""Y",red,1,1,1,1,true\n', _csv(), 200),
        Case("unterminated quote", b'"M,red,1,1,1,1,true\n', _csv(), 400, "malformed-payload"),
        Case(
            "a 1 MB field",
            b"M,red,1,1,1,1," + b"t" * 1_000_000 + b"\n",
            _csv(),
            400,
            "malformed-payload",
        ),
        Case("nan text is a missing number", b"M,red,nan,NaN,1,1,true\n", _csv(), 200),
        Case(
            "inf text reaches the model, which refuses it",
            b"M,red,inf,1,1,1,true\n",
            _csv(),
            400,
            "schema-mismatch",
        ),
        Case("[ x 5,000", b"[" * 5000, {"Content-Type": JSON}, 400, "malformed-payload"),
        Case(
            '{"a": x 3,000', _deep_objects(3000), {"Content-Type": JSON}, 400, "malformed-payload"
        ),
        Case(
            "deep JSON Lines",
            b"[" * 5000 + b"\n",
            {"Content-Type": JSONL},
            400,
            "malformed-payload",
        ),
        Case(
            "a 5,000-digit JSON number",
            b'[["M","red",' + b"1" * 5000 + b",1,1,1,true]]",
            {"Content-Type": JSON},
            400,
            "malformed-payload",
        ),
        Case("broken JSON", b'{"instances": [', {"Content-Type": JSON}, 400, "malformed-payload"),
        Case("20,000 JSON records", many, {"Content-Type": JSON}, 200),
        Case("a 500 KB JSON string", big_string, {"Content-Type": JSON}, 200),
        Case(
            "duplicate keys: the last counts",
            b'{"instances":[["F"]],"instances":[["M","red",1,1,1,1,true]]}',
            {"Content-Type": JSON},
            200,
        ),
        Case("exactly the payload limit", exactly(CONTAINER_LIMIT), _csv(), 200),
        Case("the limit + 1 byte", exactly(CONTAINER_LIMIT + 1), _csv(), 413, "payload-too-large"),
        Case(
            "twice the limit, still sending",
            exactly(2 * CONTAINER_LIMIT),
            _csv(),
            413,
            "payload-too-large",
        ),
        Case("no Content-Type", ROW, {}, 415, "unsupported-media-type"),
        Case(
            "two Content-Types in one",
            ROW,
            {"Content-Type": "text/csv, application/json"},
            415,
            "unsupported-media-type",
        ),
        Case(
            "an unknown charset",
            ROW,
            {"Content-Type": "text/csv; charset=bogus-8"},
            415,
            "unsupported-media-type",
        ),
        Case(
            "Content-Type of punctuation",
            ROW,
            {"Content-Type": ";;;"},
            415,
            "unsupported-media-type",
        ),
        Case(
            "500-entry Accept",
            ROW,
            _csv(Accept=", ".join(f"x/y{i}" for i in range(500))),
            406,
            "not-acceptable",
        ),
        Case(
            "Accept with q=0 only", ROW, _csv(Accept="text/csv;q=0, */*;q=0"), 406, "not-acceptable"
        ),
        Case("an 8 KB Accept", ROW, _csv(Accept="a" * 8000), 406, "not-acceptable"),
        Case(
            "pickled .npy",
            _npy(np.array([{"evil": 1}], dtype=object), allow_pickle=True),
            {"Content-Type": NPY},
            400,
            "malformed-payload",
        ),
        Case(
            ".npy whose header lies about its size",
            _lying_npy(),
            {"Content-Type": NPY},
            400,
            "malformed-payload",
        ),
        Case(
            "truncated .npy",
            _npy(np.ones((3, 7)))[:-5],
            {"Content-Type": NPY},
            400,
            "malformed-payload",
        ),
    ]


def raw_cases() -> list[RawCase]:
    head = b"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: text/csv\r\n"
    bound = READ_BOUND_SECONDS + 1.5
    return [
        RawCase(
            "negative Content-Length",
            head + b"Content-Length: -5\r\n\r\n",
            (400, "malformed-request"),
            (400, "ValidationError"),
        ),
        RawCase(
            "Content-Length not a number",
            head + b"Content-Length: 1e3\r\n\r\n",
            (400, "malformed-request"),
            (400, "ValidationError"),
        ),
        RawCase(
            "two different Content-Lengths",
            head + b"Content-Length: 3\r\nContent-Length: 19\r\n\r\n" + ROW,
            (400, "malformed-request"),
            (400, "ValidationError"),
        ),
        RawCase(
            "Content-Length and chunked",
            head + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            (400, "malformed-request"),
            (400, "ValidationError"),
        ),
        RawCase(
            "a chunked body (valid)",
            head
            + b"Transfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n" % len(ROW)
            + ROW
            + b"\r\n0\r\n\r\n",
            (200, None),
            (200, None),
        ),
        RawCase(
            "a broken chunk size",
            head + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
            (400, "malformed-payload"),
            (400, "ValidationError"),
        ),
        RawCase(
            "a transfer coding nobody asked for",
            head + b"Transfer-Encoding: gzip\r\n\r\n",
            (400, "malformed-request"),
            (400, "ValidationError"),
        ),
        RawCase(
            "garbage request line",
            b"GARBAGE\r\n\r\n",
            (400, "malformed-request"),
            (400, "ValidationError"),
        ),
        RawCase(
            "HTTP/9.9",
            b"POST {path} HTTP/9.9\r\nHost: t\r\n\r\n",
            (400, "malformed-request"),
            (400, "ValidationError"),
        ),
        RawCase(
            "an unknown method",
            b"BREW {path} HTTP/1.1\r\nHost: t\r\n\r\n",
            (405, "method-not-allowed"),
            (405, "ValidationError"),
        ),
        RawCase(
            "a 70 KB URI",
            b"POST {path}?" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
            (414, "uri-too-long"),
            (414, "ValidationError"),
        ),
        RawCase(
            "a 70 KB header",
            head + b"X-Big: " + b"a" * 70_000 + b"\r\nContent-Length: 0\r\n\r\n",
            (431, "headers-too-large"),
            (431, "ValidationError"),
        ),
        RawCase(
            "200 headers",
            head + b"".join(b"X-H%d: 1\r\n" % i for i in range(200)) + b"Content-Length: 0\r\n\r\n",
            (431, "headers-too-large"),
            (431, "ValidationError"),
        ),
        RawCase(
            "body shorter than its Content-Length, then half-closed",
            head + b"Content-Length: 100\r\n\r\n" + ROW,
            (400, "malformed-request"),
            (400, "ValidationError"),
        ),
        RawCase(
            "body longer than its Content-Length",
            head + b"Content-Length: 5\r\n\r\n" + ROW,
            (400, "schema-mismatch"),
            (424, "ModelError"),
        ),
        RawCase(
            "an upload that stalls",
            head + b"Content-Length: 100\r\n\r\nM,red",
            (408, "request-timeout"),
            (408, "RequestTimeout"),
            half_close=False,
            wait=bound,
        ),
        RawCase(
            "headers that stall",
            b"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Ty",
            (408, "request-timeout"),
            (408, "RequestTimeout"),
            half_close=False,
            wait=bound,
            must_answer=False,
        ),
    ]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


def read_until_closed(sock: socket.socket, deadline: float) -> bytes:
    """Everything the server sends until it closes (or resets) the connection; an
    AssertionError if it is still open at `deadline` (time.monotonic())."""
    received = b""
    while True:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise AssertionError(f"still open at the deadline; got {received[:200]!r}") from None
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def send_raw(port: int, request: bytes, half_close: bool, wait: float) -> tuple[bytes, float]:
    """Send bytes, read until the server closes; (what came back, seconds until closed)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        try:
            sock.sendall(request)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer and close before it all went out
        received = read_until_closed(sock, started + wait)
        return received, time.monotonic() - started


def parse_first(raw: bytes) -> Reply:
    """The first HTTP response in `raw`."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), len(rest)))
    return Reply(status, headers, rest[:length])


def via_urllib(url: str, case: Case) -> Reply:
    request = urllib.request.Request(url, data=case.body, headers=case.headers, method="POST")
    if "Content-Type" not in case.headers:
        # urllib would add application/x-www-form-urlencoded: say "no type" the way it can.
        request.add_unredirected_header("Content-Type", "")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return Reply(answer.status, dict(answer.headers), answer.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read())


def via_urllib3(url: str, case: Case) -> Reply:
    import urllib3

    answer = urllib3.request(
        "POST", url, body=case.body, headers=case.headers, retries=False, timeout=30
    )
    return Reply(answer.status, dict(answer.headers), answer.data)


def via_curl(url: str, case: Case, scratch: str) -> Reply:
    """curl with the body from a file; `-H 'Content-Type:'` removes curl's own default."""
    curl = shutil.which("curl")
    assert curl, "curl is installed by scripts/setup-machine.sh"
    with open(scratch, "wb") as out:
        out.write(case.body)
    command = [curl, "-sS", "-i", "--max-time", "30", "--data-binary", f"@{scratch}"]
    headers = {"Content-Type": "", **case.headers}
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}" if value else f"{key}:"]
    done = subprocess.run([*command, url], capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    raw = done.stdout
    while raw.startswith(b"HTTP/1.1 100"):  # Expect: 100-continue, before the answer
        raw = raw.partition(b"\r\n\r\n")[2]
    return parse_first(raw)


CLIENTS = ("urllib", "urllib3", "curl")


@dataclass
class Target:
    """A server under test: where it listens and which processes serve it."""

    port: int
    path: str
    #: The PIDs of every process serving it (master and workers).
    pids: Callable[[], set[int]]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def process_tree(root: int) -> set[int]:
    process = psutil.Process(root)
    return {root, *(child.pid for child in process.children(recursive=True))}


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "inferpipe serve exited during start"
        try:
            raw, _ = send_raw(port, b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n", True, 5)
            if raw and parse_first(raw).status == 200:
                return
        except (OSError, AssertionError):
            pass
        time.sleep(0.2)
    raise AssertionError("inferpipe serve did not answer /ping within 60 s")


WORKERS = 2
#: Two workers, the corpus's payload limit and read bound.
CONTAINER_ENVIRONMENT = {
    "SAGEMAKER_MODEL_SERVER_WORKERS": str(WORKERS),
    "SAGEMAKER_MAX_PAYLOAD_IN_MB": str(CONTAINER_LIMIT // (1024 * 1024)),
    "INFERPIPE_REQUEST_READ_TIMEOUT": str(READ_BOUND_SECONDS),
}


def wait_for_processes(pids: Callable[[], Sized], count: int) -> None:
    """Until `count` processes serve: /ping answers as soon as the first worker runs,
    and a worker forked after the baseline would look like a replaced one."""
    deadline = time.monotonic() + 30
    while len(pids()) < count:
        assert time.monotonic() < deadline, f"{len(pids())} of {count} processes after 30 s"
        time.sleep(0.1)


@contextmanager
def served_container(model_dir: Path) -> Iterator[Target]:
    """`inferpipe serve` on `model_dir` with CONTAINER_ENVIRONMENT, until the block ends."""
    port = free_port()
    command = [sys.executable, "-P", "-m", "inferpipe", "serve"]
    process = subprocess.Popen(
        [*command, "--model-dir", str(model_dir), "--port", str(port)],
        env={**os.environ, **CONTAINER_ENVIRONMENT},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(port, process)
        target = Target(port, "/invocations", lambda: process_tree(process.pid))
        wait_for_processes(target.pids, 1 + WORKERS)
        yield target
    finally:
        process.terminate()
        process.wait(timeout=30)


#: The endpoint `front_of` serves.
FRONT_ENDPOINT = "hostile"


@contextmanager
def front_of(model_dir: Path, folder: Path) -> Iterator[Target]:
    """The local endpoint (process engine, read bound READ_BOUND_SECONDS) of one sklearn
    container on a copy of `model_dir`, until the block ends."""
    from inferpipe.pipeline_spec.loader import load_spec
    from inferpipe.pipeline_spec.local.session import bring_up, take_down

    shutil.copytree(model_dir, folder / "prep")
    container = {
        "name": "prep",
        "image": "registry.example.com/inferpipe-preprocess:1",
        "artifact": "prep",
        "environment": CONTAINER_ENVIRONMENT,
        "local": {"image": "inferpipe-preprocess:latest", "stage": "sklearn"},
    }
    document = {
        "spec_version": 1,
        "region": "us-east-1",
        "endpoint": FRONT_ENDPOINT,
        "models": {
            "m": {
                "role": "arn:aws:iam::123456789012:role/SageMakerExecution",
                "containers": [container],
            }
        },
        "variants": [{"name": "A", "model": "m", "instance_type": "ml.m5.large"}],
    }
    (folder / "spec.yaml").write_text(yaml.safe_dump(document))
    deployment, server = bring_up(
        load_spec(folder / "spec.yaml"),
        folder,
        "process",
        free_port(),
        folder / "state",
        progress=lambda message: None,
        read_timeout=READ_BOUND_SECONDS,
    )

    def pids() -> set[int]:
        roots = [c.running.root_pid() for c in deployment.containers]
        return {os.getpid()} | {pid for root in roots if root for pid in process_tree(root)}

    try:
        wait_for_processes(pids, 1 + len(deployment.containers) * (1 + WORKERS))
        yield Target(server.server_address[1], f"/endpoints/{FRONT_ENDPOINT}/invocations", pids)
    finally:
        take_down(deployment, server)
