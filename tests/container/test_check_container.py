"""`inferpipe check-container` against our images (all pass) and a non-conforming one (fails)."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from inferpipe_testing.bad_requests import GOOD_ROW
from inferpipe_testing.containers import docker
from inferpipe_testing.images import base_image
from inferpipe_testing.titanic import AWS_SPARKML, TITANIC_SCHEMA, unpack_titanic


def check_container(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["inferpipe", "check-container", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_preprocess_image_passes_the_contract(
    images: dict[str, str], mixed_pipeline_dir: Path, tmp_path: Path
) -> None:
    sample = tmp_path / "sample.csv"
    sample.write_text(GOOD_ROW * 3)
    done = check_container(
        images["preprocess"],
        "--model-dir",
        str(mixed_pipeline_dir),
        "--sample",
        str(sample),
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["passed"] is True
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert set(statuses.values()) == {"pass"}
    assert len(statuses) == 13


def test_check_container_as_a_function_for_users_ci(
    images: dict[str, str], mixed_pipeline_dir: Path, tmp_path: Path
) -> None:
    from inferpipe.testing import check_container as check

    report = check(images["preprocess"], mixed_pipeline_dir, sample=GOOD_ROW.encode() * 3)
    assert report.passed, report.summary()
    assert len(report.results) == 13
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.joblib").write_bytes(b"not a joblib file")
    failed = check(images["preprocess"], broken, start_timeout=30)
    assert not failed.passed
    assert "starts with `serve`" in failed.summary()


def test_postprocess_image_passes_and_reports_junit(images: dict[str, str], tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "postprocess.json").write_text(
        json.dumps({"steps": [{"op": "threshold", "column": 0, "value": 0.5}]})
    )
    sample = tmp_path / "scores.csv"
    sample.write_text("0.2\n0.9\n")
    done = check_container(
        images["postprocess"],
        "--model-dir",
        str(model_dir),
        "--sample",
        str(sample),
        "--format",
        "junit",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    suite = ET.fromstring(done.stdout)
    assert suite.get("failures") == "0" and int(suite.get("tests", "0")) == 13


def test_without_a_sample_the_request_checks_are_skipped(
    images: dict[str, str], mixed_pipeline_dir: Path
) -> None:
    done = check_container(images["preprocess"], "--model-dir", str(mixed_pipeline_dir))
    assert done.returncode == 0, done.stdout
    assert "SKIP  POST sample" in done.stdout and "5 skipped" in done.stdout


@pytest.fixture(scope="module")
def nonconforming_image(docker_engine: None, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An image like many hand-made ones: shell-form entrypoint, fixed port, no label."""
    context = tmp_path_factory.mktemp("nonconforming")
    base = base_image() or "python:3.11-slim-bookworm"
    (context / "Dockerfile").write_text(f"FROM {base}\nENTRYPOINT python3 -m http.server 8080\n")
    docker("build", "--tag", "inferpipe-test-nonconforming:latest", str(context), timeout=300)
    return "inferpipe-test-nonconforming:latest"


def test_nonconforming_image_fails_naming_each_broken_rule(
    nonconforming_image: str, mixed_pipeline_dir: Path
) -> None:
    done = check_container(
        nonconforming_image, "--model-dir", str(mixed_pipeline_dir), "--start-timeout", "8"
    )
    assert done.returncode == 1
    assert "FAIL  label accept-bind-to-port" in done.stdout
    assert "FAIL  exec-form entrypoint" in done.stdout
    assert "FAIL  starts with `serve` on SAGEMAKER_BIND_TO_PORT" in done.stdout


def test_missing_image_is_a_clear_error(docker_engine: None, mixed_pipeline_dir: Path) -> None:
    done = check_container("inferpipe-no-such-image:nope", "--model-dir", str(mixed_pipeline_dir))
    assert done.returncode == 1
    assert "is not available locally" in done.stderr


def test_preprocess_image_passes_the_contract_serving_a_spark_ml_bundle(
    images: dict[str, str], tmp_path: Path
) -> None:
    """AWS's Titanic MLeap bundle in our image, schema in the artifact: every check passes."""
    model_dir = unpack_titanic(tmp_path / "model")
    (model_dir / "schema.json").write_text(json.dumps(TITANIC_SCHEMA))
    for path in [model_dir, *model_dir.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    sample = tmp_path / "sample.csv"
    sample.write_text((AWS_SPARKML / "valid_input.csv").read_text().strip() + "\n")
    done = check_container(
        images["preprocess"],
        "--model-dir",
        str(model_dir),
        "--sample",
        str(sample),
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["passed"] is True
    assert {c["status"] for c in report["checks"]} == {"pass"}
