"""Fusion on the spec side: which containers fuse, the fused container, the written
artifact and spec, rendering and packaging of `fuse: true`."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from inferpipe.pipeline_spec.botocore_check import check_requests
from inferpipe.pipeline_spec.fusion import describe, fusion_groups
from inferpipe.pipeline_spec.loader import load_spec, parse_spec
from inferpipe.pipeline_spec.package import package_spec
from inferpipe.pipeline_spec.render_aws import render_requests
from inferpipe.pipeline_spec.render_cfn import render_template
from inferpipe.pipeline_spec.validation import find_issues
from inferpipe.protocol import fused

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"


def _container(name: str, repository: str = "inferpipe-preprocess", **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": f"{ECR}/{repository}:0.1.0", "artifact": name, **extra}


def _document(containers: list[dict[str, Any]], **model: Any) -> dict[str, Any]:
    return {
        "spec_version": 1,
        "endpoint": "fusion",
        "region": "us-east-1",
        "artifact_bucket": "s3://sagemaker-us-east-1-123456789012/inferpipe",
        "models": {"m": {"role": ROLE, "containers": containers, **model}},
        "variants": [{"name": "A", "model": "m", "instance_type": "ml.m5.large"}],
    }


MIXED = [
    _container("pre", environment={"SAGEMAKER_MODEL_SERVER_TIMEOUT": "20"}),
    _container("scale", environment={"SAGEMAKER_MODEL_SERVER_WORKERS": "3"}),
    {"name": "xgb", "builtin": {"algorithm": "xgboost", "version": "1.7-1"}, "artifact": "xgb"},
    _container("post", "inferpipe-postprocess"),
    _container("label", "inferpipe-postprocess"),
    _container("custom", "my-own-image"),
    _container("remote", artifact="s3://bucket/model.tar.gz"),
]


def _artifacts(folder: Path, names: list[str]) -> None:
    for name in names:
        (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / name / "model.joblib").write_bytes(name.encode() * 4)


def _spec_fuse(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-P", "-m", "inferpipe", "spec", "fuse", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def test_runs_of_inferpipe_containers_fuse_and_the_rest_say_why() -> None:
    spec = parse_spec(_document(MIXED))
    groups, reasons = fusion_groups(spec.models["m"])
    assert groups == [(0, 1), (2,), (3, 4), (5,), (6,)]
    assert reasons[2] == "built-in algorithm xgboost"
    assert "my-own-image is not an inferpipe" in reasons[5]
    assert "in S3" in reasons[6]
    (line,) = describe(spec, ["m"])
    assert line.startswith("m: 7 -> 5 containers: [pre + scale] -> xgb (built-in")


def test_direct_mode_and_local_images_never_fuse() -> None:
    containers = [
        _container("a", hostname="a"),
        _container("b", hostname="b", local={"image": "other:1"}),
    ]
    direct = parse_spec(_document(containers, execution_mode="Direct"))
    assert fusion_groups(direct.models["m"])[0] == [(0,), (1,)]
    serial = parse_spec(_document([_container("a"), _container("b", local={"image": "o:1"})]))
    groups, reasons = fusion_groups(serial.models["m"])
    assert groups == [(0,), (1,)]
    assert "local.image" in reasons[1]
    issues = find_issues(_unchecked(_document(containers, execution_mode="Direct", fuse=True)))
    assert any(path == "models.m.fuse" for path, _ in issues)


def _unchecked(document: dict[str, Any]) -> Any:
    from inferpipe.pipeline_spec.model import PipelineSpec

    return PipelineSpec.model_validate(document)


def test_fuse_true_renders_the_fused_containers() -> None:
    spec = parse_spec(_document(MIXED, fuse=True))
    requests = render_requests(spec)
    assert check_requests(requests) == []
    (model,) = requests["CreateModel"]
    images = [c["Image"] for c in model["Containers"]]
    assert len(images) == 5
    first, _, post = model["Containers"][:3]
    assert first["Environment"]["INFERPIPE_STAGE"] == "fused"
    # Members run one after another: the fused timeout covers them all.
    assert first["Environment"]["SAGEMAKER_MODEL_SERVER_TIMEOUT"] == "80"
    assert first["Environment"]["SAGEMAKER_MODEL_SERVER_WORKERS"] == "3"
    assert first["ModelDataUrl"].endswith("/fusion/m/pre-scale/model.tar.gz")
    # Two postprocess images fuse into the preprocess image, which runs every kind.
    assert post["Image"] == f"{ECR}/inferpipe-preprocess:0.1.0"
    template = json.dumps(render_template(spec))
    assert "pre-scale" in template and "post-label" in template


def test_spec_fuse_writes_a_valid_spec_and_the_manifest(tmp_path: Path) -> None:
    source = tmp_path / "project"
    _artifacts(source, ["pre", "scale", "xgb", "post", "label", "custom"])
    document = _document(MIXED)
    (source / "spec.yaml").write_text(yaml.safe_dump(document))
    out = tmp_path / "elsewhere" / "fused.yaml"
    done = _spec_fuse(tmp_path, "project/spec.yaml", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "m: 7 -> 5 containers" in done.stderr
    spec = load_spec(out)
    containers = spec.models["m"].containers
    assert [c.name for c in containers] == ["pre-scale", "xgb", "post-label", "custom", "remote"]
    # Paths are relative to the new file, and point at the same artifacts.
    assert (out.parent / str(containers[1].artifact)).resolve() == (source / "xgb").resolve()
    assert containers[4].artifact == "s3://bucket/model.tar.gz"
    folder = out.parent / str(containers[0].artifact)
    entries = fused.read_manifest(folder)
    assert [(e.container, e.display_name) for e in entries] == [
        ("pre", "container-1"),
        ("scale", "container-2"),
    ]
    # Each member keeps the environment SageMaker gave it, default Accept included.
    assert entries[0].environment["SAGEMAKER_MODEL_SERVER_TIMEOUT"] == "20"
    assert entries[1].environment["SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"] == "text/csv"
    assert (folder / "stages" / "02-scale" / "model.joblib").read_bytes() == b"scale" * 4
    post_entries = fused.read_manifest(out.parent / str(containers[2].artifact))
    assert [e.display_name for e in post_entries] == ["container-4", "container-5"]


def test_spec_fuse_never_overwrites_its_input(tmp_path: Path) -> None:
    _artifacts(tmp_path, ["pre", "scale"])
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(_document(MIXED[:2])))
    done = _spec_fuse(tmp_path, "spec.yaml", "-o", "spec.yaml")
    assert done.returncode != 0
    assert "never rewritten" in done.stderr


def test_package_builds_one_tarball_per_fused_container(tmp_path: Path) -> None:
    _artifacts(tmp_path, ["pre", "scale"])
    spec = parse_spec(_document(MIXED[:2], fuse=True))
    artifacts, packaged = package_spec(spec, tmp_path, tmp_path / "build")
    assert [a.container for a in artifacts] == ["pre-scale"]
    with tarfile.open(artifacts[0].tarball) as archive:
        members = sorted(archive.getnames())
    assert members == [
        "fused.json",
        "inferpipe-manifest.json",
        "stages/01-pre/model.joblib",
        "stages/02-scale/model.joblib",
    ]
    (container,) = packaged.models["m"].containers
    assert container.artifact == artifacts[0].s3_url
    assert not packaged.models["m"].fuse
    # Rendering the packaged spec does not fuse twice.
    assert len(render_requests(packaged)["CreateModel"][0]["Containers"]) == 1


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        ({"fused_version": 2, "stages": []}, "fused_version must be 1"),
        ({"fused_version": 1, "stages": []}, "non-empty list"),
        (
            {
                "fused_version": 1,
                "stages": [{"directory": "../x", "container": "a", "display_name": "container-1"}],
            },
            "must be a folder under stages/",
        ),
        ({"fused_version": 1, "stages": [{"directory": "stages/01-a"}]}, "lacks"),
    ],
)
def test_a_bad_manifest_is_refused_naming_the_problem(
    tmp_path: Path, manifest: dict[str, Any], problem: str
) -> None:
    from inferpipe.protocol.errors import ArtifactError

    (tmp_path / "stages" / "01-a").mkdir(parents=True)
    (tmp_path / fused.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match=problem):
        fused.read_manifest(tmp_path)


def test_timings_header_round_trips() -> None:
    header = fused.timings_header([("container-1", 0.0012345), ("container-2", 0.5)])
    assert header == "container-1=1.234;container-2=500.000"
    parsed = fused.parse_timings_header(header + ";junk;x=y")
    assert [(n, round(s, 6)) for n, s in parsed] == [
        ("container-1", 0.001234),
        ("container-2", 0.5),
    ]


def test_validate_shows_what_fuse_true_will_fuse(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(_document(MIXED, fuse=True)))
    command = [sys.executable, "-P", "-m", "inferpipe", "spec", "validate", "spec.yaml"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "fuse: m: 7 -> 5 containers: [pre + scale] -> xgb" in done.stdout
