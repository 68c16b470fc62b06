"""`inferpipe soak` as a user runs it: the abalone pipeline holds its rate for the
60-second CI form of the soak with no errors and flat memory, and a container that
leaks fails the soak, naming the process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from inferpipe_testing.local import script_pipeline_spec

ROW = b"M,0.455,0.365,0.095,0.514,0.2245,0.101,0.15\n"
LEAKY_SCRIPT = """
    KEPT = []

    def model_fn(model_dir):
        return None

    def transform_fn(model, body, content_type, accept):
        KEPT.append(bytearray(512 * 1024))  # half a MiB kept per request
        return body, "text/csv"
"""


def _soak(spec: Path, tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "row.csv").write_bytes(ROW)
    command = [sys.executable, "-P", "-m", "inferpipe", "soak", str(spec), "--body"]
    command += [str(tmp_path / "row.csv"), "--state-dir", str(tmp_path / "state"), *options]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def test_the_abalone_pipeline_soaks_a_minute_without_errors_or_growth(
    abalone_dir: Path, tmp_path: Path
) -> None:
    report_path, plot = tmp_path / "soak.json", tmp_path / "soak.png"
    done = _soak(
        abalone_dir / "spec.yaml",
        tmp_path,
        *("--rate", "30", "--duration", "80", "--warmup", "20"),
        *("--report", str(report_path), "--plot", str(plot)),
    )
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(report_path.read_text())
    assert report["passed"] and report["problems"] == []
    assert report["errors"] == 0 and report["restarts"] == 0
    assert report["requests"] >= 0.95 * 30 * 60
    assert 0 < report["p50_ms"] <= report["p99_ms"]
    labels = [p["label"] for p in report["processes"]]
    # the front, and a server and at least one worker for each of the three containers
    assert labels[0] == "front + load generator"
    for container in ("preprocess", "model", "postprocess"):
        assert f"abalone-v1/{container} server" in labels
        assert f"abalone-v1/{container} worker" in labels
    assert all(abs(p["growth"]) < 0.10 and p["exited_at_s"] is None for p in report["processes"])
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert "passed: no errors" in done.stdout


def test_a_leaking_container_fails_the_soak_and_is_named(tmp_path: Path) -> None:
    spec = script_pipeline_spec(tmp_path / "spec", "leaky", [("leaky", LEAKY_SCRIPT)])
    done = _soak(
        spec,
        tmp_path,
        *("--rate", "20", "--duration", "15", "--warmup", "5", "--window", "5"),
    )
    assert done.returncode == 1, done.stdout + done.stderr
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAILED:")]
    assert len(failed) == 1, done.stdout
    assert "leaky-v1/leaky worker" in failed[0] and "after the warm-up" in failed[0]
    assert "limit 10%" in failed[0]
