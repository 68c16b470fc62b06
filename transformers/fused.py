"""The fused stage: several adjacent inferpipe containers served by one, in process.

Its model dir holds `fused.json` and `stages/NN-<name>/` (written by `inferpipe spec
fuse` or `fuse: true`). Each original container's stage is loaded from its own model dir
with its own environment, and a request runs through them with the same chain runner
the local endpoint uses, over the in-process transport: the header flow, answers and
error bodies are byte for byte those of the separate containers. Only the hops are gone.

The stage takes requests raw: Content-Type, Accept and the body are judged by the inner
stages (the first one, the last one), exactly where the separate containers judged them.
An error answer names the original container that failed (`X-Inferpipe-Failed-Container`,
which the local endpoint reads; on SageMaker the container log and that header say it),
and every answer carries each original container's time (`X-Inferpipe-Stage-Timings`,
shown in the access log and the local endpoint's metrics).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from inferpipe.protocol import fused, media, names
from inferpipe.protocol.chain import (
    PASSED_HEADERS,
    ChainError,
    ChainRequest,
    Hop,
    HopEvent,
    HopReply,
    run_chain,
)
from inferpipe.protocol.errors import ArtifactError
from inferpipe.serving.chain_transport import InProcessTransport
from inferpipe.serving.invocation import CaseBlindHeaders, error_body
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage import Stage

logger = logging.getLogger(__name__)


class _Recorder:
    """A chain observer keeping each hop's time and the last reply (for error answers)."""

    def __init__(self) -> None:
        self.timings: list[tuple[str, float]] = []
        self.last: HopEvent | None = None

    def on_hop(self, event: HopEvent) -> None:
        self.timings.append((event.hop.name, event.seconds))
        self.last = event


def _hop(folder: Path, entry: fused.FusedEntry) -> Hop:
    if entry.kind == fused.KIND:
        raise ArtifactError(f"{folder / fused.MANIFEST}: {entry.container} is itself fused")
    environment = dict(entry.environment)
    if entry.kind:
        environment[names.STAGE] = entry.kind
    return Hop(entry.display_name, str(folder / entry.directory), entry.hostname, environment)


class FusedStage(Stage):
    kind = fused.KIND
    accepts = (media.ANY,)
    emits = (media.ANY,)
    raw_requests = True

    def load(self, model_dir: Path, settings: ServingSettings) -> None:
        super().load(model_dir, settings)
        entries = fused.read_manifest(model_dir)
        self.hops = tuple(_hop(model_dir, entry) for entry in entries)
        self.timeout = float(settings.timeout)
        self.transport = InProcessTransport(self.hops, warm=False, inline=True)
        logger.info(
            "fused stage: %s",
            " -> ".join(f"{e.container} ({e.display_name})" for e in entries),
        )

    def warm_up(self) -> None:
        self.transport.warm_up()

    def invoke_raw(self, body: bytes, headers: Mapping[str, str]) -> HopReply:
        lookup = CaseBlindHeaders(headers)
        request = ChainRequest(
            body=body,
            content_type=lookup.get(names.CONTENT_TYPE) or "",
            accept=lookup.get(names.ACCEPT),
            passed_headers={h: v for h in PASSED_HEADERS if (v := lookup.get(h)) is not None},
        )
        recorder = _Recorder()
        try:
            result = run_chain(
                self.hops, request, self.transport, (recorder,), timeout=self.timeout
            )
        except ChainError as error:
            return self._error_reply(error, recorder)
        reply_headers = {
            names.CONTENT_TYPE: result.content_type,
            **result.headers,
            fused.STAGE_TIMINGS_HEADER: fused.timings_header(recorder.timings),
        }
        return HopReply(200, reply_headers, result.body)

    def _error_reply(self, error: ChainError, recorder: _Recorder) -> HopReply:
        """The failing original container's own answer, naming it for the caller."""
        assert error.hop is not None, "a serial chain error names its container"
        headers = {
            fused.FAILED_CONTAINER_HEADER: error.hop.name,
            fused.STAGE_TIMINGS_HEADER: fused.timings_header(recorder.timings),
        }
        if error.kind == "timeout":
            message = f"container {error.hop.name} did not answer within {self.timeout} s"
            body = error_body("timeout", message, self.kind)
            headers |= {names.CONTENT_TYPE: media.JSON, fused.TIMED_OUT_HEADER: "1"}
            return HopReply(504, headers, body)
        reply = recorder.last.reply if recorder.last else None
        if reply is not None and reply.status == error.original_status:
            content_type = reply.header(names.CONTENT_TYPE)
            if content_type:
                headers[names.CONTENT_TYPE] = content_type
            return HopReply(reply.status, headers, reply.body)
        # The chain refused a reply it got (one over the payload limit): its own words.
        headers[names.CONTENT_TYPE] = "text/plain"
        return HopReply(error.original_status, headers, error.original_message.encode())
