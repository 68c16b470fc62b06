"""What a stage reads and writes, as data: the columns a hop carries between containers.

The schema chain check compares one container's output with the next one's input before
anything starts. A stage describes itself (`Stage.interface`) in a child process, because
loading a joblib artifact runs code; `package` stores the description in the artifact
(`inferpipe-interface.json`), so later checks read data instead of loading pickles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

INTERFACE_FILE = "inferpipe-interface.json"
VERSION = 1


@dataclass(frozen=True)
class Columns:
    """One side of a stage: how many columns, their names when known, and who says so."""

    width: int | None = None
    names: tuple[str, ...] | None = None
    #: Where the numbers come from, for messages ("n_features_in_ of Ridge").
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "names": list(self.names) if self.names is not None else None,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, document: Any) -> Columns | None:
        if not isinstance(document, dict):
            return None
        width, names = document.get("width"), document.get("names")
        return cls(
            width=int(width) if isinstance(width, int) else None,
            names=tuple(str(n) for n in names) if isinstance(names, list) else None,
            source=str(document.get("source", "")),
        )


def columns(names: Any, source: str, width: int | None = None) -> Columns:
    """Columns from a list of names (the width is its length unless given)."""
    listed = tuple(str(n) for n in names) if names is not None else None
    return Columns(
        width if width is not None else (len(listed) if listed else None), listed, source
    )


@dataclass(frozen=True)
class StageInterface:
    """A stage's input and output columns; None where the stage cannot tell."""

    kind: str
    inputs: Columns | None = None
    outputs: Columns | None = None
    #: True when the inputs are what a model was fitted on (the message says "was trained on").
    fitted_inputs: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "kind": self.kind,
            "inputs": self.inputs.to_json() if self.inputs else None,
            "outputs": self.outputs.to_json() if self.outputs else None,
            "fitted_inputs": self.fitted_inputs,
        }

    def to_text(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, document: Any) -> StageInterface:
        if not isinstance(document, dict) or document.get("version") != VERSION:
            raise ValueError(f"not an {INTERFACE_FILE} of version {VERSION}")
        return cls(
            kind=str(document.get("kind", "")),
            inputs=Columns.from_json(document.get("inputs")),
            outputs=Columns.from_json(document.get("outputs")),
            fitted_inputs=bool(document.get("fitted_inputs", False)),
        )
