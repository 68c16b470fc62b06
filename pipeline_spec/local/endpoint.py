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

from inferpipe.pipeline_spec.local.metrics import EndpointMetrics, HopTimer
from inferpipe.pipeline_spec.local.shadow import ShadowMirror
from inferpipe.protocol import media, names
from inferpipe.protocol.chain import (
    HOP_TIMEOUT_SECONDS,
    MAX_PAYLOAD_BYTES,
    PASSED_HEADERS,
    ChainError,
    ChainRequest,
    Hop,
    HopReply,
    Transport,
    run_chain,
)

CONTAINER_TIMEOUT_SECONDS = HOP_TIMEOUT_SECONDS
ACCOUNT = "000000000000"
#: The passed headers lower-cased, as the front's header dict holds them.
PASSED_HEADER_KEYS = frozenset(name.lower() for name in PASSED_HEADERS)

#: (url, body, headers, timeout) -> (status, headers, body); raises TimeoutError.
HttpSend = Callable[[str, bytes, dict[str, str], float], tuple[int, dict[str, str], bytes]]

__all__ = ["MAX_PAYLOAD_BYTES", "Hop", "HttpSend", "LocalEndpoint", "LocalVariant"]


def http_transport(send: HttpSend) -> Transport:
    """The chain's HTTP transport: POST to the hop's `/invocations` with `send`."""

    def call(hop: Hop, body: bytes, headers: dict[str, str], timeout: float) -> HopReply:
        status, reply_headers, reply_body = send(
            f"{hop.target}/invocations", body, headers, timeout
        )
        return HopReply(status, reply_headers, reply_body)

    return call


@dataclass(frozen=True)
class LocalVariant:
    name: str
    weight: float
    mode: str
    hops: tuple[Hop, ...]
    #: Internal (the batch transform's model): never chosen by weight or TargetVariant.
    hidden: bool = False


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
            {names.CONTENT_TYPE: media.JSON, names.ERROR_TYPE: self.error_type},
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
        send: HttpSend,
        seed: int = 0,
    ) -> None:
        self.name = name
        self.region = region
        self.variants = {v.name: v for v in variants}
        self.transport = http_transport(send)
        self.random = random.Random(seed)
        self.metrics = EndpointMetrics(name)
        #: Receives a copy of client requests after they are answered (shadow variants).
        self.shadow: ShadowMirror | None = None

    def run_variant(self, variant: LocalVariant, body: bytes, headers: Mapping[str, str]) -> Answer:
        """One variant's chain on `body`, errors as answers (the shadow's copies)."""
        try:
            return self._run(variant, body, headers, HopTimer())
        except InvokeFailure as failure:
            return failure.answer()

    def _log_stream_arn(self) -> str:
        return (
            f"arn:aws:logs:{self.region}:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/{self.name}"
        )

    def choose_variant(self, target: str | None) -> LocalVariant:
        visible = {k: v for k, v in self.variants.items() if not v.hidden}
        if target:
            if target not in visible:
                raise validation_error(
                    f"Variant {target} not found for endpoint {self.name}; "
                    f"variants: {', '.join(visible)}"
                )
            return visible[target]
        live = [v for v in visible.values() if v.weight > 0]
        total = sum(v.weight for v in live)
        pick = self.random.uniform(0, total)
        for variant in live:
            pick -= variant.weight
            if pick <= 0:
                return variant
        return live[-1]

    def _failure(self, error: ChainError) -> InvokeFailure:
        """The chain's error in InvokeEndpoint's shape (a 424 ModelError for containers)."""
        if error.kind == "validation":
            return validation_error(error.message)
        arn = self._log_stream_arn()
        if error.kind == "timeout":
            return InvokeFailure(
                424,
                "ModelError",
                {
                    "ErrorCode": "MODEL_TIMEOUT",
                    "LogStreamArn": arn,
                    "Message": error.message,
                    "OriginalStatusCode": 0,
                    "OriginalMessage": "",
                },
            )
        return InvokeFailure(
            424,
            "ModelError",
            {
                "ErrorCode": f"{error.kind.upper()}_ERROR_FROM_MODEL",
                "LogStreamArn": arn,
                "Message": f"{error.message}. See {arn} in account {ACCOUNT} for more information.",
                "OriginalMessage": error.original_message,
                "OriginalStatusCode": error.original_status,
            },
        )

    def _run(
        self, variant: LocalVariant, body: bytes, headers: Mapping[str, str], timer: HopTimer
    ) -> Answer:
        request = ChainRequest(
            body=body,
            content_type=headers.get("content-type", "application/octet-stream"),
            accept=headers.get("accept"),
            passed_headers={k: v for k, v in headers.items() if k in PASSED_HEADER_KEYS},
            target_hostname=headers.get(names.TARGET_CONTAINER_HOSTNAME.lower()),
        )
        try:
            result = run_chain(
                variant.hops,
                request,
                self.transport,
                (timer,),
                mode=variant.mode,
                timeout=CONTAINER_TIMEOUT_SECONDS,
            )
        except ChainError as error:
            raise self._failure(error) from None
        out = {
            names.CONTENT_TYPE: result.content_type,
            names.INVOKED_PRODUCTION_VARIANT: variant.name,
            **result.headers,
        }
        return Answer(200, out, result.body)

    def invoke(
        self, body: bytes, headers: Mapping[str, str], variant_name: str | None = None
    ) -> Answer:
        """Handle one InvokeEndpoint call; never raises, errors come back as answers.

        `variant_name` is for inferpipe's own callers (the local batch transform): it
        picks any variant, hidden ones included, where clients use TargetVariant."""
        started = time.perf_counter()
        headers = {k.lower(): v for k, v in headers.items()}
        try:
            if len(body) > MAX_PAYLOAD_BYTES:
                raise validation_error(
                    f"Request payload of {len(body)} bytes exceeds the "
                    f"{MAX_PAYLOAD_BYTES}-byte limit",
                    status=413,
                )
            variant = (
                self.variants[variant_name]
                if variant_name
                else self.choose_variant(headers.get(names.TARGET_VARIANT.lower()))
            )
        except InvokeFailure as failure:
            return failure.answer()
        timer = HopTimer()
        try:
            answer = self._run(variant, body, headers, timer)
        except InvokeFailure as failure:
            answer = failure.answer()
        seconds = time.perf_counter() - started
        self.metrics.record(
            variant.name,
            timer.timings,
            seconds,
            failed=answer.status != 200,
            hop_seconds=timer.hop_seconds,
        )
        if self.shadow is not None and variant_name is None:
            content_type = answer.headers.get(names.CONTENT_TYPE, "")
            self.shadow.offer(body, headers, answer.status, content_type, answer.body, seconds)
        return answer
