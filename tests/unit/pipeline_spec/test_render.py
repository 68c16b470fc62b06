"""Golden renders of example specs, checked against botocore's service models and cfn-lint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from inferpipe.pipeline_spec.botocore_check import check_request, check_requests
from inferpipe.pipeline_spec.loader import load_spec
from inferpipe.pipeline_spec.render_aws import render_requests, render_update_weights
from inferpipe.pipeline_spec.render_cfn import render_template

ROOT = Path(__file__).resolve().parents[3]
SPECS = {
    "serial_xgboost_ab": ROOT / "examples" / "abalone" / "spec.yaml",
    "direct_mode": ROOT / "tests" / "data" / "specs" / "direct_mode.yaml",
    "batch_sparkml": ROOT / "tests" / "data" / "specs" / "batch_sparkml.yaml",
    "serverless": ROOT / "tests" / "data" / "specs" / "serverless.yaml",
}
GOLDEN = ROOT / "tests" / "data" / "golden"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_rendered_requests_match_the_golden_file(name: str) -> None:
    rendered = render_requests(load_spec(SPECS[name]))
    golden = GOLDEN / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(json.dumps(rendered, indent=2, sort_keys=True) + "\n")
    assert rendered == json.loads(golden.read_text())


@pytest.mark.parametrize("name", sorted(SPECS))
def test_rendered_requests_pass_botocore_validation(name: str) -> None:
    assert check_requests(render_requests(load_spec(SPECS[name]))) == []


def test_botocore_check_reports_a_wrong_request() -> None:
    problems = check_request(
        "CreateModel", {"ModelName": "m", "Containers": [{"Image": 3}], "Colour": "blue"}
    )
    assert any("Colour" in p for p in problems)
    assert any("Image" in p for p in problems)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_cloudformation_template_passes_cfn_lint(name: str, tmp_path: Path) -> None:
    assert shutil.which("cfn-lint"), "cfn-lint is in the dev extra"
    template = tmp_path / "template.json"
    template.write_text(json.dumps(render_template(load_spec(SPECS[name]))))
    done = subprocess.run(
        ["cfn-lint", str(template)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_serial_pipeline_sets_default_accept_on_every_non_final_container() -> None:
    model = render_requests(load_spec(SPECS["serial_xgboost_ab"]))["CreateModel"][0]
    environments = [c.get("Environment", {}) for c in model["Containers"]]
    assert [e.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") for e in environments] == [
        "text/csv",
        "text/csv",
        None,
    ]
    assert model["InferenceExecutionConfig"] == {"Mode": "Serial"}


def test_builtin_xgboost_resolves_to_the_regional_image() -> None:
    model = render_requests(load_spec(SPECS["serial_xgboost_ab"]))["CreateModel"][0]
    assert model["Containers"][1]["Image"] == (
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    )


def test_autoscaling_target_is_max_rps_times_safety_factor_times_60() -> None:
    policy = render_requests(load_spec(SPECS["serial_xgboost_ab"]))["PutScalingPolicy"][0]
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 40 * 0.5 * 60
    assert policy["ResourceId"] == "endpoint/abalone/variant/A"


def test_model_name_changes_only_when_the_model_changes() -> None:
    spec = load_spec(SPECS["serial_xgboost_ab"])
    first = render_requests(spec)["CreateModel"][0]["ModelName"]
    same = render_requests(load_spec(SPECS["serial_xgboost_ab"]))["CreateModel"][0]["ModelName"]
    changed_spec = spec.model_copy(update={"tags": {"team": "x"}})
    changed = render_requests(changed_spec)["CreateModel"][0]["ModelName"]
    assert first == same != changed and first.startswith("abalone-v1-")


def test_traffic_weights_render_for_update_endpoint_weights() -> None:
    spec = load_spec(SPECS["serial_xgboost_ab"])
    request = render_update_weights(spec, {"A": 0.5, "B": 0.5})
    assert request["DesiredWeightsAndCapacities"] == [
        {"VariantName": "A", "DesiredWeight": 0.5},
        {"VariantName": "B", "DesiredWeight": 0.5},
    ]
    assert check_request("UpdateEndpointWeightsAndCapacities", request) == []
