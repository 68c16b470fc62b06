"""The serial header flow through both transports: HTTP to running runtime servers, and
in process. Both must give the same answer, errors included (protocol/chain.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from inferpipe.pipeline_spec.local.endpoint import http_transport
from inferpipe.pipeline_spec.local.front import pooled_transport
from inferpipe.protocol import names
from inferpipe.protocol.chain import ChainError, ChainRequest, Hop, HopEvent, Transport, run_chain
from inferpipe.serving.app import create_app
from inferpipe.serving.chain_transport import InProcessTransport, hop_settings
from inferpipe.serving.stage_loader import load_stage

STAGES = "inferpipe_testing.chain_stages"


@dataclass(frozen=True)
class Case:
    """Hops as (stage class, default accept, hostname); the request; the mode."""

    stages: list[tuple[str, str | None, str | None]]
    request: ChainRequest
    mode: str = "Serial"
    timeout: float = 10.0
    check: Callable[[Any], None] = field(default=lambda _outcome: None)


def _report(outcome: Any) -> dict[str, Any]:
    assert not isinstance(outcome, ChainError), outcome.message
    body, content_type, _ = outcome
    return {"content_type": content_type, **json.loads(body)}


def _check_hand_off(outcome: Any) -> None:
    last = _report(outcome)
    second = last["previous"]
    first = second["previous"]
    assert (first["received"], first["params"]) == ("text/csv", {"charset": "utf-8"})
    assert second["received"] == "application/json"  # container 1's answer, verbatim
    assert last["received"] == "text/csv"  # container 2's answer
    assert last["content_type"] == "application/jsonlines"


def _check_accept_to_last_only(outcome: Any) -> None:
    last = _report(outcome)
    assert last["accept_header"] == "application/jsonlines"
    assert last["previous"]["accept_header"] is None
    assert last["previous"]["previous"]["accept_header"] is None


def _check_default_accept(outcome: Any) -> None:
    last = _report(outcome)
    assert last["previous"]["previous"]["answered_as"] == "application/json"
    assert last["previous"]["answered_as"] == "text/csv"
    # No Accept and no default: the last container answers in the type it received.
    assert last["answered_as"] == "text/csv"


def _check_direct(outcome: Any) -> None:
    report = _report(outcome)
    assert report["previous"] == "1,2\n" and report["received"] == "text/csv"


def _check_client_error(outcome: Any) -> None:
    assert isinstance(outcome, ChainError)
    assert outcome.kind == "client" and outcome.original_status == 415
    assert outcome.hop is not None and outcome.hop.name == "container-2"
    assert outcome.message.startswith("Received client error (415) from container-2 with message")
    assert json.loads(outcome.original_message)["error"] == "unsupported-media-type"


def _check_timeout(outcome: Any) -> None:
    assert isinstance(outcome, ChainError) and outcome.kind == "timeout"
    assert outcome.message.endswith("from container container-2.")


REPORT = f"{STAGES}:ReportStage"
CASES = {
    "content-type hand-off": Case(
        [(REPORT, "application/json", None), (REPORT, "text/csv", None), (REPORT, None, None)],
        ChainRequest(b"1,2\n", "text/csv; charset=utf-8", "application/jsonlines"),
        check=_check_hand_off,
    ),
    "accept to the last hop only": Case(
        [
            (REPORT, "application/json", None),
            (REPORT, "application/json", None),
            (REPORT, None, None),
        ],
        ChainRequest(b"1,2\n", "text/csv", "application/jsonlines"),
        check=_check_accept_to_last_only,
    ),
    "default accept on inner hops": Case(
        [(REPORT, "application/json", None), (REPORT, "text/csv", None), (REPORT, None, None)],
        ChainRequest(b"1,2\n", "text/csv"),
        check=_check_default_accept,
    ),
    "direct mode by hostname": Case(
        [(REPORT, None, "first"), (REPORT, None, "second")],
        ChainRequest(b"1,2\n", "text/csv", target_hostname="second"),
        mode="Direct",
        check=_check_direct,
    ),
    "4xx from hop 2": Case(
        [
            (f"{STAGES}:AddOneStage", "application/json", None),
            (f"{STAGES}:CsvOnlyStage", None, None),
            (f"{STAGES}:AddOneStage", None, None),
        ],
        ChainRequest(b"1,2\n", "text/csv"),
        check=_check_client_error,
    ),
    "timeout": Case(
        [(f"{STAGES}:AddOneStage", None, None), (f"{STAGES}:SlowStage", None, None)],
        ChainRequest(b"1,2\n", "text/csv"),
        timeout=1.0,
        check=_check_timeout,
    ),
}


def _hops(case: Case, model_dir: Path) -> list[Hop]:
    hops = []
    for index, (stage, default_accept, hostname) in enumerate(case.stages):
        environment = {names.STAGE: stage}
        if default_accept:
            environment[names.DEFAULT_INVOCATIONS_ACCEPT] = default_accept
        hops.append(
            Hop(hostname or f"container-{index + 1}", str(model_dir), hostname, environment)
        )
    return hops


class _Servers:
    """Each hop's stage served by the runtime's Flask app on a loopback port."""

    def __init__(self, hops: list[Hop]) -> None:
        self.servers = []
        self.hops = []
        for hop in hops:
            settings = hop_settings(hop)
            server = make_server(
                "127.0.0.1", 0, create_app(load_stage(settings), settings), threaded=True
            )
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)
            self.hops.append(Hop(hop.name, f"http://127.0.0.1:{server.server_port}", hop.hostname))

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()


class _Recorder:
    def __init__(self) -> None:
        self.events: list[HopEvent] = []

    def on_hop(self, event: HopEvent) -> None:
        self.events.append(event)


def _outcome(hops: list[Hop], case: Case, transport: Transport) -> tuple[Any, list[str]]:
    recorder = _Recorder()
    try:
        result = run_chain(
            hops, case.request, transport, [recorder], mode=case.mode, timeout=case.timeout
        )
        outcome: Any = (result.body, result.content_type, result.headers)
    except ChainError as error:
        outcome = error
    return outcome, [e.hop.name for e in recorder.events]


def _comparable(outcome: Any) -> Any:
    if isinstance(outcome, ChainError):
        return (outcome.kind, outcome.message, outcome.original_status, outcome.original_message)
    return outcome


@pytest.fixture()
def both_transports(tmp_path: Path) -> Iterator[Callable[[Case], tuple[Any, Any]]]:
    opened: list[Any] = []

    def run(case: Case) -> tuple[Any, Any]:
        hops = _hops(case, tmp_path)
        servers = _Servers(hops)
        local = InProcessTransport(hops)
        opened.extend([servers, local])
        over_http = _outcome(servers.hops, case, http_transport(pooled_transport()))
        in_process = _outcome(hops, case, local)
        return over_http, in_process

    yield run
    for thing in opened:
        thing.close()


@pytest.mark.parametrize("name", list(CASES))
def test_http_and_in_process_transports_answer_the_same(
    name: str, both_transports: Callable[[Case], tuple[Any, Any]]
) -> None:
    case = CASES[name]
    (http_outcome, http_hops), (local_outcome, local_hops) = both_transports(case)
    case.check(http_outcome)
    assert _comparable(local_outcome) == _comparable(http_outcome)
    assert local_hops == http_hops  # observers saw the same hops


def test_direct_mode_without_a_known_hostname_names_the_choices(tmp_path: Path) -> None:
    case = CASES["direct mode by hostname"]
    hops = _hops(case, tmp_path)
    with pytest.raises(ChainError, match=r"must be one of \['first', 'second'\]") as caught:
        run_chain(
            hops,
            ChainRequest(b"1\n", "text/csv", target_hostname="third"),
            InProcessTransport(hops),
            mode="Direct",
        )
    assert caught.value.kind == "validation"
