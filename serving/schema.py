"""Input/output schemas in AWS's SparkML schema format, shared by tabular stages.

`{"input": [{"name", "type", "struct"?}], "output": {"name", "type", "struct"?}}`
https://github.com/aws/sagemaker-sparkml-serving-container#schema
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inferpipe.protocol.errors import ArtifactError

SCHEMA_FILE = "schema.json"
NUMERIC_TYPES = {"double", "float", "integer", "int", "long", "short", "byte"}
TYPES = NUMERIC_TYPES | {"string", "boolean"}
STRUCTS = {"basic", "vector", "array"}


@dataclass(frozen=True)
class Column:
    """One named, typed column; `struct` is basic, vector or array."""

    name: str
    type: str
    struct: str = "basic"


@dataclass(frozen=True)
class Schema:
    """The named input columns a stage expects and the shape of what it returns."""

    input: tuple[Column, ...]
    output: Column | None = None

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.input]


def _parse_column(raw: Any, where: str) -> Column:
    if not isinstance(raw, dict) or "name" not in raw or "type" not in raw:
        raise ArtifactError(f"{where} must be an object with 'name' and 'type', got {raw!r}")
    col_type = str(raw["type"]).lower()
    struct = str(raw.get("struct", "basic")).lower()
    if col_type not in TYPES:
        raise ArtifactError(f"{where}.type {raw['type']!r} is not one of {sorted(TYPES)}")
    if struct not in STRUCTS:
        raise ArtifactError(f"{where}.struct {raw['struct']!r} is not one of {sorted(STRUCTS)}")
    return Column(str(raw["name"]), col_type, struct)


def parse_schema(document: Any, source: str) -> Schema:
    """Validate a decoded schema document; errors name `source` and the bad entry."""
    if not isinstance(document, dict) or not isinstance(document.get("input"), list):
        raise ArtifactError(f"{source}: a schema needs an 'input' list of columns")
    columns = tuple(
        _parse_column(raw, f"{source}: input[{i}]") for i, raw in enumerate(document["input"])
    )
    if not columns:
        raise ArtifactError(f"{source}: 'input' lists no columns")
    names = [c.name for c in columns]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ArtifactError(f"{source}: input column names repeat: {duplicates}")
    output = document.get("output")
    return Schema(columns, _parse_column(output, f"{source}: output") if output else None)


def load_schema_text(text: str, source: str) -> Schema:
    """Parse schema JSON text (from a file or an environment variable)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{source} is not valid JSON: {exc}") from exc
    return parse_schema(document, source)


def read_schema_file(model_dir: Path) -> Schema | None:
    """Read `schema.json` from a model dir, or None when there is none."""
    path = model_dir / SCHEMA_FILE
    if not path.is_file():
        return None
    return load_schema_text(path.read_text(encoding="utf-8"), str(path))
