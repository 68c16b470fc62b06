"""Every validation rule: a failing example and the message it produces (field path + fix)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from inferpipe.pipeline_spec.errors import SpecError
from inferpipe.pipeline_spec.loader import check_deployable, load_spec, parse_spec
from inferpipe.pipeline_spec.render_aws import render_create_model
from inferpipe.pipeline_spec.resolve import resolve_containers

ROOT = Path(__file__).resolve().parents[3]
BASE: dict[str, Any] = yaml.safe_load((ROOT / "examples" / "abalone" / "spec.yaml").read_text())
PRE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/inferpipe-preprocess:0.1.0"
LONG_SCHEMA = json.dumps(
    {
        "input": [{"name": f"feature_{i:03d}", "type": "double"} for i in range(60)],
        "output": {"name": "features", "type": "double", "struct": "vector"},
    }
)


def spec_with(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    change(document)
    return document


def containers(document: dict[str, Any]) -> list[dict[str, Any]]:
    return document["models"]["abalone-v1"]["containers"]


def error_of(document: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as raised:
        parse_spec(document, "spec.yaml")
    return raised.value.message


def test_the_example_spec_is_valid() -> None:
    assert load_spec(ROOT / "examples" / "abalone" / "spec.yaml").endpoint == "abalone"


def test_sixteen_containers_are_refused_with_the_limit() -> None:
    def sixteen(d: dict[str, Any]) -> None:
        d["models"]["abalone-v1"]["containers"] = [
            {"name": f"stage-{i}", "image": PRE, "artifact": f"build/s{i}"} for i in range(16)
        ]

    message = error_of(spec_with(sixteen))
    assert "models.abalone-v1.containers: 16 containers" in message and "at most 15" in message


def test_direct_mode_without_hostnames_names_the_containers() -> None:
    message = error_of(
        spec_with(lambda d: d["models"]["abalone-v1"].update(execution_mode="Direct"))
    )
    assert "models.abalone-v1.execution_mode: Direct mode invokes containers by hostname" in message
    assert "['preprocess', 'model', 'postprocess']" in message


def test_hostnames_must_be_on_all_containers_or_none() -> None:
    message = error_of(spec_with(lambda d: containers(d)[0].update(hostname="pre")))
    assert "`hostname` is set on some containers but not on ['model', 'postprocess']" in message


def test_bad_hostname_is_refused_by_pattern() -> None:
    message = error_of(spec_with(lambda d: containers(d)[0].update(hostname="-bad_host")))
    assert "models.abalone-v1.containers[0].hostname" in message


def test_serverless_on_a_pipeline_is_refused_with_the_reason() -> None:
    def serverless(d: dict[str, Any]) -> None:
        d["variants"] = [
            {
                "name": "A",
                "model": "abalone-v1",
                "serverless": {"memory_size_mb": 2048, "max_concurrency": 5},
            }
        ]

    message = error_of(spec_with(serverless))
    assert (
        "variants[0].serverless: SageMaker serverless endpoints do not support inference "
        "pipelines" in message
    )


def test_serverless_with_several_variants_is_refused() -> None:
    def serverless(d: dict[str, Any]) -> None:
        d["variants"][0] = {
            "name": "A",
            "model": "abalone-v1",
            "serverless": {"memory_size_mb": 2048, "max_concurrency": 5},
        }

    assert "take one variant only" in error_of(spec_with(serverless))


def test_csv_to_json_chain_mismatch_names_both_containers_and_the_fix() -> None:
    message = error_of(spec_with(lambda d: containers(d)[1].update(accepts="application/json")))
    assert (
        "models.abalone-v1.containers[0].emits: preprocess sends text/csv but model "
        "accepts application/json"
    ) in message
    assert "set preprocess's `emits`" in message


def test_a_type_the_container_cannot_emit_is_refused() -> None:
    message = error_of(
        spec_with(
            lambda d: containers(d)[0].update(
                environment={"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "image/png"}
            )
        )
    )
    assert "preprocess cannot emit image/png" in message


def test_long_sparkml_schema_moves_into_an_inferpipe_artifact() -> None:
    assert len(LONG_SCHEMA) > 2000
    document = spec_with(
        lambda d: containers(d)[0].update(environment={"SAGEMAKER_SPARKML_SCHEMA": LONG_SCHEMA})
    )
    spec = parse_spec(document)
    resolved = resolve_containers(spec.models["abalone-v1"], spec.region)
    assert resolved[0].artifact_files == {"schema.json": LONG_SCHEMA}
    request = render_create_model(spec, "abalone-v1")
    assert "SAGEMAKER_SPARKML_SCHEMA" not in request["Containers"][0]["Environment"]


def test_long_sparkml_schema_on_aws_sparkml_image_is_refused_with_the_fix() -> None:
    def aws_sparkml(d: dict[str, Any]) -> None:
        containers(d)[0] = {
            "name": "preprocess",
            "builtin": {"algorithm": "sparkml-serving", "version": "3.3"},
            "artifact": "s3://sagemaker-us-east-1-123456789012/m.tar.gz",
            "environment": {"SAGEMAKER_SPARKML_SCHEMA": LONG_SCHEMA},
        }

    message = error_of(spec_with(aws_sparkml))
    assert f"environment.SAGEMAKER_SPARKML_SCHEMA: {len(LONG_SCHEMA)} characters" in message
    assert "allows 1024" in message and "use inferpipe-preprocess" in message


def test_long_value_in_another_variable_is_refused() -> None:
    message = error_of(
        spec_with(lambda d: containers(d)[2].update(environment={"MY_CONFIG": "x" * 1500}))
    )
    assert "containers[2].environment.MY_CONFIG: 1500 characters" in message


def test_environment_over_32_kb_per_model_is_refused() -> None:
    def big(d: dict[str, Any]) -> None:
        for c in containers(d):
            c["environment"] = {f"VAR_{i}": "x" * 1000 for i in range(12)}

    assert "SageMaker allows 32768 per model" in error_of(spec_with(big))


def test_artifact_must_be_a_tar_gz() -> None:
    message = error_of(
        spec_with(
            lambda d: containers(d)[1].update(
                artifact="s3://sagemaker-us-east-1-123456789012/xgb/model.zip"
            )
        )
    )
    assert "containers[1].artifact" in message and "model.tar.gz" in message


def test_artifact_bucket_in_another_region_is_refused() -> None:
    message = error_of(
        spec_with(
            lambda d: containers(d)[1].update(
                artifact="s3://sagemaker-eu-west-1-123456789012/xgb/model.tar.gz"
            )
        )
    )
    assert "bucket is in eu-west-1 but the model is in us-east-1" in message


def test_local_artifact_needs_an_artifact_bucket_for_aws_only() -> None:
    spec = parse_spec(spec_with(lambda d: d.pop("artifact_bucket")))
    with pytest.raises(SpecError) as raised:
        check_deployable(spec)
    assert "containers[0].artifact: 'build/preprocess' is a local path" in raised.value.message


def test_image_in_another_region_is_refused() -> None:
    message = error_of(
        spec_with(lambda d: containers(d)[0].update(image=PRE.replace("us-east-1", "eu-west-1")))
    )
    assert "image is in eu-west-1 but the model is in us-east-1" in message


def test_unknown_builtin_version_lists_the_known_ones() -> None:
    message = error_of(
        spec_with(
            lambda d: containers(d)[1].update(builtin={"algorithm": "xgboost", "version": "9.9-9"})
        )
    )
    assert "containers[1].builtin: xgboost has no version '9.9-9'; known: 0.90-1" in message


def test_builtin_in_an_unpublished_region_is_refused() -> None:
    def region(d: dict[str, Any]) -> None:
        d["region"] = "ap-southeast-4"
        containers(d)[0] = {
            "name": "p",
            "builtin": {"algorithm": "sparkml-serving", "version": "3.3"},
        }

    assert "sparkml-serving is not published in ap-southeast-4" in error_of(spec_with(region))


def test_image_and_builtin_together_are_refused() -> None:
    message = error_of(
        spec_with(
            lambda d: containers(d)[0].update(builtin={"algorithm": "xgboost", "version": "1.7-1"})
        )
    )
    assert "give exactly one of `image`" in message


def test_variant_names_must_be_unique() -> None:
    message = error_of(spec_with(lambda d: d["variants"][1].update(name="A")))
    assert "variants: variant name 'A' repeats" in message


def test_weights_cannot_all_be_zero() -> None:
    def zero(d: dict[str, Any]) -> None:
        for v in d["variants"]:
            v["weight"] = 0

    assert "every weight is 0" in error_of(spec_with(zero))


def test_negative_weight_is_refused() -> None:
    assert "variants[1].weight" in error_of(spec_with(lambda d: d["variants"][1].update(weight=-1)))


def test_variant_must_reference_a_model() -> None:
    message = error_of(spec_with(lambda d: d["variants"][1].update(model="abalone-v9")))
    assert "variants[1].model: no model 'abalone-v9'; models: abalone-v1" in message


def test_autoscaling_min_above_max_is_refused() -> None:
    message = error_of(spec_with(lambda d: d["variants"][0]["autoscaling"].update(min_capacity=5)))
    assert "variants[0].autoscaling: min_capacity 5 is above max_capacity 4" in message


def test_autoscaling_needs_exactly_one_target() -> None:
    message = error_of(
        spec_with(lambda d: d["variants"][0]["autoscaling"].update(target_invocations=100))
    )
    assert "give exactly one of `target_invocations` or `max_rps`" in message


def test_line_split_of_json_batch_input_is_refused() -> None:
    message = error_of(spec_with(lambda d: d["transform"].update(content_type="application/json")))
    assert "transform.split_type: Line splitting cuts application/json records apart" in message


def test_unknown_keys_are_refused_by_name() -> None:
    message = error_of(spec_with(lambda d: d["variants"][0].update(instance_typo="ml.m5")))
    assert "variants[0].instance_typo: Extra inputs are not permitted" in message


def test_missing_spec_version_is_named() -> None:
    assert "spec_version: Field required" in error_of(spec_with(lambda d: d.pop("spec_version")))


def test_bad_role_arn_is_named() -> None:
    message = error_of(spec_with(lambda d: d["models"]["abalone-v1"].update(role="admin")))
    assert "models.abalone-v1.role" in message


def test_bad_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("endpoint: [unclosed\n")
    with pytest.raises(SpecError, match="is not valid YAML"):
        load_spec(path)


def test_every_problem_is_reported_at_once() -> None:
    def two(d: dict[str, Any]) -> None:
        d["variants"][1]["name"] = "A"
        d["variants"][0]["autoscaling"]["min_capacity"] = 9

    message = error_of(spec_with(two))
    assert "repeats" in message and "above max_capacity" in message


def test_repeated_container_names_are_refused() -> None:
    message = error_of(spec_with(lambda d: containers(d)[2].update(name="model")))
    assert "container name 'model' repeats" in message


def test_all_shadow_variants_are_refused() -> None:
    def shadows(d: dict[str, Any]) -> None:
        for v in d["variants"]:
            v["shadow"] = True

    message = error_of(spec_with(shadows))
    assert "every variant is a shadow" in message and "one shadow variant" in message


def test_serverless_and_instance_type_together_are_refused() -> None:
    def both(d: dict[str, Any]) -> None:
        d["variants"][0]["serverless"] = {"memory_size_mb": 2048, "max_concurrency": 5}

    message = error_of(spec_with(both))
    assert "give `serverless` or `instance_type`, not both" in message
    assert "variants[0].autoscaling: serverless variants scale by themselves" in message


def test_instance_variant_needs_an_instance_type() -> None:
    message = error_of(spec_with(lambda d: d["variants"][1].pop("instance_type")))
    assert "variants[1].instance_type: set an instance type" in message


def test_recordio_split_needs_recordio_input() -> None:
    message = error_of(spec_with(lambda d: d["transform"].update(split_type="RecordIO")))
    assert "RecordIO splitting needs RecordIO input, not text/csv" in message


def test_multirecord_without_split_is_refused() -> None:
    message = error_of(spec_with(lambda d: d["transform"].update(split_type="None")))
    assert "transform.strategy: MultiRecord batches need a split_type" in message


def test_transform_must_reference_a_model() -> None:
    message = error_of(spec_with(lambda d: d["transform"].update(model="nope")))
    assert "transform.model: no model 'nope'" in message
