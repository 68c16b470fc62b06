"""Read the files of an MLeap bundle from a directory or a zip, refusing unsafe zips.

A zip entry whose path is absolute or climbs out with `..` is refused, whatever the
reader would do with it: the bundle is read in memory and nothing is extracted.
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path

from inferpipe.serving.errors import ArtifactError

#: A bundle zip larger than this (uncompressed) is refused: no bundle needs it.
MAX_UNCOMPRESSED_BYTES = 1 << 30


class BundleFiles:
    """Bundle files by relative POSIX path (`root/model.json`)."""

    def __init__(self, files: dict[str, bytes] | None, directory: Path | None, source: str):
        self._files = files
        self._directory = directory
        self.source = source

    def exists(self, relative: str) -> bool:
        if self._files is not None:
            return relative in self._files
        assert self._directory is not None
        return (self._directory / relative).is_file()

    def read(self, relative: str) -> bytes:
        if not self.exists(relative):
            raise ArtifactError(f"{self.source}: the bundle has no {relative}")
        if self._files is not None:
            return self._files[relative]
        assert self._directory is not None
        return (self._directory / relative).read_bytes()


def _safe_name(name: str, source: str) -> str:
    normal = posixpath.normpath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or normal == ".." or normal.startswith("../") or ":" in normal:
        raise ArtifactError(f"{source}: zip entry {name!r} would escape the bundle; refused")
    return normal


def open_zip(path: Path) -> BundleFiles:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ArtifactError(f"{path} is not a zip file: {exc}") from exc
    files: dict[str, bytes] = {}
    with archive:
        total = sum(info.file_size for info in archive.infolist())
        if total > MAX_UNCOMPRESSED_BYTES:
            raise ArtifactError(f"{path} unpacks to {total} bytes; refused")
        for info in archive.infolist():
            name = _safe_name(info.filename, str(path))
            if not info.is_dir():
                files[name] = archive.read(info)
    prefix = _common_prefix(files)
    if prefix:
        files = {name[len(prefix) :]: data for name, data in files.items()}
    return BundleFiles(files, None, str(path))


def _common_prefix(files: dict[str, bytes]) -> str:
    """Some zips put the bundle inside one folder; strip it when bundle.json sits there."""
    if "bundle.json" in files:
        return ""
    candidates = [n[: -len("bundle.json")] for n in files if n.endswith("/bundle.json")]
    return min(candidates, key=len) if candidates else ""


def open_bundle(path: Path) -> BundleFiles:
    """Open a bundle directory (with bundle.json) or a bundle zip."""
    if path.is_dir():
        return BundleFiles(None, path, str(path))
    return open_zip(path)
