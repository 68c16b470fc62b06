"""Read a spec file and validate it completely, raising one SpecError that lists every problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from inferpipe.pipeline_spec.errors import SpecError
from inferpipe.pipeline_spec.model import PipelineSpec
from inferpipe.pipeline_spec.validation import find_deploy_issues, find_issues


def _path(location: tuple[int | str, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def parse_spec(document: Any, source: str = "spec") -> PipelineSpec:
    """Validate a decoded document (types, then cross-field rules)."""
    if not isinstance(document, dict):
        raise SpecError(f"{source}: the top level must be a mapping with spec_version: 1")
    try:
        spec = PipelineSpec.model_validate(document)
    except ValidationError as exc:
        problems = [f"{_path(tuple(e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise SpecError(f"{source} is not a valid spec:\n  " + "\n  ".join(problems)) from None
    issues = find_issues(spec)
    if issues:
        raise SpecError(
            f"{source} is not a valid spec:\n  "
            + "\n  ".join(f"{path}: {message}" for path, message in issues)
        )
    return spec


def load_spec(path: Path) -> PipelineSpec:
    """Load and validate a YAML spec file."""
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{path} is not valid YAML: {exc}") from None
    return parse_spec(document, str(path))


def check_deployable(spec: PipelineSpec, source: str = "spec") -> None:
    """Raise SpecError for what only AWS needs (an artifact bucket for local artifacts)."""
    issues = find_deploy_issues(spec)
    if issues:
        raise SpecError(
            f"{source} cannot be packaged for AWS:\n  "
            + "\n  ".join(f"{path}: {message}" for path, message in issues)
        )
