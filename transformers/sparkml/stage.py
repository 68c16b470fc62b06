"""The sparkml stage: Spark ML pipelines (MLeap bundles or Spark saves) served in Python.

A drop-in for AWS's SparkML container: the same `SAGEMAKER_SPARKML_SCHEMA`, payload
schema and media types, plus many rows per request, a schema file in the artifact
(`schema.json`, for schemas over the 1,024-character environment limit), real JSON
Lines output and 400s that name the record, the column and the expected type.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path
from typing import Any

from inferpipe.protocol import media, names
from inferpipe.protocol.errors import ArtifactError, InferpipeError, SchemaMismatch
from inferpipe.protocol.interface import Columns, StageInterface, columns
from inferpipe.serving.codecs import CodecRegistry
from inferpipe.serving.schema import (
    NUMERIC_TYPES,
    Column,
    Schema,
    load_schema_text,
    read_schema_file,
)
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage import InvocationRequest, InvocationResponse, Stage
from inferpipe.transformers.sparkml import payload, response
from inferpipe.transformers.sparkml.artifact import load_model
from inferpipe.transformers.sparkml.columns import Frame
from inferpipe.transformers.sparkml.convert import python_values
from inferpipe.transformers.sparkml.op import Op, Pipeline, columns_needed
from inferpipe.transformers.sparkml.response import SparkOutput

logger = logging.getLogger(__name__)

#: AWS's SparkML container formats, registered over the shared readers and writers.
SPARKML_CODECS: CodecRegistry[payload.Decoded, SparkOutput] = CodecRegistry(
    {
        media.CSV: payload.decode_csv,
        media.JSON: payload.decode_json,
        media.JSONLINES: payload.decode_jsonlines,
    },
    {
        media.CSV: response.encode_csv,
        media.JSONLINES: response.encode_jsonlines,
        media.JSONLINES_TEXT: response.encode_jsonlines_text,
        media.JSON: response.encode_json,
    },
)


def last_output(root: Op) -> str:
    """The column the pipeline's last op writes: the output when the schema names none."""
    leaves = root.flat() if isinstance(root, Pipeline) else [root]
    for op in reversed(leaves):
        if op.outputs:
            return op.outputs[0]
    raise SchemaMismatch("the pipeline has no ops, so it has no output; name one in the schema")


class SparkMLStage(Stage):
    """Decode AWS-format records, run the op pipeline, encode the output column."""

    kind = "sparkml"
    accepts = SPARKML_CODECS.decodable
    emits = SPARKML_CODECS.encodable

    def load(self, model_dir: Path, settings: ServingSettings) -> None:
        super().load(model_dir, settings)
        self.pipeline, what = load_model(model_dir)
        self.schema = self._configured_schema(model_dir, settings)
        if self.schema is not None:
            self._check_schema(self.schema)
        logger.info("sparkml: %s with %d ops", what, len(self.ops))

    def _check_schema(self, schema: Schema) -> None:
        """Fail the start when the configured schema cannot feed the pipeline."""
        needed, produced = columns_needed(self.ops)
        missing = [c for c in needed if c not in schema.names]
        if missing:
            raise ArtifactError(
                f"the schema's input columns {schema.names} lack {missing}, which the "
                "pipeline reads; fix SAGEMAKER_SPARKML_SCHEMA or schema.json"
            )
        if schema.output and schema.output.name not in produced | set(schema.names):
            raise ArtifactError(
                f"the schema's output {schema.output.name!r} is not a column the pipeline "
                f"writes; it writes {sorted(produced)}"
            )

    @property
    def ops(self) -> list[Op]:
        return self.pipeline.flat() if isinstance(self.pipeline, Pipeline) else [self.pipeline]

    def interface(self) -> StageInterface:
        """Inputs from the schema; the output width from one probe row through the
        pipeline, encoded as CSV (the width of a vector column is only known by running)."""
        if self.schema is None:
            return StageInterface(self.kind)
        return StageInterface(
            self.kind, columns(self.schema.names, "the input schema"), self._probe_outputs()
        )

    def _probe_outputs(self) -> Columns:
        assert self.schema is not None
        row = [self._probe_value(column) for column in self.schema.input]
        request = InvocationRequest(
            json.dumps({"data": row}).encode(),
            media.parse_media_type(media.JSON),
            media.CSV,
            "probe",
        )
        try:
            answer = self.invoke(request)
        except InferpipeError as exc:
            return Columns(source=f"a probe row through the pipeline failed: {exc.message}")
        first_line = answer.body.decode("utf-8").splitlines()[0]
        width = len(next(csv.reader(io.StringIO(first_line))))
        return Columns(width, None, "a probe row through the pipeline")

    def _probe_value(self, column: Column) -> Any:
        """A value the pipeline accepts: a label it indexes for strings, else zero."""
        if column.type == "string":
            for op in self.ops:
                labels = getattr(op, "labels", None)
                if column.name in op.inputs and isinstance(labels, list) and labels:
                    chosen = (
                        labels[op.inputs.index(column.name)]
                        if isinstance(labels[0], list)
                        else labels
                    )
                    if chosen:
                        return chosen[0]
            return "a"
        value: Any = 0.0 if column.type in NUMERIC_TYPES else False
        return [value] if column.struct != "basic" else value

    @staticmethod
    def _configured_schema(model_dir: Path, settings: ServingSettings) -> Schema | None:
        if settings.sparkml_schema:
            return load_schema_text(settings.sparkml_schema, names.SPARKML_SCHEMA)
        return read_schema_file(model_dir)

    def run(self, frame: Frame) -> Frame:
        """Apply the pipeline (the in-process path batch scoring also uses)."""
        return self.pipeline.apply(frame)

    def output_name(self, schema: Schema) -> str:
        return schema.output.name if schema.output else last_output(self.pipeline)

    def invoke(self, request: InvocationRequest) -> InvocationResponse:
        frame, schema = SPARKML_CODECS.decode(request.body, request.content_type, self.schema)
        result = self.run(frame)
        name = self.output_name(schema)
        output = result.get(name, "the response (schema output)")
        body = SPARKML_CODECS.encode(SparkOutput(python_values(output), name), request.accept)
        return InvocationResponse(body, media.bare_type(request.accept))
