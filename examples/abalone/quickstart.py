"""The README's main job: train the abalone stages, run the A/B spec on the local endpoint
(`inferpipe local up --engine process`), and call it with boto3's sagemaker-runtime client.

boto3 signs every request, even to a local endpoint, so this script sets dummy
credentials and a region in its own environment only.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = HERE / "spec.yaml"
sys.path.insert(0, str(HERE))
from train import load_abalone, train  # noqa: E402

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"inferpipe local up exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the local endpoint did not start within 120 s")


def container_latency(metrics: str) -> dict[str, float]:
    """Mean milliseconds per container call, from the endpoint's /metrics."""
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    pattern = re.compile(
        r'inferpipe_container_latency_seconds_(sum|count)\{.*container="'
        r'([^"]+)"\} (\S+)'
    )
    for kind, container, value in pattern.findall(metrics):
        table = sums if kind == "sum" else counts
        table[container] = table.get(container, 0.0) + float(value)
    return {name: sums[name] / counts[name] * 1000 for name in sums if counts.get(name)}


def call_endpoint(url: str) -> None:
    import boto3

    runtime = boto3.client("sagemaker-runtime", endpoint_url=url)
    rows = load_abalone().sample(5, random_state=1)
    body = rows.drop(columns="rings").to_csv(header=False, index=False).encode()
    answer = runtime.invoke_endpoint(
        EndpointName="abalone", Body=body, ContentType="text/csv", Accept="application/json"
    )
    print(f"5 abalones, CSV in, JSON out (variant {answer['InvokedProductionVariant']}):")
    print(answer["Body"].read().decode())
    print("true rings: " + ", ".join(str(r) for r in rows["rings"]))
    pinned = runtime.invoke_endpoint(
        EndpointName="abalone",
        Body=body[: body.index(b"\n") + 1],
        ContentType="text/csv",
        TargetVariant="B",
    )
    print(
        f"\nTargetVariant=B: {pinned['Body'].read().decode().strip()} "
        f"(variant {pinned['InvokedProductionVariant']})"
    )
    try:
        runtime.invoke_endpoint(
            EndpointName="abalone",
            Body=b"M,0.45,oops,0.1,0.5,0.2,0.1,0.15\n",
            ContentType="text/csv",
        )
    except runtime.exceptions.ModelError as error:
        print(
            f"\na bad row: ModelError, original status {error.response['OriginalStatusCode']}:"
            f"\n  {error.response['Error']['Message'][:160]}"
        )
    split: Counter[str] = Counter()
    started = time.perf_counter()
    for _ in range(200):
        reply = runtime.invoke_endpoint(EndpointName="abalone", Body=body, ContentType="text/csv")
        split[reply["InvokedProductionVariant"]] += 1
    elapsed = (time.perf_counter() - started) / 200 * 1000
    print(
        f"\n200 calls, weights A=0.9 B=0.1: A={split['A']} B={split['B']} "
        f"({elapsed:.1f} ms per call through 3 containers)"
    )
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        latency = container_latency(response.read().decode())
    print(
        "mean latency per container call: "
        + ", ".join(f"{name} {ms:.1f} ms" for name, ms in latency.items())
    )


def main() -> int:
    print("training the abalone stages (preprocess, XGBoost, postprocess)", file=sys.stderr)
    train(HERE / "build")
    state = Path(tempfile.mkdtemp(prefix="inferpipe-quickstart-"))
    # What `inferpipe deploy` would upload: one reproducible model.tar.gz per container.
    packaged = subprocess.run(
        [
            sys.executable,
            "-P",
            "-m",
            "inferpipe",
            "package",
            str(SPEC),
            "--build-dir",
            str(state / "artifacts"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    print(packaged.stderr.strip(), file=sys.stderr)
    port = free_port()
    log = state / "local-up.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [
                sys.executable,
                "-P",
                "-m",
                "inferpipe",
                "local",
                "up",
                str(SPEC),
                "--engine",
                "process",
                "--port",
                str(port),
                "--state-dir",
                str(state),
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url, process, log)
        print(f"local endpoint up at {url} (engine: process)", file=sys.stderr)
        call_endpoint(url)
    finally:
        subprocess.run(
            [
                sys.executable,
                "-P",
                "-m",
                "inferpipe",
                "local",
                "down",
                str(SPEC),
                "--state-dir",
                str(state),
            ],
            check=False,
            capture_output=True,
        )
        process.wait(timeout=60)
        print("local endpoint stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
