from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from inferpipe.pipeline_spec.errors import SpecError
from inferpipe.pipeline_spec.local.artifacts import prepare_model_dir, safe_extract


def tarball_with(path: Path, name: str, link: bool = False) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        info = tarfile.TarInfo(name)
        if link:
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            archive.addfile(info)
        else:
            info.size = 2
            archive.addfile(info, io.BytesIO(b"hi"))
    return path


@pytest.mark.parametrize(
    ("name", "link"), [("../escape.txt", False), ("/abs.txt", False), ("link", True)]
)
def test_entries_that_escape_or_link_are_refused(tmp_path: Path, name: str, link: bool) -> None:
    archive = tarball_with(tmp_path / "model.tar.gz", name, link)
    with pytest.raises(SpecError, match="refusing entry"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()


def test_tarball_and_directory_artifacts_fill_the_model_dir(tmp_path: Path) -> None:
    archive = tarball_with(tmp_path / "model.tar.gz", "model.joblib")
    target = prepare_model_dir("model.tar.gz", tmp_path, tmp_path / "a", {"schema.json": "{}"})
    assert (target / "model.joblib").read_bytes() == b"hi"
    assert (target / "schema.json").read_text() == "{}"
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "postprocess.json").write_text("{}")
    assert (prepare_model_dir("dir", tmp_path, tmp_path / "b", {}) / "postprocess.json").exists()
    assert archive.exists()


def test_unknown_artifact_kind_is_named(tmp_path: Path) -> None:
    (tmp_path / "model.zip").write_bytes(b"PK")
    with pytest.raises(SpecError, match=r"neither a directory nor a \.tar\.gz"):
        prepare_model_dir("model.zip", tmp_path, tmp_path / "out", {})
