"""Hostile archives: every entry that would write outside the target, link out of it, or
inflate without bound is refused with a clear error, and nothing is written at all."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from inferpipe.protocol import archives
from inferpipe.protocol.archives import extract_tar, read_zip
from inferpipe.protocol.errors import ArtifactError, UnsafeArchive


def _file(name: str, data: bytes = b"hi") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3
    return info, b""


def _tarball(path: Path, *entries: tuple[tarfile.TarInfo, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for info, data in entries:
            archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


HOSTILE_TAR_ENTRIES: dict[str, Callable[[], tuple[tarfile.TarInfo, bytes]]] = {
    "parent": lambda: _file("../escape.txt"),
    "nested parent": lambda: _file("a/../../escape.txt"),
    "backslash parent": lambda: _file("..\\escape.txt"),
    "absolute": lambda: _file("/tmp/escape.txt"),
    "windows drive": lambda: _file("C:/escape.txt"),
    "symlink out": lambda: _special("link", tarfile.SYMTYPE, "/etc/passwd"),
    "symlink inside": lambda: _special("link", tarfile.SYMTYPE, "model.joblib"),
    "hard link out": lambda: _special("hard", tarfile.LNKTYPE, "/etc/passwd"),
    "character device": lambda: _special("null", tarfile.CHRTYPE),
    "block device": lambda: _special("disk", tarfile.BLKTYPE),
    "fifo": lambda: _special("pipe", tarfile.FIFOTYPE),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_TAR_ENTRIES))
def test_hostile_tar_entries_are_refused_before_anything_is_written(
    tmp_path: Path, case: str
) -> None:
    # A harmless entry first: a refused archive must not leave even that behind.
    tarball = _tarball(tmp_path / "model.tar.gz", _file("ok.txt"), HOSTILE_TAR_ENTRIES[case]())
    target = tmp_path / "work" / "model"
    with pytest.raises(UnsafeArchive, match="refusing entry"):
        extract_tar(tarball, target)
    assert list(target.iterdir()) == []
    assert not (tmp_path / "work" / "escape.txt").exists()
    assert not (tmp_path / "escape.txt").exists()


def test_a_decompression_bomb_is_refused_at_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archives, "MAX_UNPACKED_BYTES", 1 << 20)
    # 8 MB of zeros gzip to a few KB; the limit stops it at 1 MB, before extraction.
    tarball = _tarball(
        tmp_path / "bomb.tar.gz", *(_file(f"z{i}", bytes(1 << 20)) for i in range(8))
    )
    assert tarball.stat().st_size < 100_000
    with pytest.raises(UnsafeArchive, match="unpacks to more than 1048576 bytes"):
        extract_tar(tarball, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_too_many_entries_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archives, "MAX_ENTRIES", 50)
    tarball = _tarball(tmp_path / "many.tar.gz", *(_file(f"f{i}") for i in range(51)))
    with pytest.raises(UnsafeArchive, match="more than 50 entries"):
        extract_tar(tarball, tmp_path / "out")


def test_not_a_tarball_is_an_artifact_error(tmp_path: Path) -> None:
    bogus = tmp_path / "model.tar.gz"
    bogus.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(ArtifactError, match="is not a tar archive"):
        extract_tar(bogus, tmp_path / "out")


def test_plain_files_and_folders_extract(tmp_path: Path) -> None:
    folder = tarfile.TarInfo("code")
    folder.type = tarfile.DIRTYPE
    tarball = _tarball(tmp_path / "model.tar.gz", (folder, b""), _file("code/inference.py", b"x=1"))
    extract_tar(tarball, tmp_path / "out")
    assert (tmp_path / "out" / "code" / "inference.py").read_bytes() == b"x=1"


def _zip(path: Path, *entries: tuple[zipfile.ZipInfo | str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return path


def _zip_symlink(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


@pytest.mark.parametrize(
    "entry",
    [("../../etc/cron.d/x", b"boom"), ("/etc/x", b"boom"), _zip_symlink("root", "/")],
    ids=["parent", "absolute", "symlink"],
)
def test_hostile_zip_entries_are_refused(tmp_path: Path, entry: tuple[str, bytes]) -> None:
    bundle = _zip(tmp_path / "b.zip", ("bundle.json", b"{}"), entry)
    with pytest.raises(UnsafeArchive, match="refusing entry"):
        read_zip(bundle)


def test_a_zip_bomb_is_refused_by_its_declared_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archives, "MAX_UNPACKED_BYTES", 1 << 20)
    bundle = _zip(tmp_path / "b.zip", ("zeros", bytes(4 << 20)))
    assert bundle.stat().st_size < 100_000
    with pytest.raises(UnsafeArchive, match="unpacks to 4194304 bytes"):
        read_zip(bundle)


def test_a_damaged_zip_entry_is_an_artifact_error(tmp_path: Path) -> None:
    bundle = _zip(tmp_path / "b.zip", ("data", bytes(range(256)) * 64))
    raw = bytearray(bundle.read_bytes())
    start = raw.index(b"data") + 4  # the compressed bytes follow the local header's name
    raw[start + 10 : start + 20] = b"\xff" * 10
    bundle.write_bytes(bytes(raw))
    with pytest.raises(ArtifactError, match="entry 'data' cannot be read"):
        read_zip(bundle)
