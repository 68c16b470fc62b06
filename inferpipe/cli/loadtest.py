"""`inferpipe loadtest`: find MAX_RPS per variant locally and the autoscaling target;
`inferpipe soak`: hold one rate for a long time and watch every process's memory."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from inferpipe.cli._common import EXIT_FAILED, EXIT_OK, SubParsers, progress


def run_loadtest(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.loader import load_spec
    from inferpipe.pipeline_spec.local.loadtest_session import (
        LoadSettings,
        load_test,
        plot_loads,
        write_spec_with_targets,
    )

    spec = load_spec(args.spec)
    settings = LoadSettings(
        body=args.body.read_bytes(),
        content_type=args.content_type,
        p99_ms=args.p99_ms,
        duration=args.duration,
        step_seconds=args.step_seconds,
        start_rps=args.start_rps,
        engine=args.engine,
    )
    if args.sweep:
        return _run_sweep(args, spec, settings)
    loads = load_test(
        spec, args.spec.resolve().parent, args.state_dir, settings, args.variant, progress
    )
    _print_loads(args, loads)
    if args.output:
        for line in write_spec_with_targets(args.spec, args.output, loads):
            progress(f"left alone: {line}")
        print(f"wrote {args.output}")
    if args.plot:
        plot_loads(loads, args.p99_ms, args.plot)
        print(f"wrote {args.plot}")
    return EXIT_OK


def _print_loads(args: argparse.Namespace, loads: list[Any]) -> None:
    print(
        f"measured on this machine ({os.cpu_count()} cores, {args.engine} engine), "
        "not on the variants' instance types:"
    )
    for load in loads:
        if load.max_rps is None:
            print(f"{load.variant}: no step met p99 <= {args.p99_ms:g} ms")
            continue
        print(
            f"{load.variant}: MAX_RPS {load.max_rps:.1f}; SageMakerVariantInvocationsPerInstance "
            f"= {load.max_rps:.1f} x {load.safety_factor:g} x 60 = {load.target:g}"
        )


def _candidates(text: str | None) -> list[tuple[int, int]]:
    from inferpipe.pipeline_spec.errors import SpecError
    from inferpipe.pipeline_spec.local.loadtest_session import sweep_candidates

    if not text:
        return sweep_candidates(os.cpu_count() or 1)
    candidates = []
    for part in text.split(","):
        workers, sep, threads = part.strip().partition("x")
        if not (sep and workers.isdigit() and threads.isdigit()) or "0" in (workers, threads):
            raise SpecError(f"--sweep-settings: {part!r} is not WORKERSxTHREADS (e.g. 2x1)")
        candidates.append((int(workers), int(threads)))
    return candidates


def _run_sweep(args: argparse.Namespace, spec: Any, settings: Any) -> int:
    from inferpipe.pipeline_spec.local.loadtest_session import (
        best_points,
        plot_sweep,
        sweep,
        write_spec_with_targets,
    )

    points = sweep(
        spec,
        args.spec.resolve().parent,
        args.state_dir,
        settings,
        args.variant,
        progress,
        _candidates(args.sweep_settings),
    )
    print(f"sweep on this machine ({os.cpu_count()} cores), not on the instance types:")
    print("| setting | " + " | ".join(load.variant for load in points[0].loads) + " |")
    print("|---" * (len(points[0].loads) + 1) + "|")
    for point in points:
        cells = [f"{load.max_rps:.1f}" if load.max_rps else "-" for load in point.loads]
        print(f"| {point.label} | " + " | ".join(cells) + " |")
    best = best_points(points)
    loads = []
    for variant, point in sorted(best.items()):
        load = next(load for load in point.loads if load.variant == variant)
        loads.append(load)
        variables = " ".join(f"{k}={v}" for k, v in point.environment.items())
        print(f"{variant}: recommended {point.label} per inferpipe container ({variables})")
    _print_loads(args, loads)
    if args.output:
        environments = {variant: point.environment for variant, point in best.items()}
        for line in write_spec_with_targets(args.spec, args.output, loads, environments):
            progress(f"left alone: {line}")
        print(f"wrote {args.output}")
    if args.plot:
        plot_sweep(points, args.plot)
        print(f"wrote {args.plot}")
    return EXIT_OK


def run_soak(args: argparse.Namespace) -> int:
    from inferpipe.pipeline_spec.loader import load_spec
    from inferpipe.pipeline_spec.local.soak import SoakSettings, plot_soak, soak, write_report

    settings = SoakSettings(
        body=args.body.read_bytes(),
        content_type=args.content_type,
        rate=args.rate,
        seconds=args.duration,
        warmup_seconds=args.warmup,
        window_seconds=args.window,
        max_growth=args.max_growth / 100,
        engine=args.engine,
        variant=args.variant,
    )
    spec = load_spec(args.spec)
    report = soak(spec, args.spec.resolve().parent, args.state_dir, settings, progress)
    print(
        f"soak of {spec.endpoint} ({args.engine} engine, {os.cpu_count()} cores): "
        f"{report.requests} requests at {report.achieved_rps:.1f} rps after a "
        f"{args.warmup:g} s warm-up, {report.errors} errors, p50 {report.p50_ms:.1f} ms, "
        f"p99 {report.p99_ms:.1f} ms"
    )
    print("| process | pid | RSS after warm-up (MiB) | RSS at the end (MiB) | growth |")
    print("|---|---:|---:|---:|---:|")
    for process in report.processes:
        baseline = f"{process.baseline / 2**20:.1f}" if process.baseline else "-"
        print(
            f"| {process.label} | {process.pid} | {baseline} | {process.final / 2**20:.1f} | "
            f"{process.growth:+.1%} |"
        )
    if args.report:
        write_report(report, settings.max_growth, args.report)
        print(f"wrote {args.report}")
    if args.plot:
        plot_soak(report, args.plot)
        print(f"wrote {args.plot}")
    problems = report.problems(settings.max_growth)
    for problem in problems:
        print(f"FAILED: {problem}")
    if not problems:
        print(f"passed: no errors, no process replaced, every RSS grew < {args.max_growth:g} %")
    return EXIT_FAILED if problems else EXIT_OK


def _add_load_arguments(parser: argparse.ArgumentParser, state_dir: str) -> None:
    """What every load command takes: the spec, one request body, the engine, a state dir."""
    parser.add_argument("spec", type=Path)
    parser.add_argument("--body", type=Path, required=True, help="a request body file")
    parser.add_argument("--content-type", default="text/csv")
    parser.add_argument("--engine", choices=("process", "docker"), default="process")
    parser.add_argument("--state-dir", type=Path, default=Path(state_dir), help="model dirs, logs")


def add_commands(commands: SubParsers) -> None:
    """`loadtest`, `soak`."""
    loadtest = commands.add_parser(
        "loadtest",
        help="stepped fixed-rate load on the local endpoint: MAX_RPS and autoscaling target",
        description="Start the spec on the local endpoint and offer rising fixed rates of "
        "one request body to each variant until the p99 objective breaks. Reports MAX_RPS "
        "and SageMakerVariantInvocationsPerInstance = MAX_RPS x SAFETY_FACTOR x 60 "
        "(this machine's numbers, not the instance type's). Loopback only.",
    )
    _add_load_arguments(loadtest, ".inferpipe/loadtest")
    loadtest.add_argument("--p99-ms", type=float, default=100, help="objective (default 100)")
    loadtest.add_argument("--duration", type=float, default=60, help="seconds per variant")
    loadtest.add_argument("--step-seconds", type=float, default=5)
    loadtest.add_argument("--start-rps", type=float, default=5)
    loadtest.add_argument("--variant", action="append", help="only these variants")
    loadtest.add_argument("-o", "--output", type=Path, help="write a copy of the spec with max_rps")
    loadtest.add_argument("--plot", type=Path, help="write latency vs rate as a PNG")
    loadtest.add_argument(
        "--sweep",
        action="store_true",
        help="repeat the test per worker/thread setting and recommend the best "
        "(default settings: 1, one per core and two per core workers x 1 and 2 threads)",
    )
    loadtest.add_argument(
        "--sweep-settings", metavar="WxT,...", help="the settings to sweep, e.g. 1x1,2x1,2x2"
    )
    loadtest.set_defaults(run=run_loadtest)

    soak = commands.add_parser(
        "soak",
        help="hold one request rate on the local endpoint for minutes; errors, p99, memory",
        description="Start the spec on the local endpoint, offer one fixed rate of one "
        "request body for --duration seconds, and sample the resident memory of every "
        "process (the front and each container's server and workers) as it runs. Passes "
        "(exit 0) with no errors, no process replaced and every RSS growing less than "
        "--max-growth %% from the end of the warm-up to the end. Loopback only.",
    )
    _add_load_arguments(soak, ".inferpipe/soak")
    soak.add_argument("--rate", type=float, default=20, help="requests per second (default 20)")
    soak.add_argument("--duration", type=float, default=600, help="seconds (default 600)")
    soak.add_argument("--warmup", type=float, default=60, help="seconds not counted (default 60)")
    soak.add_argument("--window", type=float, default=10, help="seconds per sample (default 10)")
    soak.add_argument(
        "--max-growth", type=float, default=10, help="RSS growth limit, %% (default 10)"
    )
    soak.add_argument("--variant", help="the variant to load (default: the first)")
    soak.add_argument("--report", type=Path, help="write the whole report as JSON")
    soak.add_argument("--plot", type=Path, help="write latency and memory over time as a PNG")
    soak.set_defaults(run=run_soak)
