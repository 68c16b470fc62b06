"""Package local artifact directories as reproducible model.tar.gz files and upload them.

SageMaker unpacks model.tar.gz into /opt/ml/model: files must sit at the tar root and
user code under code/. Entries are sorted, owned by root and dated 1980 so the same
files always give the same bytes (and the same content-hashed names).
https://docs.aws.amazon.com/sagemaker/latest/dg/realtime-endpoints-deployment.html
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import os
import tarfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inferpipe.pipeline_spec import builtins
from inferpipe.pipeline_spec.errors import DeployError, SpecError
from inferpipe.pipeline_spec.fusion import write_fused_artifacts
from inferpipe.pipeline_spec.loader import check_deployable
from inferpipe.pipeline_spec.model import ContainerSpec, PipelineSpec
from inferpipe.pipeline_spec.resolve import (
    SCHEMA_FILE,
    SPARKML_SCHEMA_VAR,
    artifact_url,
    resolve_containers,
)
from inferpipe.protocol import names
from inferpipe.protocol.interface import INTERFACE_FILE, StageInterface
from inferpipe.protocol.manifest import MANIFEST_FILE, manifest_bytes, sha256_of

logger = logging.getLogger(__name__)

FIXED_MTIME = 315532800  # 1980-01-01, the earliest time zip-era tools agree on


@dataclass(frozen=True)
class PackagedArtifact:
    model: str
    container: str
    tarball: Path
    s3_url: str


def check_layout(source: Path, program: str = "inference.py") -> None:
    """Refuse layouts SageMaker would mis-load: one wrapping folder, or code/ without a script."""
    entries = [p for p in source.iterdir() if not p.name.startswith(".")]
    if not entries:
        raise SpecError(f"artifact {source} is empty")
    if len(entries) == 1 and entries[0].is_dir() and entries[0].name != "code":
        raise SpecError(
            f"artifact {source} holds only the folder {entries[0].name}/; SageMaker "
            f"unpacks files at the tar root, so point `artifact` at "
            f"{entries[0]} instead"
        )
    code = source / "code"
    if code.is_dir() and not (code / program).is_file():
        raise SpecError(
            f"artifact {source} has code/ but no code/{program}; SageMaker's "
            "script convention needs it (or set SAGEMAKER_PROGRAM)"
        )


def _add(archive: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), FIXED_MTIME, mode
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    archive.addfile(info, io.BytesIO(data))


def build_tarball(
    source: Path,
    destination: Path,
    extra_files: Mapping[str, str | bytes] | None = None,
    program: str = "inference.py",
) -> Path:
    """Write `source`'s files (plus `extra_files`) to a reproducible model.tar.gz, with
    the manifest of their sha256 digests (`manifest_digest` of the tarball tells the pin)."""
    if not source.is_dir():
        raise SpecError(f"artifact {source} is not a directory")
    check_layout(source, program)
    extra = extra_files or {}
    files: dict[str, tuple[bytes, int]] = {}
    for path in sorted(source.rglob("*")):
        name = path.relative_to(source).as_posix()
        skipped = name in extra or "__pycache__" in path.parts or name == MANIFEST_FILE
        if path.is_file() and not skipped:
            files[name] = (path.read_bytes(), 0o755 if os.access(path, os.X_OK) else 0o644)
    for name, content in extra.items():
        files[name] = (content.encode() if isinstance(content, str) else content, 0o644)
    files[MANIFEST_FILE] = (manifest_bytes({n: data for n, (data, _) in files.items()}), 0o644)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, (data, mode) in sorted(files.items()):
            _add(archive, name, data, mode)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with (
        destination.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as zipped,
    ):
        zipped.write(buffer.getvalue())
    return destination


def manifest_digest(tarball: Path) -> str:
    """The sha256 of the manifest inside a tarball `build_tarball` wrote."""
    with tarfile.open(tarball, "r:gz") as archive:
        member = archive.extractfile(MANIFEST_FILE)
        assert member is not None
        return sha256_of(member.read())


def _pin(environment: dict[str, str], digest: str, where: str) -> dict[str, str]:
    """The environment with the manifest pin set; a different pin the user wrote is an error."""
    pinned = environment.get(names.ARTIFACT_SHA256)
    if pinned is not None and pinned.strip().lower() != digest:
        raise SpecError(
            f"{where}: {names.ARTIFACT_SHA256} pins {pinned}, but the packaged artifact's "
            f"manifest is {digest}; the artifact changed since it was pinned"
        )
    return {**environment, names.ARTIFACT_SHA256: digest}


def package_spec(
    spec: PipelineSpec,
    spec_dir: Path,
    out_dir: Path,
    interfaces: Mapping[tuple[str, str], object] | None = None,
    compile_sklearn: bool = False,
    progress: Callable[[str], None] = lambda message: None,
) -> tuple[list[PackagedArtifact], PipelineSpec]:
    """Build a model.tar.gz for every container whose artifact is a local directory.

    Returns the tarballs and a copy of the spec whose local artifacts are replaced by
    their content-addressed S3 URLs, so a changed artifact gives a new model name.
    `interfaces` (the schema chain check's findings by (model, container)) are stored
    in each tarball as `inferpipe-interface.json`, so later checks read data.
    `compile_sklearn` adds the stored compiled form beside every model.joblib that has
    one (`inferpipe compile-sklearn`); an artifact whose steps cannot all be stored is
    packaged without it, and `progress` says why.
    """
    check_deployable(spec)
    spec, _ = write_fused_artifacts(spec, spec_dir, out_dir / "fused")
    packaged = []
    replacements: dict[tuple[str, str], ContainerSpec] = {}
    for key, model in spec.models.items():
        resolved_containers = resolve_containers(model, spec.region)
        for original, container in zip(model.containers, resolved_containers, strict=True):
            if container.artifact is None or container.artifact.startswith("s3://"):
                continue
            program = container.environment.get(names.PROGRAM, names.DEFAULT_PROGRAM)
            extra_files: dict[str, str | bytes] = dict(container.artifact_files)
            source = (spec_dir / container.artifact).resolve()
            if compile_sklearn and builtins.is_inferpipe_image(container.image or ""):
                where = f"{key}/{container.name}"
                extra_files.update(_compiled_form(source, container.environment, where, progress))
            found = (interfaces or {}).get((key, container.name))
            if isinstance(found, StageInterface):
                extra_files[INTERFACE_FILE] = found.to_text()
            tarball = build_tarball(
                source,
                out_dir / key / container.name / "model.tar.gz",
                extra_files,
                program,
            )
            base = artifact_url(spec, key, container)
            assert base is not None
            digest = hashlib.sha256(tarball.read_bytes()).hexdigest()[:12]
            url = base.replace("/model.tar.gz", f"/{digest}/model.tar.gz")
            environment = _pin(
                dict(original.environment), manifest_digest(tarball), f"{key}/{container.name}"
            )
            if SCHEMA_FILE in container.artifact_files:
                environment.pop(SPARKML_SCHEMA_VAR, None)
            replacements[(key, container.name)] = original.model_copy(
                update={"artifact": url, "environment": environment}
            )
            packaged.append(PackagedArtifact(key, container.name, tarball, url))
            logger.debug(
                "packaged %s/%s: %s (%d bytes)",
                key,
                container.name,
                tarball,
                tarball.stat().st_size,
            )
    return packaged, _with_containers(spec, replacements)


def _compiled_form(
    source: Path, environment: Mapping[str, str], where: str, progress: Callable[[str], None]
) -> dict[str, bytes]:
    """The stored compiled form of an sklearn stage's model.joblib, or nothing (said why)."""
    from inferpipe.protocol.errors import InferpipeError
    from inferpipe.serving.settings import ServingSettings
    from inferpipe.serving.stage_loader import detect_kind

    if not (source / "model.joblib").is_file():
        return {}
    try:
        settings = ServingSettings.from_environ(dict(environment))
        if (settings.stage or detect_kind(source, settings)) != "sklearn":
            return {}  # a script's model.joblib is its own business
        from inferpipe.transformers._sklearn_fast.stored import NotStorable
        from inferpipe.transformers.sklearn import compile_model_dir

        summary, files = compile_model_dir(source, settings.sklearn_method)
    except (NotStorable, InferpipeError) as exc:
        progress(f"{where}: packaged without the compiled form: {exc}")
        return {}
    progress(f"{where}: compiled form added ({summary})")
    return files


def _with_containers(
    spec: PipelineSpec, replacements: dict[tuple[str, str], ContainerSpec]
) -> PipelineSpec:
    models = {}
    for key, model in spec.models.items():
        containers = [replacements.get((key, c.name), c) for c in model.containers]
        models[key] = model.model_copy(update={"containers": containers})
    return spec.model_copy(update={"models": models})


def _split_s3(url: str) -> tuple[str, str]:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    return bucket, key


def upload_artifacts(
    artifacts: list[PackagedArtifact], s3: Any, progress: Callable[[str], None]
) -> None:
    """Upload each tarball to its S3 URL, reporting progress by tenths."""
    for artifact in artifacts:
        bucket, key = _split_s3(artifact.s3_url)
        total = artifact.tarball.stat().st_size
        sent = [0, -1]

        def report(
            count: int, url: str = artifact.s3_url, size: int = total, state: list[int] = sent
        ) -> None:
            state[0] += count
            tenth = state[0] * 10 // max(size, 1)
            if tenth != state[1]:
                state[1] = tenth
                progress(f"uploading {url}: {min(tenth * 10, 100)}% of {size} bytes")

        try:
            s3.upload_file(str(artifact.tarball), bucket, key, Callback=report)
        except Exception as exc:
            raise DeployError(
                f"uploading {artifact.tarball} to {artifact.s3_url} failed: {exc}"
            ) from exc
