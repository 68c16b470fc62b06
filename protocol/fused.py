"""The fused container's artifact: `fused.json` beside `stages/NN-<name>/`, and the two
headers a fused container answers with.

Written by the spec builder (`inferpipe spec fuse`, `fuse: true`), read by the fused
stage in the preprocess image. A fused container runs the model dirs of several
adjacent inferpipe containers in one process; the manifest keeps what each original
container was (its SageMaker name for errors, its stage kind, its environment) so the
fused chain answers byte for byte what the separate containers answered.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from inferpipe.protocol.errors import ArtifactError

MANIFEST = "fused.json"
STAGES_DIR = "stages"
VERSION = 1
KIND = "fused"

#: On an error answer: the original container that failed (SageMaker's name for it).
FAILED_CONTAINER_HEADER = "X-Inferpipe-Failed-Container"
#: On an error answer: set when that container did not answer in time.
TIMED_OUT_HEADER = "X-Inferpipe-Timed-Out"
#: On every answer: each original container's time, `container-1=0.412;container-2=0.09` (ms).
STAGE_TIMINGS_HEADER = "X-Inferpipe-Stage-Timings"


@dataclass(frozen=True)
class FusedEntry:
    """One original container inside a fused one."""

    #: Its model dir, relative to the fused artifact: `stages/NN-<name>`.
    directory: str
    #: The spec's container name.
    container: str
    #: SageMaker's name for it in errors: its hostname, else container-N of the original model.
    display_name: str
    #: The stage kind (or module:attr) it runs; None: detected from its model dir.
    kind: str | None
    #: The environment the original container had (resolved as SageMaker would set it).
    environment: dict[str, str] = field(default_factory=dict)
    hostname: str | None = None


def stage_directory(index: int, container: str) -> str:
    """`stages/01-preprocess`: numbered so the order survives a directory listing."""
    return f"{STAGES_DIR}/{index + 1:02d}-{container}"


def write_manifest(folder: Path, entries: list[FusedEntry]) -> Path:
    path = folder / MANIFEST
    document = {"fused_version": VERSION, "stages": [asdict(e) for e in entries]}
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return path


def _entry(raw: object, position: int, folder: Path) -> FusedEntry:
    if not isinstance(raw, dict):
        raise ArtifactError(f"{folder / MANIFEST}: stages[{position}] is not an object")
    try:
        entry = FusedEntry(
            directory=str(raw["directory"]),
            container=str(raw["container"]),
            display_name=str(raw["display_name"]),
            kind=None if raw.get("kind") is None else str(raw["kind"]),
            environment={str(k): str(v) for k, v in dict(raw.get("environment") or {}).items()},
            hostname=None if raw.get("hostname") is None else str(raw["hostname"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"{folder / MANIFEST}: stages[{position}] lacks {exc}") from None
    relative = PurePosixPath(entry.directory)
    if relative.is_absolute() or ".." in relative.parts or relative.parts[:1] != (STAGES_DIR,):
        raise ArtifactError(
            f"{folder / MANIFEST}: stages[{position}].directory {entry.directory!r} "
            f"must be a folder under {STAGES_DIR}/"
        )
    if not (folder / relative).is_dir():
        raise ArtifactError(f"{folder / MANIFEST}: {entry.directory}/ is missing")
    return entry


def read_manifest(folder: Path) -> list[FusedEntry]:
    """The stages of a fused artifact, in order; ArtifactError names what is wrong."""
    path = folder / MANIFEST
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ArtifactError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ArtifactError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("fused_version") != VERSION:
        raise ArtifactError(f"{path}: fused_version must be {VERSION}")
    stages = document.get("stages")
    if not isinstance(stages, list) or not stages:
        raise ArtifactError(f"{path}: `stages` must be a non-empty list")
    return [_entry(raw, position, folder) for position, raw in enumerate(stages)]


def timings_header(timings: list[tuple[str, float]]) -> str:
    """Each stage's seconds as the header's milliseconds."""
    return ";".join(f"{name}={seconds * 1000:.3f}" for name, seconds in timings)


def parse_timings_header(value: str) -> list[tuple[str, float]]:
    """(name, seconds) pairs from a timings header; malformed parts are skipped."""
    timings = []
    for part in value.split(";"):
        name, sep, milliseconds = part.strip().partition("=")
        try:
            seconds = float(milliseconds) / 1000
        except ValueError:
            continue
        if sep and name and seconds >= 0:
            timings.append((name, seconds))
    return timings
