"""The README's main job (examples/abalone/quickstart.py) runs and prints what it promises."""

from __future__ import annotations

import re
import subprocess
import sys

from inferpipe_testing.containers import REPO_ROOT


def test_main_job_runs_the_ab_spec_through_boto3() -> None:
    done = subprocess.run(
        [sys.executable, "-P", str(REPO_ROOT / "examples" / "abalone" / "quickstart.py")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"age_band"' in done.stdout
    assert "TargetVariant=B" in done.stdout and "(variant B)" in done.stdout
    assert "ModelError, original status 400" in done.stdout
    split = re.search(r"A=(\d+) B=(\d+)", done.stdout)
    assert split and int(split[1]) + int(split[2]) == 200 and int(split[1]) > int(split[2])
    assert "mean latency per container call: container-1" in done.stdout
    assert "local endpoint stopped" in done.stderr
    assert done.stderr.count("packaged abalone-v1/") == 3
