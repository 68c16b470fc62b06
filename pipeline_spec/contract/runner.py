"""Start an image as SageMaker would, run the contract checks, stop it with SIGTERM, report."""

from __future__ import annotations

import logging
import sys
import tempfile
import time
import uuid
from pathlib import Path

from inferpipe.pipeline_spec.contract import checks
from inferpipe.pipeline_spec.contract.checks import CheckResult, Target
from inferpipe.pipeline_spec.contract.docker_cli import (
    container_logs,
    container_state,
    docker,
    inspect_image,
    remove_container,
)
from inferpipe.pipeline_spec.contract.http import request
from inferpipe.pipeline_spec.contract.report import RENDERERS
from inferpipe.pipeline_spec.errors import SpecError
from inferpipe.pipeline_spec.local.artifacts import prepare_model_dir
from inferpipe.pipeline_spec.local.runner import free_port
from inferpipe.protocol import names

logger = logging.getLogger(__name__)

START_DEADLINE_SECONDS = 120
SIGKILL_AFTER_SECONDS = 30


def _readable_copy(model_dir: Path) -> Path:
    """Copy the model dir so any container uid can read it, as SageMaker's mount allows."""
    work = Path(tempfile.mkdtemp(prefix="inferpipe-check-"))
    work.chmod(0o755)
    return prepare_model_dir(str(model_dir.resolve()), work, work / "model", {})


def _wait_ready(name: str, url: str, deadline_seconds: float) -> CheckResult:
    started = time.monotonic()
    while time.monotonic() - started < deadline_seconds:
        try:
            if request(f"{url}/ping", timeout=2).status == 200:
                seconds = time.monotonic() - started
                return CheckResult(
                    "starts with `serve` on SAGEMAKER_BIND_TO_PORT",
                    "pass",
                    f"/ping 200 after {seconds:.1f} s",
                    seconds,
                )
        except OSError:
            pass
        if not container_state(name).get("Running"):
            break
        time.sleep(0.25)
    return CheckResult(
        "starts with `serve` on SAGEMAKER_BIND_TO_PORT",
        "fail",
        f"no /ping 200 within {deadline_seconds:.0f} s; last log lines:\n{container_logs(name)}",
    )


def _check_sigterm(name: str) -> CheckResult:
    started = time.monotonic()
    docker("stop", "--time", str(SIGKILL_AFTER_SECONDS), name, timeout=SIGKILL_AFTER_SECONDS + 30)
    seconds = time.monotonic() - started
    code = container_state(name).get("ExitCode")
    passed = seconds < SIGKILL_AFTER_SECONDS - 1
    return CheckResult(
        "SIGTERM exits before the 30 s SIGKILL",
        "pass" if passed else "fail",
        f"stopped in {seconds:.1f} s, exit code {code}",
        seconds,
    )


def check_image(
    image: str,
    model_dir: Path,
    sample: bytes | None,
    content_type: str,
    environment: dict[str, str],
    start_timeout: float = START_DEADLINE_SECONDS,
) -> list[CheckResult]:
    """Run every contract check against `image`; the container is always removed."""
    config = inspect_image(image)
    results = [checks.check_label(config), checks.check_entrypoint(config)]
    port = free_port()
    name = f"inferpipe-check-{uuid.uuid4().hex[:10]}"
    env = {**environment, names.BIND_TO_PORT: str(port)}
    args = [
        "run",
        "--detach",
        "--name",
        name,
        "--publish",
        f"127.0.0.1:{port}:{port}",
        "--volume",
        f"{_readable_copy(model_dir)}:/opt/ml/model:ro",
    ]
    for key, value in env.items():
        args += ["--env", f"{key}={value}"]
    logger.info("starting %s as %s on port %d", image, name, port)
    docker(*args, image, "serve")
    try:
        url = f"http://127.0.0.1:{port}"
        started = _wait_ready(name, url, start_timeout)
        results.append(started)
        if started.status == "pass":
            target = Target(url, sample, content_type)
            for check in checks.RUNNING_CHECKS:
                results.append(check(target))
                logger.info("%s: %s", results[-1].name, results[-1].status)
            results.append(_check_sigterm(name))
    finally:
        remove_container(name)
    return results


def run_contract_checks(
    image: str,
    model_dir: Path,
    sample: Path | None,
    content_type: str,
    output_format: str,
    environment: dict[str, str],
    start_timeout: float = START_DEADLINE_SECONDS,
) -> int:
    """The `check-container` command: print a report on stdout; exit 1 if any check fails."""
    if not model_dir.is_dir():
        raise SpecError(f"--model-dir {model_dir} is not a directory")
    if sample is not None and not sample.is_file():
        raise SpecError(f"--sample {sample} is not a file")
    body = sample.read_bytes() if sample else None
    results = check_image(image, model_dir, body, content_type, environment, start_timeout)
    sys.stdout.write(RENDERERS[output_format](image, results) + "\n")
    return 1 if any(r.status == "fail" for r in results) else 0
