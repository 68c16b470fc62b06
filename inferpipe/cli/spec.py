"""`inferpipe spec …`: validate, render, print the schema of, and import pipeline specs."""

from __future__ import annotations

import argparse
from pathlib import Path

from inferpipe.cli._common import (
    EXIT_OK,
    SubParsers,
    add_chain_check_option,
    progress,
    run_chain_check,
)


def run_spec_validate(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.loader import load_spec

    spec = load_spec(args.spec)
    variants = ", ".join(f"{v.name} ({v.weight:g})" for v in spec.variants)
    print(
        f"{args.spec}: valid: endpoint {spec.endpoint} in {spec.region}, "
        f"{len(spec.models)} model(s), variants {variants}"
    )
    from inferpipe.pipeline_spec.fusion import describe, marked_models

    for line in describe(spec, marked_models(spec)):
        print(f"fuse: {line}")
    run_chain_check(args, spec, report=print)
    return EXIT_OK


def run_spec_render(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.loader import load_spec
    from inferpipe.pipeline_spec.write import write_rendered

    for path in write_rendered(load_spec(args.spec), args.out):
        print(path)
    return EXIT_OK


def run_spec_fuse(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.errors import SpecError
    from inferpipe.pipeline_spec.fusion import describe, write_fused_spec
    from inferpipe.pipeline_spec.loader import load_spec

    spec = load_spec(args.spec)
    unknown = sorted(set(args.model or ()) - set(spec.models))
    if unknown:
        raise SpecError(
            f"no model {', '.join(unknown)} in {args.spec}; models: {', '.join(spec.models)}"
        )
    if args.output.resolve() == args.spec.resolve():
        raise SpecError("-o must name a new file: the spec you pass is never rewritten")
    models = args.model or sorted(spec.models)
    artifacts = args.artifacts or args.output.with_name(f"{args.output.stem}-artifacts")
    for line in describe(spec, models):
        progress(line)
    runs = write_fused_spec(spec, args.spec.resolve().parent, args.output, artifacts, models)
    for run in runs:
        progress(f"wrote {artifacts / run.model / run.name}/ ({len(run.members)} stages)")
    print(args.output)
    return EXIT_OK


def run_spec_schema(args: argparse.Namespace) -> int:
    import json

    from inferpipe.pipeline_spec.model import PipelineSpec

    print(json.dumps(PipelineSpec.model_json_schema(), indent=2))
    return EXIT_OK


def run_spec_import(args: argparse.Namespace) -> int:
    import yaml

    from inferpipe.pipeline_spec.aws_clients import aws_client
    from inferpipe.pipeline_spec.importer import import_endpoint

    document = import_endpoint(
        args.endpoint,
        args.region,
        aws_client("sagemaker", args.region),
        aws_client("application-autoscaling", args.region),
    )
    print(yaml.safe_dump(document, sort_keys=False), end="")
    return EXIT_OK


def add_commands(commands: SubParsers) -> None:
    """`spec validate|render|fuse|schema|import`."""
    spec = commands.add_parser(
        "spec",
        help="validate, render or describe a pipeline spec",
        description="Work with one YAML pipeline spec (see README).",
    )
    spec_commands = spec.add_subparsers(dest="spec_command", metavar="SUBCOMMAND", required=True)
    validate = spec_commands.add_parser(
        "validate", help="check a spec; every error names its field and the fix"
    )
    validate.add_argument("spec", type=Path)
    add_chain_check_option(validate)
    validate.set_defaults(run=run_spec_validate)
    render = spec_commands.add_parser(
        "render",
        help="write the boto3 requests (checked against botocore) and a CloudFormation template",
    )
    render.add_argument("spec", type=Path)
    render.add_argument("--out", type=Path, required=True, help="output directory")
    render.set_defaults(run=run_spec_render)
    fuse = spec_commands.add_parser(
        "fuse",
        help="write a copy of the spec whose adjacent inferpipe containers run as one",
        description=(
            "Merge adjacent inferpipe containers (preprocess/postprocess images, local "
            "artifacts, Serial mode) of each model into one container that runs them in "
            "process: fewer hops, the same answers and errors. Writes the fused spec "
            "and, beside it, each fused container's artifact (stages/NN-<name>/ and "
            "fused.json). `fuse: true` on a model does the same at deploy and local up."
        ),
    )
    fuse.add_argument("spec", type=Path)
    fuse.add_argument("-o", "--output", type=Path, required=True, help="the fused spec to write")
    fuse.add_argument(
        "--model", action="append", help="fuse only this model (repeatable; default: all)"
    )
    fuse.add_argument(
        "--artifacts",
        type=Path,
        help="where the fused artifacts go (default: <OUTPUT stem>-artifacts/ beside it)",
    )
    fuse.set_defaults(run=run_spec_fuse)
    schema = spec_commands.add_parser(
        "schema", help="print the spec's JSON Schema (for editor completion)"
    )
    schema.set_defaults(run=run_spec_schema)
    imported = spec_commands.add_parser(
        "import", help="write a spec (YAML, stdout) from a running endpoint"
    )
    imported.add_argument("endpoint")
    imported.add_argument("--region", required=True)
    imported.set_defaults(run=run_spec_import)
