"""Public MLeap bundles and AWS SparkML payloads: loaded by our bundle reader and checked
against the real MLeap runtime (JVM) on the same frames, and against AWS's formats."""

from __future__ import annotations

import json
import random
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from inferpipe_testing.mleap_oracle import MleapOracle, leap_frame
from inferpipe_testing.spark import mismatches, our_values
from inferpipe_testing.titanic import AWS_SPARKML, TITANIC_SCHEMA, unpack_titanic

from inferpipe.protocol.errors import ArtifactError
from inferpipe.serving.app import create_app
from inferpipe.serving.settings import ServingSettings
from inferpipe.transformers.sparkml.artifact import load_model
from inferpipe.transformers.sparkml.columns import Frame
from inferpipe.transformers.sparkml.convert import column_from_values
from inferpipe.transformers.sparkml.mleap_bundle import load_bundle
from inferpipe.transformers.sparkml.mleap_files import open_bundle
from inferpipe.transformers.sparkml.op import Pipeline
from inferpipe.transformers.sparkml.stage import SparkMLStage

DATA = Path(__file__).resolve().parents[3] / "data" / "conformance"
MLEAP = DATA / "mleap"
AWS = AWS_SPARKML


def _airbnb_rows(count: int) -> dict[str, tuple[str, list[Any]]]:
    rng = random.Random(7)
    frame = json.loads((MLEAP / "frame.airbnb.json").read_text())
    fields = [f["name"] for f in frame["schema"]["fields"]]
    kinds = [f["type"] for f in frame["schema"]["fields"]]
    choices = {
        "state": ["NY", "CA", "London", "Berlin", "TX", "Other"],
        "room_type": ["Entire home/apt", "Private room", "Shared room"],
        "host_is_superhost": ["0.0", "1.0"],
        "cancellation_policy": ["strict", "moderate", "flexible", "no_refunds"],
        "instant_bookable": ["0.0", "1.0"],
    }
    columns: dict[str, tuple[str, list[Any]]] = {}
    for j, (name, kind) in enumerate(zip(fields, kinds, strict=True)):
        first = frame["rows"][0][j]
        if kind == "string":
            values = [first] + [rng.choice(choices[name]) for _ in range(count - 1)]
        else:
            values = [first] + [round(rng.uniform(0, 2 * first + 5), 3) for _ in range(count - 1)]
        columns[name] = (kind, values)
    return columns


def _our_frame(columns: dict[str, tuple[str, list[Any]]]) -> Frame:
    built = {
        name: column_from_values(values, name, kind, "vector" if kind == "vector" else "basic")
        for name, (kind, values) in columns.items()
    }
    return Frame(built, len(next(iter(columns.values()))[1]))


def _compare(bundle: Path, columns: dict[str, tuple[str, list[Any]]], oracle: MleapOracle) -> int:
    expected = oracle.transform(bundle, leap_frame(columns))
    result = load_bundle(open_bundle(bundle)).apply(_our_frame(columns))
    problems = []
    new = [c for c in expected if c not in columns]
    for column in new:
        problems += mismatches(column, our_values(result.get(column, "test")), expected[column])
    assert not problems, "\n".join(problems)
    return len(new)


@pytest.mark.parametrize("name", ["airbnb.model.lr.zip", "airbnb.model.rf.zip"])
def test_airbnb_bundles_match_the_mleap_runtime(name: str, oracle: MleapOracle) -> None:
    assert _compare(MLEAP / name, _airbnb_rows(200), oracle) >= 9


def test_min_max_scaler_bundle_defaults_match_the_mleap_runtime(oracle: MleapOracle) -> None:
    root = load_bundle(open_bundle(MLEAP / "min_max_scaler_tf.zip"))
    assert isinstance(root, Pipeline) and len(root.flat()) == 2
    rng = random.Random(3)
    columns = {
        "dti": ("double", [rng.uniform(-0.01, 40000) for _ in range(100)]),
        "loan_amount": ("double", [rng.uniform(500, 1_200_000) for _ in range(100)]),
    }
    assert _compare(MLEAP / "min_max_scaler_tf.zip", columns, oracle) == 2


def test_sklearn_made_one_hot_bundle_matches_the_mleap_runtime(oracle: MleapOracle) -> None:
    columns = {"col_1": ("string", ["A", "B", "C", "D", "A", "zzz"])}
    assert _compare(MLEAP / "one_hot_encoder_pipeline.zip", columns, oracle) == 2


def test_demo_bundle_with_colons_in_names_matches_the_mleap_runtime(oracle: MleapOracle) -> None:
    rng = random.Random(5)
    columns = {
        n: ("double", [rng.gauss(0, 1) for _ in range(50)]) for n in ("demo:a", "demo:c", "demo:d")
    }
    assert _compare(MLEAP / "demo.zip", columns, oracle) == 3


@pytest.fixture(scope="module")
def titanic_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack_titanic(tmp_path_factory.mktemp("titanic"))


def test_titanic_bundle_matches_the_mleap_runtime(titanic_dir: Path, oracle: MleapOracle) -> None:
    rng = random.Random(9)
    columns = {
        "Pclass": ("double", [float(rng.choice([1, 2, 3])) for _ in range(60)]),
        "Embarked": ("string", [rng.choice(["S", "C", "Q"]) for _ in range(60)]),
        "Age": ("double", [rng.uniform(1, 80) for _ in range(60)]),
        "Fare": ("double", [rng.uniform(0, 500) for _ in range(60)]),
        "SibSp": ("double", [float(rng.randrange(4)) for _ in range(60)]),
        "Sex": ("string", [rng.choice(["male", "female"]) for _ in range(60)]),
    }
    assert _compare(titanic_dir, columns, oracle) == 5


@pytest.fixture
def titanic_client(titanic_dir: Path) -> Iterator[Any]:
    settings = ServingSettings.from_environ(
        {
            "INFERPIPE_MODEL_DIR": str(titanic_dir),
            "SAGEMAKER_SPARKML_SCHEMA": json.dumps(TITANIC_SCHEMA),
        }
    )
    stage = SparkMLStage()
    stage.load(titanic_dir, settings)
    yield create_app(stage, settings).test_client()


def test_aws_valid_titanic_row_is_answered_in_every_aws_format(titanic_client: Any) -> None:
    row = (AWS / "valid_input.csv").read_text().strip()
    expected = [1.0, 0.0, 38.0, 1.0, 71.5, 0.0, 1.0]
    answers = {
        "text/csv": "1.0,0.0,38.0,1.0,71.5,0.0,1.0\n",
        "application/jsonlines": json.dumps({"features": expected}, separators=(",", ":")) + "\n",
        "application/jsonlines;data=text": '{"source":"1.0 0.0 38.0 1.0 71.5 0.0 1.0"}\n',
    }
    for accept, body in answers.items():
        response = titanic_client.post(
            "/invocations", data=row, headers={"Content-Type": "text/csv", "Accept": accept}
        )
        assert response.status_code == 200, response.data
        assert response.headers["Content-Type"] == accept.split(";")[0]
        assert response.get_data(as_text=True) == body


def test_many_csv_rows_get_one_line_each(titanic_client: Any) -> None:
    row = (AWS / "valid_input.csv").read_text().strip()
    response = titanic_client.post(
        "/invocations", data="\n".join([row] * 25), headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 200
    assert response.get_data(as_text=True).splitlines() == ["1.0,0.0,38.0,1.0,71.5,0.0,1.0"] * 25


def test_aws_invalid_titanic_row_is_a_400_naming_column_and_type(titanic_client: Any) -> None:
    response = titanic_client.post(
        "/invocations",
        data=(AWS / "invalid_input.csv").read_bytes(),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "schema-mismatch"
    assert "column 'Age'" in body["message"] and "double" in body["message"]
    good = titanic_client.post(
        "/invocations",
        data=(AWS / "valid_input.csv").read_bytes(),
        headers={"Content-Type": "text/csv"},
    )
    assert good.status_code == 200


def test_unseen_category_is_a_400_naming_the_label(titanic_client: Any) -> None:
    response = titanic_client.post(
        "/invocations", data="1.0,X,38.0,71.5,1.0,female", headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 400
    assert "unseen label 'X'" in response.get_json()["message"]


def _dto_bundle(root: Path, vector_input: bool) -> Path:
    """A tiny JSON-format bundle: name_2 indexed, assembled with name_1 (and name_3)."""
    first = (
        {"base": "tensor", "tensorShape": {"dimensions": [{"size": 3}]}}
        if vector_input
        else {"base": "scalar"}
    )
    nodes = {
        "index": (
            {
                "op": "string_indexer",
                "attributes": {"labels": {"type": "list", "string": ["C", "D"]}},
            },
            {
                "inputs": [{"name": "name_2", "port": "input"}],
                "outputs": [{"name": "name_2_i", "port": "output"}],
            },
        ),
        "assemble": (
            {
                "op": "vector_assembler",
                "attributes": {
                    "input_shapes": {
                        "type": "list",
                        "data_shape": [first, {"base": "scalar"}]
                        + ([] if vector_input else [{"base": "scalar"}]),
                    }
                },
            },
            {
                "inputs": [
                    {"name": "name_1", "port": "input0"},
                    {"name": "name_2_i", "port": "input1"},
                ]
                + ([] if vector_input else [{"name": "name_3", "port": "input2"}]),
                "outputs": [{"name": "features", "port": "output"}],
            },
        ),
    }
    bundle = root / ("vector" if vector_input else "basic")
    (bundle / "root").mkdir(parents=True)
    (bundle / "bundle.json").write_text(
        json.dumps({"format": "json", "name": "dto", "version": "0.23.0"})
    )
    (bundle / "root" / "model.json").write_text(
        json.dumps(
            {"op": "pipeline", "attributes": {"nodes": {"type": "list", "string": list(nodes)}}}
        )
    )
    (bundle / "root" / "node.json").write_text(
        json.dumps({"name": "dto", "shape": {"inputs": [], "outputs": []}})
    )
    for name, (model, shape) in nodes.items():
        folder = bundle / "root" / f"{name}.node"
        folder.mkdir()
        (folder / "model.json").write_text(json.dumps(model))
        (folder / "node.json").write_text(json.dumps({"name": name, "shape": shape}))
    return bundle


@pytest.mark.parametrize(
    ("payload", "vector_input", "lines"),
    [
        ("basic_input.json", False, ['{"features":[1.0,0.0,38.0]}']),
        (
            "basic_multipleLines_input.json",
            False,
            ['{"features":[1.0,0.0,38.0]}', '{"features":[2.0,1.0,39.0]}'],
        ),
        ("complete_input.json", True, ['{"features":[1.0,2.0,3.0,0.0]}']),
        (
            "complete_multipleLines_input.json",
            True,
            ['{"features":[1.0,2.0,3.0,0.0]}', '{"features":[4.0,5.0,6.0,1.0]}'],
        ),
    ],
)
def test_aws_payloads_with_their_schema_are_answered_as_aws_does(
    payload: str, vector_input: bool, lines: list[str], tmp_path: Path
) -> None:
    bundle = _dto_bundle(tmp_path, vector_input)
    settings = ServingSettings.from_environ({"INFERPIPE_MODEL_DIR": str(bundle)})
    stage = SparkMLStage()
    stage.load(bundle, settings)
    client = create_app(stage, settings).test_client()
    response = client.post(
        "/invocations",
        data=(AWS / "dto" / payload).read_bytes(),
        headers={"Content-Type": "application/json", "Accept": "application/jsonlines"},
    )
    assert response.status_code == 200, response.data
    assert response.get_data(as_text=True).splitlines() == lines
    assert (
        json.loads(lines[0]).keys()
        == json.loads((AWS / "dto" / "standard_json_out.json").read_text()).keys()
    )


def test_empty_pipeline_bundle_loads_with_no_ops() -> None:
    root, what = load_model(AWS / "empty_pipeline_bundle")
    assert what == "MLeap bundle" and isinstance(root, Pipeline) and root.flat() == []


def test_zip_entries_that_escape_the_bundle_are_refused(tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("bundle.json", "{}")
        archive.writestr("../../etc/cron.d/x", "boom")
    with pytest.raises(ArtifactError, match="would escape the bundle"):
        open_bundle(evil)


def _extras_bundle(folder: Path) -> Path:
    """MLeap's own ops (no Spark equivalent), written by hand in MLeap's JSON format."""
    nodes = {
        "root_x": ("math_unary", {"operation": {"string": "sqrt"}}, {"input": "x"}, "x_sqrt"),
        "logit_p": ("math_unary", {"operation": {"string": "logit"}}, {"input": "p"}, "p_logit"),
        "times": (
            "math_binary",
            {"operation": {"string": "mul"}},
            {"input_a": "x", "input_b": "y"},
            "xy",
        ),
        "minus_two": (
            "math_binary",
            {"operation": {"string": "sub"}, "db": {"double": 2.0}},
            {"input_a": "y"},
            "y_minus",
        ),
        "log_base": (
            "math_binary",
            {"operation": {"string": "log_n"}},
            {"input_a": "x", "input_b": "p"},
            "x_log_p",
        ),
        "modulo": (
            "math_binary",
            {"operation": {"string": "rem"}},
            {"input_a": "y", "input_b": "x"},
            "y_rem_x",
        ),
        "colour": (
            "string_map",
            {
                "labels": {"type": "list", "string": ["red", "green"]},
                "values": {"type": "list", "double": [1.5, -2.0]},
                "handle_invalid": {"string": "keep"},
                "default_value": {"double": 9.0},
            },
            {"input": "c"},
            "c_value",
        ),
    }
    (folder / "root").mkdir(parents=True)
    (folder / "bundle.json").write_text(
        json.dumps(
            {
                "format": "json",
                "name": "extras",
                "version": "0.20.0",
                "uid": "6f1c1f1e-0b6d-4a52-9a55-2f2d7e2b0c11",
                "timestamp": "2026-01-01T00:00:00.000",
            }
        )
    )
    (folder / "root" / "model.json").write_text(
        json.dumps(
            {"op": "pipeline", "attributes": {"nodes": {"type": "list", "string": list(nodes)}}}
        )
    )
    (folder / "root" / "node.json").write_text(
        json.dumps({"name": "extras", "shape": {"inputs": [], "outputs": []}})
    )
    for name, (op, attributes, inputs, output) in nodes.items():
        node = folder / "root" / f"{name}.node"
        node.mkdir()
        (node / "model.json").write_text(json.dumps({"op": op, "attributes": attributes}))
        shape = {
            "inputs": [{"name": column, "port": port} for port, column in inputs.items()],
            "outputs": [{"name": output, "port": "output"}],
        }
        (node / "node.json").write_text(json.dumps({"name": name, "shape": shape}))
    return folder


def test_mleap_extra_ops_match_the_mleap_runtime(tmp_path: Path, oracle: MleapOracle) -> None:
    rng = random.Random(11)
    columns = {
        "x": ("double", [rng.uniform(0.1, 9.0) for _ in range(80)]),
        "y": ("double", [rng.uniform(-20.0, 20.0) for _ in range(80)]),
        "p": ("double", [rng.uniform(0.05, 0.95) for _ in range(80)]),
        "c": ("string", [rng.choice(["red", "green", "blue"]) for _ in range(80)]),
    }
    assert _compare(_extras_bundle(tmp_path / "extras"), columns, oracle) == 7


def test_a_schema_missing_a_pipeline_input_stops_the_start(titanic_dir: Path) -> None:
    schema = {"input": TITANIC_SCHEMA["input"][:-1], "output": TITANIC_SCHEMA["output"]}
    settings = ServingSettings.from_environ({"SAGEMAKER_SPARKML_SCHEMA": json.dumps(schema)})
    with pytest.raises(ArtifactError, match=r"lack \['Sex'\], which the pipeline reads"):
        SparkMLStage().load(titanic_dir, settings)


def test_a_schema_output_the_pipeline_never_writes_stops_the_start(titanic_dir: Path) -> None:
    schema = {**TITANIC_SCHEMA, "output": {"name": "feature", "type": "double"}}
    settings = ServingSettings.from_environ({"SAGEMAKER_SPARKML_SCHEMA": json.dumps(schema)})
    with pytest.raises(ArtifactError, match="output 'feature' is not a column the pipeline"):
        SparkMLStage().load(titanic_dir, settings)
