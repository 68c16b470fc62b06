"""Turn a container's artifact (a directory, a model.tar.gz, or an s3:// URL) into the
model dir SageMaker would mount at /opt/ml/model, without letting any path escape it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from inferpipe.pipeline_spec.errors import DeployError, SpecError
from inferpipe.protocol.archives import extract_tar
from inferpipe.protocol.errors import ArtifactError


def safe_extract(tarball: Path, destination: Path) -> None:
    """Extract a model.tar.gz, refusing absolute paths, `..`, links and devices."""
    try:
        extract_tar(tarball, destination, "model dir")
    except ArtifactError as exc:
        raise SpecError(exc.message) from exc


def _download(url: str, s3: Any, work: Path) -> Path:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    target = work / "model.tar.gz"
    try:
        s3.download_file(bucket, key, str(target))
    except Exception as exc:
        raise DeployError(f"cannot download {url}: {exc}") from exc
    return target


def prepare_model_dir(
    artifact: str | None,
    base_dir: Path,
    destination: Path,
    extra_files: dict[str, str],
    s3: Any = None,
) -> Path:
    """Fill `destination` from the artifact (relative paths are relative to `base_dir`)."""
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    if artifact is not None:
        if artifact.startswith("s3://"):
            if s3 is None:
                raise DeployError(f"{artifact} needs S3 access (boto3 and credentials)")
            with tempfile.TemporaryDirectory() as work:
                safe_extract(_download(artifact, s3, Path(work)), destination)
        else:
            source = (base_dir / artifact).resolve()
            if source.is_dir():
                shutil.copytree(source, destination, dirs_exist_ok=True)
            elif source.is_file() and source.name.endswith((".tar.gz", ".tgz")):
                safe_extract(source, destination)
            else:
                raise SpecError(f"artifact {source} is neither a directory nor a .tar.gz")
    for name, text in extra_files.items():
        (destination / name).write_text(text)
    for path in [destination, *destination.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return destination
