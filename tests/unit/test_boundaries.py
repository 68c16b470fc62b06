"""Layer rules that nobody would otherwise check (STYLE.md, 'Layout')."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import inferpipe.pipeline_spec
import inferpipe.serving
import inferpipe.transformers

ROOT = Path(__file__).resolve().parents[2]


def test_importing_serving_loads_no_transformers_spec_or_boto3() -> None:
    code = (
        "import sys, inferpipe.serving.server, inferpipe.serving.app; "
        "bad = [m for m in sys.modules if m.startswith(('inferpipe.transformers', "
        "'inferpipe.pipeline_spec', 'boto3', 'sklearn'))]; print(bad)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/"
    )
    assert done.stdout.strip() == "[]"


def test_serving_errors_import_without_flask_or_pandas() -> None:
    code = (
        "import sys, inferpipe.serving.errors, inferpipe.serving.media, "
        "inferpipe.serving.settings; "
        "print([m for m in ('flask', 'pandas', 'numpy') if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/"
    )
    assert done.stdout.strip() == "[]"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize(
    "path", sorted((ROOT / "transformers").glob("[!_]*.py")), ids=lambda p: p.name
)
def test_stage_modules_never_import_each_other(path: Path) -> None:
    stages = {
        f"inferpipe.transformers.{p.stem}"
        for p in (ROOT / "transformers").glob("*.py")
        if not p.stem.startswith("_")
    }
    assert not (_imports(path) & (stages - {f"inferpipe.transformers.{path.stem}"}))


@pytest.mark.parametrize(
    "module", [inferpipe.serving, inferpipe.transformers, inferpipe.pipeline_spec]
)
def test_public_names_are_a_sorted_all(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert names == sorted(names)
    for name in names:
        assert getattr(module, name) is not None


def test_every_package_folder_is_listed_in_pyproject() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(project["tool"]["setuptools"]["packages"])
    mapping = project["tool"]["setuptools"]["package-dir"]
    found = set()
    for prefix, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            found.add(".".join([prefix, *relative.parts]))
    assert found == listed
