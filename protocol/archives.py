"""One safe extraction for every archive inferpipe unpacks (model.tar.gz, MLeap zips).

An entry whose path is absolute, climbs out with `..`, or is a link or a device is
refused before anything is written, whatever the archive library would do with it.
"""

from __future__ import annotations

import posixpath
import stat
import tarfile
import zipfile
import zlib
from pathlib import Path

from inferpipe.protocol.errors import ArtifactError, UnsafeArchive

#: An archive larger than this once unpacked is refused: no model artifact needs it.
MAX_UNPACKED_BYTES = 1 << 30
#: More entries than this is a bomb of small files, not a model.
MAX_ENTRIES = 100_000


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
    """Check every member first, then extract: a refused archive writes nothing.

    Members are read one by one and the count and sizes checked as they come, so a
    decompression bomb is refused at the limit, not after inflating all of it."""
    members: list[tarfile.TarInfo] = []
    total = 0
    for member in archive:
        members.append(member)
        if len(members) > MAX_ENTRIES:
            raise UnsafeArchive(f"{tarball} holds more than {MAX_ENTRIES} entries; refused")
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
            raise UnsafeArchive(
                f"{tarball} unpacks to more than {MAX_UNPACKED_BYTES} bytes; refused"
            )
    archive.extractall(root, members=members, filter="data")


def read_zip(path: Path, what: str = "bundle") -> dict[str, bytes]:
    """Every file of a zip in memory, by safe relative path; nothing touches the disk."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArtifactError(f"{path} is not a zip file: {exc}") from exc
    files: dict[str, bytes] = {}
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ENTRIES:
            raise UnsafeArchive(f"{path} holds more than {MAX_ENTRIES} entries; refused")
        total = sum(info.file_size for info in entries)
        if total > MAX_UNPACKED_BYTES:
            raise UnsafeArchive(f"{path} unpacks to {total} bytes; refused")
        for info in entries:
            name = safe_member_name(info.filename, str(path), what)
            kind = stat.S_IFMT(info.external_attr >> 16)
            if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise UnsafeArchive(
                    f"{path}: refusing entry {info.filename!r}: it is not a plain file"
                )
            if not info.is_dir():
                files[name] = _read_entry(archive, info, path)
    return files


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> bytes:
    """One entry's bytes; zipfile stops at the declared size, so a lying header cannot
    inflate past it, and a damaged entry is an ArtifactError naming it."""
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise ArtifactError(f"{path}: entry {info.filename!r} cannot be read: {exc}") from exc
