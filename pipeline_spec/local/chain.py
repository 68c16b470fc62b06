"""Model dirs and environments of one pipeline model, for running its stages in-process
(`inferpipe batch` hands them to Spark executors)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inferpipe.pipeline_spec.local.artifacts import prepare_model_dir
from inferpipe.pipeline_spec.local.engines import local_stage
from inferpipe.pipeline_spec.model import PipelineSpec
from inferpipe.pipeline_spec.resolve import resolve_containers
from inferpipe.serving.errors import SpecError


@dataclass(frozen=True)
class PreparedHop:
    name: str
    model_dir: Path
    environment: dict[str, str]


def batch_model(spec: PipelineSpec) -> str:
    """The model a batch run scores: the transform's, else the only (or first) variant's."""
    if spec.transform is not None:
        return spec.transform.model
    if not spec.variants:
        raise SpecError("the spec names no variant and no transform: nothing to score")
    return spec.variants[0].model


def prepare_hops(
    spec: PipelineSpec, spec_dir: Path, work: Path, s3: Any = None
) -> list[PreparedHop]:
    """Unpack each container's artifact under `work` (one uniquely named dir each)."""
    key = batch_model(spec)
    model = spec.models[key]
    hops = []
    for index, (container, resolved) in enumerate(
        zip(model.containers, resolve_containers(model, spec.region), strict=True)
    ):
        model_dir = prepare_model_dir(
            resolved.artifact,
            spec_dir,
            work / f"{key}-{index + 1}-{container.name}",
            resolved.artifact_files,
            s3,
        )
        environment = dict(resolved.environment)
        stage = local_stage(container)
        if stage:
            environment["INFERPIPE_STAGE"] = stage
        hops.append(PreparedHop(container.name, model_dir, environment))
    return hops
