"""The contract checks, each one SageMaker rule with the doc that states it.

https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-inference-code.html
https://docs.aws.amazon.com/sagemaker/latest/dg/inference-pipeline-real-time.html
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inferpipe.pipeline_spec.contract.http import Answer, request

BIND_LABEL = "com.amazonaws.sagemaker.capabilities.accept-bind-to-port"
UNSUPPORTED_TYPE = "application/x-inferpipe-unsupported"
PING_LIMIT_SECONDS = 2.0


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # "pass", "fail" or "skip"
    detail: str
    seconds: float = 0.0


@dataclass(frozen=True)
class Target:
    """A running container under test, and the sample request it should accept."""

    url: str
    sample: bytes | None
    content_type: str

    def invoke(self, body: bytes, content_type: str | None, accept: str | None = None) -> Answer:
        headers = {}
        if content_type:
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        return request(f"{self.url}/invocations", "POST", body, headers)


def _result(name: str, passed: bool, detail: str, seconds: float = 0.0) -> CheckResult:
    return CheckResult(name, "pass" if passed else "fail", detail, seconds)


def _is_json_error(answer: Answer) -> bool:
    if not answer.content_type.startswith("application/json"):
        return False
    try:
        return isinstance(json.loads(answer.body), dict)
    except ValueError:
        return False


def check_label(config: dict[str, Any]) -> CheckResult:
    labels = (config.get("Config") or {}).get("Labels") or {}
    value = labels.get(BIND_LABEL)
    return _result(
        "label accept-bind-to-port",
        value == "true",
        f"{BIND_LABEL}={value!r}" if value else f"label {BIND_LABEL} is missing",
    )


def check_entrypoint(config: dict[str, Any]) -> CheckResult:
    entrypoint = (config.get("Config") or {}).get("Entrypoint") or []
    shell_form = entrypoint[:2] in (["/bin/sh", "-c"], ["sh", "-c"])
    passed = bool(entrypoint) and not shell_form
    detail = f"ENTRYPOINT {entrypoint}" + (
        " is shell form: SIGTERM will not reach the server" if shell_form else ""
    )
    return _result("exec-form entrypoint", passed, detail if entrypoint else "no ENTRYPOINT")


def check_ping(target: Target) -> CheckResult:
    answers = [request(f"{target.url}/ping", timeout=10) for _ in range(5)]
    slowest = max(a.seconds for a in answers)
    statuses = sorted({a.status for a in answers})
    passed = statuses == [200] and slowest < PING_LIMIT_SECONDS
    return _result(
        "GET /ping 200 within 2 s",
        passed,
        f"statuses {statuses}, slowest {slowest * 1000:.0f} ms",
        slowest,
    )


def _needs_sample(
    name: str, run: Callable[[Target], CheckResult]
) -> Callable[[Target], CheckResult]:
    def guarded(target: Target) -> CheckResult:
        if target.sample is None:
            return CheckResult(name, "skip", "no --sample given")
        return run(target)

    return guarded


def _sample_ok(target: Target) -> CheckResult:
    assert target.sample is not None
    answer = target.invoke(target.sample, target.content_type)
    bare = ";" not in answer.content_type
    passed = answer.status == 200 and bare
    detail = f"HTTP {answer.status}, Content-Type {answer.content_type!r}"
    if answer.status == 200 and not bare:
        detail += ": send a bare media type, the next container receives it verbatim"
    elif answer.status != 200:
        detail += f": {answer.body[:300].decode(errors='replace')}"
    return _result(f"POST {target.content_type} sample", passed, detail, answer.seconds)


def _params_ok(target: Target) -> CheckResult:
    assert target.sample is not None
    content_type = f"{target.content_type}; charset=utf-8"
    answer = target.invoke(target.sample, content_type)
    return _result(
        "Content-Type with parameters",
        answer.status == 200,
        f"{content_type!r} → HTTP {answer.status}",
        answer.seconds,
    )


def _accept_ok(target: Target) -> CheckResult:
    assert target.sample is not None
    wildcard = target.invoke(target.sample, target.content_type, accept="*/*")
    absent = target.invoke(target.sample, target.content_type)
    same = target.invoke(
        target.sample, target.content_type, accept=absent.content_type.split(";")[0] or "*/*"
    )
    statuses = (wildcard.status, absent.status, same.status)
    return _result(
        "Accept absent, */* and explicit",
        statuses == (200, 200, 200),
        f"*/* → {wildcard.status}, absent → {absent.status}, "
        f"{absent.content_type or '?'} → {same.status}",
    )


def _unsupported_accept(target: Target) -> CheckResult:
    assert target.sample is not None
    answer = target.invoke(target.sample, target.content_type, accept=UNSUPPORTED_TYPE)
    return _result(
        "unsupported Accept → 406 JSON",
        answer.status == 406 and _is_json_error(answer),
        f"HTTP {answer.status} {answer.content_type!r}",
    )


def check_unsupported_content_type(target: Target) -> CheckResult:
    answer = target.invoke(b"1,2,3\n", UNSUPPORTED_TYPE)
    return _result(
        "unsupported Content-Type → 415 JSON",
        answer.status == 415 and _is_json_error(answer),
        f"HTTP {answer.status} {answer.content_type!r}",
    )


def check_empty_body(target: Target) -> CheckResult:
    answer = target.invoke(b"", target.content_type)
    return _result(
        "empty body → 4xx JSON",
        400 <= answer.status < 500 and _is_json_error(answer),
        f"HTTP {answer.status} {answer.content_type!r}",
    )


def _survives(target: Target) -> CheckResult:
    assert target.sample is not None
    target.invoke(b"\xff\xfe garbage \x00", target.content_type)
    answer = target.invoke(target.sample, target.content_type)
    return _result("serves again after bad requests", answer.status == 200, f"HTTP {answer.status}")


def check_execution_parameters(target: Target) -> CheckResult:
    answer = request(f"{target.url}/execution-parameters")
    if answer.status == 404:
        return CheckResult(
            "GET /execution-parameters",
            "skip",
            "not implemented (optional; batch transform uses defaults)",
        )
    try:
        document = json.loads(answer.body)
    except ValueError:
        document = None
    keys = {"MaxConcurrentTransforms", "BatchStrategy", "MaxPayloadInMB"}
    passed = answer.status == 200 and isinstance(document, dict) and keys <= document.keys()
    return _result("GET /execution-parameters", passed, f"HTTP {answer.status}: {document}")


RUNNING_CHECKS: list[Callable[[Target], CheckResult]] = [
    check_ping,
    _needs_sample("POST sample", _sample_ok),
    _needs_sample("Content-Type with parameters", _params_ok),
    _needs_sample("Accept absent, */* and explicit", _accept_ok),
    _needs_sample("unsupported Accept → 406 JSON", _unsupported_accept),
    check_unsupported_content_type,
    check_empty_body,
    _needs_sample("serves again after bad requests", _survives),
    check_execution_parameters,
]
