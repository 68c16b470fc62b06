"""`local transform` with DataProcessing on the abalone pipeline: the documented examples
(an ID column kept out of the model and joined back; JSON records whose features are
selected and whose id comes back beside SageMakerOutput), line for line against the
endpoint's answers for the filtered records, and the error of a filter selecting nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from inferpipe_testing.abalone import raw_rows
from inferpipe_testing.local import EXAMPLE, local_endpoint

from inferpipe.cli import main

COUNT = 150


def _spec(abalone_dir: Path, name: str, transform_lines: str) -> Path:
    text = (abalone_dir / "spec.yaml").read_text()
    text = text.replace("  content_type: text/csv\n", transform_lines)
    path = abalone_dir / name
    path.write_text(text)
    return path


def _transform(spec: Path, inputs: Path, tmp_path: Path) -> int:
    return main(
        [
            "local", "transform", str(spec), "--input", str(inputs), "--output",
            str(tmp_path / "out"), "--engine", "process", "--state-dir", str(tmp_path / "state"),
        ]
    )  # fmt: skip


def _endpoint_answers(spec: Path, tmp_path: Path, body: str, media_type: str) -> list[str]:
    with local_endpoint(spec, "process", tmp_path / "state-endpoint") as client:
        answer = client.invoke_endpoint(
            EndpointName="abalone", Body=body.encode(), ContentType=media_type, Accept=media_type
        )
    return answer["Body"].read().decode().splitlines()


def test_an_id_column_is_kept_from_the_model_and_joined_to_its_prediction(
    abalone_dir: Path, tmp_path: Path
) -> None:
    spec = _spec(
        abalone_dir,
        "spec-ids.yaml",
        "  content_type: text/csv\n  data_processing:\n    input_filter: $[1:]\n"
        "    join_source: Input\n    output_filter: $[0,-2:]\n",
    )
    rows = raw_rows(COUNT, EXAMPLE / "data" / "abalone.csv").splitlines()
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "ids.csv").write_text("".join(f"id-{i},{row}\n" for i, row in enumerate(rows)))
    assert _transform(spec, inputs, tmp_path) == 0
    produced = (tmp_path / "out" / "ids.csv.out").read_text().splitlines()
    answers = _endpoint_answers(spec, tmp_path, "\n".join(rows) + "\n", "text/csv")
    assert len(produced) == COUNT
    assert produced == [f"id-{i},{answer}" for i, answer in enumerate(answers)]
    assert produced[0].count(",") == 2  # id, rings, age band: the features were dropped


def test_json_lines_records_select_features_and_keep_the_id(
    abalone_dir: Path, tmp_path: Path
) -> None:
    spec = _spec(
        abalone_dir,
        "spec-jsonl.yaml",
        "  content_type: application/jsonlines\n  accept: application/jsonlines\n"
        "  data_processing:\n    input_filter: $.features\n    join_source: Input\n"
        "    output_filter: $['id','SageMakerOutput']\n",
    )
    rows = [line.split(",") for line in raw_rows(COUNT, EXAMPLE / "data" / "abalone.csv").split()]
    features = [[row[0], *map(float, row[1:])] for row in rows]
    records = [{"id": f"r{i}", "features": f, "batch": 3} for i, f in enumerate(features)]
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert _transform(spec, inputs, tmp_path) == 0
    written = (tmp_path / "out" / "records.jsonl.out").read_text()
    produced = [json.loads(line) for line in written.splitlines()]
    body = "".join(json.dumps(f) + "\n" for f in features)
    answers = _endpoint_answers(spec, tmp_path, body, "application/jsonlines")
    assert produced == [
        {"id": f"r{i}", "SageMakerOutput": json.loads(answer)} for i, answer in enumerate(answers)
    ]
    assert set(produced[0]["SageMakerOutput"]) == {"rings", "age_band"}


def test_a_filter_that_selects_nothing_stops_the_job_naming_the_record(
    abalone_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spec = _spec(
        abalone_dir,
        "spec-beyond.yaml",
        "  content_type: text/csv\n  data_processing:\n    input_filter: $[1:9]\n",
    )
    inputs = tmp_path / "in"
    inputs.mkdir()
    rows = raw_rows(3, EXAMPLE / "data" / "abalone.csv").splitlines()
    (inputs / "short.csv").write_text("".join(f"id,{row}\n" for row in rows))
    assert _transform(spec, inputs, tmp_path) != 0
    error = caplog.text
    assert "short.csv record 1: '$[1:9]': index 9 is outside the record's 9 elements" in error
    assert not (tmp_path / "out").exists()
