"""Benchmark: inferpipe's runtime against the hand-made Flask predictor, same model, same run.

    python benchmarks/serving_latency.py [--requests 500] [--before DIR]

Trains the abalone preprocessing pipeline, serves it both ways (one gunicorn worker
each, on loopback), and prints one-row latency percentiles, 1,000-row request time,
and the ratios inferpipe / baseline. `--before DIR` also serves an older inferpipe
installed into DIR (`pip install --no-deps --target DIR <old checkout>`; see
`benchmarks/compare_revisions.sh`) and prints after / before: a serving-path change
reports those numbers.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples" / "abalone"))
from train import DATA, train  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=HERE,
    )


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/ping", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not start")


def measure(url: str, one_row: bytes, many_rows: bytes, count: int) -> dict[str, float]:
    with requests.Session() as session:

        def post(body: bytes) -> float:
            started = time.perf_counter()
            response = session.post(
                f"{url}/invocations", data=body, headers={"Content-Type": "text/csv"}, timeout=30
            )
            response.raise_for_status()
            return (time.perf_counter() - started) * 1000

        for _ in range(20):
            post(one_row)
        singles = sorted(post(one_row) for _ in range(count))
        bulk = sorted(post(many_rows) for _ in range(20))
    return {
        "p50": statistics.median(singles),
        "p99": singles[int(len(singles) * 0.99) - 1],
        "1000 rows": statistics.median(bulk),
    }


def report(results: dict[str, dict[str, float]]) -> None:
    """Medians of the rounds, and the ratios against the baseline (and the older build)."""
    names = list(results)
    header = f"{'metric (ms)':<14}" + "".join(f"{n:>12}" for n in names)
    header += f"{'ours/base':>11}" + (f"{'after/before':>14}" if "before" in results else "")
    print(header)
    for metric in ("p50", "p99", "1000 rows"):
        line = f"{metric:<14}" + "".join(f"{results[n][metric]:>12.2f}" for n in names)
        line += f"{results['inferpipe'][metric] / results['baseline'][metric]:>11.2f}"
        if "before" in results:
            line += f"{results['inferpipe'][metric] / results['before'][metric]:>14.2f}"
        print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--before", type=Path, help="an older inferpipe installed here")
    parser.add_argument("--rounds", type=int, default=3, help="alternating measuring rounds")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="inferpipe-bench-"))
    model_dir = train(work)["preprocess"]
    rows = [",".join(line.split(",")[:8]) for line in DATA.read_text().splitlines()]
    one_row, many_rows = (rows[0] + "\n").encode(), ("\n".join(rows[:1000]) + "\n").encode()
    ours_port, base_port, before_port = free_port(), free_port(), free_port()
    serve = [sys.executable, "-P", "-m", "inferpipe", "serve", "--model-dir", str(model_dir)]
    one_worker = {"SAGEMAKER_MODEL_SERVER_WORKERS": "1"}
    servers = [
        start(serve, {"SAGEMAKER_BIND_TO_PORT": str(ours_port), **one_worker}),
        start(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{base_port}",
                "baseline_app:app",
            ],
            {"BASELINE_MODEL_DIR": str(model_dir)},
        ),
    ]
    ports = {"inferpipe": ours_port, "baseline": base_port}
    if args.before:
        before_env = {"SAGEMAKER_BIND_TO_PORT": str(before_port), **one_worker}
        servers.append(start(serve, {**before_env, "PYTHONPATH": str(args.before.resolve())}))
        ports["before"] = before_port
    try:
        for port in ports.values():
            wait_ready(f"http://127.0.0.1:{port}")
        # Alternate the servers round by round so that machine noise falls on all alike.
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in ports}
        for _ in range(args.rounds):
            for name, port in ports.items():
                url = f"http://127.0.0.1:{port}"
                rounds[name].append(measure(url, one_row, many_rows, args.requests))
        results = {
            name: {m: statistics.median(r[m] for r in runs) for m in runs[0]}
            for name, runs in rounds.items()
        }
        report(results)
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
