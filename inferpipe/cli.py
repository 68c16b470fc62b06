"""The `inferpipe` command line; each subcommand imports its implementation only when run.

Exit codes: 0 success, 1 a failure (a container would not start, a check failed),
2 bad usage or a bad spec.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from inferpipe._version import __version__

if TYPE_CHECKING:
    from inferpipe.pipeline_spec.model import PipelineSpec

logger = logging.getLogger("inferpipe.cli")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _run_serve(args: argparse.Namespace) -> int:
    from inferpipe.serving.server import serve
    from inferpipe.serving.settings import ServingSettings

    settings = ServingSettings.from_environ(
        os.environ,
        model_dir=args.model_dir,
        port=args.port,
        stage=args.stage,
        workers=args.workers,
    )
    return serve(settings)


def _run_check_container(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.contract.runner import run_contract_checks

    return run_contract_checks(
        image=args.image,
        model_dir=args.model_dir,
        sample=args.sample,
        content_type=args.content_type,
        output_format=args.format,
        environment=dict(args.env or []),
        start_timeout=args.start_timeout,
    )


def _run_spec_validate(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.loader import load_spec

    spec = load_spec(args.spec)
    variants = ", ".join(f"{v.name} ({v.weight:g})" for v in spec.variants)
    print(
        f"{args.spec}: valid: endpoint {spec.endpoint} in {spec.region}, "
        f"{len(spec.models)} model(s), variants {variants}"
    )
    return EXIT_OK


def _run_spec_render(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.loader import load_spec
    from inferpipe.pipeline_spec.write import write_rendered

    for path in write_rendered(load_spec(args.spec), args.out):
        print(path)
    return EXIT_OK


def _run_spec_schema(args: argparse.Namespace) -> int:
    import json

    from inferpipe.pipeline_spec.model import PipelineSpec

    print(json.dumps(PipelineSpec.model_json_schema(), indent=2))
    return EXIT_OK


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _packaged(args: argparse.Namespace, upload: bool) -> PipelineSpec:
    """Load the spec, package its local artifacts, and (optionally) upload them."""
    from inferpipe.pipeline_spec.aws_clients import aws_client
    from inferpipe.pipeline_spec.loader import load_spec
    from inferpipe.pipeline_spec.package import package_spec, upload_artifacts

    spec = load_spec(args.spec)
    artifacts, packaged = package_spec(spec, args.spec.resolve().parent, args.build_dir)
    for artifact in artifacts:
        _progress(
            f"packaged {artifact.model}/{artifact.container}: {artifact.tarball} "
            f"-> {artifact.s3_url}"
        )
    if upload and artifacts:
        upload_artifacts(artifacts, aws_client("s3", spec.region), _progress)
    return packaged


def _run_package(args: argparse.Namespace) -> int:
    _packaged(args, upload=args.upload)
    return EXIT_OK


def _run_deploy(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.aws_clients import aws_client
    from inferpipe.pipeline_spec.deploy import deploy_spec

    spec = _packaged(args, upload=not args.dry_run)
    region = spec.region  # type: ignore[attr-defined]
    report = deploy_spec(
        spec,
        aws_client("sagemaker", region),  # type: ignore[arg-type]
        aws_client("application-autoscaling", region),
        _progress,
        dry_run=args.dry_run,
        alarms=args.alarm or None,
        poll_seconds=args.poll_seconds,
    )
    verb = "would create" if args.dry_run else "created"
    for line in report.created:
        print(f"{verb}: {line}")
    for line in report.unchanged:
        print(f"unchanged: {line}")
    for line in report.removed:
        print(f"removed: {line}")
    action = "unchanged" if report.endpoint_action == "none" else report.endpoint_action
    print(f"endpoint: {action}")
    return EXIT_OK


def _parse_weights(text: str) -> dict[str, float]:
    weights = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise argparse.ArgumentTypeError(f"{part!r} is not VARIANT=WEIGHT")
    return weights


def _run_traffic(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.aws_clients import aws_client
    from inferpipe.pipeline_spec.deploy import shift_traffic
    from inferpipe.pipeline_spec.loader import load_spec

    spec = load_spec(args.spec)
    shift_traffic(spec, args.weights, aws_client("sagemaker", spec.region))
    print("weights: " + ", ".join(f"{k}={v:g}" for k, v in args.weights.items()))
    return EXIT_OK


def _run_teardown(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.aws_clients import aws_client
    from inferpipe.pipeline_spec.loader import load_spec
    from inferpipe.pipeline_spec.teardown import teardown_spec

    spec = load_spec(args.spec)
    removed = teardown_spec(
        spec,
        aws_client("sagemaker", spec.region),
        aws_client("application-autoscaling", spec.region),
    )
    for line in removed or ["nothing to remove"]:
        print(f"removed: {line}" if removed else line)
    return EXIT_OK


def _run_spec_import(args: argparse.Namespace) -> int:
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


def _run_local_up(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.loader import load_spec
    from inferpipe.pipeline_spec.local.session import bring_up, run_until_signal

    spec = load_spec(args.spec)
    deployment, front = bring_up(
        spec,
        args.spec.resolve().parent,
        args.engine,
        args.port,
        args.state_dir,
        _progress,
        seed=args.seed,
    )
    run_until_signal(spec, deployment, front, args.state_dir, _progress)
    return EXIT_OK


def _run_local_transform(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.loader import load_spec
    from inferpipe.pipeline_spec.local.batch import run_transform
    from inferpipe.pipeline_spec.local.engines import choose_engine
    from inferpipe.pipeline_spec.local.front import pooled_transport
    from inferpipe.pipeline_spec.local.runner import TRANSFORM_VARIANT, start_local
    from inferpipe.serving.errors import SpecError

    spec = load_spec(args.spec)
    if spec.transform is None:
        raise SpecError(f"{args.spec} has no `transform` section")
    deployment = start_local(
        spec,
        args.spec.resolve().parent,
        choose_engine(args.engine),
        args.state_dir / f"{spec.endpoint}-transform",
        pooled_transport(),
        _progress,
    )
    try:
        summary = run_transform(
            deployment.endpoint, TRANSFORM_VARIANT, spec.transform, args.input, args.output
        )
    finally:
        deployment.stop()
    print(
        f"{summary.files} file(s), {summary.records} record(s) in {summary.requests} "
        f"request(s) -> {args.output}"
    )
    return EXIT_OK


def _run_batch(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.loader import load_spec
    from inferpipe.pipeline_spec.local.chain import prepare_hops
    from inferpipe.serving import media
    from inferpipe.serving.errors import SpecError
    from inferpipe.transformers.spark_batch import ChainHop, run_batch

    if not args.input.exists():
        raise SpecError(f"--input {args.input} does not exist")
    spec = load_spec(args.spec)
    transform = spec.transform
    content_type = args.content_type or (transform.content_type if transform else "text/csv")
    if media.parse_media_type(content_type).type not in (media.CSV, media.JSONLINES):
        raise SpecError(
            "batch scores one record per line: use text/csv or application/jsonlines, "
            f"not {content_type!r}"
        )
    accept = args.accept or (transform.accept if transform else None)
    prepared = prepare_hops(spec, args.spec.resolve().parent, args.state_dir / "batch")
    hops = [ChainHop(h.name, str(h.model_dir), h.environment) for h in prepared]
    # Spark's Python workers must run this interpreter (the one inferpipe is installed in).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    count = run_batch(hops, args.input, args.output, args.master, content_type, accept, _progress)
    print(f"{count} record(s) -> {args.output}")
    return EXIT_OK


def _add_batch_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
    batch.set_defaults(run=_run_batch)


def _endpoint_name(args: argparse.Namespace) -> str:
    from inferpipe.pipeline_spec.loader import load_spec

    return load_spec(args.spec).endpoint


def _run_local_down(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.local.session import bring_down

    bring_down(args.state_dir, _endpoint_name(args))
    print("stopped")
    return EXIT_OK


def _run_local_status(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.local.session import describe_status

    print("\n".join(describe_status(args.state_dir, _endpoint_name(args))))
    return EXIT_OK


def _run_local_logs(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.local.session import read_logs

    print(read_logs(args.state_dir, _endpoint_name(args), args.container, args.lines))
    return EXIT_OK


def _add_local_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    local = commands.add_parser(
        "local",
        help="run a spec's pipeline on this machine behind the InvokeEndpoint API",
        description="Run every container of a spec locally (Docker or processes) behind "
        "SageMaker Runtime's InvokeEndpoint API, with SageMaker's header flow.",
    )
    local_commands = local.add_subparsers(dest="local_command", metavar="SUBCOMMAND", required=True)

    def sub(name: str, help_text: str) -> argparse.ArgumentParser:
        command = local_commands.add_parser(name, help=help_text, description=help_text)
        command.add_argument("spec", type=Path)
        command.add_argument(
            "--state-dir",
            type=Path,
            default=Path(".inferpipe/local"),
            help="where model dirs, logs and the state file live",
        )
        return command

    up = sub("up", "start the endpoint in the foreground (Ctrl-C or `local down` stops it)")
    up.add_argument(
        "--engine",
        choices=("process", "docker"),
        help="default: docker when an engine answers, else process",
    )
    up.add_argument("--port", type=int, default=8080, help="front port (default 8080)")
    up.add_argument("--seed", type=int, default=0, help="seed of the weighted variant choice")
    up.set_defaults(run=_run_local_up)
    transform = sub("transform", "run the spec's batch transform over local files")
    transform.add_argument("--input", type=Path, required=True, help="input directory")
    transform.add_argument("--output", type=Path, required=True, help="output directory")
    transform.add_argument("--engine", choices=("process", "docker"))
    transform.set_defaults(run=_run_local_transform)
    sub("down", "stop a running local endpoint").set_defaults(run=_run_local_down)
    sub("status", "show the endpoint and each container").set_defaults(run=_run_local_status)
    logs = sub("logs", "print the containers' logs")
    logs.add_argument("--container", help="only this container (name or model/name)")
    logs.add_argument("--lines", type=int, default=50)
    logs.set_defaults(run=_run_local_logs)


def _add_deploy_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    def spec_command(name: str, help_text: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.add_argument("spec", type=Path)
        return command

    package = spec_command("package", "build model.tar.gz for local artifacts (and upload)")
    package.add_argument("--build-dir", type=Path, default=Path("build/artifacts"))
    package.add_argument("--upload", action="store_true", help="upload to artifact_bucket")
    package.set_defaults(run=_run_package)
    deploy = spec_command("deploy", "package, upload and deploy (create or update) the endpoint")
    deploy.add_argument("--build-dir", type=Path, default=Path("build/artifacts"))
    deploy.add_argument("--dry-run", action="store_true", help="say what would change only")
    deploy.add_argument(
        "--alarm",
        action="append",
        metavar="NAME",
        help="CloudWatch alarm that rolls an update back (repeatable)",
    )
    deploy.add_argument("--poll-seconds", type=float, default=15, help=argparse.SUPPRESS)
    deploy.set_defaults(run=_run_deploy)
    traffic = spec_command("traffic", "shift A/B weights without redeploying")
    traffic.add_argument("--weights", type=_parse_weights, required=True, help="e.g. A=0.9,B=0.1")
    traffic.set_defaults(run=_run_traffic)
    teardown = spec_command("teardown", "remove everything the spec created")
    teardown.set_defaults(run=_run_teardown)


def _add_spec_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
    validate.set_defaults(run=_run_spec_validate)
    render = spec_commands.add_parser(
        "render",
        help="write the boto3 requests (checked against botocore) and a CloudFormation template",
    )
    render.add_argument("spec", type=Path)
    render.add_argument("--out", type=Path, required=True, help="output directory")
    render.set_defaults(run=_run_spec_render)
    schema = spec_commands.add_parser(
        "schema", help="print the spec's JSON Schema (for editor completion)"
    )
    schema.set_defaults(run=_run_spec_schema)
    imported = spec_commands.add_parser(
        "import", help="write a spec (YAML, stdout) from a running endpoint"
    )
    imported.add_argument("endpoint")
    imported.add_argument("--region", required=True)
    imported.set_defaults(run=_run_spec_import)


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    return key, value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand (documented by `--help`)."""
    parser = argparse.ArgumentParser(
        prog="inferpipe",
        description="Build, check and run SageMaker serial inference pipeline containers.",
    )
    parser.add_argument("--version", action="version", version=f"inferpipe {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log at DEBUG and show tracebacks"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="serve a model dir with the container runtime (what images run)",
        description="Serve one stage over the SageMaker /ping + /invocations contract. "
        "Settings come from SAGEMAKER_* / INFERPIPE_* variables; options win.",
    )
    serve.add_argument(
        "--model-dir",
        type=Path,
        help="unpacked artifact [env INFERPIPE_MODEL_DIR, default /opt/ml/model]",
    )
    serve.add_argument("--port", type=int, help="port [env SAGEMAKER_BIND_TO_PORT, default 8080]")
    serve.add_argument(
        "--stage", help="kind or module:attr [env INFERPIPE_STAGE, default: detected]"
    )
    serve.add_argument(
        "--workers",
        type=int,
        help="worker processes [env SAGEMAKER_MODEL_SERVER_WORKERS, default: CPUs]",
    )
    serve.set_defaults(run=_run_serve)

    check = commands.add_parser(
        "check-container",
        help="run the SageMaker container contract suite against an image",
        description="Start IMAGE with `serve` on a model dir and check it against the "
        "SageMaker container contract: port, label, /ping, content types, "
        "Accept, error shapes, SIGTERM. Needs a Docker engine.",
    )
    check.add_argument("image", help="image to check, e.g. inferpipe-preprocess:latest")
    check.add_argument(
        "--model-dir",
        type=Path,
        required=True,
        help="model artifact directory mounted at /opt/ml/model",
    )
    check.add_argument("--sample", type=Path, help="a request body the model accepts")
    check.add_argument(
        "--content-type", default="text/csv", help="media type of --sample (default text/csv)"
    )
    check.add_argument(
        "--env",
        type=_key_value,
        action="append",
        metavar="KEY=VALUE",
        help="extra container environment (repeatable)",
    )
    check.add_argument(
        "--start-timeout",
        type=float,
        default=120,
        help="seconds to wait for /ping after the start (default 120)",
    )
    check.add_argument(
        "--format",
        choices=("table", "json", "junit"),
        default="table",
        help="report format on stdout (default table)",
    )
    check.set_defaults(run=_run_check_container)
    _add_spec_commands(commands)
    _add_deploy_commands(commands)
    _add_local_commands(commands)
    _add_batch_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    run: Callable[[argparse.Namespace], int] | None = getattr(args, "run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    from inferpipe.serving.errors import InferpipeError, SpecError

    try:
        return run(args)
    except InferpipeError as exc:
        logger.error("%s", exc.message, exc_info=args.verbose)
        return EXIT_USAGE if isinstance(exc, SpecError) else EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_FAILED
