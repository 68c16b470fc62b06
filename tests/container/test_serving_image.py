"""The preprocess image, built by build.sh, served read-only as a non-root uid, over HTTP."""

from __future__ import annotations

import json
import textwrap
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import joblib
import numpy as np
import pytest
import requests
import urllib3
from inferpipe_testing.bad_requests import BAD_REQUESTS, GOOD_ROW
from inferpipe_testing.containers import Container, docker, start_container
from inferpipe_testing.data import make_mixed_rows, read_oracle_frame, rows_to_csv

from inferpipe.pipeline_spec.package import build_tarball, manifest_digest
from inferpipe.protocol.archives import extract_tar


def csv_matrix(text: str) -> np.ndarray:
    return np.array([[float(x) for x in line.split(",")] for line in text.splitlines()])


def test_image_carries_the_bind_to_port_label_and_oci_labels(images: dict[str, str]) -> None:
    for image in images.values():
        labels = json.loads(
            docker("image", "inspect", "--format", "{{json .Config.Labels}}", image).stdout
        )
        assert labels["com.amazonaws.sagemaker.capabilities.accept-bind-to-port"] == "true"
        assert labels["org.opencontainers.image.version"]
        size_mib = int(docker("image", "inspect", "--format", "{{.Size}}", image).stdout) >> 20
        print(f"{image}: {size_mib} MiB")


def test_container_runs_read_only_as_non_root(mixed_container: Container) -> None:
    assert mixed_container.state("{{.HostConfig.ReadonlyRootfs}}") == "true"
    assert mixed_container.state("{{.Config.User}}") == "12345:12345"
    response = requests.get(f"{mixed_container.url}/ping", timeout=2)
    assert response.status_code == 200 and response.content == b""


def test_1000_mixed_rows_equal_the_in_process_pipeline(
    mixed_container: Container, mixed_pipeline_dir: Path
) -> None:
    text = rows_to_csv(make_mixed_rows(1000, seed=11))
    pipeline = joblib.load(mixed_pipeline_dir / "model.joblib")
    expected = pipeline.transform(read_oracle_frame(text))
    response = mixed_container.post(text, "text/csv")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/csv"
    assert np.array_equal(csv_matrix(response.text), expected)


def test_1000_mixed_rows_one_by_one_equal_the_in_process_pipeline(
    mixed_container: Container, mixed_pipeline_dir: Path
) -> None:
    rows = make_mixed_rows(1000, seed=12)
    pipeline = joblib.load(mixed_pipeline_dir / "model.joblib")
    expected = pipeline.transform(read_oracle_frame(rows_to_csv(rows)))
    with requests.Session() as session:
        for index, row in enumerate(rows):
            response = session.post(
                f"{mixed_container.url}/invocations",
                data=rows_to_csv([row]),
                headers={"Content-Type": "text/csv"},
                timeout=10,
            )
            assert response.status_code == 200, response.text
            assert np.array_equal(csv_matrix(response.text)[0], expected[index]), index


def test_json_and_jsonlines_answers_match_csv(mixed_container: Container) -> None:
    text = rows_to_csv(make_mixed_rows(20, seed=13))
    csv_values = csv_matrix(mixed_container.post(text, "text/csv").text)
    as_json = mixed_container.post(text, "text/csv", accept="application/json").json()
    lines = mixed_container.post(text, "text/csv", accept="application/jsonlines").text
    assert np.array_equal(np.array(as_json["predictions"]), csv_values)
    assert np.array_equal(np.array([json.loads(x) for x in lines.splitlines()]), csv_values)


@pytest.mark.parametrize(
    ("case", "body", "content_type", "accept", "status", "code"),
    BAD_REQUESTS,
    ids=[c[0] for c in BAD_REQUESTS],
)
def test_bad_input_gets_a_4xx_json_error_and_the_next_request_works(
    mixed_container: Container,
    case: str,
    body: bytes,
    content_type: str,
    accept: str | None,
    status: int,
    code: str,
) -> None:
    response = mixed_container.post(body, content_type, accept=accept)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"] == code and response.json()["stage"] == "sklearn"
    assert mixed_container.post(GOOD_ROW, "text/csv").status_code == 200


def test_body_over_the_payload_limit_gets_413(mixed_container: Container) -> None:
    response = mixed_container.post(GOOD_ROW * 400_000, "text/csv")
    assert response.status_code == 413
    assert response.json()["error"] == "payload-too-large"
    assert mixed_container.post(GOOD_ROW, "text/csv").status_code == 200


@pytest.mark.parametrize("client", ["urllib", "urllib3"])
def test_a_far_larger_body_still_gets_its_413_before_the_connection_closes(
    mixed_container: Container, client: str
) -> None:
    # 40 MB: far more than the socket buffers hold, so the server must read what it
    # refuses; otherwise an ordinary client, still sending, sees a broken pipe.
    body = GOOD_ROW.encode() * 2_200_000
    url = f"{mixed_container.url}/invocations"
    headers = {"Content-Type": "text/csv"}
    if client == "urllib":
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=60)
        status, answer = refused.value.code, json.loads(refused.value.read())
    else:
        reply = urllib3.PoolManager().request("POST", url, body=body, headers=headers, timeout=60)
        status, answer = reply.status, json.loads(reply.data)
    assert status == 413
    assert answer["error"] == "payload-too-large"
    assert f"the body is {len(body)} bytes" in answer["message"]
    assert mixed_container.post(GOOD_ROW, "text/csv").status_code == 200


def test_execution_parameters(mixed_container: Container) -> None:
    answer = requests.get(f"{mixed_container.url}/execution-parameters", timeout=2).json()
    assert answer == {
        "MaxConcurrentTransforms": 2,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": 6,
    }


def test_bind_to_port_is_honoured(
    images: dict[str, str], mixed_pipeline_dir: Path, containers: list[Container]
) -> None:
    container = start_container(
        images["preprocess"],
        mixed_pipeline_dir,
        env={"SAGEMAKER_BIND_TO_PORT": "9123"},
        container_port=9123,
    )
    containers.append(container)
    assert container.post(GOOD_ROW, "text/csv").status_code == 200
    assert "0.0.0.0:9123" in container.logs()


def test_bad_artifact_fails_the_start_with_one_clear_line(
    images: dict[str, str], tmp_path: Path, containers: list[Container]
) -> None:
    (tmp_path / "model.joblib").write_bytes(b"this is not a joblib file")
    container = start_container(images["preprocess"], tmp_path, wait=False)
    containers.append(container)
    assert container.wait_exit(deadline_s=60) == 1
    errors = [line for line in container.logs().splitlines() if " ERROR " in line]
    assert len(errors) == 1
    assert "/opt/ml/model/model.joblib cannot be loaded" in errors[0]


def test_a_packaged_artifact_serves_under_its_pin_and_a_tampered_one_does_not_start(
    images: dict[str, str], mixed_pipeline_dir: Path, tmp_path: Path, containers: list[Container]
) -> None:
    tarball = build_tarball(mixed_pipeline_dir, tmp_path / "model.tar.gz")
    pin = {"INFERPIPE_ARTIFACT_SHA256": manifest_digest(tarball)}
    model_dir = tmp_path / "model"
    extract_tar(tarball, model_dir)
    pinned = start_container(images["preprocess"], model_dir, env=pin)
    containers.append(pinned)
    assert pinned.post(GOOD_ROW, "text/csv").status_code == 200
    changed = model_dir / "model.joblib"
    changed.write_bytes(changed.read_bytes() + b"\0")
    tampered = start_container(images["preprocess"], model_dir, env=pin, wait=False)
    containers.append(tampered)
    assert tampered.wait_exit(deadline_s=60) == 1
    errors = [line for line in tampered.logs().splitlines() if " ERROR " in line]
    assert len(errors) == 1
    assert "model.joblib has digest sha256:" in errors[0]
    assert "the manifest pins sha256:" in errors[0]


SLOW_SCRIPT = """
    import time

    def model_fn(model_dir):
        return None

    def transform_fn(model, body, content_type, accept):
        time.sleep(float(body))
        return "slept " + body
"""


@pytest.fixture()
def slow_model_dir(tmp_path: Path) -> Path:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "inference.py").write_text(textwrap.dedent(SLOW_SCRIPT))
    return tmp_path


def test_sigterm_drains_in_flight_requests_and_exits_quickly(
    images: dict[str, str], slow_model_dir: Path, containers: list[Container]
) -> None:
    container = start_container(images["preprocess"], slow_model_dir)
    containers.append(container)
    answers: list[requests.Response] = []
    request = threading.Thread(target=lambda: answers.append(container.post("3", "text/csv")))
    request.start()
    time.sleep(1)
    started = time.monotonic()
    docker("stop", "--time", "30", container.name, timeout=60)
    stopped_in = time.monotonic() - started
    request.join(timeout=10)
    assert answers and answers[0].status_code == 200 and answers[0].text == "slept 3"
    assert container.wait_exit() == 0
    assert stopped_in < 10, f"took {stopped_in:.1f}s to stop after SIGTERM"
    print(f"stopped {stopped_in:.1f}s after SIGTERM with a request in flight")


def test_request_past_the_timeout_gets_504_and_the_container_keeps_serving(
    images: dict[str, str], slow_model_dir: Path, containers: list[Container]
) -> None:
    container = start_container(
        images["preprocess"],
        slow_model_dir,
        env={"SAGEMAKER_MODEL_SERVER_TIMEOUT": "1", "SAGEMAKER_MODEL_SERVER_WORKERS": "1"},
    )
    containers.append(container)
    response = container.post("4", "text/csv")
    assert response.status_code == 504 and response.json()["error"] == "timeout"
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        try:
            if container.post("0", "text/csv", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(0.5)
    else:
        pytest.fail(f"no answer after the timeout:\n{container.logs()[-2000:]}")
    assert "recycling worker" in container.logs()


def test_healthcheck_reports_healthy(mixed_container: Container) -> None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if mixed_container.state("{{.State.Health.Status}}") == "healthy":
            return
        time.sleep(1)
    pytest.fail(f"health: {mixed_container.state('{{json .State.Health}}')}")
