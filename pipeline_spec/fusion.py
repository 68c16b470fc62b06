"""Fused stages: adjacent inferpipe containers of a pipeline model merged into one.

Every hop between two containers costs an HTTP round trip and an encode/decode; when
both are inferpipe stages they can run in one process instead (the preprocess image
carries every stage kind but xgboost). A fused container's artifact holds each original
container's model dir under `stages/NN-<name>/` and `fused.json` with its SageMaker name,
stage kind and environment, so the fused chain answers byte for byte what the separate
containers answered, errors naming the original container.

Fusable: a container with an inferpipe preprocess or postprocess image and a local
artifact, in a Serial model. Built-in algorithms, other images, S3 artifacts, containers
with a `local.image` override and Direct mode models stay as they are.

`fuse_models` is pure (the renderers use it with placeholder artifacts);
`write_fused_artifacts` also writes the fused model dirs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inferpipe.pipeline_spec import builtins
from inferpipe.pipeline_spec.local.artifacts import prepare_model_dir
from inferpipe.pipeline_spec.model import ContainerSpec, ModelSpec, PipelineSpec
from inferpipe.pipeline_spec.resolve import ResolvedContainer, resolve_containers
from inferpipe.protocol import fused, names

#: The image repositories whose stages the fused container (the preprocess image) runs.
FUSABLE_REPOSITORIES = ("inferpipe-preprocess", "inferpipe-postprocess")
FUSED_REPOSITORY = "inferpipe-preprocess"
#: The runtime's SAGEMAKER_MODEL_SERVER_TIMEOUT when a container does not set it.
DEFAULT_TIMEOUT_SECONDS = 60
#: Server settings of the fused container taken as the largest its members ask for.
LARGEST_OF = (
    names.MODEL_SERVER_WORKERS,
    names.WORKER_THREADS,
    names.NUMERIC_THREADS,
    names.MAX_PAYLOAD_IN_MB,
)

LOG_LEVEL = names.CONTAINER_LOG_LEVEL

#: (model key, fused container name) -> the fused container's `artifact` value.
ArtifactOf = Callable[[str, str], str]


@dataclass(frozen=True)
class Member:
    """One original container inside a fused one."""

    container: ContainerSpec
    resolved: ResolvedContainer
    display_name: str


@dataclass(frozen=True)
class FusedRun:
    """Adjacent containers of one model that become one fused container."""

    model: str
    name: str
    members: tuple[Member, ...]
    container: ContainerSpec


def why_not_fusable(container: ContainerSpec) -> str | None:
    """None when the container can be fused, else the reason in a few words."""
    if container.builtin is not None:
        return f"built-in algorithm {container.builtin.algorithm}"
    assert container.image is not None
    repository = builtins.repository_name(container.image)
    if repository not in FUSABLE_REPOSITORIES:
        return f"image {repository} is not an inferpipe preprocess or postprocess image"
    if container.artifact is None:
        return "no artifact"
    if container.artifact.startswith("s3://"):
        return "its artifact is in S3 (fusion needs a local directory or model.tar.gz)"
    if container.local is not None and container.local.image:
        return "it runs another image locally (local.image)"
    return None


def fusion_groups(model: ModelSpec) -> tuple[list[tuple[int, ...]], dict[int, str]]:
    """The model's containers as runs to fuse (two or more) and singles, in order, with
    the reason each container that cannot be fused stays alone."""
    if model.execution_mode != "Serial":
        return [(i,) for i in range(len(model.containers))], dict.fromkeys(
            range(len(model.containers)), "Direct mode calls one container per request"
        )
    reasons = {i: reason for i, c in enumerate(model.containers) if (reason := why_not_fusable(c))}
    groups: list[tuple[int, ...]] = []
    run: list[int] = []
    for index in range(len(model.containers)):
        if index in reasons:
            groups += [tuple(run)] if run else []
            groups.append((index,))
            run = []
        else:
            run.append(index)
    groups += [tuple(run)] if run else []
    # A run of one is nothing to fuse.
    return [g for g in groups if g], reasons


def _fused_name(members: list[ContainerSpec], taken: set[str]) -> str:
    name = "-".join(c.name for c in members)[:63].rstrip("-")
    counter = 2
    while name in taken:
        suffix = f"-{counter}"
        name = name[: 63 - len(suffix)].rstrip("-") + suffix
        counter += 1
    return name


def _fused_image(members: list[ContainerSpec]) -> str:
    """The run's preprocess image, else the first image with its repository renamed."""
    images = [c.image for c in members if c.image]
    for image in images:
        if builtins.repository_name(image) == FUSED_REPOSITORY:
            return image
    first = images[0]
    prefix, _, rest = first.rpartition("/")
    tail = rest[len(builtins.repository_name(first)) :]
    return f"{prefix}/{FUSED_REPOSITORY}{tail}" if prefix else f"{FUSED_REPOSITORY}{tail}"


def _as_int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _server_environment(members: list[ContainerSpec]) -> dict[str, str]:
    """The fused container's own settings: stage kind, a timeout covering every member's
    (they run one after another) and the largest of the members' server settings."""
    environment = {
        names.STAGE: fused.KIND,
        names.MODEL_SERVER_TIMEOUT: str(
            sum(
                _as_int(c.environment.get(names.MODEL_SERVER_TIMEOUT), DEFAULT_TIMEOUT_SECONDS)
                for c in members
            )
        ),
    }
    for variable in LARGEST_OF:
        values = [_as_int(c.environment.get(variable), 0) for c in members]
        if max(values) > 0:
            environment[variable] = str(max(values))
    levels = [
        c.environment[names.CONTAINER_LOG_LEVEL]
        for c in members
        if names.CONTAINER_LOG_LEVEL in c.environment
    ]
    if levels:
        environment[names.CONTAINER_LOG_LEVEL] = levels[0]
    return environment


def _display(model: ModelSpec, index: int) -> str:
    """SageMaker's name for a container in errors: its hostname, else container-N."""
    return model.containers[index].hostname or f"container-{index + 1}"


def _fuse_model(
    key: str, model: ModelSpec, region: str, artifact_of: ArtifactOf
) -> tuple[ModelSpec, list[FusedRun]]:
    groups, _ = fusion_groups(model)
    resolved = resolve_containers(model, region)
    taken = {c.name for c in model.containers}
    containers: list[ContainerSpec] = []
    runs: list[FusedRun] = []
    for group in groups:
        if len(group) == 1:
            containers.append(model.containers[group[0]])
            continue
        members = [model.containers[i] for i in group]
        name = _fused_name(members, taken)
        taken.add(name)
        container = ContainerSpec(
            name=name,
            image=_fused_image(members),
            artifact=artifact_of(key, name),
            environment=_server_environment(members),
            accepts=members[0].accepts,
            emits=members[-1].emits,
        )
        containers.append(container)
        runs.append(
            FusedRun(
                key,
                name,
                tuple(
                    Member(
                        model.containers[i],
                        resolved[i],
                        model.containers[i].hostname or f"container-{i + 1}",
                    )
                    for i in group
                ),
                container,
            )
        )
    return model.model_copy(update={"containers": containers, "fuse": False}), runs


def marked_models(spec: PipelineSpec) -> set[str]:
    """The models whose spec says `fuse: true`."""
    return {key for key, model in spec.models.items() if model.fuse}


def fuse_models(
    spec: PipelineSpec, models: Iterable[str], artifact_of: ArtifactOf
) -> tuple[PipelineSpec, list[FusedRun]]:
    """The spec with `models` fused (pure: nothing is read or written)."""
    chosen = set(models)
    updated = dict(spec.models)
    runs: list[FusedRun] = []
    for key in sorted(chosen):
        updated[key], model_runs = _fuse_model(key, spec.models[key], spec.region, artifact_of)
        runs += model_runs
    return spec.model_copy(update={"models": updated}), runs


def planned_spec(spec: PipelineSpec) -> PipelineSpec:
    """The spec as it deploys: models marked `fuse: true` fused, artifacts named only."""
    if not marked_models(spec):
        return spec
    return fuse_models(spec, marked_models(spec), lambda key, name: f"fused/{key}/{name}")[0]


def _entry(position: int, member: Member) -> fused.FusedEntry:
    container = member.container
    kind = container.local.stage if container.local and container.local.stage else None
    return fused.FusedEntry(
        directory=fused.stage_directory(position, container.name),
        container=container.name,
        display_name=member.display_name,
        kind=kind or member.resolved.environment.get(names.STAGE) or None,
        environment=dict(member.resolved.environment),
        hostname=container.hostname,
    )


def write_run(run: FusedRun, spec_dir: Path, folder: Path, s3: Any = None) -> Path:
    """Write one fused container's artifact: each member's model dir and the manifest."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    entries = []
    for position, member in enumerate(run.members):
        entry = _entry(position, member)
        prepare_model_dir(
            member.resolved.artifact,
            spec_dir,
            folder / entry.directory,
            member.resolved.artifact_files,
            s3,
        )
        entries.append(entry)
    fused.write_manifest(folder, entries)
    return folder


def write_fused_artifacts(
    spec: PipelineSpec,
    spec_dir: Path,
    root: Path,
    models: Iterable[str] | None = None,
    s3: Any = None,
) -> tuple[PipelineSpec, list[FusedRun]]:
    """Fuse `models` (default: those marked `fuse: true`), writing each fused artifact to
    `root/<model>/<fused name>/`; the returned spec points at them by absolute path."""
    chosen = marked_models(spec) if models is None else set(models)
    root = root.resolve()
    fused_spec, runs = fuse_models(spec, chosen, lambda key, name: str(root / key / name))
    for run in runs:
        write_run(run, spec_dir, root / run.model / run.name, s3)
    return fused_spec, runs


def describe(spec: PipelineSpec, models: Iterable[str]) -> list[str]:
    """One line per model: what fuses into what, and why the rest stays apart."""
    lines = []
    for key in sorted(set(models)):
        model = spec.models[key]
        groups, reasons = fusion_groups(model)
        parts = []
        for group in groups:
            names_in = [model.containers[i].name for i in group]
            if len(group) > 1:
                parts.append("[" + " + ".join(names_in) + "]")
            else:
                reason = reasons.get(group[0])
                parts.append(f"{names_in[0]} ({reason})" if reason else names_in[0])
        fused_count = len(groups)
        lines.append(
            f"{key}: {len(model.containers)} -> {fused_count} containers: " + " -> ".join(parts)
        )
    return lines


def _relative_to(artifact: str | None, spec_dir: Path, out_dir: Path) -> str | None:
    if artifact is None or artifact.startswith("s3://"):
        return artifact
    return os.path.relpath((spec_dir / artifact).resolve(), out_dir.resolve())


def write_fused_spec(
    spec: PipelineSpec,
    spec_dir: Path,
    destination: Path,
    artifacts_dir: Path,
    models: Iterable[str] | None = None,
    s3: Any = None,
) -> list[FusedRun]:
    """`inferpipe spec fuse`: write a fused copy of the spec to `destination`, its fused
    artifacts under `artifacts_dir`; every local artifact path is made relative to the
    new file's folder. Fuses every Serial model unless `models` names some."""
    import yaml

    chosen = set(spec.models) if models is None else set(models)
    chosen = {k for k in chosen if spec.models[k].execution_mode == "Serial"}
    fused_spec, runs = write_fused_artifacts(spec, spec_dir, artifacts_dir, chosen, s3)
    out_dir = destination.parent
    updated = {}
    for key, model in fused_spec.models.items():
        containers = [
            c.model_copy(update={"artifact": _relative_to(c.artifact, spec_dir, out_dir)})
            for c in model.containers
        ]
        updated[key] = model.model_copy(update={"containers": containers})
    document = fused_spec.model_copy(update={"models": updated}).model_dump(
        mode="json", exclude_defaults=True
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    where = os.path.relpath(artifacts_dir.resolve(), out_dir.resolve())
    header = (
        "# Fused copy of a spec, written by `inferpipe spec fuse`: adjacent inferpipe\n"
        f"# containers run as one (their artifacts under {where}/).\n"
    )
    destination.write_text(header + yaml.safe_dump(document, sort_keys=False))
    return runs
