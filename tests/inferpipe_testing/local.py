"""Run a spec on the local endpoint inside the test process, and build abalone artifacts."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from inferpipe.pipeline_spec.loader import load_spec
from inferpipe.pipeline_spec.local.session import bring_up, take_down
from inferpipe_testing.aws import DUMMY_CREDENTIALS
from inferpipe_testing.containers import REPO_ROOT, free_port

EXAMPLE = REPO_ROOT / "examples" / "abalone"


def import_by_path(path: Path, name: str) -> ModuleType:
    """A script imported from its file (examples and benchmarks are not packages)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def abalone_train_module() -> ModuleType:
    """examples/abalone/train.py."""
    return import_by_path(EXAMPLE / "train.py", "abalone_train")


@contextmanager
def local_endpoint(spec_path: Path, engine: str, state_dir: Path) -> Iterator[Any]:
    """Yield a boto3 sagemaker-runtime client pointed at the running local endpoint."""
    import boto3

    saved = {k: os.environ.get(k) for k in DUMMY_CREDENTIALS}
    os.environ.update(DUMMY_CREDENTIALS)
    spec = load_spec(spec_path)
    deployment, front = bring_up(
        spec, spec_path.parent, engine, free_port(), state_dir, progress=lambda message: None
    )
    try:
        client = boto3.client("sagemaker-runtime", endpoint_url=front.url, region_name="us-east-1")
        client.front_url = front.url  # type: ignore[attr-defined]
        yield client
    finally:
        take_down(deployment, front)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def endpoint_per_engine(request: Any, spec_path: Path, tmp_path_factory: Any) -> Iterator[Any]:
    """The body of a fixture parametrized over ("process", "docker"): the docker engine
    first builds the images (the `images` fixture), then the spec runs on that engine."""
    if request.param == "docker":
        request.getfixturevalue("images")
    with local_endpoint(spec_path, request.param, tmp_path_factory.mktemp("state")) as client:
        yield client


def start_local_up(
    spec: str, state: str, port: int, engine: str = "process"
) -> subprocess.Popen[bytes]:
    """`inferpipe local up` as a user runs it, returned once its front answers /ping."""
    command = [sys.executable, "-P", "-m", "inferpipe", "local", "up", spec, "--engine", engine]
    command += ["--port", str(port), "--state-dir", state]
    up = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and up.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1)
            return up
        except OSError:
            time.sleep(0.3)
    up.kill()
    raise AssertionError(f"local up (engine {engine}) did not answer /ping; exit {up.poll()}")


#: A user's script that answers its body unchanged as CSV (a stage that always works).
PASS_THROUGH_SCRIPT = """
    def model_fn(model_dir):
        return None

    def transform_fn(model, body, content_type, accept):
        return body, "text/csv"
"""


def script_pipeline_spec(
    folder: Path,
    endpoint: str,
    scripts: list[tuple[str, str]],
    environment: dict[str, str] | None = None,
) -> Path:
    """A spec of one model (`<endpoint>-v1`, one variant A) whose containers are users'
    `inference.py` scripts, in order, each given as (container name, script source)."""
    containers = []
    for name, script in scripts:
        (folder / name / "code").mkdir(parents=True, exist_ok=True)
        (folder / name / "code" / "inference.py").write_text(textwrap.dedent(script))
        containers.append(
            {
                "name": name,
                "image": "registry.example.com/stage:1",
                "artifact": name,
                "environment": dict(environment or {}),
                "local": {"image": "inferpipe-preprocess:latest", "stage": "script"},
            }
        )
    model = f"{endpoint}-v1"
    document = {
        "spec_version": 1,
        "region": "us-east-1",
        "endpoint": endpoint,
        "models": {
            model: {
                "role": "arn:aws:iam::123456789012:role/SageMakerExecution",
                "containers": containers,
            }
        },
        "variants": [{"name": "A", "model": model, "instance_type": "ml.m5.large"}],
    }
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(document))
    return path
