"""The schema chain check's verdicts, with interfaces given (no artifacts loaded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inferpipe.pipeline_spec.chain_check import check_chain, compare
from inferpipe.pipeline_spec.errors import SpecError
from inferpipe.pipeline_spec.loader import parse_spec
from inferpipe.protocol.interface import Columns, StageInterface, columns

ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/inferpipe-preprocess:1"


def _model(inputs: Columns | None, fitted: bool = True) -> StageInterface:
    return StageInterface("sklearn", inputs, Columns(1, None, "predict()"), fitted_inputs=fitted)


def test_a_width_mismatch_names_both_sides_and_their_sources() -> None:
    outcome, message = compare(
        "preprocess", Columns(10, None, "get_feature_names_out()"),
        "model", _model(Columns(11, None, "num_feature")), "text/csv",
    )  # fmt: skip
    assert outcome == "mismatch"
    assert message == (
        "preprocess emits 10 features; model was trained on 11 "
        "(preprocess: get_feature_names_out(); model: num_feature)"
    )
    outcome, message = compare(
        "model", Columns(1, None, "predict()"), "post",
        StageInterface("postprocess", columns(["a", "b"], "input_columns")), "text/csv",
    )  # fmt: skip
    assert outcome == "mismatch" and "model emits 1 feature; post reads 2" in message


def test_the_same_names_in_another_order_are_refused_over_positional_csv() -> None:
    emitted = columns(["a", "b", "c"], "sender")
    outcome, message = compare(
        "pre", emitted, "model", _model(columns(["a", "c", "b"], "fit")), "text/csv"
    )
    assert outcome == "mismatch"
    assert "in another order, and text/csv is positional" in message
    assert "b (position 2) is c for model" in message
    # Different names over CSV are positional and fine (xgboost's f0, f1, ... for instance).
    outcome, _ = compare(
        "pre", emitted, "model", _model(columns(["f0", "f1", "f2"], "fit")), "text/csv"
    )
    assert outcome == "ok"


def test_named_records_must_carry_every_column_the_next_container_reads() -> None:
    emitted = columns(["a", "b", "c"], "sender")
    outcome, message = compare(
        "pre", emitted, "model", _model(columns(["a", "b", "d"], "fit")), "application/json"
    )
    assert outcome == "mismatch"
    assert message.startswith("model was trained on columns ['d'] that pre does not emit")
    order = compare(
        "pre", emitted, "model", _model(columns(["c", "b", "a"], "fit")), "application/json"
    )
    assert order[0] == "ok"  # JSON records are matched by name


def _spec(containers: list[dict[str, object]]) -> object:
    return parse_spec(
        {
            "spec_version": 1, "region": "us-east-1", "endpoint": "e",
            "models": {"m": {"role": ROLE, "containers": containers}},
            "variants": [{"name": "A", "model": "m", "instance_type": "ml.m5.large"}],
        }
    )  # fmt: skip


def test_what_cannot_be_inspected_is_reported_unchecked_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "local").mkdir()
    spec = _spec(
        [
            {"name": "a", "image": IMAGE, "artifact": "s3://bucket-name/a/model.tar.gz"},
            {"name": "b", "image": "example.com/theirs:1", "artifact": "local"},
            {"name": "c", "builtin": {"algorithm": "linear-learner", "version": "1"},
             "artifact": "local"},
        ]
    )  # fmt: skip

    def loaded(model_dir: Path, environment: dict[str, str]) -> StageInterface:
        raise AssertionError("nothing here can be loaded")

    report = check_chain(spec, tmp_path, loaded)  # type: ignore[arg-type]
    first, second = report.hops
    assert first.outcome == second.outcome == "unchecked"
    assert "a's output: its artifact is in S3 (only local artifacts are inspected)" in first.message
    assert "b's input: example.com/theirs:1 is not a stage inferpipe can read" in first.message
    assert "c's input: built-in linear-learner is not a stage inferpipe can read" in second.message
    report.raise_for_problems("spec.yaml")  # unchecked hops do not fail the spec


def test_the_inspector_gets_the_stage_and_environment_each_container_runs_with(
    tmp_path: Path,
) -> None:
    for name in ("pre", "model"):
        (tmp_path / name).mkdir()
    spec = _spec(
        [
            {"name": "pre", "image": IMAGE, "artifact": "pre", "environment": {"K": "v"}},
            {"name": "model", "builtin": {"algorithm": "xgboost", "version": "1.7-1"},
             "artifact": "model"},
        ]
    )  # fmt: skip
    seen: dict[str, dict[str, str]] = {}

    def inspector(model_dir: Path, environment: dict[str, str]) -> StageInterface:
        seen[model_dir.name] = environment
        if model_dir.name == "pre":
            return StageInterface("sklearn", None, Columns(4, None, "pre's fit"))
        return _model(Columns(5, None, "num_feature"))

    report = check_chain(spec, tmp_path, inspector)  # type: ignore[arg-type]
    assert seen["pre"]["K"] == "v" and "INFERPIPE_STAGE" not in seen["pre"]
    assert seen["pre"]["SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"] == "text/csv"
    assert seen["model"]["INFERPIPE_STAGE"] == "xgboost"
    with pytest.raises(SpecError, match=r"containers\[0\]: pre emits 4 features; model was"):
        report.raise_for_problems("spec.yaml")
