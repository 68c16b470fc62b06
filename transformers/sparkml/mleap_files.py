"""Read the files of an MLeap bundle from a directory or a zip, refusing unsafe zips.

A zip entry whose path is absolute or climbs out with `..` is refused, whatever the
reader would do with it: the bundle is read in memory and nothing is extracted.
"""

from __future__ import annotations

from pathlib import Path

from inferpipe.protocol.archives import read_zip
from inferpipe.protocol.errors import ArtifactError


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


def open_zip(path: Path) -> BundleFiles:
    files = read_zip(path, "bundle")
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
