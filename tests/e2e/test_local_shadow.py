"""Shadow variants on the local endpoint: the client's answers are the same with and
without a slow shadow, every request is copied after it was answered, and
`local shadow-report` counts what was sent."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import yaml
from inferpipe_testing.local import PASS_THROUGH_SCRIPT, local_endpoint

ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"
CANDIDATE = """
    import time

    def model_fn(model_dir):
        return None

    def transform_fn(model, body, content_type, accept):
        time.sleep(0.2)
        text = body.decode() if isinstance(body, bytes) else str(body)
        return ("changed\\n" if text.startswith("x") else text), "text/csv"
"""
REQUESTS = [f"{'x' if i % 4 == 0 else 'r'}{i},1.5\n".encode() for i in range(20)]


def _spec(folder: Path, with_shadow: bool) -> Path:
    models, variants = {}, [{"name": "A", "model": "prod", "instance_type": "ml.m5.large"}]
    for model, script in (("prod", PASS_THROUGH_SCRIPT), ("cand", CANDIDATE)):
        (folder / model / "code").mkdir(parents=True, exist_ok=True)
        (folder / model / "code" / "inference.py").write_text(textwrap.dedent(script))
        container = {
            "name": model,
            "image": "registry.example.com/stage:1",
            "artifact": model,
            "local": {"image": "inferpipe-preprocess:latest", "stage": "script"},
        }
        models[model] = {"role": ROLE, "containers": [container]}
    if with_shadow:
        variants.append(
            {"name": "S", "model": "cand", "instance_type": "ml.m5.large", "shadow": True}
        )
    else:
        del models["cand"]
    document = {"spec_version": 1, "region": "us-east-1", "endpoint": "shadowed"}
    path = folder / ("shadow.yaml" if with_shadow else "plain.yaml")
    path.write_text(yaml.safe_dump({**document, "models": models, "variants": variants}))
    return path


def _answers(client: Any) -> list[tuple[bytes, str]]:
    answers = []
    for body in REQUESTS:
        answer = client.invoke_endpoint(EndpointName="shadowed", Body=body, ContentType="text/csv")
        answers.append((answer["Body"].read(), answer["InvokedProductionVariant"]))
    return answers


def _report(spec: Path, state: Path, *options: str) -> str:
    command = [sys.executable, "-P", "-m", "inferpipe", "local", "shadow-report", str(spec)]
    done = subprocess.run(
        [*command, "--state-dir", str(state), *options], capture_output=True, text=True, check=True
    )
    return done.stdout


def _pairs(log: Path) -> int:
    return sum(1 for line in log.read_text().splitlines() if '"agree"' in line)


def test_a_slow_shadow_neither_changes_nor_waits_for_the_answers(tmp_path: Path) -> None:
    state = tmp_path / "state"
    log = state / "shadowed" / "shadow.jsonl"
    with local_endpoint(_spec(tmp_path, with_shadow=True), "process", state) as client:
        shadowed = _answers(client)
        # 20 copies at 0.2 s each are still running when the last answer is back
        assert _pairs(log) < len(REQUESTS)
        deadline = time.monotonic() + 60
        while _pairs(log) < len(REQUESTS) and time.monotonic() < deadline:
            time.sleep(0.2)
    with local_endpoint(
        _spec(tmp_path, with_shadow=False), "process", tmp_path / "plain"
    ) as client:
        plain = _answers(client)
    assert shadowed == plain == [(body, "A") for body in REQUESTS]

    report = json.loads(_report(tmp_path / "shadow.yaml", state, "--json", "--first", "10"))
    differing = [body.decode() for body in REQUESTS if body.startswith(b"x")]
    assert report["pairs"] == len(REQUESTS) and report["dropped"] == 0
    assert report["agreeing"] == len(REQUESTS) - len(differing)
    assert report["agreement"] == (len(REQUESTS) - len(differing)) / len(REQUESTS)
    assert [d["request"] for d in report["disagreements"]] == differing
    assert {d["shadow"]["body"] for d in report["disagreements"]} == {"changed\n"}
    assert set(report["latency_ms"]) == {"A", "S"}
    assert report["latency_ms"]["S"]["p50"] >= 200  # the shadow's own sleep
    text = _report(tmp_path / "shadow.yaml", state)
    assert text.startswith("20 requests copied to the shadow: 15 agree (75.0%), 5 differ")
