"""`local up|status|logs|down` as separate commands, S3 artifacts, and start failures."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import psutil
import pytest
import yaml
from inferpipe_testing.aws import DUMMY_CREDENTIALS, moto_server
from inferpipe_testing.containers import free_port
from inferpipe_testing.local import local_endpoint, start_local_up

from inferpipe.pipeline_spec.errors import DeployError
from inferpipe.pipeline_spec.loader import load_spec
from inferpipe.pipeline_spec.local.engines import DockerRunning, ProcessRunning
from inferpipe.pipeline_spec.local.session import bring_up, take_down
from inferpipe.pipeline_spec.package import package_spec, upload_artifacts


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-P", "-m", "inferpipe", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_up_status_logs_down_from_other_shells(abalone_dir: Path, tmp_path: Path) -> None:
    spec, state, port = str(abalone_dir / "spec.yaml"), str(tmp_path / "state"), free_port()
    up = subprocess.Popen(
        [
            sys.executable,
            "-P",
            "-m",
            "inferpipe",
            "local",
            "up",
            spec,
            "--engine",
            "process",
            "--port",
            str(port),
            "--state-dir",
            state,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1)
                break
            except OSError:
                time.sleep(0.3)
        status = cli("local", "status", spec, "--state-dir", state)
        assert status.returncode == 0 and status.stdout.count(": up") == 4
        logs = cli("local", "logs", spec, "--state-dir", state, "--container", "model")
        assert "== abalone-v1/model ==" in logs.stdout and "serving stage=xgboost" in logs.stdout
        assert cli("local", "down", spec, "--state-dir", state).returncode == 0
        assert up.wait(timeout=60) == 0
    finally:
        up.kill()
    gone = cli("local", "status", spec, "--state-dir", state)
    assert gone.returncode == 1 and "no local endpoint abalone is running" in gone.stderr


def test_s3_artifacts_are_downloaded_and_unpacked(
    abalone_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(abalone_dir / "build", tmp_path / "build")
    shutil.copy(abalone_dir / "spec.yaml", tmp_path / "spec.yaml")
    with moto_server() as url:
        for key, value in {**DUMMY_CREDENTIALS, "AWS_ENDPOINT_URL": url}.items():
            monkeypatch.setenv(key, value)
        boto3.client("s3").create_bucket(Bucket="sagemaker-us-east-1-123456789012")
        artifacts, packaged = package_spec(
            load_spec(tmp_path / "spec.yaml"), tmp_path, tmp_path / "art"
        )
        upload_artifacts(artifacts, boto3.client("s3"), lambda message: None)
        shutil.rmtree(tmp_path / "build")
        remote = tmp_path / "remote.yaml"
        remote.write_text(yaml.safe_dump(packaged.model_dump(mode="json", exclude_none=True)))
        with local_endpoint(remote, "process", tmp_path / "state") as client:
            answer = client.invoke_endpoint(
                EndpointName="abalone",
                ContentType="text/csv",
                Body=b"M,0.455,0.365,0.095,0.514,0.2245,0.101,0.15\n",
            )
            assert answer["Body"].read().decode().endswith(",adult\n")


def test_a_container_that_cannot_start_is_named_with_its_log(
    abalone_dir: Path, tmp_path: Path
) -> None:
    shutil.copytree(abalone_dir / "build", tmp_path / "build")
    shutil.copy(abalone_dir / "spec.yaml", tmp_path / "spec.yaml")
    (tmp_path / "build" / "xgboost" / "xgboost-model").write_bytes(b"not a model")
    with pytest.raises(DeployError) as raised:
        bring_up(
            load_spec(tmp_path / "spec.yaml"),
            tmp_path,
            "process",
            free_port(),
            tmp_path / "state",
            lambda message: None,
        )
    assert "container abalone-v1/model exited during start" in raised.value.message
    assert "xgboost-model is not a model xgboost" in raised.value.message


def _listening_addresses(running: object) -> set[str]:
    """Where a started container accepts connections, as seen from the host."""
    if isinstance(running, ProcessRunning):
        parent = psutil.Process(running.process.pid)
        addresses = set()
        for process in [parent, *parent.children(recursive=True)]:
            for connection in process.net_connections(kind="inet"):
                if connection.status == psutil.CONN_LISTEN:
                    addresses.add(connection.laddr.ip)
        return addresses
    assert isinstance(running, DockerRunning)
    ports = subprocess.run(
        ["docker", "port", running.name], capture_output=True, text=True, check=True
    ).stdout
    return {line.split("->")[1].strip().rsplit(":", 1)[0] for line in ports.splitlines()}


def test_nothing_local_listens_beyond_loopback(
    abalone_dir: Path, tmp_path: Path, engine: str
) -> None:
    deployment, front = bring_up(
        load_spec(abalone_dir / "spec.yaml"),
        abalone_dir,
        engine,
        free_port(),
        tmp_path / "state",
        lambda message: None,
    )
    try:
        assert front.server_address[0] == "127.0.0.1"
        for container in deployment.containers:
            addresses = _listening_addresses(container.running)
            assert addresses == {"127.0.0.1"}, (container.name, addresses)
    finally:
        take_down(deployment, front)


def _loadtest(abalone_dir: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    """`inferpipe loadtest` of variant A with short steps, writing into tmp_path."""
    body = tmp_path / "row.csv"
    body.write_text("M,0.455,0.365,0.095,0.514,0.2245,0.101,0.15\n")
    return cli(
        "loadtest",
        str(abalone_dir / "spec.yaml"),
        "--body",
        str(body),
        "--variant",
        "A",
        "--p99-ms",
        "500",
        "--step-seconds",
        "2",
        "--state-dir",
        str(tmp_path / "state"),
        "-o",
        str(tmp_path / "tuned.yaml"),
        *extra,
    )


def test_loadtest_reports_max_rps_and_writes_a_spec_copy(abalone_dir: Path, tmp_path: Path) -> None:
    done = _loadtest(abalone_dir, tmp_path, "--duration", "6", "--plot", str(tmp_path / "load.png"))
    assert done.returncode == 0, done.stderr
    assert "A: MAX_RPS" in done.stdout and "x 0.5 x 60 =" in done.stdout
    assert "[A 1/3] asked 5.0 rps" in done.stderr
    tuned = load_spec(tmp_path / "tuned.yaml")
    assert tuned.variants[0].autoscaling is not None
    assert tuned.variants[0].autoscaling.max_rps is not None
    assert (tmp_path / "load.png").read_bytes()[:4] == b"\x89PNG"


def test_loadtest_sweep_recommends_a_setting(abalone_dir: Path, tmp_path: Path) -> None:
    done = _loadtest(
        abalone_dir,
        tmp_path,
        "--duration",
        "4",
        "--sweep",
        "--sweep-settings",
        "1x1,2x1",
        "--plot",
        str(tmp_path / "sweep.png"),
    )
    assert done.returncode == 0, done.stderr
    assert "[sweep 2/2] 2 workers x 1 threads" in done.stderr
    assert "| 1 workers x 1 threads |" in done.stdout
    assert "A: recommended " in done.stdout and "not on the instance types" in done.stdout
    tuned = load_spec(tmp_path / "tuned.yaml")
    preprocess = tuned.models["abalone-v1"].containers[0]
    assert preprocess.environment["SAGEMAKER_MODEL_SERVER_WORKERS"] in {"1", "2"}
    assert (tmp_path / "sweep.png").read_bytes()[:4] == b"\x89PNG"


def _invoke(port: int) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/endpoints/abalone/invocations",
        data=b"M,0.455,0.365,0.095,0.514,0.2245,0.101,0.15\n",
        headers={"Content-Type": "text/csv", "X-Amzn-SageMaker-Target-Variant": "A"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _container_pids(up: subprocess.Popen[bytes]) -> list[int]:
    return [child.pid for child in psutil.Process(up.pid).children()]


def _kill_hard(up: subprocess.Popen[bytes], engine: str, port: int) -> None:
    """`kill -9` of the container serving on `port`: its server process, or (docker)
    the container's PID 1 through `docker kill`."""
    if engine == "docker":
        subprocess.run(
            ["docker", "kill", f"inferpipe-local-{port}"], check=True, capture_output=True
        )
        return
    victim = next(
        p
        for p in psutil.Process(up.pid).children()
        if any(c.laddr.port == port for c in p.net_connections(kind="tcp"))
    )
    victim.kill()


def test_a_killed_container_is_restarted_and_status_shows_it(
    abalone_dir: Path, tmp_path: Path, engine: str
) -> None:
    spec, state, port = str(abalone_dir / "spec.yaml"), str(tmp_path / "state"), free_port()
    up = start_local_up(spec, state, port, engine)
    try:
        assert _invoke(port) == 200
        state_doc = json.loads((tmp_path / "state" / "abalone.json").read_text())
        model_port = int(state_doc["containers"][1]["url"].rsplit(":", 1)[1])
        killed = time.monotonic()
        _kill_hard(up, engine, model_port)
        deadline = killed + 90
        while time.monotonic() < deadline:
            containers = json.loads((tmp_path / "state" / "abalone.json").read_text())
            if containers["containers"][1]["restarts"] == 1:
                break
            time.sleep(0.3)
        statuses = [_invoke(port)]
        while statuses[-1] != 200 and time.monotonic() < deadline:
            time.sleep(0.3)
            statuses.append(_invoke(port))
        print(f"{engine}: serving again {time.monotonic() - killed:.1f} s after kill -9")
        assert statuses[-1] == 200, statuses
        assert set(statuses[:-1]) <= {424}  # failures meanwhile are ModelErrors
        status = cli("local", "status", spec, "--state-dir", state)
        assert "model: " in status.stdout and "(restarted 1 time)" in status.stdout, status.stdout
        assert status.stdout.count(": up") == 4
    finally:
        up.terminate()
        up.wait(timeout=90)


def test_no_container_outlives_a_killed_local_up(abalone_dir: Path, tmp_path: Path) -> None:
    spec, state, port = str(abalone_dir / "spec.yaml"), str(tmp_path / "state"), free_port()
    up = start_local_up(spec, state, port)
    children = _container_pids(up)
    assert len(children) == 3
    up.kill()  # SIGKILL: no clean-up code runs in local up
    up.wait(timeout=10)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(psutil.pid_exists(p) for p in children):
        time.sleep(0.2)
    alive = [p for p in children if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
    assert alive == []


def test_local_down_sweeps_docker_containers_a_killed_up_left(
    abalone_dir: Path, tmp_path: Path, images: dict[str, str]
) -> None:
    spec, state, port = str(abalone_dir / "spec.yaml"), str(tmp_path / "state"), free_port()
    command = [sys.executable, "-P", "-m", "inferpipe", "local", "up", spec, "--engine"]
    up = subprocess.Popen(
        [*command, "docker", "--port", str(port), "--state-dir", state],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    label = f"label=inferpipe.local.owner={up.pid}"

    def labelled() -> list[str]:
        listed = subprocess.run(
            ["docker", "ps", "-a", "-q", "--filter", label],
            capture_output=True,
            text=True,
            check=True,
        )
        return listed.stdout.split()

    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(labelled()) < 3:
            time.sleep(0.5)
        assert len(labelled()) == 3
    finally:
        up.kill()  # docker containers do not die with their parent
        up.wait(timeout=10)
    assert len(labelled()) == 3
    assert cli("local", "down", spec, "--state-dir", state).returncode == 0
    assert labelled() == []
