"""Rules that span fields of a spec, checked before anything reaches AWS.

Each problem names its field path and the fix. Limits are SageMaker's:
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModel.html
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ContainerDefinition.html
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariant.html
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from inferpipe.pipeline_spec import builtins, jsonpath
from inferpipe.pipeline_spec.model import (
    DataProcessingSpec,
    ModelSpec,
    PipelineSpec,
    TransformSpec,
    VariantSpec,
)
from inferpipe.pipeline_spec.resolve import (
    DEFAULT_ACCEPT_VAR,
    ENV_VALUE_LIMIT,
    SPARKML_SCHEMA_VAR,
    ResolvedContainer,
    resolve_containers,
)
from inferpipe.protocol import media

MAX_CONTAINERS = 15
MODEL_ENV_LIMIT = 32 * 1024
LINE_SPLIT_TYPES = {media.CSV, media.JSONLINES, media.LIBSVM}
DATA_PROCESSING_TYPES = {media.CSV, media.JSON, media.JSONLINES}
DEFAULT_BUCKET = re.compile(r"^s3://sagemaker-(?P<region>[a-z]{2}(-[a-z]+)+-\d)-\d{12}(/|$)")

Issue = tuple[str, str]


def _containers(path: str, model: ModelSpec) -> Iterator[Issue]:
    count = len(model.containers)
    if count > MAX_CONTAINERS:
        yield (
            f"{path}.containers",
            f"{count} containers; a SageMaker pipeline model takes at "
            f"most {MAX_CONTAINERS}: merge adjacent stages into one container",
        )
    names = [c.name for c in model.containers]
    for name in sorted({n for n in names if names.count(n) > 1}):
        yield f"{path}.containers", f"container name {name!r} repeats; names must be unique"
    if model.fuse and model.execution_mode == "Direct":
        yield (
            f"{path}.fuse",
            "Direct mode calls one container per request, so there is nothing to fuse: "
            "remove `fuse: true` or use Serial mode",
        )
    hostnames = [c.hostname for c in model.containers]
    if model.execution_mode == "Direct" and not all(hostnames):
        missing = [c.name for c in model.containers if not c.hostname]
        yield (
            f"{path}.execution_mode",
            f"Direct mode invokes containers by hostname: set `hostname` on {missing}",
        )
    elif any(hostnames) and not all(hostnames):
        missing = [c.name for c in model.containers if not c.hostname]
        yield (
            f"{path}.containers",
            f"`hostname` is set on some containers but not on "
            f"{missing}; SageMaker needs it on all or none",
        )


def _images_and_artifacts(
    path: str, spec: PipelineSpec, resolved: list[ResolvedContainer]
) -> Iterator[Issue]:
    for index, container in enumerate(resolved):
        where = f"{path}.containers[{index}]"
        if container.image_error:
            yield f"{where}.builtin", container.image_error
        ecr = builtins.parse_ecr_uri(container.image)
        if ecr and ecr.region != spec.region:
            yield (
                f"{where}.image",
                f"image is in {ecr.region} but the model is in "
                f"{spec.region}; push the image to {spec.region} (./build.sh push "
                f"--registry ACCOUNT.dkr.ecr.{spec.region}.amazonaws.com)",
            )
        artifact = container.artifact
        if artifact is None:
            continue
        if artifact.startswith("s3://"):
            if not artifact.endswith(".tar.gz"):
                yield (
                    f"{where}.artifact",
                    f"{artifact!r} must point to a model.tar.gz; "
                    "SageMaker unpacks a gzipped tar into /opt/ml/model",
                )
            bucket = DEFAULT_BUCKET.match(artifact)
            if bucket and bucket["region"] != spec.region:
                yield (
                    f"{where}.artifact",
                    f"bucket is in {bucket['region']} but the model "
                    f"is in {spec.region}; copy the artifact to a {spec.region} bucket",
                )


def _environment(path: str, resolved: list[ResolvedContainer]) -> Iterator[Issue]:
    total = 0
    for index, container in enumerate(resolved):
        for key, value in container.environment.items():
            total += len(key) + len(value)
            if len(value) <= ENV_VALUE_LIMIT:
                continue
            where = f"{path}.containers[{index}].environment.{key}"
            if key == SPARKML_SCHEMA_VAR and builtins.is_inferpipe_image(container.image):
                fix = (
                    "give the container a local `artifact` directory, and inferpipe moves "
                    "the schema into the artifact as schema.json"
                )
            elif key == SPARKML_SCHEMA_VAR:
                fix = (
                    "AWS's sparkml-serving image reads the schema only from this variable: "
                    "use inferpipe-preprocess, which reads schema.json from the artifact"
                )
            else:
                fix = "put the value in a file inside the artifact"
            yield (
                where,
                f"{len(value)} characters; SageMaker allows {ENV_VALUE_LIMIT} per "
                f"environment value: {fix}",
            )
    if total > MODEL_ENV_LIMIT:
        yield (
            f"{path}.containers",
            f"the environment totals {total} characters; SageMaker "
            f"allows {MODEL_ENV_LIMIT} per model: move large values into artifacts",
        )


def _chain(path: str, model: ModelSpec, resolved: list[ResolvedContainer]) -> Iterator[Issue]:
    if model.execution_mode != "Serial":
        return
    for index in range(len(resolved) - 1):
        current, following = resolved[index], resolved[index + 1]
        sent = media.parse_media_type(current.environment[DEFAULT_ACCEPT_VAR]).type
        where = f"{path}.containers[{index}]"
        if current.emits is not None and sent not in current.emits:
            yield (
                f"{where}.environment.{DEFAULT_ACCEPT_VAR}",
                f"{current.name} cannot emit {sent}; it emits {', '.join(current.emits)}",
            )
        elif following.accepts is not None and sent not in following.accepts:
            yield (
                f"{where}.emits",
                f"{current.name} sends {sent} but {following.name} "
                f"accepts {', '.join(following.accepts)}: set {current.name}'s `emits` "
                f"to one of those, or change {following.name}",
            )


def _variants(spec: PipelineSpec) -> Iterator[Issue]:
    names = [v.name for v in spec.variants]
    for name in sorted({n for n in names if names.count(n) > 1}):
        yield "variants", f"variant name {name!r} repeats; names must be unique"
    live = [v for v in spec.variants if not v.shadow]
    if not live:
        yield "variants", "every variant is a shadow; one must serve traffic"
    elif all(v.weight == 0 for v in live):
        yield "variants", "every weight is 0; give at least one variant a positive weight"
    if sum(v.shadow for v in spec.variants) > 1:
        yield "variants", "SageMaker allows one shadow variant per endpoint"
    for index, variant in enumerate(spec.variants):
        yield from _variant(f"variants[{index}]", spec, variant)


def _variant(path: str, spec: PipelineSpec, variant: VariantSpec) -> Iterator[Issue]:
    model = spec.models.get(variant.model)
    if model is None:
        yield (f"{path}.model", f"no model {variant.model!r}; models: {', '.join(spec.models)}")
    if variant.serverless is not None:
        if variant.instance_type is not None:
            yield f"{path}.serverless", "give `serverless` or `instance_type`, not both"
        if model is not None and len(model.containers) > 1:
            yield (
                f"{path}.serverless",
                "SageMaker serverless endpoints do not support "
                "inference pipelines (multi-container models): use `instance_type`",
            )
        if len(spec.variants) > 1:
            yield (
                f"{path}.serverless",
                "SageMaker serverless endpoints take one variant "
                "only: remove the others or use `instance_type`",
            )
        if variant.autoscaling is not None:
            yield f"{path}.autoscaling", "serverless variants scale by themselves; remove it"
    elif variant.instance_type is None:
        yield f"{path}.instance_type", "set an instance type (e.g. ml.m5.large) or `serverless`"
    scaling = variant.autoscaling
    if scaling is not None:
        if scaling.min_capacity > scaling.max_capacity:
            yield (
                f"{path}.autoscaling",
                f"min_capacity {scaling.min_capacity} is above max_capacity {scaling.max_capacity}",
            )
        if (scaling.target_invocations is None) == (scaling.max_rps is None):
            yield (
                f"{path}.autoscaling",
                "give exactly one of `target_invocations` or "
                "`max_rps` (target = max_rps * safety_factor * 60)",
            )


def _transform(spec: PipelineSpec) -> Iterator[Issue]:
    job = spec.transform
    if job is None:
        return
    if job.model not in spec.models:
        yield "transform.model", f"no model {job.model!r}; models: {', '.join(spec.models)}"
    content_type = media.parse_media_type(job.content_type).type
    if job.split_type == "Line" and content_type not in LINE_SPLIT_TYPES:
        yield (
            "transform.split_type",
            f"Line splitting cuts {content_type} records apart; "
            "use split_type None (one file per request) or a line format such as "
            "text/csv or application/jsonlines",
        )
    if job.split_type == "RecordIO" and content_type != "application/x-recordio-protobuf":
        yield "transform.split_type", f"RecordIO splitting needs RecordIO input, not {content_type}"
    if job.assemble_with == "Line" and job.split_type == "None" and job.strategy == "MultiRecord":
        yield (
            "transform.strategy",
            "MultiRecord batches need a split_type to cut records; "
            "with split_type None use strategy SingleRecord",
        )
    if job.data_processing is not None:
        yield from _data_processing(job.data_processing, job, content_type)


def _data_processing(
    processing: DataProcessingSpec, job: TransformSpec, content_type: str
) -> Iterator[Issue]:
    """SageMaker's rules for DataProcessing: CSV / JSON / JSON Lines in and out, CSV by line,
    and filters in its JSONPath subset (CSV rows are arrays: positions only)."""
    path = "transform.data_processing"
    if content_type not in DATA_PROCESSING_TYPES:
        yield (
            f"{path}",
            f"DataProcessing works on {', '.join(sorted(DATA_PROCESSING_TYPES))} records, "
            f"not {content_type}",
        )
        return
    accept = media.parse_media_type(job.accept).type if job.accept else content_type
    if accept != content_type:
        yield (
            "transform.accept",
            f"with DataProcessing the answers must be {content_type} like the input "
            f"(SageMaker joins and filters them as the same format), not {accept}",
        )
    if content_type != media.JSON and (job.split_type != "Line" or job.assemble_with != "Line"):
        yield (
            "transform.split_type",
            f"DataProcessing on {content_type} needs split_type Line and assemble_with Line "
            "(each line is a record)",
        )
    for key in ("input_filter", "output_filter"):
        try:
            parsed = jsonpath.parse(getattr(processing, key))
        except jsonpath.JsonPathError as exc:
            yield f"{path}.{key}", str(exc)
            continue
        if content_type == media.CSV and not parsed.by_position_only:
            yield (
                f"{path}.{key}",
                f"{parsed.text!r} selects by name, but a CSV record is an array: use "
                "positions such as $[1:] or $[0,-1]",
            )


def find_deploy_issues(spec: PipelineSpec) -> list[Issue]:
    """Problems that only matter for AWS (local runs use local artifacts as they are)."""
    issues = []
    if spec.artifact_bucket is None:
        for key, model in spec.models.items():
            for index, container in enumerate(model.containers):
                if container.artifact and not container.artifact.startswith("s3://"):
                    issues.append(
                        (
                            f"models.{key}.containers[{index}].artifact",
                            f"{container.artifact!r} is a local path: set top-level "
                            "`artifact_bucket` (s3://...) so `inferpipe package` can "
                            "upload it",
                        )
                    )
    return issues


def find_issues(spec: PipelineSpec) -> list[Issue]:
    """Every cross-field problem in `spec`, as (field path, message with the fix)."""
    issues: list[Issue] = []
    for key, model in spec.models.items():
        path = f"models.{key}"
        resolved = resolve_containers(model, spec.region)
        issues += _containers(path, model)
        issues += _images_and_artifacts(path, spec, resolved)
        issues += _environment(path, resolved)
        issues += _chain(path, model, resolved)
    issues += _variants(spec)
    issues += _transform(spec)
    return issues
