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
from dataclasses import replace
from pathlib import Path
from typing import Any

from inferpipe.protocol.chain import ChainError, ChainRequest, Hop, run_chain
from inferpipe.protocol.errors import ConfigError, StageFailed
from inferpipe.serving.chain_transport import InProcessTransport

logger = logging.getLogger(__name__)

#: Records per request inside an executor (a MultiRecord mini-batch).
RECORDS_PER_CALL = 500


class StageChain:
    """The pipeline's stages loaded in this process, run by the chain runner."""

    def __init__(self, hops: list[Hop]) -> None:
        self.hops = hops
        self.transport = InProcessTransport(hops)

    def invoke(self, body: bytes, content_type: str, accept: str | None) -> tuple[bytes, str]:
        """Run one request body through every stage; returns the last body and its type."""
        try:
            result = run_chain(self.hops, ChainRequest(body, content_type, accept), self.transport)
        except ChainError as error:
            raise StageFailed(error.message) from error
        return result.body, result.content_type


_loaded: dict[tuple[str, ...], StageChain] = {}


def _archive_name(hop: Hop) -> str:
    return f"{Path(hop.target).name}.tar.gz"


def _pack(hop: Hop) -> Path:
    """The model dir as a .tar.gz beside it: Spark ships archives (not directories) to any
    cluster and unpacks them on each executor."""
    source = Path(hop.target)
    target = source.parent / _archive_name(hop)
    with tarfile.open(target, "w:gz") as archive:
        for path in sorted(source.rglob("*")):
            archive.add(path, arcname=str(path.relative_to(source)), recursive=False)
    return target


def _chain(hops: list[Hop]) -> StageChain:
    """This Python worker's chain, loaded on first use (model dirs fetched via SparkFiles)."""
    from pyspark import SparkFiles

    key = tuple(hop.target for hop in hops)
    if key not in _loaded:
        local = [replace(hop, target=SparkFiles.get(_archive_name(hop))) for hop in hops]
        _loaded[key] = StageChain(local)
    return _loaded[key]


def score_partitions(
    hops: list[Hop], content_type: str, accept: str | None
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
    hops: list[Hop],
    source: Path,
    target: Path,
    master: str | None,
    content_type: str,
    accept: str | None,
    progress: Callable[[str], None],
    python: str | None = None,
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
    # Python workers run `python` (this interpreter, the one inferpipe is installed in,
    # unless the caller says otherwise: PYSPARK_PYTHON, read by the CLI).
    builder = builder.config("spark.pyspark.python", python or sys.executable)
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
