"""Layer rules that nobody would otherwise check (STYLE.md, 'Layout')."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import inferpipe.pipeline_spec
import inferpipe.protocol
import inferpipe.serving
import inferpipe.transformers

ROOT = Path(__file__).resolve().parents[2]


def _loaded_after_importing(packages: list[str]) -> list[str]:
    """Every module a fresh interpreter holds after importing each module of `packages`."""
    code = (
        "import importlib, pkgutil, sys\n"
        f"for name in {packages!r}:\n"
        "    package = importlib.import_module(name)\n"
        "    for info in pkgutil.walk_packages(package.__path__, name + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/"
    )
    return done.stdout.split()


def _offenders(loaded: list[str], banned: tuple[str, ...]) -> list[str]:
    return [m for m in loaded if any(m == b or m.startswith(b + ".") for b in banned)]


def test_serving_loads_no_spec_code_stage_code_or_boto3() -> None:
    loaded = _loaded_after_importing(["inferpipe.serving"])
    banned = ("inferpipe.transformers", "inferpipe.pipeline_spec", "boto3", "sklearn")
    assert _offenders(loaded, banned) == []


def test_spec_side_loads_no_serving_stages_flask_numpy_or_sklearn() -> None:
    loaded = _loaded_after_importing(["inferpipe.pipeline_spec", "inferpipe.cli"])
    banned = (
        "inferpipe.serving",
        "inferpipe.transformers",
        "flask",
        "numpy",
        "pandas",
        "sklearn",
    )
    assert _offenders(loaded, banned) == []


def test_protocol_needs_the_standard_library_only() -> None:
    loaded = _loaded_after_importing(["inferpipe.protocol"])
    foreign = [
        m
        for m in loaded
        if m.split(".")[0] not in sys.stdlib_module_names
        and m.split(".")[0] not in {"inferpipe", "__main__"}
        and not m.startswith("_")
    ]
    ours = [
        m
        for m in loaded
        if m.startswith("inferpipe.")
        and not m.startswith(("inferpipe.protocol", "inferpipe._version"))
    ]
    assert foreign == [] and ours == []


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
    "module",
    [inferpipe.protocol, inferpipe.serving, inferpipe.transformers, inferpipe.pipeline_spec],
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


def _module_graph() -> dict[str, set[str]]:
    """inferpipe's modules and the inferpipe modules each imports (lazy imports too)."""
    import tomllib

    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-dir"
    ]
    files: dict[str, Path] = {}
    for prefix, folder in mapping.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            files[".".join([prefix, *parts])] = path
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module in files:
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    edges.add(child if child in files else node.module)
            elif isinstance(node, ast.Import):
                edges.update(a.name for a in node.names if a.name in files)
        graph[module] = edges - {module}
    return graph


def test_there_are_no_import_circles() -> None:
    graph = _module_graph()
    circles = []
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            # A package importing its own submodules is how packages re-export.
            if module.startswith(target + ".") or target.startswith(module + "."):
                continue
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_only_the_chain_runner_words_container_errors() -> None:
    """SageMaker's "Received client error (415) from container-2" is built in one place."""
    folders = ("inferpipe", "protocol", "serving", "transformers", "pipeline_spec")
    sources = [p for folder in folders for p in (ROOT / folder).rglob("*.py")]
    wording = [p for p in sources if "error ({status}) from" in p.read_text()]
    assert wording == [ROOT / "protocol" / "chain.py"]
