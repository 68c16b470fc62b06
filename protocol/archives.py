"""One safe extraction for every archive inferpipe unpacks (model.tar.gz, MLeap zips).

An entry whose path is absolute, climbs out with `..`, or is a link or a device is
refused before anything is written, whatever the archive library would do with it.
"""

from __future__ import annotations

import posixpath
import tarfile
import zipfile
from pathlib import Path

from inferpipe.protocol.errors import ArtifactError, UnsafeArchive

#: An archive larger than this once unpacked is refused: no model artifact needs it.
MAX_UNPACKED_BYTES = 1 << 30


def safe_member_name(name: str, source: str, destination: str) -> str:
    """The normalised relative POSIX path of an entry, or UnsafeArchive when it escapes."""
    normal = posixpath.normpath(name.replace("\\", "/"))
    drive = len(normal) > 1 and normal[1] == ":"  # C:... on Windows
    if name.startswith(("/", "\\")) or normal == ".." or normal.startswith("../") or drive:
        raise UnsafeArchive(f"{source}: refusing entry {name!r}: it would escape the {destination}")
    return normal


def extract_tar(tarball: Path, destination: Path, what: str = "model dir") -> None:
    """Extract a tar (any compression) into `destination`; plain files and dirs only."""
    destination.mkdir(parents=True, exist_ok=True)
    root = destination.resolve()
    try:
        with tarfile.open(tarball, "r:*") as archive:
            _extract_members(archive, tarball, root, what)
    except tarfile.TarError as exc:
        raise ArtifactError(f"{tarball} is not a tar archive: {exc}") from exc


def _extract_members(archive: tarfile.TarFile, tarball: Path, root: Path, what: str) -> None:
    """Check every member first, then extract: a refused archive writes nothing."""
    members = archive.getmembers()
    total = 0
    for member in members:
        safe_member_name(member.name, str(tarball), what)
        if not (root / member.name).resolve().is_relative_to(root):
            raise UnsafeArchive(
                f"{tarball}: refusing entry {member.name!r}: it would escape the {what}"
            )
        if not (member.isfile() or member.isdir()):
            raise UnsafeArchive(
                f"{tarball}: refusing entry {member.name!r}: it is not a plain file"
            )
        total += member.size
    if total > MAX_UNPACKED_BYTES:
        raise UnsafeArchive(f"{tarball} unpacks to {total} bytes; refused")
    archive.extractall(root, members=members, filter="data")


def read_zip(path: Path, what: str = "bundle") -> dict[str, bytes]:
    """Every file of a zip in memory, by safe relative path; nothing touches the disk."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArtifactError(f"{path} is not a zip file: {exc}") from exc
    files: dict[str, bytes] = {}
    with archive:
        total = sum(info.file_size for info in archive.infolist())
        if total > MAX_UNPACKED_BYTES:
            raise UnsafeArchive(f"{path} unpacks to {total} bytes; refused")
        for info in archive.infolist():
            name = safe_member_name(info.filename, str(path), what)
            if not info.is_dir():
                files[name] = archive.read(info)
    return files
