"""The stepped fixed-rate load generator, against plain-function "servers"."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import yaml

from inferpipe.pipeline_spec.errors import SpecError
from inferpipe.pipeline_spec.loadtest import StepResult, autoscaling_target, find_max_rps, run_step
from inferpipe.pipeline_spec.local.loadtest_session import (
    SweepPoint,
    VariantLoad,
    best_points,
    sweep_candidates,
    with_server_settings,
    write_spec_with_targets,
)


def capacity_limited(service_seconds: float, capacity: int):  # type: ignore[no-untyped-def]
    """A server that handles `capacity` requests at a time, each taking `service_seconds`."""
    slots = threading.Semaphore(capacity)

    def send(body: bytes, headers: dict[str, str]) -> int:
        with slots:
            time.sleep(service_seconds)
        return 200

    return send


def test_the_target_follows_the_sagemaker_formula() -> None:
    assert autoscaling_target(40, 0.5) == 1200
    assert autoscaling_target(12.5, 0.8) == 600


def test_a_step_the_generator_could_not_offer_is_not_counted() -> None:
    short = StepResult(100, 90, 5, 10, 0, 90)
    assert not short.counted and not short.passes(p99_ms=50)
    assert StepResult(100, 96, 5, 10, 0, 96).passes(p99_ms=50)


def test_an_open_loop_step_offers_its_rate_and_counts_latency_from_the_due_time() -> None:
    result = run_step(capacity_limited(0.001, 8), b"x", {}, rate=50, seconds=1, threads=8)
    assert result.requests == 50 and result.errors == 0 and result.counted
    # A server slower than the rate: requests queue, so latency grows past the service time.
    slow = run_step(capacity_limited(0.05, 1), b"x", {}, rate=40, seconds=1, threads=16)
    assert slow.p99_ms > 200


def test_the_rate_rises_until_the_objective_breaks() -> None:
    steps_seen: list[int] = []
    best, steps = find_max_rps(
        capacity_limited(0.02, 1),  # at most 50 requests/s
        b"x",
        {},
        p99_ms=100,
        duration=10,
        step_seconds=1,
        start_rps=10,
        progress=lambda step, number, total: steps_seen.append(number),
        threads=16,
    )
    assert best is not None and 10 <= best < 50
    assert not steps[-1].passes(100) and steps_seen == list(range(1, len(steps) + 1))


def test_the_spec_copy_gets_max_rps_and_the_original_is_untouched(tmp_path: Path) -> None:
    source = tmp_path / "spec.yaml"
    source.write_text(
        yaml.safe_dump(
            {
                "variants": [
                    {
                        "name": "A",
                        "autoscaling": {
                            "min_capacity": 1,
                            "max_capacity": 2,
                            "target_invocations": 10,
                        },
                    },
                    {"name": "B"},
                ]
            }
        )
    )
    before = source.read_text()
    loads = [VariantLoad("A", 41.234, 0.5, []), VariantLoad("B", 30.0, 0.5, [])]
    skipped = write_spec_with_targets(source, tmp_path / "out.yaml", loads)
    written = yaml.safe_load((tmp_path / "out.yaml").read_text())
    assert written["variants"][0]["autoscaling"] == {
        "min_capacity": 1,
        "max_capacity": 2,
        "max_rps": 41.23,
    }
    assert skipped == ["B: has no autoscaling section to put max_rps in"]
    assert source.read_text() == before
    with pytest.raises(SpecError, match="never rewritten"):
        write_spec_with_targets(source, source, loads)


def test_the_sweep_tries_one_worker_one_per_core_and_two_per_core() -> None:
    assert sweep_candidates(2) == [(1, 1), (1, 2), (2, 1), (2, 2), (4, 1), (4, 2)]
    assert sweep_candidates(1) == [(1, 1), (1, 2), (2, 1), (2, 2)]


def test_the_best_setting_per_variant_is_the_highest_max_rps_fewest_processes_first() -> None:
    points = [
        SweepPoint(1, 1, [VariantLoad("A", 50.0, 0.5, []), VariantLoad("B", None, 0.5, [])]),
        SweepPoint(2, 1, [VariantLoad("A", 90.0, 0.5, []), VariantLoad("B", 20.0, 0.5, [])]),
        SweepPoint(4, 1, [VariantLoad("A", 90.0, 0.5, []), VariantLoad("B", 10.0, 0.5, [])]),
    ]
    best = best_points(points)
    assert (best["A"].workers, best["B"].workers) == (2, 2)


def test_swept_settings_go_to_inferpipe_containers_only(tmp_path: Path) -> None:
    from inferpipe.pipeline_spec.loader import load_spec

    example = Path(__file__).resolve().parents[3] / "examples" / "abalone" / "spec.yaml"
    spec = with_server_settings(load_spec(example), 2, 3)
    environments = [c.environment for c in spec.models["abalone-v1"].containers]
    assert environments[0]["SAGEMAKER_MODEL_SERVER_WORKERS"] == "2"
    assert environments[0]["INFERPIPE_WORKER_THREADS"] == "3"
    assert "SAGEMAKER_MODEL_SERVER_WORKERS" not in environments[1]  # the built-in XGBoost
    loads = [VariantLoad("A", 12.0, 0.5, [])]
    out = tmp_path / "tuned.yaml"
    write_spec_with_targets(example, out, loads, {"A": {"INFERPIPE_WORKER_THREADS": "3"}})
    written = load_spec(out)
    containers = written.models["abalone-v1"].containers
    assert [c.environment.get("INFERPIPE_WORKER_THREADS") for c in containers] == ["3", None, "3"]
    assert written.variants[0].autoscaling is not None
    assert written.variants[0].autoscaling.max_rps == 12.0
