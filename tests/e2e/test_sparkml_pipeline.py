"""A Spark ML preprocessing stage (Spark's own save) in front of the XGBoost hop, on the
local endpoint (process and docker engines), through boto3."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from inferpipe_testing import sparkml_abalone
from inferpipe_testing.abalone import raw_rows
from inferpipe_testing.containers import free_port
from inferpipe_testing.local import EXAMPLE, endpoint_per_engine
from inferpipe_testing.spark import spark_session, values_match

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    yield from spark_session()


@pytest.fixture(scope="module")
def spark_abalone(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sparkml_abalone.build(spark, tmp_path_factory.mktemp("spark-abalone"))


@pytest.fixture(scope="module", params=["process", "docker"])
def runtime(
    request: pytest.FixtureRequest, spark_abalone: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    yield from endpoint_per_engine(request, spark_abalone / "spec.yaml", tmp_path_factory)


def test_500_raw_rows_equal_spark_then_xgboost_in_process(
    runtime: Any, spark: Any, spark_abalone: Path, tmp_path: Path
) -> None:
    lines = (EXAMPLE / "data" / "abalone.csv").read_text().splitlines()[:500]
    raw = raw_rows(500, EXAMPLE / "data" / "abalone.csv")
    answer = runtime.invoke_endpoint(
        EndpointName="abalone-spark", Body=raw.encode(), ContentType="text/csv", Accept="text/csv"
    )
    ours = [float(v) for v in answer["Body"].read().decode().split()]
    (tmp_path / "rows.csv").write_text("\n".join(lines) + "\n")
    expected = sparkml_abalone.expected_predictions(spark, spark_abalone, tmp_path / "rows.csv")
    assert len(ours) == 500
    assert all(values_match(a, b) for a, b in zip(ours, expected, strict=True))


def test_the_mleap_export_serves_the_same_predictions_as_the_native_save(runtime: Any) -> None:
    raw = "\n".join(_raw_lines(300)) + "\n"
    answers = {
        variant: runtime.invoke_endpoint(
            EndpointName="abalone-spark",
            Body=raw.encode(),
            ContentType="text/csv",
            TargetVariant=variant,
        )
        for variant in ("A", "B")
    }
    assert answers["B"]["InvokedProductionVariant"] == "B"
    bodies = {variant: answer["Body"].read().decode() for variant, answer in answers.items()}
    assert len(bodies["A"].splitlines()) == 300
    assert bodies["A"] == bodies["B"]


def test_a_bad_row_is_a_model_error_naming_the_sparkml_container(runtime: Any) -> None:
    with pytest.raises(runtime.exceptions.ModelError) as caught:
        runtime.invoke_endpoint(
            EndpointName="abalone-spark",
            Body=b"M,0.45,big,0.09,0.5,0.2,0.1,0.15\n",
            ContentType="text/csv",
        )
    error = caught.value.response
    assert error["OriginalStatusCode"] == 400
    assert "container-1" in error["Error"]["Message"] or "sparkml" in error["Error"]["Message"]
    assert "column 'diameter'" in error["OriginalMessage"]


def _raw_lines(count: int) -> list[str]:
    return raw_rows(count, EXAMPLE / "data" / "abalone.csv").splitlines()


def run_batch_cli(spec: Path, work: Path, master: str) -> list[str]:
    """`inferpipe batch` over two input files, run as the CLI (its own Spark driver)."""
    (work / "in").mkdir()
    lines = _raw_lines(600)
    (work / "in" / "a.csv").write_text("\n".join(lines[:250]) + "\n")
    (work / "in" / "b.csv").write_text("\n".join(lines[250:]) + "\n")
    done = subprocess.run(
        [
            sys.executable,
            "-P",
            "-m",
            "inferpipe",
            "batch",
            str(spec),
            "--input",
            str(work / "in"),
            "--output",
            str(work / "out"),
            "--master",
            master,
            "--state-dir",
            str(work / "state"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=work,  # not the repo root, whose inferpipe/ folder would shadow the install
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "600 record(s)" in done.stdout
    parts = sorted((work / "out" / "a.csv.out").glob("part-*"))
    parts += sorted((work / "out" / "b.csv.out").glob("part-*"))
    return [line for part in parts for line in part.read_text().splitlines()]


@pytest.fixture(scope="module")
def batch_output(spark_abalone: Path, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return run_batch_cli(spark_abalone / "spec.yaml", tmp_path_factory.mktemp("batch"), "local[2]")


@pytest.fixture(scope="module")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A standalone Spark master and one worker on loopback (pyspark's own spark-class)."""
    import pyspark

    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    logs = tmp_path_factory.mktemp("cluster")
    port = free_port()
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    url = f"spark://127.0.0.1:{port}"
    commands = {
        "master": [
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(free_port()),
        ],
        "worker": [
            "org.apache.spark.deploy.worker.Worker",
            url,
            "--cores",
            "2",
            "--memory",
            "2g",
            "--webui-port",
            str(free_port()),
        ],
    }
    processes = []
    try:
        for name, arguments in commands.items():
            log = (logs / f"{name}.log").open("w")
            processes.append(
                subprocess.Popen([str(spark_class), *arguments], stdout=log, stderr=log, env=env)
            )
            marker = "I have been elected leader" if name == "master" else "registered with master"
            deadline = time.monotonic() + 120
            while marker not in (logs / f"{name}.log").read_text():
                assert time.monotonic() < deadline, (logs / f"{name}.log").read_text()[-2000:]
                time.sleep(0.5)
        yield url
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=30)


def test_batch_on_a_standalone_spark_cluster_equals_local_mode(
    spark_cluster: str,
    spark_abalone: Path,
    batch_output: list[str],
    tmp_path: Path,
) -> None:
    assert run_batch_cli(spark_abalone / "spec.yaml", tmp_path, spark_cluster) == batch_output


def test_spark_batch_output_equals_the_endpoint_for_the_same_input(
    runtime: Any, batch_output: list[str]
) -> None:
    lines = _raw_lines(600)
    by_file = [lines[:250], lines[250:]]
    endpoint = []
    for chunk in by_file:
        answer = runtime.invoke_endpoint(
            EndpointName="abalone-spark",
            Body=("\n".join(chunk) + "\n").encode(),
            ContentType="text/csv",
        )
        endpoint += answer["Body"].read().decode().splitlines()
    assert sorted(batch_output) == sorted(endpoint)
    assert batch_output == endpoint
