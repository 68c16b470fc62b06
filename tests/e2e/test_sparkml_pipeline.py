"""A Spark ML preprocessing stage (Spark's own save) in front of the XGBoost hop, on the
local endpoint (process and docker engines), through boto3."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from inferpipe_testing import sparkml_abalone
from inferpipe_testing.local import EXAMPLE, local_endpoint
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
    if request.param == "docker":
        request.getfixturevalue("images")
    with local_endpoint(
        spark_abalone / "spec.yaml", request.param, tmp_path_factory.mktemp("state")
    ) as client:
        yield client


def test_500_raw_rows_equal_spark_then_xgboost_in_process(
    runtime: Any, spark: Any, spark_abalone: Path, tmp_path: Path
) -> None:
    lines = (EXAMPLE / "data" / "abalone.csv").read_text().splitlines()[:500]
    raw = "\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n"
    answer = runtime.invoke_endpoint(
        EndpointName="abalone-spark", Body=raw.encode(), ContentType="text/csv", Accept="text/csv"
    )
    ours = [float(v) for v in answer["Body"].read().decode().split()]
    (tmp_path / "rows.csv").write_text("\n".join(lines) + "\n")
    expected = sparkml_abalone.expected_predictions(spark, spark_abalone, tmp_path / "rows.csv")
    assert len(ours) == 500
    assert all(values_match(a, b) for a, b in zip(ours, expected, strict=True))


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
