"""`inferpipe package|deploy|traffic|teardown`: the spec's artifacts and endpoint on AWS."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from inferpipe.cli._common import (
    EXIT_OK,
    SubParsers,
    add_chain_check_option,
    progress,
    run_chain_check,
)

if TYPE_CHECKING:
    from inferpipe.pipeline_spec.model import PipelineSpec


def _packaged(args: argparse.Namespace, upload: bool) -> PipelineSpec:
    """Load the spec, package its local artifacts, and (optionally) upload them."""
    from inferpipe.pipeline_spec.aws_clients import aws_client
    from inferpipe.pipeline_spec.loader import load_spec
    from inferpipe.pipeline_spec.package import package_spec, upload_artifacts

    spec = load_spec(args.spec)
    interfaces = run_chain_check(args, spec)
    artifacts, packaged = package_spec(
        spec,
        args.spec.resolve().parent,
        args.build_dir,
        interfaces,
        compile_sklearn=getattr(args, "compile_sklearn", False),
        progress=progress,
    )
    for artifact in artifacts:
        progress(
            f"packaged {artifact.model}/{artifact.container}: {artifact.tarball} "
            f"-> {artifact.s3_url}"
        )
    if upload and artifacts:
        upload_artifacts(artifacts, aws_client("s3", spec.region), progress)
    return packaged


def run_package(args: argparse.Namespace) -> int:
    _packaged(args, upload=args.upload)
    return EXIT_OK


def run_deploy(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.aws_clients import aws_client
    from inferpipe.pipeline_spec.deploy import deploy_spec

    spec = _packaged(args, upload=not args.dry_run)
    region = spec.region  # type: ignore[attr-defined]
    report = deploy_spec(
        spec,
        aws_client("sagemaker", region),  # type: ignore[arg-type]
        aws_client("application-autoscaling", region),
        progress,
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


def run_traffic(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.aws_clients import aws_client
    from inferpipe.pipeline_spec.deploy import shift_traffic
    from inferpipe.pipeline_spec.loader import load_spec

    spec = load_spec(args.spec)
    shift_traffic(spec, args.weights, aws_client("sagemaker", spec.region))
    print("weights: " + ", ".join(f"{k}={v:g}" for k, v in args.weights.items()))
    return EXIT_OK


def run_teardown(args: argparse.Namespace) -> int:
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


def add_commands(commands: SubParsers) -> None:
    """`package`, `deploy`, `traffic` and `teardown`."""

    def spec_command(name: str, help_text: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.add_argument("spec", type=Path)
        return command

    package = spec_command("package", "build model.tar.gz for local artifacts (and upload)")
    package.add_argument("--build-dir", type=Path, default=Path("build/artifacts"))
    package.add_argument("--upload", action="store_true", help="upload to artifact_bucket")
    package.add_argument(
        "--compile-sklearn",
        action="store_true",
        help="add each sklearn artifact's compiled form (model.compiled.json/.npz): the "
        "stage then starts without importing scikit-learn (see compile-sklearn)",
    )
    add_chain_check_option(package)
    package.set_defaults(run=run_package)
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
    deploy.add_argument(
        "--compile-sklearn", action="store_true", help="as for package: add compiled forms"
    )
    add_chain_check_option(deploy)
    deploy.set_defaults(run=run_deploy)
    traffic = spec_command("traffic", "shift A/B weights without redeploying")
    traffic.add_argument("--weights", type=_parse_weights, required=True, help="e.g. A=0.9,B=0.1")
    traffic.set_defaults(run=run_traffic)
    teardown = spec_command("teardown", "remove everything the spec created")
    teardown.set_defaults(run=run_teardown)
