"""Packaging: reproducible model.tar.gz, layout checks, content-addressed URLs, S3 upload."""

from __future__ import annotations

import copy
import json
import tarfile
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from inferpipe_testing.aws import DUMMY_CREDENTIALS, moto_server

from inferpipe.pipeline_spec.errors import SpecError
from inferpipe.pipeline_spec.loader import parse_spec
from inferpipe.pipeline_spec.package import build_tarball, package_spec, upload_artifacts
from inferpipe.pipeline_spec.render_aws import render_create_model
from inferpipe.pipeline_spec.validation import find_issues
from inferpipe.protocol.manifest import sha256_of

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE: dict[str, Any] = yaml.safe_load((ROOT / "examples" / "abalone" / "spec.yaml").read_text())


@pytest.fixture()
def artifact_dirs(tmp_path: Path) -> Path:
    """Local artifact dirs for the example spec (build/preprocess, build/xgboost, ...)."""
    for name in ("preprocess", "xgboost", "postprocess"):
        folder = tmp_path / "build" / name
        folder.mkdir(parents=True)
        (folder / "model.joblib").write_bytes(name.encode() * 10)
    (tmp_path / "build" / "postprocess" / "code").mkdir()
    (tmp_path / "build" / "postprocess" / "code" / "inference.py").write_text("# hooks\n")
    return tmp_path


def test_tarball_is_reproducible_with_files_at_the_root(
    tmp_path: Path, artifact_dirs: Path
) -> None:
    source = artifact_dirs / "build" / "postprocess"
    first = build_tarball(source, tmp_path / "a" / "model.tar.gz")
    (source / "model.joblib").touch()
    second = build_tarball(source, tmp_path / "b" / "model.tar.gz")
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as archive:
        assert archive.getnames() == [
            "code/inference.py",
            "inferpipe-manifest.json",
            "model.joblib",
        ]
        assert {m.uid for m in archive.getmembers()} == {0}


def test_a_single_wrapping_folder_is_refused_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.joblib").write_bytes(b"x")
    with pytest.raises(SpecError, match="holds only the folder model/"):
        build_tarball(tmp_path, tmp_path / "out.tar.gz")


def test_code_without_the_entry_point_is_refused(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "helpers.py").write_text("")
    (tmp_path / "model.joblib").write_bytes(b"x")
    with pytest.raises(SpecError, match=r"no code/inference\.py"):
        build_tarball(tmp_path, tmp_path / "out.tar.gz")


def test_packaged_spec_has_content_addressed_urls_and_stays_valid(artifact_dirs: Path) -> None:
    spec = parse_spec(EXAMPLE)
    packaged, packaged_spec = package_spec(spec, artifact_dirs, artifact_dirs / "out")
    assert len(packaged) == 3 and find_issues(packaged_spec) == []
    urls = [c.artifact for c in packaged_spec.models["abalone-v1"].containers]
    assert all(
        u and u.startswith("s3://sagemaker-us-east-1-123456789012/inferpipe/abalone/") for u in urls
    )
    before = render_create_model(packaged_spec, "abalone-v1")["ModelName"]
    (artifact_dirs / "build" / "xgboost" / "model.joblib").write_bytes(b"retrained")
    _, changed = package_spec(spec, artifact_dirs, artifact_dirs / "out")
    assert render_create_model(changed, "abalone-v1")["ModelName"] != before


def test_long_sparkml_schema_lands_in_the_tarball_not_the_environment(artifact_dirs: Path) -> None:
    schema = json.dumps({"input": [{"name": f"f{i:04d}", "type": "double"} for i in range(80)]})
    document = copy.deepcopy(EXAMPLE)
    document["models"]["abalone-v1"]["containers"][0]["environment"] = {
        "SAGEMAKER_SPARKML_SCHEMA": schema
    }
    packaged, packaged_spec = package_spec(
        parse_spec(document), artifact_dirs, artifact_dirs / "out"
    )
    with tarfile.open(packaged[0].tarball) as archive:
        extracted = archive.extractfile("schema.json")
        assert extracted is not None and extracted.read().decode() == schema
    environment = render_create_model(packaged_spec, "abalone-v1")["Containers"][0]["Environment"]
    assert "SAGEMAKER_SPARKML_SCHEMA" not in environment
    assert find_issues(packaged_spec) == []


def test_upload_sends_every_tarball_with_progress(
    artifact_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    packaged, _ = package_spec(parse_spec(EXAMPLE), artifact_dirs, artifact_dirs / "out")
    messages: list[str] = []
    with moto_server() as url:
        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        s3.create_bucket(Bucket="sagemaker-us-east-1-123456789012")
        upload_artifacts(packaged, s3, messages.append)
        for artifact in packaged:
            key = artifact.s3_url.split("/", 3)[3]
            body = s3.get_object(Bucket="sagemaker-us-east-1-123456789012", Key=key)["Body"]
            assert body.read() == artifact.tarball.read_bytes()
    assert any("100%" in m for m in messages)


def _packaged_container(artifact_dirs: Path, spec_document: dict[str, Any]) -> tuple[Any, Path]:
    packaged, packaged_spec = package_spec(
        parse_spec(spec_document), artifact_dirs, artifact_dirs / "out"
    )
    (container, *_) = packaged_spec.models["abalone-v1"].containers
    return container, packaged[0].tarball


def test_package_pins_each_artifacts_manifest_in_its_environment(artifact_dirs: Path) -> None:
    container, tarball = _packaged_container(artifact_dirs, EXAMPLE)
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("inferpipe-manifest.json")
        assert member is not None
        raw = member.read()
    assert container.environment["INFERPIPE_ARTIFACT_SHA256"] == sha256_of(raw)
    listed = json.loads(raw)["files"]
    assert listed == {"model.joblib": sha256_of(b"preprocess" * 10)}


def test_a_pin_the_artifact_no_longer_matches_stops_package(artifact_dirs: Path) -> None:
    document = copy.deepcopy(EXAMPLE)
    first = document["models"]["abalone-v1"]["containers"][0]
    first.setdefault("environment", {})["INFERPIPE_ARTIFACT_SHA256"] = "sha256:" + "0" * 64
    with pytest.raises(SpecError, match=r"pins sha256:0000.*the artifact changed"):
        _packaged_container(artifact_dirs, document)


def test_package_can_add_the_compiled_form_of_each_sklearn_artifact(artifact_dirs: Path) -> None:
    import joblib
    import numpy as np
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    rows = np.random.default_rng(0).normal(size=(40, 3))
    joblib.dump(StandardScaler().fit(rows), artifact_dirs / "build" / "preprocess" / "model.joblib")
    document = copy.deepcopy(EXAMPLE)
    document["models"]["abalone-v1"]["containers"][2]["environment"] = {
        "INFERPIPE_STAGE": "sklearn"
    }
    joblib.dump(PCA(2).fit(rows), artifact_dirs / "build" / "postprocess" / "model.joblib")
    said: list[str] = []
    artifacts, _ = package_spec(
        parse_spec(document),
        artifact_dirs,
        artifact_dirs / "out",
        compile_sklearn=True,
        progress=said.append,
    )
    names, manifests = {}, {}
    for artifact in artifacts:
        with tarfile.open(artifact.tarball) as archive:
            names[artifact.container] = set(archive.getnames())
            manifests[artifact.container] = archive.extractfile("inferpipe-manifest.json").read()  # type: ignore[union-attr]
    assert {"model.compiled.json", "model.compiled.npz"} <= names["preprocess"]
    assert b"model.compiled.npz" in manifests["preprocess"]  # pinned like every other file
    assert "model.compiled.json" not in names["model"]  # the built-in algorithm's image
    assert "model.compiled.json" not in names["postprocess"]
    assert any("postprocess: packaged without the compiled form" in m and "PCA" in m for m in said)
    assert not any("/model:" in m for m in said)
    assert not (artifact_dirs / "build" / "preprocess" / "model.compiled.json").exists()
