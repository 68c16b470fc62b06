"""The fused stage in process: the header flow of the separate containers, errors naming
the original container, timeouts that recycle the worker, and refusals at load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inferpipe.protocol import fused
from inferpipe.protocol.chain import ChainRequest, Hop, run_chain
from inferpipe.protocol.errors import ArtifactError
from inferpipe.serving.app import create_app
from inferpipe.serving.chain_transport import InProcessTransport
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage_loader import load_stage

REPORT = "inferpipe_testing.chain_stages:ReportStage"
SLOW = "inferpipe_testing.chain_stages:SlowStage"


def _fused_dir(folder: Path, kinds: list[str], environments: list[dict[str, str]]) -> Path:
    entries = []
    for index, (kind, environment) in enumerate(zip(kinds, environments, strict=True)):
        directory = fused.stage_directory(index, f"s{index}")
        (folder / directory).mkdir(parents=True)
        entries.append(
            fused.FusedEntry(directory, f"s{index}", f"container-{index + 1}", kind, environment)
        )
    fused.write_manifest(folder, entries)
    return folder


def _client(folder: Path, recycled: list[int] | None = None, **env: str):  # type: ignore[no-untyped-def]
    settings = ServingSettings.from_environ(env, model_dir=folder)
    stage = load_stage(settings)
    stage.warm_up()
    on_timeout = (lambda: recycled.append(1)) if recycled is not None else None
    return create_app(stage, settings, on_timeout=on_timeout).test_client()


def test_header_flow_matches_the_separate_chain(tmp_path: Path) -> None:
    environments = [{"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"}, {}]
    folder = _fused_dir(tmp_path / "f", [REPORT, REPORT], environments)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Accept": "application/jsonlines",
        "X-Amzn-SageMaker-Custom-Attributes": "a=1",
    }
    answer = _client(folder).post("/invocations", data=b'{"x": 1}', headers=headers)
    hops = [
        Hop(
            f"container-{i + 1}",
            str(folder / fused.stage_directory(i, f"s{i}")),
            None,
            {**environment, "INFERPIPE_STAGE": REPORT},
        )
        for i, environment in enumerate(environments)
    ]
    request = ChainRequest(
        b'{"x": 1}',
        headers["Content-Type"],
        headers["Accept"],
        {"X-Amzn-SageMaker-Custom-Attributes": "a=1"},
    )
    expected = run_chain(hops, request, InProcessTransport(hops))
    assert answer.status_code == 200
    assert answer.data == expected.body
    assert answer.headers["Content-Type"] == expected.content_type == "application/jsonlines"
    report = json.loads(answer.data)
    assert report["accept_header"] == "application/jsonlines"
    assert report["previous"]["accept_header"] is None
    assert report["previous"]["answered_as"] == "text/csv"
    timings = fused.parse_timings_header(answer.headers[fused.STAGE_TIMINGS_HEADER])
    assert [name for name, _ in timings] == ["container-1", "container-2"]


def test_an_error_names_the_original_container(tmp_path: Path) -> None:
    folder = _fused_dir(tmp_path / "f", [REPORT, "sklearn"], [{}, {}])
    with pytest.raises(ArtifactError, match=r"model\.joblib"):
        _client(folder)
    csv_only = _fused_dir(
        tmp_path / "g", [REPORT, "inferpipe_testing.chain_stages:CsvOnlyStage"], [{}, {}]
    )
    answer = _client(csv_only).post(
        "/invocations", data=b"{}", headers={"Content-Type": "application/json"}
    )
    # The report stage answers JSON by default; the CSV-only stage refuses it, as it would
    # have as its own container.
    assert answer.status_code == 415
    assert answer.headers[fused.FAILED_CONTAINER_HEADER] == "container-2"
    assert json.loads(answer.data)["stage"] == "csv-only"


def test_a_member_past_its_timeout_answers_its_504(tmp_path: Path) -> None:
    folder = _fused_dir(
        tmp_path / "f", [REPORT, SLOW], [{}, {"SAGEMAKER_MODEL_SERVER_TIMEOUT": "1"}]
    )
    recycled: list[int] = []
    client = _client(folder, recycled, SAGEMAKER_MODEL_SERVER_TIMEOUT="30")
    answer = client.post("/invocations", data=b"1\n", headers={"Content-Type": "text/csv"})
    # The member's own answer, as its container gives it (SlowStage takes 3 s).
    assert answer.status_code == 504
    assert answer.headers[fused.FAILED_CONTAINER_HEADER] == "container-2"
    assert json.loads(answer.data) == {
        "error": "timeout",
        "message": "the stage did not answer within 1 s (SAGEMAKER_MODEL_SERVER_TIMEOUT)",
        "stage": "slow",
    }
    assert recycled == []


def test_a_chain_past_the_fused_timeout_recycles_the_worker(tmp_path: Path) -> None:
    folder = _fused_dir(tmp_path / "f", [REPORT, SLOW], [{}, {}])
    recycled: list[int] = []
    client = _client(folder, recycled, SAGEMAKER_MODEL_SERVER_TIMEOUT="1")
    answer = client.post("/invocations", data=b"1\n", headers={"Content-Type": "text/csv"})
    assert answer.status_code == 504
    assert json.loads(answer.data)["stage"] == "fused"
    assert recycled == [1]


def test_nested_fusion_is_refused(tmp_path: Path) -> None:
    folder = _fused_dir(tmp_path / "f", ["fused"], [{}])
    with pytest.raises(ArtifactError, match="itself fused"):
        _client(folder)
