"""The README's main job: train the abalone stages, serve each with `inferpipe serve`, and
send requests through the three of them with SageMaker's header flow.

Until the local endpoint lands (issue #4) this script chains the hops itself: the
client's Content-Type goes to the first container, each response's Content-Type goes
verbatim to the next, and only the last container sees the client's Accept.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train import load_abalone, train

STAGES = ("preprocess", "model", "postprocess")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_stage(
    name: str, model_dir: Path, default_accept: str | None, log_dir: Path
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "SAGEMAKER_BIND_TO_PORT": str(port), "SAGEMAKER_MODEL_SERVER_WORKERS": "1"}
    if default_accept:
        env["SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"] = default_accept
    with (log_dir / f"{name}.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "inferpipe", "serve", "--model-dir", str(model_dir)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return process, f"http://127.0.0.1:{port}"


def wait_ready(name: str, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited:\n{log.read_text()[-2000:]}")
        try:
            if requests.get(f"{url}/ping", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{name} did not answer /ping within 60 s")


def invoke_pipeline(
    session: requests.Session, urls: list[str], body: bytes, content_type: str, accept: str
) -> tuple[int, str, list[float]]:
    """Run one request through every hop; returns status, final body and per-hop ms."""
    latencies = []
    for index, url in enumerate(urls):
        headers = {"Content-Type": content_type}
        if index == len(urls) - 1:
            headers["Accept"] = accept
        started = time.perf_counter()
        response = session.post(f"{url}/invocations", data=body, headers=headers, timeout=60)
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            return response.status_code, f"hop {index + 1}: {response.text}", latencies
        body, content_type = response.content, response.headers["Content-Type"]
    return 200, body.decode(), latencies


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="inferpipe-quickstart-"))
    print(f"training the abalone stages into {work}", file=sys.stderr)
    dirs = train(work)
    processes, urls = [], []
    try:
        for name in STAGES:
            accept = None if name == STAGES[-1] else "text/csv"
            process, url = start_stage(name, dirs[name], accept, work)
            processes.append(process)
            urls.append(url)
        for name, process, url in zip(STAGES, processes, urls, strict=True):
            wait_ready(name, url, process, work / f"{name}.log")
        print(
            "three stages up: " + ", ".join(f"{n}={u}" for n, u in zip(STAGES, urls, strict=True))
        )
        rows = load_abalone().sample(5, random_state=1)
        csv_body = rows.drop(columns="rings").to_csv(header=False, index=False).encode()
        with requests.Session() as session:
            status, answer, hops = invoke_pipeline(
                session, urls, csv_body, "text/csv", "application/json"
            )
            print(f"\n5 abalones (CSV in, JSON out): HTTP {status}\n{answer}")
            print("true rings: " + ", ".join(str(r) for r in rows["rings"]))
            print(
                "per-hop latency ms: "
                + ", ".join(f"{n}={ms:.1f}" for n, ms in zip(STAGES, hops, strict=True))
            )
            status, answer, _ = invoke_pipeline(
                session, urls, b"M,0.45,oops,0.1,0.5,0.2,0.1,0.15\n", "text/csv", "text/csv"
            )
            print(f"\na bad row gets a clear error: HTTP {status}\n{answer}")
            timings = []
            for _ in range(200):
                started = time.perf_counter()
                invoke_pipeline(
                    session, urls, csv_body[: csv_body.index(b"\n") + 1], "text/csv", "text/csv"
                )
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            print(
                f"\n200 one-row requests through 3 hops: p50 {timings[100]:.1f} ms, "
                f"p99 {timings[197]:.1f} ms"
            )
        return 0
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
        print("stopped all stages", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
