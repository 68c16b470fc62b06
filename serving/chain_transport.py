"""The in-process chain transport: a pipeline's stages loaded in this process and
called exactly as their containers would answer over HTTP.

Each hop's `target` is its model dir and its `environment` the container's; stages are
loaded by import string like the runtime loads them (`INFERPIPE_STAGE` or detection).
Used by Spark batch scoring (`inferpipe batch`) and by fused containers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from inferpipe.protocol import media, names
from inferpipe.protocol.chain import Hop, HopReply
from inferpipe.serving.invocation import (
    CaseBlindHeaders,
    body_too_large,
    check_default_accept,
    error_answer,
    read_invocation,
    stage_timeout,
)
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage import InvocationResponse, Stage
from inferpipe.serving.stage_loader import load_stage


def hop_settings(hop: Hop) -> ServingSettings:
    """The settings the hop's container would read from its environment."""
    return ServingSettings.from_environ({**hop.environment, names.MODEL_DIR: hop.target})


class InProcessTransport:
    """Calls stages loaded in this process; a `Transport` for `run_chain`."""

    def __init__(
        self, hops: Sequence[Hop], threads: int = 4, warm: bool = True, inline: bool = False
    ) -> None:
        """Load every hop's stage. `warm=False` leaves `warm_up` to the caller: a fused
        container loads before fork and warms each worker after it.

        `inline=True` calls each stage in the caller's thread (a fused container, whose
        request already runs under the route's deadline watcher): a hand-off to a pool
        thread costs ~0.3 ms per hop on this machine, more than a one-row stage. A
        stage that answers after its SAGEMAKER_MODEL_SERVER_TIMEOUT still gets its 504,
        when it answers; one that never answers is cut off by the caller's timeout."""
        self._stages: dict[Hop, tuple[Stage, ServingSettings]] = {}
        for hop in hops:
            settings = hop_settings(hop)
            stage = load_stage(settings)
            check_default_accept(stage, settings)
            self._stages[hop] = (stage, settings)
        if warm:
            self.warm_up()
        self._executor = (
            None if inline else ThreadPoolExecutor(threads, thread_name_prefix="inferpipe-chain")
        )

    def warm_up(self) -> None:
        for stage, _ in self._stages.values():
            stage.warm_up()

    def __call__(self, hop: Hop, body: bytes, headers: dict[str, str], timeout: float) -> HopReply:
        stage, settings = self._stages[hop]
        try:
            response = self._invoke(stage, settings, body, headers, timeout)
        except TimeoutError:
            raise
        except Exception as error:
            status, error_json = error_answer(error, stage.kind)
            return HopReply(status, {names.CONTENT_TYPE: media.JSON}, error_json)
        return HopReply(
            200, {names.CONTENT_TYPE: response.content_type, **response.headers}, response.body
        )

    def _invoke(
        self,
        stage: Stage,
        settings: ServingSettings,
        body: bytes,
        headers: dict[str, str],
        timeout: float,
    ) -> InvocationResponse:
        def read_body(limit: int) -> bytes:
            if len(body) > limit:
                raise body_too_large(len(body), limit)
            return body

        lookup = CaseBlindHeaders(headers)
        request_id = lookup.get(names.INFERENCE_ID) or "in-process"
        request = read_invocation(stage, settings, lookup, read_body, request_id)
        if self._executor is None:
            started = time.monotonic()
            response = stage.invoke(request)
            if time.monotonic() - started > settings.timeout:
                raise stage_timeout(settings)
            return response
        future = self._executor.submit(stage.invoke, request)
        try:
            return future.result(timeout=min(timeout, settings.timeout))
        except FutureTimeout:
            # Whichever clock runs out first decides, as over HTTP: the caller's read
            # timeout, or the container's own SAGEMAKER_MODEL_SERVER_TIMEOUT (a 504).
            if timeout < settings.timeout:
                raise TimeoutError(f"no answer within {timeout} s") from None
            raise stage_timeout(settings) from None

    def close(self) -> None:
        """Let running calls finish and stop the pool."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
