"""`inferpipe batch`: score files through a spec's pipeline inside Spark executors."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from inferpipe.cli._common import EXIT_OK, SubParsers, progress


def run_batch(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.errors import SpecError
    from inferpipe.pipeline_spec.loader import load_spec
    from inferpipe.pipeline_spec.local.chain import batch_media, prepare_hops
    from inferpipe.transformers.spark_batch import run_batch as score_files

    if not args.input.exists():
        raise SpecError(f"--input {args.input} does not exist")
    spec = load_spec(args.spec)
    content_type, accept = batch_media(spec, args.content_type, args.accept)
    hops = prepare_hops(spec, args.spec.resolve().parent, args.state_dir / "batch")
    count = score_files(
        hops,
        args.input,
        args.output,
        args.master,
        content_type,
        accept,
        progress,
        python=os.environ.get("PYSPARK_PYTHON"),
    )
    print(f"{count} record(s) -> {args.output}")
    return EXIT_OK


def add_commands(commands: SubParsers) -> None:
    """`batch`."""
    batch = commands.add_parser(
        "batch",
        help="score files through a spec's pipeline inside Spark executors",
        description="Run every stage of the spec's transform model (else its first variant's) "
        "in-process inside Spark executors (mapInPandas), with SageMaker's header flow. "
        "Needs pyspark (inferpipe[spark]).",
    )
    batch.add_argument("spec", type=Path, help="the pipeline spec (YAML)")
    batch.add_argument("--input", type=Path, required=True, help="input file or directory")
    batch.add_argument("--output", type=Path, required=True, help="output directory (part files)")
    batch.add_argument("--master", help="Spark master URL (default local[*])")
    batch.add_argument("--content-type", help="input media type (default: the spec's, text/csv)")
    batch.add_argument("--accept", help="output media type (default: the spec's)")
    batch.add_argument(
        "--state-dir", type=Path, default=Path(".inferpipe/local"), help="where model dirs go"
    )
    batch.set_defaults(run=run_batch)
