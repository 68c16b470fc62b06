"""One local endpoint: route a request to a variant and run its containers the way
SageMaker does, answering in InvokeEndpoint's shapes.

Serial mode: the client's Content-Type goes to container 1, each response's Content-Type
verbatim to the next, and the client's Accept only to the last container. A non-2xx from
any container becomes a 424 ModelError naming it.
https://docs.aws.amazon.com/sagemaker/latest/dg/inference-pipeline-real-time.html
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from inferpipe.pipeline_spec.local.metrics import EndpointMetrics

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
CONTAINER_TIMEOUT_SECONDS = 60.0
ACCOUNT = "000000000000"
#: Request headers SageMaker hands on to the containers (lower-cased).
PASSED_HEADERS = {"x-amzn-sagemaker-custom-attributes", "x-amzn-sagemaker-inference-id"}

#: (url, body, headers, timeout) -> (status, headers, body); raises TimeoutError.
Transport = Callable[[str, bytes, dict[str, str], float], tuple[int, dict[str, str], bytes]]


@dataclass(frozen=True)
class Hop:
    """One container: SageMaker's name for it (hostname or container-N) and its URL."""

    display_name: str
    url: str
    hostname: str | None = None


@dataclass(frozen=True)
class LocalVariant:
    name: str
    weight: float
    mode: str
    hops: tuple[Hop, ...]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class InvokeFailure(Exception):
    """An InvokeEndpoint error: its status, x-amzn-ErrorType and JSON body."""

    status: int
    error_type: str
    body: dict[str, object] = field(default_factory=dict)

    def answer(self) -> Answer:
        return Answer(
            self.status,
            {"Content-Type": "application/json", "x-amzn-ErrorType": self.error_type},
            json.dumps(self.body).encode(),
        )


def validation_error(message: str, status: int = 400) -> InvokeFailure:
    return InvokeFailure(status, "ValidationError", {"message": message})


class LocalEndpoint:
    """Routes and runs invocations for one endpoint's variants."""

    def __init__(
        self,
        name: str,
        region: str,
        variants: list[LocalVariant],
        transport: Transport,
        seed: int = 0,
    ) -> None:
        self.name = name
        self.region = region
        self.variants = {v.name: v for v in variants}
        self.transport = transport
        self.random = random.Random(seed)
        self.metrics = EndpointMetrics(name)

    def _log_stream_arn(self) -> str:
        return (
            f"arn:aws:logs:{self.region}:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/{self.name}"
        )

    def choose_variant(self, target: str | None) -> LocalVariant:
        if target:
            if target not in self.variants:
                raise validation_error(
                    f"Variant {target} not found for endpoint {self.name}; "
                    f"variants: {', '.join(self.variants)}"
                )
            return self.variants[target]
        live = [v for v in self.variants.values() if v.weight > 0]
        total = sum(v.weight for v in live)
        pick = self.random.uniform(0, total)
        for variant in live:
            pick -= variant.weight
            if pick <= 0:
                return variant
        return live[-1]

    def _model_error(self, hop: Hop, status: int, message: str) -> InvokeFailure:
        kind = "client" if 400 <= status < 500 else "server"
        return InvokeFailure(
            424,
            "ModelError",
            {
                "ErrorCode": f"{kind.upper()}_ERROR_FROM_MODEL",
                "LogStreamArn": self._log_stream_arn(),
                "Message": (
                    f"Received {kind} error ({status}) from {hop.display_name} with message "
                    f'"{message}". See {self._log_stream_arn()} in account {ACCOUNT} '
                    "for more information."
                ),
                "OriginalMessage": message,
                "OriginalStatusCode": status,
            },
        )

    def _call(
        self, hop: Hop, body: bytes, headers: dict[str, str], timings: list[tuple[str, float]]
    ) -> tuple[int, dict[str, str], bytes]:
        started = time.perf_counter()
        try:
            result = self.transport(
                f"{hop.url}/invocations", body, headers, CONTAINER_TIMEOUT_SECONDS
            )
        except TimeoutError:
            raise InvokeFailure(
                424,
                "ModelError",
                {
                    "ErrorCode": "MODEL_TIMEOUT",
                    "LogStreamArn": self._log_stream_arn(),
                    "Message": f"Your invocation timed out while waiting for a response from "
                    f"container {hop.display_name}.",
                    "OriginalStatusCode": 0,
                    "OriginalMessage": "",
                },
            ) from None
        except OSError as exc:
            raise self._model_error(hop, 500, f"connection failed: {exc}") from None
        timings.append((hop.display_name, time.perf_counter() - started))
        status, response_headers, response_body = result
        if not 200 <= status < 300:
            raise self._model_error(hop, status, response_body.decode(errors="replace"))
        if len(response_body) > MAX_PAYLOAD_BYTES:
            raise self._model_error(
                hop, 413, f"response of {len(response_body)} bytes exceeds {MAX_PAYLOAD_BYTES}"
            )
        return status, response_headers, response_body

    def _run(
        self,
        variant: LocalVariant,
        body: bytes,
        headers: Mapping[str, str],
        timings: list[tuple[str, float]],
    ) -> Answer:
        passed = {k: v for k, v in headers.items() if k in PASSED_HEADERS}
        content_type = headers.get("content-type", "application/octet-stream")
        accept = headers.get("accept")
        hops = variant.hops
        if variant.mode == "Direct":
            hostname = headers.get("x-amzn-sagemaker-target-container-hostname")
            chosen = [h for h in hops if h.hostname == hostname]
            if not chosen:
                raise validation_error(
                    f"TargetContainerHostname {hostname!r} is required in "
                    f"Direct mode and must be one of "
                    f"{[h.hostname for h in hops]}"
                )
            hops = tuple(chosen)
        response_headers: dict[str, str] = {}
        for index, hop in enumerate(hops):
            hop_headers = {"Content-Type": content_type, **passed}
            if index == len(hops) - 1 and accept:
                hop_headers["Accept"] = accept
            _, response_headers, body = self._call(hop, body, hop_headers, timings)
            content_type = next(
                (v for k, v in response_headers.items() if k.lower() == "content-type"), ""
            )
        out = {"Content-Type": content_type, "x-Amzn-Invoked-Production-Variant": variant.name}
        custom = {
            k: v
            for k, v in response_headers.items()
            if k.lower() == "x-amzn-sagemaker-custom-attributes"
        }
        out.update(custom)
        return Answer(200, out, body)

    def invoke(self, body: bytes, headers: Mapping[str, str]) -> Answer:
        """Handle one InvokeEndpoint call; never raises, errors come back as answers."""
        started = time.perf_counter()
        headers = {k.lower(): v for k, v in headers.items()}
        try:
            if len(body) > MAX_PAYLOAD_BYTES:
                raise validation_error(
                    f"Request payload of {len(body)} bytes exceeds the "
                    f"{MAX_PAYLOAD_BYTES}-byte limit",
                    status=413,
                )
            variant = self.choose_variant(headers.get("x-amzn-sagemaker-target-variant"))
        except InvokeFailure as failure:
            return failure.answer()
        timings: list[tuple[str, float]] = []
        try:
            answer = self._run(variant, body, headers, timings)
        except InvokeFailure as failure:
            answer = failure.answer()
        self.metrics.record(
            variant.name, timings, time.perf_counter() - started, failed=answer.status != 200
        )
        return answer
