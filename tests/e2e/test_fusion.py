"""Fused stages: a fused pipeline answers byte for byte what the separate containers
answer, errors included, on both engines.

The chain is four inferpipe containers: scikit-learn preprocessing, a scikit-learn
regressor, declarative postprocessing and a user's script (which echoes the Accept
header and custom attributes it got, and fails on demand). It runs three ways behind
the local endpoint: as written, as `inferpipe spec fuse` wrote it, and with
`fuse: true`; every request of a corpus (CSV, JSON, JSON Lines, Accept variants,
bad requests of every kind) must get the same status, headers and body from each.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from inferpipe_testing.local import import_by_path, local_endpoint

from inferpipe.pipeline_spec.loader import load_spec
from inferpipe.protocol import fused

REPO = Path(__file__).resolve().parents[2]
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
LABEL_SCRIPT = """
    import json

    def model_fn(model_dir):
        return "label"

    def transform_fn(model, body, content_type, accept, context):
        text = body if isinstance(body, str) else body.decode()
        if "boom" in (context.custom_attributes or ""):
            raise RuntimeError("asked to fail")
        if "refuse" in (context.custom_attributes or ""):
            raise ValueError("refused on request")
        answer = {
            "received": content_type,
            "accept_header": context.accept_header,
            "attributes": context.custom_attributes,
            "lines": text.splitlines(),
        }
        if accept == "text/csv":
            return "\\n".join(answer["lines"]) + "\\n", "text/csv"
        return json.dumps(answer), "application/json"
"""
HEADERS_COMPARED = ("content-type", "x-amzn-errortype", "x-amzn-invoked-production-variant")


def _workload(folder: Path) -> Path:
    """The benchmark's three stages plus a script stage, in one four-container spec."""
    workload = import_by_path(REPO / "benchmarks" / "workload.py", "bench_workload")
    workload.build_workload(folder)
    (folder / "label" / "code").mkdir(parents=True)
    (folder / "label" / "code" / "inference.py").write_text(textwrap.dedent(LABEL_SCRIPT))
    document = yaml.safe_load((folder / "spec.yaml").read_text())
    containers = document["models"]["bench"]["containers"]
    for container in containers:
        container.pop("local", None)
    containers.append(
        {"name": "label", "image": f"{ECR}/inferpipe-preprocess:0.1.0", "artifact": "label"}
    )
    (folder / "spec.yaml").write_text(yaml.safe_dump(document))
    marked = dict(document)
    marked["models"] = {"bench": {**document["models"]["bench"], "fuse": True}}
    (folder / "marked.yaml").write_text(yaml.safe_dump(marked))
    subprocess.run(
        [sys.executable, "-P", "-m", "inferpipe", "spec", "fuse", "spec.yaml", "-o", "fused.yaml"],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    return folder


def _corpus(folder: Path) -> list[tuple[str, bytes, dict[str, str]]]:
    one = (folder / "one.csv").read_bytes()
    many = b"".join((folder / "many.csv").read_bytes().splitlines(keepends=True)[:20])
    fields = one.decode().strip().split(",")
    names = ["sex", "length", "diameter", "height", "whole", "shucked", "viscera", "shell"]
    record = {n: (v if n == "sex" else float(v)) for n, v in zip(names, fields, strict=True)}
    csv = {"Content-Type": "text/csv"}
    return [
        ("csv, no accept", one, csv),
        ("csv, 20 rows, accept json", many, {**csv, "Accept": "application/json"}),
        ("csv, accept csv", many, {**csv, "Accept": "text/csv"}),
        ("csv, accept list", one, {**csv, "Accept": "text/html;q=0.9, application/json"}),
        ("json records", json.dumps([record]).encode(), {"Content-Type": "application/json"}),
        (
            "json lines",
            (json.dumps(record) + "\n" + json.dumps(record) + "\n").encode(),
            {"Content-Type": "application/jsonlines", "Accept": "application/json"},
        ),
        ("csv with charset", one, {"Content-Type": "text/csv; charset=utf-8"}),
        (
            "custom attributes",
            one,
            {**csv, "X-Amzn-SageMaker-Custom-Attributes": "trace=1"},
        ),
        ("empty body", b"", csv),
        ("whitespace body", b" \n\n", csv),
        ("not a number", b"M,abc,0.3,0.1,0.5,0.2,0.1,0.1\n", csv),
        ("too few columns", b"M,0.4,0.3\n", csv),
        ("not utf-8", b"M,\xff\xfe,0.3,0.1,0.5,0.2,0.1,0.1\n", csv),
        ("unknown content type", one, {"Content-Type": "text/plain"}),
        ("no content type", one, {}),
        ("unknown charset", one, {"Content-Type": "text/csv; charset=klingon"}),
        ("broken json", b'[{"sex": "M", ', {"Content-Type": "application/json"}),
        ("script refuses", one, {**csv, "X-Amzn-SageMaker-Custom-Attributes": "refuse"}),
        ("script fails", one, {**csv, "X-Amzn-SageMaker-Custom-Attributes": "boom"}),
    ]


def _invoke(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        f"{url}/endpoints/bench/invocations", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, reply_headers, reply = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, reply_headers, reply = error.code, error.headers, error.read()
    kept = {k.lower(): v for k, v in reply_headers.items() if k.lower() in HEADERS_COMPARED}
    return status, kept, reply


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _workload(tmp_path_factory.mktemp("fusion"))


@pytest.fixture(scope="module", params=["process", "docker"])
def answers(
    request: pytest.FixtureRequest, workload: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, dict[str, tuple[int, dict[str, str], bytes]]]]:
    """Every corpus request's answer from each of the three specs, on one engine."""
    if request.param == "docker":
        request.getfixturevalue("images")
    corpus = _corpus(workload)
    collected: dict[str, dict[str, tuple[int, dict[str, str], bytes]]] = {}
    for spec_name in ("spec.yaml", "fused.yaml", "marked.yaml"):
        state = tmp_path_factory.mktemp("state")
        with local_endpoint(workload / spec_name, request.param, state) as client:
            collected[spec_name] = {
                name: _invoke(client.front_url, body, headers) for name, body, headers in corpus
            }
            collected[spec_name]["(metrics)"] = (0, {}, _metrics(client.front_url))
    yield collected


def _metrics(url: str) -> bytes:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        return bytes(response.read())


def test_the_fused_spec_runs_one_container(workload: Path) -> None:
    fused_spec = load_spec(workload / "fused.yaml")
    containers = fused_spec.models["bench"].containers
    assert [c.name for c in containers] == ["preprocess-model-postprocess-label"]
    artifact = workload / str(containers[0].artifact)
    entries = fused.read_manifest(artifact)
    assert [(e.container, e.display_name, e.directory) for e in entries] == [
        ("preprocess", "container-1", "stages/01-preprocess"),
        ("model", "container-2", "stages/02-model"),
        ("postprocess", "container-3", "stages/03-postprocess"),
        ("label", "container-4", "stages/04-label"),
    ]


def test_fused_answers_are_byte_identical(
    answers: dict[str, dict[str, tuple[int, dict[str, str], bytes]]], workload: Path
) -> None:
    separate = answers["spec.yaml"]
    for name, *_ in _corpus(workload):
        for fused_name in ("fused.yaml", "marked.yaml"):
            assert answers[fused_name][name] == separate[name], (fused_name, name)
    statuses = {name: answer[0] for name, answer in separate.items()}
    # The corpus covers successes and errors from the first, the third and the last container.
    assert statuses["csv, no accept"] == 200
    assert statuses["json lines"] == 200
    assert statuses["empty body"] == 424
    messages = {
        name: json.loads(answer[2]).get("Message", "")
        for name, answer in separate.items()
        if answer[0] == 424
    }
    assert "from container-1" in messages["not a number"]
    assert "from container-4" in messages["script fails"]
    assert "Received server error (500)" in messages["script fails"]
    echoed = json.loads(separate["custom attributes"][2])
    assert echoed["attributes"] == "trace=1"
    assert echoed["received"] == "text/csv"


def test_metrics_name_the_original_containers(
    answers: dict[str, dict[str, tuple[int, dict[str, str], bytes]]],
) -> None:
    for spec_name in ("spec.yaml", "fused.yaml"):
        text = answers[spec_name]["(metrics)"][2].decode()
        for container in ("container-1", "container-2", "container-3", "container-4"):
            assert f'container="{container}"' in text, (spec_name, container)
