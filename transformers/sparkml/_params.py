"""Helpers both loaders share: numbers that JSON cannot spell, column-name lists."""

from __future__ import annotations

import math
from typing import Any

from inferpipe.protocol.errors import ArtifactError

SPECIAL_NUMBERS = {
    "inf": math.inf,
    "+inf": math.inf,
    "infinity": math.inf,
    "-inf": -math.inf,
    "-infinity": -math.inf,
    "nan": math.nan,
}


def to_float(value: Any, where: str) -> float:
    """A float from JSON, where Spark writes "Inf"/"-Inf"/"NaN" and Jackson may write "Infinity"."""
    if isinstance(value, str):
        special = SPECIAL_NUMBERS.get(value.strip().lower())
        if special is not None:
            return special
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ArtifactError(f"{where}: {value!r} is not a number") from None


def splits_of(values: list[Any], where: str) -> list[float]:
    """Split points; a null first/last entry (older MLeap writers) stands for -Inf/+Inf."""
    out = []
    for i, value in enumerate(values):
        if value is None and i == 0:
            out.append(-math.inf)
        elif value is None and i == len(values) - 1:
            out.append(math.inf)
        else:
            out.append(to_float(value, f"{where}[{i}]"))
    return out


def unsupported(stage: str, op: str, supported: list[str]) -> ArtifactError:
    if op == "sql_transformer":
        return ArtifactError(
            f"stage {stage!r} is a SQLTransformer in an MLeap bundle, which MLeap cannot "
            "serve either; save the pipeline with Spark's PipelineModel.save() instead, "
            "whose SQLTransformer the sparkml stage runs"
        )
    return ArtifactError(
        f"stage {stage!r} uses op {op!r}, which the sparkml stage does not implement; "
        f"supported: {', '.join(sorted(supported))}"
    )
