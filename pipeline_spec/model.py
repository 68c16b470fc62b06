"""The pipeline spec: frozen pydantic models of one YAML file (pure data, no I/O).

Keys are snake_case; the renderers produce AWS's PascalCase. Per-field rules live
here; rules that span fields (chains, references, limits) live in `validation.py`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
ROLE_PATTERN = r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$"
S3_PATTERN = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$"

Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=63)]
S3Uri = Annotated[str, Field(pattern=S3_PATTERN)]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BuiltinSpec(_Spec):
    """A SageMaker built-in algorithm, resolved to its regional image."""

    algorithm: Literal["xgboost", "linear-learner", "sklearn", "sparkml-serving"]
    version: str


class LocalSpec(_Spec):
    """Overrides for local runs (issue #4): the image or stage to use instead."""

    image: str | None = None
    stage: str | None = None


class ContainerSpec(_Spec):
    name: Name
    image: str | None = None
    builtin: BuiltinSpec | None = None
    artifact: str | None = None
    environment: dict[str, str] = Field(default_factory=dict)
    hostname: Name | None = None
    accepts: str | None = None
    emits: str | None = None
    local: LocalSpec | None = None

    @model_validator(mode="after")
    def _image_or_builtin(self) -> ContainerSpec:
        if (self.image is None) == (self.builtin is None):
            raise ValueError(
                "give exactly one of `image` (a URI) or `builtin` ({algorithm, version})"
            )
        return self


SubnetId = Annotated[str, Field(pattern=r"^subnet-([0-9a-fA-F]{8}|[0-9a-fA-F]{17})$")]
SecurityGroupId = Annotated[str, Field(pattern=r"^sg-([0-9a-fA-F]{8}|[0-9a-fA-F]{17})$")]


class VpcSpec(_Spec):
    subnets: list[SubnetId] = Field(min_length=1, max_length=16)
    security_group_ids: list[SecurityGroupId] = Field(min_length=1, max_length=5)


class ModelSpec(_Spec):
    role: Annotated[str, Field(pattern=ROLE_PATTERN)]
    execution_mode: Literal["Serial", "Direct"] = "Serial"
    network_isolation: bool = False
    vpc: VpcSpec | None = None
    containers: list[ContainerSpec] = Field(min_length=1)
    tags: dict[str, str] = Field(default_factory=dict)
    #: Run adjacent inferpipe containers as one (see `inferpipe spec fuse`).
    fuse: bool = False


class AutoscalingSpec(_Spec):
    """Target tracking on invocations per instance per minute.

    Give `target_invocations` directly, or `max_rps` measured for one instance: the
    target is then MAX_RPS * SAFETY_FACTOR * 60.
    """

    min_capacity: int = Field(ge=1)
    max_capacity: int = Field(ge=1)
    target_invocations: float | None = Field(default=None, gt=0)
    max_rps: float | None = Field(default=None, gt=0)
    safety_factor: float = Field(default=0.5, gt=0, le=1)
    scale_in_cooldown: int = Field(default=300, ge=0)
    scale_out_cooldown: int = Field(default=60, ge=0)

    @property
    def target_value(self) -> float:
        if self.target_invocations is not None:
            return self.target_invocations
        assert self.max_rps is not None
        return round(self.max_rps * self.safety_factor * 60, 2)


class ServerlessSpec(_Spec):
    memory_size_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144]
    max_concurrency: int = Field(ge=1, le=200)


class VariantSpec(_Spec):
    name: Name
    model: str
    instance_type: Annotated[str, Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")] | None = None
    instance_count: int = Field(default=1, ge=1)
    weight: float = Field(default=1.0, ge=0)
    shadow: bool = False
    autoscaling: AutoscalingSpec | None = None
    serverless: ServerlessSpec | None = None


class DataCaptureSpec(_Spec):
    destination: S3Uri
    sampling_percentage: int = Field(default=100, ge=0, le=100)
    capture: tuple[Literal["Input", "Output"], ...] = Field(
        default=("Input", "Output"), min_length=1
    )
    kms_key_id: str | None = None


class DataProcessingSpec(_Spec):
    """Batch transform's DataProcessing: filter each record before the first container,
    join the answer to the input record and filter the result (SageMaker's JSONPath subset)."""

    input_filter: str = "$"
    output_filter: str = "$"
    join_source: Literal["None", "Input"] = "None"


class TransformSpec(_Spec):
    """A batch transform job over S3 input with one pipeline model."""

    model: str
    input: S3Uri
    output: S3Uri
    content_type: str = "text/csv"
    accept: str | None = None
    split_type: Literal["None", "Line", "RecordIO", "TFRecord"] = "Line"
    assemble_with: Literal["None", "Line"] = "Line"
    strategy: Literal["MultiRecord", "SingleRecord"] = "MultiRecord"
    max_payload_mb: int = Field(default=6, ge=0, le=100)
    max_concurrent_transforms: int = Field(default=1, ge=1)
    instance_type: Annotated[str, Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")] = "ml.m5.large"
    instance_count: int = Field(default=1, ge=1)
    data_processing: DataProcessingSpec | None = None


class PipelineSpec(_Spec):
    """One endpoint: its pipeline models, variants and optional batch job."""

    spec_version: Literal[1]
    endpoint: Name
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")]
    artifact_bucket: S3Uri | None = None
    models: dict[str, ModelSpec] = Field(min_length=1)
    variants: list[VariantSpec] = Field(min_length=1, max_length=10)
    data_capture: DataCaptureSpec | None = None
    transform: TransformSpec | None = None
    tags: dict[str, str] = Field(default_factory=dict)
