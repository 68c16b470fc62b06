"""A batch transform over local files, split and batched the way SageMaker's transform
jobs do, through the same containers as the local endpoint.

SplitType Line cuts files into records; MultiRecord packs as many as fit in
MaxPayloadInMB per request, SingleRecord sends one; SplitType None sends each file
whole. Each input file gives `<name>.out`, joined by AssembleWith.
https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform.html
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from inferpipe.pipeline_spec.errors import DeployError, SpecError
from inferpipe.pipeline_spec.local.data_processing import DataProcessor
from inferpipe.pipeline_spec.local.endpoint import LocalEndpoint
from inferpipe.pipeline_spec.local.engines import DockerEngine, ProcessEngine
from inferpipe.pipeline_spec.model import PipelineSpec, TransformSpec
from inferpipe.protocol import names

MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class BatchSummary:
    files: int
    requests: int
    records: int


def split_records(data: bytes, job: TransformSpec) -> list[bytes]:
    """One file's records: its lines (without line endings), or the whole file."""
    if job.split_type == "None":
        return [data]
    return [line for line in data.splitlines() if line.strip()]


def batches(records: list[bytes], job: TransformSpec) -> Iterator[list[bytes]]:
    """Records grouped per request: one each, or as many as fit in MaxPayloadInMB."""
    if job.split_type == "None" or job.strategy == "SingleRecord":
        yield from ([record] for record in records)
        return
    limit = max(job.max_payload_mb, 1) * MEGABYTE
    batch: list[bytes] = []
    size = 0
    for record in records:
        if len(record) + 1 > limit:
            raise DeployError(
                f"a record of {len(record) + 1} bytes exceeds MaxPayloadInMB ({job.max_payload_mb})"
            )
        if batch and size + len(record) + 1 > limit:
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += len(record) + 1
    if batch:
        yield batch


def payloads(data: bytes, job: TransformSpec) -> Iterator[tuple[bytes, int]]:
    """Request bodies for one file, with the number of records in each."""
    for batch in batches(split_records(data, job), job):
        yield _body(batch, job), len(batch)


def _body(batch: list[bytes], job: TransformSpec) -> bytes:
    return batch[0] if job.split_type == "None" else b"".join(r + b"\n" for r in batch)


def _requests(
    path: Path, job: TransformSpec, processor: DataProcessor | None
) -> tuple[list[bytes], list[list[bytes]]]:
    """A file's original records and the batches sent for them (input-filtered)."""
    originals = split_records(path.read_bytes(), job)
    if processor is None:
        return originals, list(batches(originals, job))
    filtered = [processor.filter_input(r, f"{path} record {n}") for n, r in enumerate(originals, 1)]
    return originals, list(batches(filtered, job))


def _progress_bar(done: int, total: int, label: str) -> str:
    filled = 30 * done // max(total, 1)
    return f"\r[{'#' * filled}{' ' * (30 - filled)}] {done}/{total} requests {label}"


def run_transform(
    endpoint: LocalEndpoint,
    variant: str,
    job: TransformSpec,
    input_dir: Path,
    output_dir: Path,
    write: Callable[[str], object] = sys.stderr.write,
) -> BatchSummary:
    """Transform every file under `input_dir` into `output_dir/<relative path>.out`."""
    files = sorted(p for p in input_dir.rglob("*") if p.is_file())
    if not files:
        raise DeployError(f"no input files under {input_dir}")
    headers = {names.CONTENT_TYPE: job.content_type}
    if job.accept:
        headers[names.ACCEPT] = job.accept
    processor = DataProcessor.for_job(job.data_processing, job.content_type)
    plan = [(path, *_requests(path, job, processor)) for path in files]
    total = sum(len(requests) for _, _, requests in plan)
    sent = records = 0
    for path, originals, requests in plan:
        outputs = []
        done = 0  # records of this file answered so far
        for batch in requests:
            answer = endpoint.invoke(_body(batch, job), headers, variant_name=variant)
            if answer.status != 200:
                raise DeployError(
                    f"transform of {path} failed at request {sent + 1}: "
                    f"{answer.body.decode(errors='replace')[:500]}"
                )
            if processor is None:
                outputs.append(answer.body)
            elif job.split_type == "None":
                outputs.append(processor.finish(originals[done], answer.body, str(path)))
            else:
                inputs = originals[done : done + len(batch)]
                lines = processor.finish_batch(inputs, answer.body, str(path), done + 1)
                outputs.append(b"".join(line + b"\n" for line in lines))
            sent += 1
            done += len(batch)
            write(_progress_bar(sent, total, path.name))
        records += done
        target = output_dir / path.relative_to(input_dir).with_name(path.name + ".out")
        target.parent.mkdir(parents=True, exist_ok=True)
        if job.assemble_with == "Line":
            joined = b"".join(o if o.endswith(b"\n") else o + b"\n" for o in outputs)
        else:
            joined = b"".join(outputs)
        target.write_bytes(joined)
    write("\n")
    return BatchSummary(len(files), sent, records)


def transform_locally(
    spec: PipelineSpec,
    spec_dir: Path,
    engine: ProcessEngine | DockerEngine,
    state_dir: Path,
    input_dir: Path,
    output_dir: Path,
    progress: Callable[[str], None],
) -> BatchSummary:
    """Start the transform model's containers, run the spec's batch transform over
    `input_dir`, and stop them again, whatever happens."""
    from inferpipe.pipeline_spec.local.front import pooled_transport
    from inferpipe.pipeline_spec.local.runner import TRANSFORM_VARIANT, start_local

    if spec.transform is None:
        raise SpecError("the spec has no `transform` section")
    deployment = start_local(
        spec,
        spec_dir,
        engine,
        state_dir / f"{spec.endpoint}-transform",
        pooled_transport(),
        progress,
    )
    try:
        return run_transform(
            deployment.endpoint, TRANSFORM_VARIANT, spec.transform, input_dir, output_dir
        )
    finally:
        deployment.stop()
