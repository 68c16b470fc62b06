"""The serial inference pipeline's header flow, written once over a small transport.

What SageMaker does between the containers of one pipeline model
(https://docs.aws.amazon.com/sagemaker/latest/dg/inference-pipeline-real-time.html):
the client's Content-Type goes to container 1, each response's Content-Type verbatim
to the next container, the client's Accept only to the last one (the others answer
their SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT); Direct mode calls the one container the
client names by hostname. A non-2xx from any container stops the chain with an error
naming that container and carrying its original status and message.

Transports: HTTP (`inferpipe.pipeline_spec.local`) and in-process
(`inferpipe.serving.chain_transport`). Observers see every hop's request, reply and
timing; metrics, capture and fused-stage timings hang there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from inferpipe.protocol import fused, names

SERIAL = "Serial"
DIRECT = "Direct"
#: SageMaker's limit on a container's response inside a pipeline, as on requests.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
#: How long SageMaker waits for one container's answer.
HOP_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Hop:
    """One container of a pipeline model.

    `name` is SageMaker's name for it in errors (its hostname, else `container-N`);
    `target` is where a transport finds it: a base URL over HTTP, a model dir in
    process (where `environment` is the container's environment).
    """

    name: str
    target: str
    hostname: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class HopReply:
    """A container's answer: status, headers and body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """A response header by case-blind name."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


#: Request headers SageMaker hands to every container of a chain, as it received them.
PASSED_HEADERS = (names.CUSTOM_ATTRIBUTES, names.INFERENCE_ID)

#: (hop, body, headers, timeout seconds) -> reply; raises TimeoutError when the
#: container does not answer in time, OSError when it cannot be reached.
Transport = Callable[[Hop, bytes, dict[str, str], float], HopReply]


@dataclass(frozen=True)
class ChainRequest:
    """What the client sent: body, Content-Type, Accept and the headers passed along."""

    body: bytes
    content_type: str
    accept: str | None = None
    #: Headers SageMaker hands to every container (custom attributes, inference id).
    passed_headers: Mapping[str, str] = field(default_factory=dict)
    #: Direct mode only: the container to call.
    target_hostname: str | None = None


@dataclass(frozen=True)
class ChainResult:
    """The last container's answer, with the headers SageMaker returns to the client."""

    body: bytes
    content_type: str
    headers: dict[str, str]


@dataclass(frozen=True)
class HopEvent:
    """What an observer sees of one hop: the request, the reply (None when the call
    failed without one) and how long the call took."""

    hop: Hop
    index: int
    request_headers: Mapping[str, str]
    request_body: bytes
    reply: HopReply | None
    seconds: float


class ChainObserver(Protocol):
    def on_hop(self, event: HopEvent) -> None: ...


ErrorKind = Literal["client", "server", "timeout", "validation"]


class ChainError(Exception):
    """The chain stopped: a container answered non-2xx, timed out or could not be
    reached (`kind` client/server/timeout), or the request names no usable container
    (`validation`). `message` is SageMaker's wording."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        hop: Hop | None = None,
        original_status: int = 0,
        original_message: str = "",
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.hop = hop
        self.original_status = original_status
        self.original_message = original_message


def container_error(hop: Hop, status: int, message: str) -> ChainError:
    """The error SageMaker reports when a container answers `status` (non-2xx)."""
    kind: ErrorKind = "client" if 400 <= status < 500 else "server"
    return ChainError(
        kind,
        f'Received {kind} error ({status}) from {hop.name} with message "{message}"',
        hop,
        status,
        message,
    )


def _timeout_error(hop: Hop) -> ChainError:
    return ChainError(
        "timeout",
        f"Your invocation timed out while waiting for a response from container {hop.name}.",
        hop,
    )


def select_hops(hops: Sequence[Hop], mode: str, target_hostname: str | None) -> Sequence[Hop]:
    """Serial mode runs every hop; Direct mode the one whose hostname the client named."""
    if mode != DIRECT:
        return hops
    chosen = [h for h in hops if h.hostname == target_hostname]
    if not chosen:
        raise ChainError(
            "validation",
            f"TargetContainerHostname {target_hostname!r} is required in Direct mode and "
            f"must be one of {[h.hostname for h in hops]}",
        )
    return chosen[:1]


def _culprit(hop: Hop, reply: HopReply) -> Hop:
    """The container an error answer comes from: a fused container names which of its
    original containers failed, so errors read as they did before fusion."""
    inner = reply.header(fused.FAILED_CONTAINER_HEADER)
    return Hop(inner, hop.target, hop.hostname, hop.environment) if inner else hop


def _call(
    hop: Hop,
    index: int,
    body: bytes,
    headers: dict[str, str],
    transport: Transport,
    observers: Iterable[ChainObserver],
    timeout: float,
) -> HopReply:
    started = time.perf_counter()
    reply: HopReply | None = None
    try:
        reply = transport(hop, body, headers, timeout)
    except TimeoutError:
        raise _timeout_error(hop) from None
    except OSError as exc:
        raise container_error(hop, 500, f"connection failed: {exc}") from None
    finally:
        event = HopEvent(hop, index, headers, body, reply, time.perf_counter() - started)
        for observer in observers:
            observer.on_hop(event)
    if not 200 <= reply.status < 300:
        culprit = _culprit(hop, reply)
        if reply.header(fused.TIMED_OUT_HEADER):
            raise _timeout_error(culprit)
        raise container_error(culprit, reply.status, reply.body.decode(errors="replace"))
    if len(reply.body) > MAX_PAYLOAD_BYTES:
        raise container_error(
            hop, 413, f"response of {len(reply.body)} bytes exceeds {MAX_PAYLOAD_BYTES}"
        )
    return reply


def run_chain(
    hops: Sequence[Hop],
    request: ChainRequest,
    transport: Transport,
    observers: Iterable[ChainObserver] = (),
    *,
    mode: str = SERIAL,
    timeout: float = HOP_TIMEOUT_SECONDS,
) -> ChainResult:
    """Run one request through a pipeline model's containers; raises ChainError."""
    observers = tuple(observers)
    chosen = select_hops(hops, mode, request.target_hostname)
    body, content_type = request.body, request.content_type
    reply: HopReply | None = None
    for index, hop in enumerate(chosen):
        headers = {names.CONTENT_TYPE: content_type, **request.passed_headers}
        if index == len(chosen) - 1 and request.accept:
            headers[names.ACCEPT] = request.accept
        reply = _call(hop, index, body, headers, transport, observers, timeout)
        body, content_type = reply.body, reply.header(names.CONTENT_TYPE) or ""
    assert reply is not None, "a pipeline model has at least one container"
    custom = reply.header(names.CUSTOM_ATTRIBUTES)
    out = {names.CUSTOM_ATTRIBUTES: custom} if custom is not None else {}
    return ChainResult(body, content_type, out)
