"""Resolve a spec into what SageMaker receives: image URIs, final environments, names.

Pure functions. This is where the builder's fixes happen: SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT
on every non-final container (SageMaker only passes the client's Accept to the last one),
and a SparkML schema too long for an environment value moved into the artifact.
https://docs.aws.amazon.com/sagemaker/latest/dg/inference-pipeline-real-time.html
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from inferpipe.pipeline_spec import builtins
from inferpipe.pipeline_spec.model import ContainerSpec, ModelSpec, PipelineSpec
from inferpipe.protocol import media, names

DEFAULT_ACCEPT_VAR = names.DEFAULT_INVOCATIONS_ACCEPT
SPARKML_SCHEMA_VAR = names.SPARKML_SCHEMA
ENV_VALUE_LIMIT = 1024
SCHEMA_FILE = "schema.json"


@dataclass(frozen=True)
class ResolvedContainer:
    name: str
    image: str
    artifact: str | None
    environment: dict[str, str]
    hostname: str | None
    accepts: tuple[str, ...] | None
    emits: tuple[str, ...] | None
    artifact_files: dict[str, str] = field(default_factory=dict)
    image_error: str | None = None


def _known_media(
    container: ContainerSpec, image: str
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    if container.builtin is not None:
        accepts, emits = builtins.BUILTIN_MEDIA.get(container.builtin.algorithm, (None, None))
    elif builtins.is_inferpipe_image(image):
        accepts, emits = builtins.INFERPIPE_MEDIA
    else:
        accepts, emits = None, None
    if container.accepts:
        accepts = (media.parse_media_type(container.accepts).type,)
    if container.emits:
        emits = (media.parse_media_type(container.emits).type,)
    return accepts, emits


def _image(container: ContainerSpec, region: str) -> tuple[str, str | None]:
    if container.image is not None:
        return container.image, None
    assert container.builtin is not None
    try:
        return builtins.builtin_image_uri(
            container.builtin.algorithm, container.builtin.version, region
        ), None
    except ValueError as exc:
        return f"<{container.builtin.algorithm}:{container.builtin.version}>", str(exc)


def _choose_default_accept(
    emits: tuple[str, ...] | None, next_accepts: tuple[str, ...] | None
) -> str:
    """What a non-final container should answer when Accept is absent: CSV if it can."""
    candidates = list(emits or (media.CSV,))
    if next_accepts:
        shared = [t for t in candidates if t in next_accepts]
        candidates = shared or candidates
    return media.CSV if media.CSV in candidates else candidates[0]


def _moves_schema_into_artifact(
    container: ContainerSpec, image: str, environment: dict[str, str]
) -> bool:
    schema = environment.get(SPARKML_SCHEMA_VAR, "")
    local_artifact = container.artifact is not None and not container.artifact.startswith("s3://")
    return len(schema) > ENV_VALUE_LIMIT and builtins.is_inferpipe_image(image) and local_artifact


def resolve_containers(model: ModelSpec, region: str) -> list[ResolvedContainer]:
    """The containers of one model as SageMaker will run them."""
    images = [_image(c, region) for c in model.containers]
    known = [_known_media(c, image) for c, (image, _) in zip(model.containers, images, strict=True)]
    resolved = []
    for index, container in enumerate(model.containers):
        image, image_error = images[index]
        accepts, emits = known[index]
        environment = dict(container.environment)
        files: dict[str, str] = {}
        is_last = index == len(model.containers) - 1
        if (
            not is_last
            and model.execution_mode == "Serial"
            and DEFAULT_ACCEPT_VAR not in environment
        ):
            environment[DEFAULT_ACCEPT_VAR] = _choose_default_accept(emits, known[index + 1][0])
        if _moves_schema_into_artifact(container, image, environment):
            files[SCHEMA_FILE] = environment.pop(SPARKML_SCHEMA_VAR)
        resolved.append(
            ResolvedContainer(
                name=container.name,
                image=image,
                artifact=container.artifact,
                environment=environment,
                hostname=container.hostname,
                accepts=accepts,
                emits=emits,
                artifact_files=files,
                image_error=image_error,
            )
        )
    return resolved


def artifact_url(spec: PipelineSpec, model_key: str, container: ResolvedContainer) -> str | None:
    """Where a container's model.tar.gz lives in S3 (local artifacts go under artifact_bucket)."""
    if container.artifact is None:
        return None
    if container.artifact.startswith("s3://"):
        return container.artifact
    bucket = (spec.artifact_bucket or "s3://ARTIFACT_BUCKET_NOT_SET").rstrip("/")
    return f"{bucket}/{spec.endpoint}/{model_key}/{container.name}/model.tar.gz"


def content_name(base: str, content: object) -> str:
    """`base-<8 hex>` from the content's hash: SageMaker models and configs are immutable,
    so a changed model gets a new name and an unchanged one keeps its name."""
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:8]
    return f"{base[: 63 - 9]}-{digest}"
