"""The manifest pin: a container refuses a model dir that differs from what was packaged,
naming the file and both digests, before any stage opens (or unpickles) a file."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from inferpipe.pipeline_spec.package import build_tarball, manifest_digest
from inferpipe.protocol.archives import extract_tar
from inferpipe.protocol.errors import ArtifactError, ConfigError
from inferpipe.protocol.manifest import sha256_of, verify_model_dir
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage_loader import load_stage


class _Marker:
    """Unpickling this creates a file: proof that loading ran the artifact's code."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.path, "w"))


def _packaged_dir(tmp_path: Path, marker: Path) -> tuple[Path, str]:
    source = tmp_path / "source"
    source.mkdir()
    (source / "model.joblib").write_bytes(pickle.dumps(_Marker(str(marker))))
    (source / "schema.json").write_text("{}")
    tarball = build_tarball(source, tmp_path / "model.tar.gz")
    model_dir = tmp_path / "model"
    extract_tar(tarball, model_dir)
    return model_dir, manifest_digest(tarball)


def test_an_untouched_artifact_verifies(tmp_path: Path) -> None:
    model_dir, digest = _packaged_dir(tmp_path, tmp_path / "ran")
    verify_model_dir(model_dir, digest)


def test_a_changed_file_is_named_with_both_digests(tmp_path: Path) -> None:
    model_dir, digest = _packaged_dir(tmp_path, tmp_path / "ran")
    (model_dir / "schema.json").write_text('{"evil": 1}')
    with pytest.raises(ArtifactError) as caught:
        verify_model_dir(model_dir, digest)
    message = str(caught.value)
    assert "schema.json has digest " + sha256_of(b'{"evil": 1}') in message
    assert "the manifest pins " + sha256_of(b"{}") in message


def test_an_added_file_is_refused(tmp_path: Path) -> None:
    model_dir, digest = _packaged_dir(tmp_path, tmp_path / "ran")
    (model_dir / "code").mkdir()
    (model_dir / "code" / "inference.py").write_text("import os\n")
    with pytest.raises(ArtifactError, match=r"code/inference\.py not listed"):
        verify_model_dir(model_dir, digest)


def test_a_removed_file_is_refused(tmp_path: Path) -> None:
    model_dir, digest = _packaged_dir(tmp_path, tmp_path / "ran")
    (model_dir / "schema.json").unlink()
    with pytest.raises(ArtifactError, match=r"schema\.json is listed .* but missing"):
        verify_model_dir(model_dir, digest)


def test_a_rewritten_manifest_is_refused_by_the_pin(tmp_path: Path) -> None:
    model_dir, digest = _packaged_dir(tmp_path, tmp_path / "ran")
    manifest = model_dir / "inferpipe-manifest.json"
    manifest.write_text(manifest.read_text().replace('"version": 1', '"version": 2'))
    with pytest.raises(ArtifactError, match=f"but the artifact is pinned to {digest}"):
        verify_model_dir(model_dir, digest)


def test_an_unpackaged_dir_under_a_pin_is_refused(tmp_path: Path) -> None:
    (tmp_path / "model.joblib").write_bytes(b"x")
    with pytest.raises(ArtifactError, match=r"has no inferpipe-manifest\.json"):
        verify_model_dir(tmp_path, "sha256:" + "a" * 64)


def test_the_stage_loader_refuses_before_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    model_dir, digest = _packaged_dir(tmp_path, marker)
    (model_dir / "schema.json").write_text("[]")
    settings = ServingSettings.from_environ(
        {"INFERPIPE_MODEL_DIR": str(model_dir), "INFERPIPE_ARTIFACT_SHA256": digest}
    )
    with pytest.raises(ArtifactError, match=r"schema\.json has digest"):
        load_stage(settings)
    assert not marker.exists()


@pytest.mark.parametrize("value", ["abc", "sha256:xyz", "md5:" + "a" * 64, "sha256:" + "a" * 63])
def test_a_malformed_pin_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match=r"INFERPIPE_ARTIFACT_SHA256=.* is not a digest"):
        ServingSettings.from_environ({"INFERPIPE_ARTIFACT_SHA256": value})
