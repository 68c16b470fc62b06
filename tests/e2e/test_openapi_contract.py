"""The OpenAPI documents (`inferpipe openapi`) hold every status of the README's error
table, and schemathesis, run with a fixed seed against a real container and a real
local endpoint front, finds no answer outside them: no 5xx for anything it generates,
every status, content type, header and JSON body as documented, methods a route does
not take answered 405 with Allow.

`positive_data_acceptance` is left out: the document cannot describe which CSV rows a
user's model accepts, so schema-valid bodies are mostly (correctly) refused with a 400.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from inferpipe_testing.containers import REPO_ROOT
from inferpipe_testing.hostile import FRONT_ENDPOINT, Target, front_of, served_container

from inferpipe.protocol.openapi import CONTAINER_ERRORS, FRONT_ERRORS

SEED = 20261204
EXAMPLES = 1000


def _openapi(tmp_path: Path, *arguments: str) -> Path:
    out = tmp_path / f"{arguments[0]}.json"
    command = [sys.executable, "-P", "-m", "inferpipe", "openapi", *arguments, "-o", str(out)]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return out


def _schemathesis(document: Path, base_url: str, work: Path) -> None:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        str(document),
        "--url",
        base_url,
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--seed",
        str(SEED),
        "--max-examples",
        str(EXAMPLES),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--no-color",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=work)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert re.search(r"\b\d+ generated, \d+ passed", done.stdout), done.stdout[-2000:]


def test_every_status_of_the_readme_error_table_is_documented() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Errors", 1)[1].split("User hooks", 1)[0]
    statuses = {m.group(1).upper() for m in re.finditer(r"^\| (\d\d\d|4xx) \|", table, re.M)}
    assert statuses, "the README's error table was not found"
    assert statuses <= set(CONTAINER_ERRORS), statuses - set(CONTAINER_ERRORS)
    for status in ("400", "404", "405", "408", "413", "424", "503"):
        assert status in FRONT_ERRORS


def test_the_documents_are_json_and_name_their_surface(tmp_path: Path) -> None:
    container = json.loads(_openapi(tmp_path, "container").read_text())
    front = json.loads(_openapi(tmp_path, "local-endpoint", "--endpoint", "a").read_text())
    assert set(container["paths"]) == {"/ping", "/invocations", "/execution-parameters"}
    invoke = front["paths"]["/endpoints/{EndpointName}/invocations"]["post"]
    assert invoke["parameters"][0]["schema"] == {"type": "string", "enum": ["a"]}


@pytest.fixture(scope="module")
def container(mixed_pipeline_dir: Path) -> Iterator[Target]:
    with served_container(mixed_pipeline_dir) as target:
        yield target


def test_schemathesis_finds_nothing_in_the_container(container: Target, tmp_path: Path) -> None:
    before = container.pids()
    _schemathesis(_openapi(tmp_path, "container"), container.base_url, tmp_path)
    assert container.pids() == before, "a worker was replaced during the run"


def test_schemathesis_finds_nothing_in_the_local_endpoint_front(
    mixed_pipeline_dir: Path, tmp_path: Path
) -> None:
    document = _openapi(tmp_path, "local-endpoint", "--endpoint", FRONT_ENDPOINT)
    with front_of(mixed_pipeline_dir, tmp_path / "front") as front:
        before = front.pids()
        _schemathesis(document, front.base_url, tmp_path)
        assert front.pids() == before, "a container process was replaced during the run"
