"""The local endpoint's routing, header flow and error shapes, with a plain-function transport."""

from __future__ import annotations

import json
from collections import Counter

from inferpipe.pipeline_spec.local.endpoint import (
    MAX_PAYLOAD_BYTES,
    Hop,
    LocalEndpoint,
    LocalVariant,
)

HOPS = (
    Hop("container-1", "http://hop1"),
    Hop("container-2", "http://hop2"),
    Hop("container-3", "http://hop3"),
)


class RecordingTransport:
    """Answers every hop with its own media type and remembers the headers it got."""

    def __init__(self, failing: dict[str, tuple[int, bytes]] | None = None) -> None:
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.failing = failing or {}

    def __call__(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[int, dict[str, str], bytes]:
        self.calls.append((url, dict(headers)))
        host = url.split("/")[2]
        if host in self.failing:
            status, message = self.failing[host]
            return status, {"Content-Type": "application/json"}, message
        return 200, {"Content-Type": f"application/x-from-{host}"}, body + host.encode()


def endpoint(
    transport: RecordingTransport, mode: str = "Serial", hops: tuple[Hop, ...] = HOPS
) -> LocalEndpoint:
    variants = [LocalVariant("A", 0.9, mode, hops), LocalVariant("B", 0.1, mode, hops)]
    return LocalEndpoint("demo", "us-east-1", variants, transport, seed=1)


def test_serial_header_flow_follows_sagemaker() -> None:
    transport = RecordingTransport()
    answer = endpoint(transport).invoke(
        b"x", {"Content-Type": "text/csv; charset=utf-8", "Accept": "application/json"}
    )
    assert answer.status == 200 and answer.body == b"xhop1hop2hop3"
    seen = [headers for _, headers in transport.calls]
    assert seen[0]["Content-Type"] == "text/csv; charset=utf-8"
    assert seen[1]["Content-Type"] == "application/x-from-hop1"
    assert seen[2]["Content-Type"] == "application/x-from-hop2"
    assert ["Accept" in h for h in seen] == [False, False, True]
    assert seen[2]["Accept"] == "application/json"
    assert answer.headers["Content-Type"] == "application/x-from-hop3"
    assert answer.headers["x-Amzn-Invoked-Production-Variant"] in {"A", "B"}


def test_container_error_becomes_model_error_naming_the_container() -> None:
    transport = RecordingTransport({"hop2": (415, b'{"error":"unsupported-media-type"}')})
    answer = endpoint(transport).invoke(b"x", {"Content-Type": "text/csv"})
    body = json.loads(answer.body)
    assert answer.status == 424 and answer.headers["x-amzn-ErrorType"] == "ModelError"
    assert body["OriginalStatusCode"] == 415
    assert body["OriginalMessage"] == '{"error":"unsupported-media-type"}'
    assert body["Message"].startswith(
        "Received client error (415) from container-2 with "
        'message "{"error":"unsupported-media-type"}"'
    )
    assert body["LogStreamArn"].endswith("/aws/sagemaker/Endpoints/demo")
    assert len(transport.calls) == 2


def test_server_error_is_named_a_server_error() -> None:
    transport = RecordingTransport({"hop1": (500, b"boom")})
    body = json.loads(endpoint(transport).invoke(b"x", {"Content-Type": "text/csv"}).body)
    assert body["Message"].startswith("Received server error (500) from container-1")


def test_target_variant_is_honoured_and_unknown_ones_are_validation_errors() -> None:
    local = endpoint(RecordingTransport())
    for _ in range(20):
        answer = local.invoke(b"x", {"X-Amzn-SageMaker-Target-Variant": "B"})
        assert answer.headers["x-Amzn-Invoked-Production-Variant"] == "B"
    bad = local.invoke(b"x", {"X-Amzn-SageMaker-Target-Variant": "Z"})
    assert bad.status == 400 and bad.headers["x-amzn-ErrorType"] == "ValidationError"
    assert "Variant Z not found" in json.loads(bad.body)["message"]


def test_weights_split_90_10_within_tolerance_over_2000_calls() -> None:
    local = endpoint(RecordingTransport())
    split = Counter(
        local.invoke(b"x", {}).headers["x-Amzn-Invoked-Production-Variant"] for _ in range(2000)
    )
    # Binomial(2000, 0.9): sd 13.4; four sd either side.
    assert abs(split["A"] - 1800) < 54 and split["A"] + split["B"] == 2000


def test_same_seed_routes_the_same_way() -> None:
    def routes(seed: int) -> list[str]:
        variants = [LocalVariant("A", 0.5, "Serial", HOPS), LocalVariant("B", 0.5, "Serial", HOPS)]
        local = LocalEndpoint("demo", "us-east-1", variants, RecordingTransport(), seed=seed)
        return [local.choose_variant(None).name for _ in range(50)]

    assert routes(7) == routes(7) != routes(8)


def test_direct_mode_calls_only_the_target_hostname() -> None:
    hops = (Hop("a", "http://hop1", "a"), Hop("b", "http://hop2", "b"))
    transport = RecordingTransport()
    local = endpoint(transport, mode="Direct", hops=hops)
    answer = local.invoke(
        b"x",
        {
            "X-Amzn-SageMaker-Target-Container-Hostname": "b",
            "Accept": "text/csv",
            "Content-Type": "text/csv",
        },
    )
    assert answer.body == b"xhop2"
    assert transport.calls[0][1]["Accept"] == "text/csv"
    missing = local.invoke(b"x", {})
    assert (
        missing.status == 400 and "required in Direct mode" in json.loads(missing.body)["message"]
    )


def test_payload_over_6_mb_is_refused_before_any_container() -> None:
    transport = RecordingTransport()
    answer = endpoint(transport).invoke(b"x" * (MAX_PAYLOAD_BYTES + 1), {})
    assert answer.status == 413 and transport.calls == []


def test_a_container_timeout_is_a_model_error() -> None:
    def slow(
        url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[int, dict[str, str], bytes]:
        raise TimeoutError("read timed out")

    answer = (
        endpoint(RecordingTransport())
        .__class__("demo", "us-east-1", [LocalVariant("A", 1, "Serial", HOPS)], slow)
        .invoke(b"x", {})
    )
    assert answer.status == 424
    assert (
        "timed out while waiting for a response from container container-1"
        in json.loads(answer.body)["Message"]
    )


def test_custom_attributes_pass_through_both_ways() -> None:
    def echo(
        url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[int, dict[str, str], bytes]:
        return (
            200,
            {
                "Content-Type": "text/csv",
                "X-Amzn-SageMaker-Custom-Attributes": headers.get(
                    "x-amzn-sagemaker-custom-attributes", ""
                ),
            },
            body,
        )

    local = LocalEndpoint("demo", "us-east-1", [LocalVariant("A", 1, "Serial", HOPS[:1])], echo)
    answer = local.invoke(b"x", {"X-Amzn-SageMaker-Custom-Attributes": "trace=1"})
    assert answer.headers["X-Amzn-SageMaker-Custom-Attributes"] == "trace=1"


def test_metrics_count_invocations_errors_and_container_latency() -> None:
    local = endpoint(RecordingTransport({"hop3": (400, b"bad")}))
    for _ in range(3):
        local.invoke(b"x", {"X-Amzn-SageMaker-Target-Variant": "A"})
    text = local.metrics.render()
    assert 'inferpipe_invocations_total{endpoint="demo",variant="A"} 3' in text
    assert 'inferpipe_invocation_errors_total{endpoint="demo",variant="A"} 3' in text
    assert (
        'inferpipe_container_latency_seconds_count{endpoint="demo",variant="A",'
        'container="container-2"} 3'
    ) in text


def test_the_internal_batch_transform_variant_is_invisible_to_clients() -> None:
    transport = RecordingTransport()
    variants = [
        LocalVariant("A", 1.0, "Serial", HOPS),
        LocalVariant("batch-transform", 0.0, "Serial", HOPS, hidden=True),
    ]
    local = LocalEndpoint("demo", "us-east-1", variants, transport, seed=1)
    refused = local.invoke(b"x", {"X-Amzn-SageMaker-Target-Variant": "batch-transform"})
    message = json.loads(refused.body)["message"]
    assert refused.status == 400 and message.endswith("variants: A")
    internal = local.invoke(b"x", {"Content-Type": "text/csv"}, variant_name="batch-transform")
    assert internal.headers["x-Amzn-Invoked-Production-Variant"] == "batch-transform"


def _summary(text: str, metric: str) -> float:
    line = next(row for row in text.splitlines() if row.startswith(f"{metric}_sum{{"))
    return float(line.rsplit(" ", 1)[1])


def test_model_latency_is_the_hops_wall_time_even_for_a_fused_container() -> None:
    """As SageMaker's ModelLatency: the time the front waited on its containers, HTTP
    and codecs included; a fused container's own stage timings feed only the
    per-container summary, so its hop's codec time does not show as front overhead."""
    import time

    from inferpipe.protocol import fused

    def slow_fused(
        url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[int, dict[str, str], bytes]:
        time.sleep(0.05)  # decode, encode and HTTP around stages that report 1 ms each
        timings = fused.timings_header([("preprocess", 0.001), ("model", 0.001)])
        return 200, {"Content-Type": "text/csv", fused.STAGE_TIMINGS_HEADER: timings}, b"1"

    local = LocalEndpoint(
        "demo", "us-east-1", [LocalVariant("A", 1, "Serial", HOPS[:1])], slow_fused
    )
    assert local.invoke(b"x", {}).status == 200
    text = local.metrics.render()
    model = _summary(text, "inferpipe_model_latency_seconds")
    overhead = _summary(text, "inferpipe_overhead_latency_seconds")
    assert model >= 0.05 and overhead < 0.05
    stage = 'inferpipe_container_latency_seconds_sum{endpoint="demo",variant="A",container="model"}'
    assert f"{stage} 0.001" in text
