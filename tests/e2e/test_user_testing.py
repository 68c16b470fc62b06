"""`inferpipe.testing` used the way a user would: the README's pytest example runs as a
user's own suite (the installed plugin, an ini option naming the spec), and the
functions work without pytest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from inferpipe.testing import local_endpoint

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _readme_example() -> str:
    block = README[README.index("<!-- user-pytest-example") : README.index("<!-- end user-pytest")]
    return block.split("```python\n", 1)[1].split("```", 1)[0]


def _run_pytest(cwd: Path, test_file: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """pytest run in a fresh interpreter in `cwd`, as a user's CI would run it."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test_file],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_readme_pytest_example_runs_as_a_users_suite(abalone_dir: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "spec.yaml").write_text((abalone_dir / "spec.yaml").read_text())
    (project / "build").symlink_to(abalone_dir / "build")
    (project / "test_pipeline.py").write_text(_readme_example())
    (project / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\ninferpipe_spec = "spec.yaml"\n'
    )
    done = _run_pytest(project, "test_pipeline.py", timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout


def test_a_missing_spec_option_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("def test_x(inferpipe_endpoint):\n    pass\n")
    done = _run_pytest(tmp_path, "test_x.py", timeout=120)
    assert done.returncode != 0
    assert "--inferpipe-spec" in done.stdout + done.stderr


def test_local_endpoint_works_without_pytest(abalone_dir: Path) -> None:
    with local_endpoint(abalone_dir / "spec.yaml") as endpoint:
        answer = endpoint.invoke(
            b"M,0.455,0.365,0.095,0.514,0.2245,0.101,0.15\n",
            accept="application/json",
            TargetVariant="B",
        )
    assert b'"predictions"' in answer
