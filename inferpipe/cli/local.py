"""`inferpipe local …`: run a spec's pipeline on this machine behind InvokeEndpoint."""

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


def run_local_up(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.loader import load_spec
    from inferpipe.pipeline_spec.local.session import bring_up, run_until_signal

    spec = load_spec(args.spec)
    run_chain_check(args, spec)
    deployment, front = bring_up(
        spec,
        args.spec.resolve().parent,
        args.engine,
        args.port,
        args.state_dir,
        progress,
        seed=args.seed,
        read_timeout=args.read_timeout,
    )
    run_until_signal(spec, deployment, front, args.state_dir, progress)
    return EXIT_OK


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds in (0, 3600]")
    return value


def _endpoint_name(args: argparse.Namespace) -> str:
    from inferpipe.pipeline_spec.loader import load_spec

    return load_spec(args.spec).endpoint


def run_local_down(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.local.session import bring_down

    for name in bring_down(args.state_dir, _endpoint_name(args)):
        print(f"removed {name}, left behind by a local endpoint that was killed")
    print("stopped")
    return EXIT_OK


def run_local_status(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.local.session import describe_status

    print("\n".join(describe_status(args.state_dir, _endpoint_name(args))))
    return EXIT_OK


def run_local_logs(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.local.session import read_logs

    print(read_logs(args.state_dir, _endpoint_name(args), args.container, args.lines))
    return EXIT_OK


def run_local_shadow_report(args: argparse.Namespace) -> int:
    import json

    from inferpipe.pipeline_spec.errors import DeployError
    from inferpipe.pipeline_spec.local.shadow import read_report, shadow_log

    endpoint = _endpoint_name(args)
    log = shadow_log(args.state_dir / endpoint)
    if not log.is_file():
        raise DeployError(
            f"no shadow records for {endpoint} ({log}): the spec needs a variant with "
            "`shadow: true`, run by `local up` with this --state-dir"
        )
    report = read_report(log, first=args.first)
    if args.json:
        print(json.dumps({**report.__dict__, "agreement": report.agreement}, indent=2))
        return EXIT_OK
    print(
        f"{report.pairs} requests copied to the shadow: {report.agreeing} agree "
        f"({report.agreement:.1%}), {report.pairs - report.agreeing} differ, "
        f"{report.shadow_errors} shadow errors, {report.dropped} copies dropped"
    )
    print("| variant | p50 (ms) | p99 (ms) |\n|---|---:|---:|")
    for variant, latency in report.latency_ms.items():
        print(f"| {variant} | {latency['p50']:.1f} | {latency['p99']:.1f} |")
    for number, pair in enumerate(report.disagreements, 1):
        print(f"disagreement {number}: request {pair['request'][:200]!r}")
        for role in ("production", "shadow"):
            side = pair[role]
            print(f"  {side['variant']} ({role}, {side['status']}): {side['body'][:200]!r}")
    return EXIT_OK


def run_local_transform(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.loader import load_spec
    from inferpipe.pipeline_spec.local.batch import transform_locally
    from inferpipe.pipeline_spec.local.engines import choose_engine

    spec = load_spec(args.spec)
    run_chain_check(args, spec)
    summary = transform_locally(
        spec,
        args.spec.resolve().parent,
        choose_engine(args.engine),
        args.state_dir,
        args.input,
        args.output,
        progress,
    )
    print(
        f"{summary.files} file(s), {summary.records} record(s) in {summary.requests} "
        f"request(s) -> {args.output}"
    )
    return EXIT_OK


def add_commands(commands: SubParsers) -> None:
    """`local up|transform|down|status|logs|shadow-report`."""
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
    up.add_argument(
        "--read-timeout",
        type=_seconds,
        default=30.0,
        help="seconds a client's request body may take to arrive before a 408 (default 30)",
    )
    add_chain_check_option(up)
    up.set_defaults(run=run_local_up)
    transform = sub("transform", "run the spec's batch transform over local files")
    transform.add_argument("--input", type=Path, required=True, help="input directory")
    transform.add_argument("--output", type=Path, required=True, help="output directory")
    transform.add_argument("--engine", choices=("process", "docker"))
    add_chain_check_option(transform)
    transform.set_defaults(run=run_local_transform)
    sub("down", "stop a running local endpoint").set_defaults(run=run_local_down)
    sub("status", "show the endpoint and each container").set_defaults(run=run_local_status)
    logs = sub("logs", "print the containers' logs")
    logs.add_argument("--container", help="only this container (name or model/name)")
    logs.add_argument("--lines", type=int, default=50)
    logs.set_defaults(run=run_local_logs)
    shadow = sub("shadow-report", "compare the shadow variant's answers with production's")
    shadow.add_argument("--first", type=int, default=5, help="disagreements shown (default 5)")
    shadow.add_argument("--json", action="store_true", help="the whole report as JSON")
    shadow.set_defaults(run=run_local_shadow_report)
