"""A pipeline model's containers made ready to run on this machine: each artifact
unpacked into its model dir, with the environment SageMaker would set.

The local endpoint starts one container per prepared hop (and reaches it over HTTP);
`inferpipe batch` hands the same hops, model dir as target, to Spark executors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inferpipe.pipeline_spec.errors import SpecError
from inferpipe.pipeline_spec.local.artifacts import prepare_model_dir
from inferpipe.pipeline_spec.local.engines import local_stage
from inferpipe.pipeline_spec.model import ContainerSpec, PipelineSpec
from inferpipe.pipeline_spec.resolve import resolve_containers
from inferpipe.protocol import media, names
from inferpipe.protocol.chain import Hop


@dataclass(frozen=True)
class PreparedContainer:
    """One container with its unpacked model dir and environment."""

    container: ContainerSpec
    model_dir: Path
    environment: dict[str, str]
    #: SageMaker's name for it in errors: the hostname, else container-N.
    display_name: str

    def hop(self, target: str | None = None) -> Hop:
        """The chain hop: `target` is its URL, or (by default) its model dir."""
        return Hop(
            self.display_name,
            target or str(self.model_dir),
            self.container.hostname,
            self.environment,
        )


def prepare_containers(
    spec: PipelineSpec,
    model_key: str,
    spec_dir: Path,
    model_dir_of: Callable[[int, ContainerSpec], Path],
    s3: Any = None,
) -> list[PreparedContainer]:
    """Unpack every container of `model_key` into `model_dir_of(index, container)`."""
    model = spec.models[model_key]
    prepared = []
    for index, (container, resolved) in enumerate(
        zip(model.containers, resolve_containers(model, spec.region), strict=True)
    ):
        model_dir = prepare_model_dir(
            resolved.artifact,
            spec_dir,
            model_dir_of(index, container),
            resolved.artifact_files,
            s3,
        )
        environment = dict(resolved.environment)
        stage = local_stage(container)
        if stage:
            environment[names.STAGE] = stage
        display = container.hostname or f"container-{index + 1}"
        prepared.append(PreparedContainer(container, model_dir, environment, display))
    return prepared


def batch_model(spec: PipelineSpec) -> str:
    """The model a batch run scores: the transform's, else the only (or first) variant's."""
    if spec.transform is not None:
        return spec.transform.model
    if not spec.variants:
        raise SpecError("the spec names no variant and no transform: nothing to score")
    return spec.variants[0].model


def prepare_hops(spec: PipelineSpec, spec_dir: Path, work: Path, s3: Any = None) -> list[Hop]:
    """The batch model's hops for in-process runs, each model dir under `work`."""
    key = batch_model(spec)
    prepared = prepare_containers(
        spec, key, spec_dir, lambda index, c: work / f"{key}-{index + 1}-{c.name}", s3
    )
    return [p.hop() for p in prepared]


def batch_media(
    spec: PipelineSpec, content_type: str | None, accept: str | None
) -> tuple[str, str | None]:
    """The batch run's input and output media types: given, else the spec's transform's;
    input must be one record per line (CSV or JSON Lines)."""
    transform = spec.transform
    chosen = content_type or (transform.content_type if transform else media.CSV)
    if media.parse_media_type(chosen).type not in (media.CSV, media.JSONLINES):
        raise SpecError(
            "batch scores one record per line: use text/csv or application/jsonlines, "
            f"not {chosen!r}"
        )
    return chosen, accept or (transform.accept if transform else None)
