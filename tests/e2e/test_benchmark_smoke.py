"""The speed benchmark runs end to end (one short cell): the script CI keeps honest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_matrix_smoke_run_writes_table_and_plot(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-P",
            str(ROOT / "benchmarks" / "matrix.py"),
            "--smoke",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    table = (tmp_path / "matrix.md").read_text()
    assert "| 1 row, c=1 |" in table and "x**" in table and "Cold start" in table
    for server in ("hand-made router + 3 echo stages", "hand-made router + 3 Flask stages"):
        assert server in table
    assert "local endpoint, fused (1 container)" in table
    # The local endpoints' own share of each request, read from their /metrics.
    shares = table.split("from its\n`/metrics`", 1)[1]
    row = next(line for line in shares.splitlines() if line.startswith("| 1 row, c=1 |"))
    front_ms, hops_ms = (float(v) for v in row.split("|")[2].split("(")[0].split(" / "))
    assert front_ms > 0 and hops_ms > 0
    # Every server answered every request of its cell.
    assert "errors" not in table
    assert (tmp_path / "matrix.png").read_bytes()[:4] == b"\x89PNG"
