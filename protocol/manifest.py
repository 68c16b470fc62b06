"""Per-file sha256 manifests of model artifacts, and the check a container makes at start.

A joblib artifact is code: unpickling it runs whatever its author put in it. `package`
writes `inferpipe-manifest.json` (every file's sha256) into each artifact and sets
`INFERPIPE_ARTIFACT_SHA256` (the manifest's own digest) in the container's environment;
a container given that variable refuses to load a model dir whose manifest or files do
not match, before any file is opened by a stage.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from inferpipe.protocol.errors import ArtifactError

MANIFEST_FILE = "inferpipe-manifest.json"
PREFIX = "sha256:"


def sha256_of(data: bytes) -> str:
    return PREFIX + hashlib.sha256(data).hexdigest()


def manifest_bytes(files: Mapping[str, bytes]) -> bytes:
    """The manifest of `files` (relative POSIX path -> content), byte-stable."""
    digests = {name: sha256_of(data) for name, data in sorted(files.items())}
    return json.dumps({"version": 1, "files": digests}, indent=1, sort_keys=True).encode() + b"\n"


def _model_files(model_dir: Path) -> dict[str, Path]:
    return {
        path.relative_to(model_dir).as_posix(): path
        for path in sorted(model_dir.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.name != MANIFEST_FILE
    }


def verify_model_dir(model_dir: Path, expected: str) -> None:
    """Raise ArtifactError naming the file and both digests unless `model_dir` is exactly
    what the manifest pinned by `expected` lists."""
    manifest = model_dir / MANIFEST_FILE
    if not manifest.is_file():
        raise ArtifactError(
            f"the artifact is pinned to manifest {expected} but {model_dir} has no "
            f"{MANIFEST_FILE}; package it with `inferpipe package`"
        )
    raw = manifest.read_bytes()
    actual = sha256_of(raw)
    if actual != expected:
        raise ArtifactError(
            f"{MANIFEST_FILE} has digest {actual}, but the artifact is pinned to {expected}"
        )
    try:
        listed: dict[str, str] = json.loads(raw)["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"{manifest} is not an inferpipe manifest: {exc}") from exc
    present = _model_files(model_dir)
    for name, digest in listed.items():
        if name not in present:
            raise ArtifactError(f"{name} is listed in {MANIFEST_FILE} ({digest}) but missing")
        found = sha256_of(present[name].read_bytes())
        if found != digest:
            raise ArtifactError(f"{name} has digest {found}; the manifest pins {digest}")
    unlisted = sorted(set(present) - set(listed))
    if unlisted:
        raise ArtifactError(
            f"{', '.join(unlisted[:5])} not listed in {MANIFEST_FILE}: the artifact was "
            "changed after it was packaged"
        )
