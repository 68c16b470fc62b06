"""Batch transform's DataProcessing applied to local records, as SageMaker documents it.

Each record (a CSV line as an array of fields, a JSON Lines line, or a whole JSON file) is
cut by `input_filter` before the first container; after the last one, with
`join_source: Input` the answer is joined to the *original* record (CSV: the answer's
fields appended; JSON: the record object gains `SageMakerOutput`, or a record that is
not an object becomes `{"SageMakerInput": ..., "SageMakerOutput": ...}`), and
`output_filter` selects what is written. CSV fields are kept as their text, so an
unfiltered field is written back byte for byte.
https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from inferpipe.pipeline_spec import jsonpath
from inferpipe.pipeline_spec.errors import DeployError
from inferpipe.pipeline_spec.model import DataProcessingSpec
from inferpipe.protocol import media

OUTPUT_KEY = "SageMakerOutput"
INPUT_KEY = "SageMakerInput"


def _csv_fields(line: bytes, what: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(line.decode("utf-8"))))
    if len(rows) != 1:
        raise DeployError(f"{what} is not one CSV line (CSV fields cannot hold newlines here)")
    return rows[0]


def _csv_line(value: Any) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(value if isinstance(value, list) else [value])
    return buffer.getvalue().encode("utf-8")


def _json_value(text: bytes, what: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DeployError(f"{what} is not JSON: {exc}") from None


def _json_text(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class DataProcessor:
    """The three DataProcessing steps for one job's content type."""

    input_filter: jsonpath.JsonPath
    output_filter: jsonpath.JsonPath
    join: bool
    is_csv: bool

    @classmethod
    def for_job(
        cls, processing: DataProcessingSpec | None, content_type: str
    ) -> DataProcessor | None:
        """None when there is nothing to do (no DataProcessing, or all defaults)."""
        if processing is None:
            return None
        processor = cls(
            jsonpath.parse(processing.input_filter),
            jsonpath.parse(processing.output_filter),
            processing.join_source == "Input",
            media.parse_media_type(content_type).type == media.CSV,
        )
        if (
            processor.input_filter.is_root
            and processor.output_filter.is_root
            and not processor.join
        ):
            return None
        return processor

    def _decode(self, record: bytes, what: str) -> Any:
        return _csv_fields(record, what) if self.is_csv else _json_value(record, what)

    def _encode(self, value: Any) -> bytes:
        return _csv_line(value) if self.is_csv else _json_text(value)

    def _select(self, path: jsonpath.JsonPath, value: Any, what: str) -> Any:
        try:
            return path.select(value)
        except jsonpath.JsonPathError as exc:
            raise DeployError(f"{what}: {exc}") from None

    def filter_input(self, record: bytes, what: str) -> bytes:
        """What the first container receives for one record (no line ending)."""
        if self.input_filter.is_root:
            return record
        return self._encode(self._select(self.input_filter, self._decode(record, what), what))

    def finish(self, record: bytes, answer: bytes, what: str) -> bytes:
        """The output line for one record from the answer the last container gave."""
        if not self.join and self.output_filter.is_root:
            return answer
        output = self._decode(answer, f"{what}: the answer")
        if self.join:
            original = self._decode(record, what)
            if self.is_csv:
                output = original + output
            elif isinstance(original, dict):
                output = {**original, OUTPUT_KEY: output}
            else:
                output = {INPUT_KEY: original, OUTPUT_KEY: output}
        return self._encode(self._select(self.output_filter, output, f"{what}: output_filter"))

    def finish_batch(
        self, records: list[bytes], body: bytes, what: str, first: int = 1
    ) -> list[bytes]:
        """Output lines for a request of line records numbered from `first` in their file."""
        answers = [line for line in body.splitlines() if line.strip()]
        if len(answers) != len(records):
            raise DeployError(
                f"{what}: the pipeline answered {len(answers)} lines for {len(records)} "
                "records; joining and filtering need one answer line per record"
            )
        return [
            self.finish(record, answer, f"{what} record {number}")
            for number, (record, answer) in enumerate(zip(records, answers, strict=True), first)
        ]
