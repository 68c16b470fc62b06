"""`inferpipe serve`, `inferpipe check-container`, `inferpipe openapi` and
`inferpipe compile-sklearn`: the runtime, its contract suite, the contract as an OpenAPI
document, and the sklearn stage's compiled form stored beside its artifact."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from inferpipe.cli._common import SubParsers, key_value


def run_serve(args: argparse.Namespace) -> int:
    from inferpipe.protocol import names
    from inferpipe.serving.settings import ServingSettings

    settings = ServingSettings.from_environ(
        os.environ,
        model_dir=args.model_dir,
        host=args.host,
        port=args.port,
        stage=args.stage,
        workers=args.workers,
    )
    # One worker per core already fills the machine: numeric libraries read their thread
    # counts when first imported (below), so they are capped here unless set explicitly.
    for variable in names.NUMERIC_LIBRARY_THREADS:
        os.environ.setdefault(variable, str(settings.numeric_threads))
    from inferpipe.serving.server import serve

    return serve(settings)


def run_check_container(args: argparse.Namespace) -> int:
    if args.openapi:
        args.surface, args.endpoint = args.openapi, None
        return run_openapi(args)
    if not args.image or args.model_dir is None:
        from inferpipe.pipeline_spec.errors import SpecError

        raise SpecError("check-container needs IMAGE and --model-dir (or --openapi)")
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


def run_openapi(args: argparse.Namespace) -> int:
    import json

    from inferpipe.protocol.openapi import container_document, front_document

    if args.surface == "container":
        document = container_document()
    else:
        document = front_document(tuple(args.endpoint or ()))
    text = json.dumps(document, indent=2) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(text, end="")
    return 0


def run_compile_sklearn(args: argparse.Namespace) -> int:
    from inferpipe.transformers._sklearn_fast.stored import NotStorable
    from inferpipe.transformers.sklearn import compile_model_dir

    model_dir: Path = args.model_dir
    try:
        summary, files = compile_model_dir(model_dir, args.method)
    except NotStorable as exc:
        print(f"not written: {exc}")
        return 1
    print(summary)
    for name, data in files.items():
        (model_dir / name).write_bytes(data)
        print(f"wrote {model_dir / name} ({len(data):,} bytes)")
    return 0


def add_commands(commands: SubParsers) -> None:
    """`serve`, `check-container` and `openapi`."""
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
    serve.add_argument(
        "--host", help="address to listen on [env INFERPIPE_HOST, default 127.0.0.1]"
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
    serve.set_defaults(run=run_serve)

    check = commands.add_parser(
        "check-container",
        help="run the SageMaker container contract suite against an image",
        description="Start IMAGE with `serve` on a model dir and check it against the "
        "SageMaker container contract: port, label, /ping, content types, "
        "Accept, error shapes, SIGTERM. Needs a Docker engine.",
    )
    check.add_argument("image", nargs="?", help="image to check, e.g. inferpipe-preprocess:latest")
    check.add_argument(
        "--model-dir",
        type=Path,
        help="model artifact directory mounted at /opt/ml/model (required with IMAGE)",
    )
    check.add_argument(
        "--openapi",
        nargs="?",
        const="container",
        choices=("container", "local-endpoint"),
        help="print the contract's OpenAPI document instead (as `inferpipe openapi`)",
    )
    check.add_argument("-o", "--output", type=Path, help="with --openapi: write to this file")
    check.add_argument("--sample", type=Path, help="a request body the model accepts")
    check.add_argument(
        "--content-type", default="text/csv", help="media type of --sample (default text/csv)"
    )
    check.add_argument(
        "--env",
        type=key_value,
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
    check.set_defaults(run=run_check_container)

    openapi = commands.add_parser(
        "openapi",
        help="print the OpenAPI document of the container contract or the local endpoint",
        description="The OpenAPI 3.0 document of what an inferpipe container answers "
        "(`container`) or of the local endpoint's InvokeEndpoint front (`local-endpoint`): "
        "every status of the error table, for schemathesis or any client generator.",
    )
    openapi.add_argument("surface", choices=("container", "local-endpoint"))
    openapi.add_argument(
        "--endpoint",
        action="append",
        help="endpoint names the front serves (repeatable; default: any name)",
    )
    openapi.add_argument("-o", "--output", type=Path, help="write to this file, not stdout")
    openapi.set_defaults(run=run_openapi)

    compile_sklearn = commands.add_parser(
        "compile-sklearn",
        help="store a model dir's compiled scikit-learn form beside model.joblib",
        description="Compile model.joblib as the sklearn stage does at start (each step "
        "verified against scikit-learn) and write model.compiled.json + model.compiled.npz "
        "beside it: plain arrays, no pickle. The stage then starts from those without "
        "importing scikit-learn (and falls back to model.joblib if it changed). Fails, "
        "naming the steps, when a step keeps running in scikit-learn.",
    )
    compile_sklearn.add_argument("model_dir", type=Path, help="the folder with model.joblib")
    compile_sklearn.add_argument(
        "--method",
        choices=("transform", "predict", "predict_proba"),
        help="the method to compile (default: the stage's choice)",
    )
    compile_sklearn.set_defaults(run=run_compile_sklearn)
