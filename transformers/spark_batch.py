"""`inferpipe batch`: score a whole pipeline inside Spark executors, stage by stage in-process.

Each executor loads the pipeline's stages once (the same Stage classes the images
serve) and runs every partition through them with `mapInPandas`, passing bodies from
hop to hop with SageMaker's header flow: container N+1 gets container N's response
type, only the last container gets the requested Accept, the others answer their
SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT. Records are lines (CSV or JSON Lines), so the
output holds one line per input line, in order, as the local endpoint's transform does.
`local[*]` by default; any Spark master when one is given (model dirs travel as
archives, `SparkContext.addArchive`). pyspark is imported here only (`inferpipe[spark]`).
"""

from __future__ import annotations

import logging
import sys
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inferpipe.serving.errors import ConfigError, InferpipeError, StageFailed
from inferpipe.serving.media import parse_media_type
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage import InvocationRequest, Stage, response_type
from inferpipe.serving.stage_loader import load_stage

logger = logging.getLogger(__name__)

#: Records per request inside an executor (a MultiRecord mini-batch).
RECORDS_PER_CALL = 500


@dataclass(frozen=True)
class ChainHop:
    """One container of the pipeline: its name, model dir and environment."""

    name: str
    model_dir: str
    environment: dict[str, str]


class StageChain:
    """The pipeline's stages loaded in this process, called in order."""

    def __init__(self, hops: list[ChainHop], model_dirs: list[Path]) -> None:
        self.names = [hop.name for hop in hops]
        self.stages: list[tuple[Stage, ServingSettings]] = []
        for hop, model_dir in zip(hops, model_dirs, strict=True):
            environment = {**hop.environment, "INFERPIPE_MODEL_DIR": str(model_dir)}
            settings = ServingSettings.from_environ(environment)
            self.stages.append((load_stage(settings), settings))

    def invoke(self, body: bytes, content_type: str, accept: str | None) -> tuple[bytes, str]:
        """Run one request body through every stage; returns the last body and its type."""
        for index, (stage, settings) in enumerate(self.stages):
            last = index == len(self.stages) - 1
            media_range = parse_media_type(content_type)
            answer_type = response_type(stage, settings, media_range.type, accept if last else None)
            request = InvocationRequest(body, media_range, answer_type, request_id="batch")
            try:
                response = stage.invoke(request)
            except InferpipeError as exc:
                raise StageFailed(
                    f"container {self.names[index]!r} answered {exc.status}: {exc.message}"
                ) from exc
            body, content_type = response.body, response.content_type
        return body, content_type


_loaded: dict[tuple[str, ...], StageChain] = {}


def _archive_name(hop: ChainHop) -> str:
    return f"{Path(hop.model_dir).name}.tar.gz"


def _pack(hop: ChainHop) -> Path:
    """The model dir as a .tar.gz beside it: Spark ships archives (not directories) to any
    cluster and unpacks them on each executor."""
    source = Path(hop.model_dir)
    target = source.parent / _archive_name(hop)
    with tarfile.open(target, "w:gz") as archive:
        for path in sorted(source.rglob("*")):
            archive.add(path, arcname=str(path.relative_to(source)), recursive=False)
    return target


def _chain(hops: list[ChainHop]) -> StageChain:
    """This Python worker's chain, loaded on first use (model dirs fetched via SparkFiles)."""
    from pyspark import SparkFiles

    key = tuple(hop.model_dir for hop in hops)
    if key not in _loaded:
        dirs = [Path(SparkFiles.get(_archive_name(hop))) for hop in hops]
        _loaded[key] = StageChain(hops, dirs)
    return _loaded[key]


def score_partitions(
    hops: list[ChainHop], content_type: str, accept: str | None
) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The mapInPandas function: lines in, scored lines out (one per input line)."""

    def score(batches: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        chain = _chain(hops)
        for batch in batches:
            lines = [line for line in batch["value"].tolist() if line.strip()]
            out: list[str] = []
            for start in range(0, len(lines), RECORDS_PER_CALL):
                chunk = lines[start : start + RECORDS_PER_CALL]
                body, _ = chain.invoke(("\n".join(chunk) + "\n").encode(), content_type, accept)
                answer = body.decode().splitlines()
                if len(answer) != len(chunk):
                    raise StageFailed(
                        f"the pipeline answered {len(answer)} lines for {len(chunk)} records; "
                        "batch scoring needs one line per record (CSV or JSON Lines output)"
                    )
                out.extend(answer)
            yield pd.DataFrame({"value": out})

    return score


def run_batch(
    hops: list[ChainHop],
    source: Path,
    target: Path,
    master: str | None,
    content_type: str,
    accept: str | None,
    progress: Callable[[str], None],
) -> int:
    """Score every line of every file under `source` into `target/<file>.out/part-*`.

    Returns the number of records written."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigError("inferpipe batch needs pyspark: pip install 'inferpipe[spark]'") from exc
    if not source.exists():
        raise ConfigError(f"--input {source} does not exist")
    builder = (
        SparkSession.builder.appName("inferpipe-batch")
        .config("spark.ui.enabled", "false")
        # Python workers must not put the working directory first on sys.path (-P).
        .config("spark.executorEnv.PYTHONSAFEPATH", "1")
    )
    master = master or "local[*]"
    if master.startswith("local"):
        # Local workers run this interpreter, the one inferpipe is installed in.
        builder = builder.config("spark.pyspark.python", sys.executable)
    spark = builder.master(master).getOrCreate()
    try:
        for hop in hops:
            spark.sparkContext.addArchive(str(_pack(hop)))
        files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
        progress(
            f"scoring {len(files)} file(s) on {spark.sparkContext.master}, {len(hops)} stage(s)"
        )
        score = score_partitions(hops, content_type, accept)
        count = 0
        for path in files:
            # One job per input file keeps each output in its input's order (Spark orders
            # the splits of several files by size); outputs mirror the local transform.
            destination = (
                target / f"{path.relative_to(source) if source.is_dir() else path.name}.out"
            )
            lines = spark.read.text(str(path))
            lines.mapInPandas(score, "value string").write.mode("overwrite").text(str(destination))
            written = spark.read.text(str(destination)).count()
            progress(f"{path.name}: {written} record(s) -> {destination}")
            count += written
        return count
    finally:
        spark.stop()
