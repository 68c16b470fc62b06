"""scripts/ecr.py against a local AWS API through the real boto3 client."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
from inferpipe_testing.aws import DUMMY_CREDENTIALS, moto_server

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def run_ecr(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **DUMMY_CREDENTIALS, "AWS_ENDPOINT_URL_ECR": url}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "ecr.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_login_password_goes_to_stdout_and_repositories_are_created_once() -> None:
    with moto_server() as url:
        first = run_ecr(url, REGISTRY, "inferpipe-preprocess", "inferpipe-postprocess")
        assert first.returncode == 0, first.stderr
        assert first.stdout and "\n" not in first.stdout
        assert "created repository inferpipe-preprocess" in first.stderr
        second = run_ecr(url, REGISTRY, "inferpipe-preprocess")
        assert second.returncode == 0 and "created" not in second.stderr
        client = boto3.client(
            "ecr",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        names = {r["repositoryName"] for r in client.describe_repositories()["repositories"]}
        assert {"inferpipe-preprocess", "inferpipe-postprocess"} <= names


def test_non_ecr_registry_is_refused() -> None:
    done = run_ecr("http://127.0.0.1:9", "127.0.0.1:5000", "inferpipe-preprocess")
    assert done.returncode == 2 and "is not an ECR registry host" in done.stderr
