"""Benchmark: what the local endpoint's front adds over calling the containers directly.

    python -P benchmarks/local_endpoint_overhead.py [--requests 300]

Trains the abalone example, starts it with the process engine, and times one-row
requests three ways in the same run: hops chained by hand (the baseline), through the
front with a plain HTTP client, and through boto3's sagemaker-runtime client.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import urllib3

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "examples" / "abalone"
sys.path.insert(0, str(EXAMPLE))
from train import train  # noqa: E402

from inferpipe.pipeline_spec.loader import load_spec  # noqa: E402
from inferpipe.pipeline_spec.local.session import bring_up  # noqa: E402

ROW = b"M,0.455,0.365,0.095,0.514,0.2245,0.101,0.15\n"


def timed(call, count: int) -> float:  # type: ignore[no-untyped-def]
    for _ in range(20):
        call()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"}
    )
    work = Path(tempfile.mkdtemp(prefix="inferpipe-bench-local-"))
    train(EXAMPLE / "build")
    spec = load_spec(EXAMPLE / "spec.yaml")
    deployment, front = bring_up(spec, EXAMPLE, "process", 0, work, lambda m: None)
    pool = urllib3.PoolManager(maxsize=4)
    hops = [c.url for c in deployment.containers]

    def direct() -> None:
        body, content_type = ROW, "text/csv"
        for url in hops:
            response = pool.request(
                "POST", f"{url}/invocations", body=body, headers={"Content-Type": content_type}
            )
            body, content_type = response.data, response.headers["Content-Type"]

    def through_front() -> None:
        pool.request(
            "POST",
            f"{front.url}/endpoints/abalone/invocations",
            body=ROW,
            headers={"Content-Type": "text/csv", "X-Amzn-SageMaker-Target-Variant": "A"},
        )

    import boto3

    runtime = boto3.client("sagemaker-runtime", endpoint_url=front.url)

    def through_boto3() -> None:
        runtime.invoke_endpoint(
            EndpointName="abalone", Body=ROW, ContentType="text/csv", TargetVariant="A"
        )

    try:
        baseline = timed(direct, args.requests)
        results = {
            "hops chained by hand (baseline)": baseline,
            "local endpoint, plain HTTP": timed(through_front, args.requests),
            "local endpoint, boto3": timed(through_boto3, args.requests),
        }
    finally:
        front.shutdown()
        deployment.stop()
    print(f"{'one-row request, 3 containers':<36}{'p50 ms':>10}{'ratio':>8}")
    for name, value in results.items():
        print(f"{name:<36}{value:>10.2f}{value / baseline:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
