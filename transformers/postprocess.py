"""The postprocess stage: declarative steps from `postprocess.json`.

```json
{"input_columns": ["score"],
 "steps": [{"op": "threshold", "column": "score", "value": 0.5, "labels": ["no", "yes"],
            "output": "label"},
           {"op": "round", "decimals": 3}]}
```
Columns are referred to by name, or by position as an int. Each op is one function
below; its keyword parameters are the step's keys, checked at load.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from inferpipe.protocol.errors import ArtifactError, SchemaMismatch
from inferpipe.protocol.interface import StageInterface, columns
from inferpipe.serving.frames import column_arrays, column_dtypes, frame_of_columns
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage import Stage
from inferpipe.transformers._joblib import load_joblib
from inferpipe.transformers._tabular import column_label, frame_from_result

STEPS_FILE = "postprocess.json"
Ref = str | int


def _numeric(frame: pd.DataFrame, labels: list[Any], op: str) -> np.ndarray:
    try:
        return frame[labels].to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise SchemaMismatch(f"{op}: columns {labels} must hold numbers") from None


def _score_labels(frame: pd.DataFrame, columns: list[Ref] | None, op: str) -> list[Any]:
    return [column_label(frame, c, op) for c in columns] if columns else list(frame.columns)


def _check_label_count(op: str, scores: np.ndarray, labels: list[Any] | None) -> None:
    if labels is not None and len(labels) != scores.shape[1]:
        raise SchemaMismatch(
            f"{op}: records have {scores.shape[1]} score columns but the step names "
            f"{len(labels)} labels"
        )


def op_name_columns(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Name positional columns, e.g. the scores a model returned."""
    if len(names) != len(frame.columns):
        raise SchemaMismatch(
            f"name_columns: records have {len(frame.columns)} fields, "
            f"{len(names)} names were given: {names}"
        )
    return frame.set_axis(names, axis=1)


def op_threshold(
    frame: pd.DataFrame,
    column: Ref,
    value: float,
    output: str = "label",
    labels: list[Any] | None = None,
) -> pd.DataFrame:
    """Binary decision: score >= value gives labels[1] (or 1), else labels[0] (or 0)."""
    scores = _numeric(frame, [column_label(frame, column, "threshold")], "threshold")[:, 0]
    decided = scores >= value
    choices = labels if labels is not None else [0, 1]
    return frame.assign(**{output: np.where(decided, choices[1], choices[0])})


def op_argmax(
    frame: pd.DataFrame,
    output: str = "label",
    labels: list[Any] | None = None,
    columns: list[Ref] | None = None,
    score_output: str | None = None,
) -> pd.DataFrame:
    """The best class per record, as its label (or index), optionally with its score."""
    scores = _numeric(frame, _score_labels(frame, columns, "argmax"), "argmax")
    _check_label_count("argmax", scores, labels)
    best = scores.argmax(axis=1)
    result = frame.assign(**{output: np.asarray(labels, dtype=object)[best] if labels else best})
    if score_output:
        result[score_output] = scores[np.arange(len(best)), best]
    return result


def op_top_k(
    frame: pd.DataFrame,
    k: int,
    labels: list[Any] | None = None,
    columns: list[Ref] | None = None,
    output: str = "labels",
    score_output: str = "scores",
) -> pd.DataFrame:
    """The k best classes per record, best first, as a label list and a score list."""
    scores = _numeric(frame, _score_labels(frame, columns, "top_k"), "top_k")
    _check_label_count("top_k", scores, labels)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    names = np.asarray(labels, dtype=object) if labels else None
    tops = [list(names[row]) if names is not None else row.tolist() for row in order]
    top_scores = [scores[i, row].tolist() for i, row in enumerate(order)]
    return frame.assign(**{output: tops, score_output: top_scores})


def op_label_map(
    frame: pd.DataFrame, column: Ref, map: dict[str, Any], output: str | None = None
) -> pd.DataFrame:
    """Replace values by labels (keys are compared as text); unmapped values stay."""
    label = column_label(frame, column, "label_map")

    def relabel(value: Any) -> Any:
        key = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        return map.get(key, value)

    return frame.assign(**{str(output or label): [relabel(v) for v in frame[label]]})


def op_bins(
    frame: pd.DataFrame, column: Ref, edges: list[float], labels: list[Any], output: str = "band"
) -> pd.DataFrame:
    """Bucket a number: labels[i] for edges[i-1] <= x < edges[i] (len(labels) = edges+1)."""
    if len(labels) != len(edges) + 1:
        raise SchemaMismatch(f"bins: {len(edges)} edges need {len(edges) + 1} labels")
    values = _numeric(frame, [column_label(frame, column, "bins")], "bins")[:, 0]
    index = np.digitize(values, edges, right=False)
    return frame.assign(**{output: np.asarray(labels, dtype=object)[index]})


def op_round(frame: pd.DataFrame, decimals: int, columns: list[Ref] | None = None) -> pd.DataFrame:
    """Round numeric columns (all of them unless `columns` names some)."""
    targets = _score_labels(frame, columns, "round")
    labels = frame.columns.tolist()
    plain = all(isinstance(dtype, np.dtype) for dtype in column_dtypes(frame))
    if plain and len(set(labels)) == len(labels):
        # Column arrays in, a frame of arrays out: the same np.round pandas applies,
        # without a copied frame and a Series per column (~50 us on a one-row request).
        chosen = set(targets)
        arrays = [
            array.round(decimals) if label in chosen and array.dtype.kind == "f" else array
            for label, array in zip(labels, column_arrays(frame), strict=True)
        ]
        return frame_of_columns(arrays, labels)
    # Extension dtypes or repeated labels: pandas' own rounding, column by position.
    rounded = frame.copy()
    chosen = set(targets)
    for j, label in enumerate(labels):
        if label in chosen and pd.api.types.is_float_dtype(rounded.iloc[:, j]):
            rounded.isetitem(j, rounded.iloc[:, j].round(decimals))
    return rounded


def op_select(frame: pd.DataFrame, columns: list[Ref]) -> pd.DataFrame:
    """Keep these columns, in this order."""
    return frame[[column_label(frame, c, "select") for c in columns]]


def op_rename(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Rename columns: {"old": "new"}."""
    for old in columns:
        column_label(frame, old, "rename")
    return frame.rename(columns=columns)


def op_inverse_transform(
    frame: pd.DataFrame,
    artifact: str,
    estimator: Any,
    columns: list[Ref] | None = None,
    output: str | None = None,
) -> pd.DataFrame:
    """Apply a fitted sklearn object's inverse_transform (a LabelEncoder, a scaler).

    `estimator` is the object loaded from `artifact` when the stage loads.
    """
    labels = _score_labels(frame, columns, "inverse_transform")
    values = frame[labels].to_numpy()
    if type(estimator).__name__ == "LabelEncoder":
        values = values[:, 0].astype(np.int64)
    try:
        restored = estimator.inverse_transform(values)
    except (ValueError, IndexError) as exc:
        raise SchemaMismatch(f"inverse_transform ({artifact}): {exc}") from None
    restored_frame = frame_from_result(restored)
    if output:
        return frame.assign(**{output: restored_frame.iloc[:, 0].to_numpy()})
    return restored_frame


def _step_problem(op: str, params: dict[str, Any], columns: list[Any] | None) -> str | None:
    """What is wrong with one step given the columns it will see (None: unknown)."""
    labels = params.get("labels")
    if op == "threshold" and labels is not None and len(labels) != 2:
        return f"needs 2 labels (below, at or above the value), got {len(labels)}"
    if op == "bins" and len(params["labels"]) != len(params["edges"]) + 1:
        return f"{len(params['edges'])} edges need {len(params['edges']) + 1} labels"
    if op == "top_k" and (not isinstance(params["k"], int) or params["k"] < 1):
        return f"k must be a positive integer, got {params['k']!r}"
    refs = [params[key] for key in ("column",) if key in params]
    refs += list(params.get("columns") or []) if op != "rename" else list(params["columns"])
    if columns is not None:
        for ref in refs:
            if isinstance(ref, str) and ref not in columns:
                return f"column {ref!r} is not among the columns it receives: {columns}"
            if isinstance(ref, int) and not 0 <= ref < len(columns):
                return f"column {ref} is out of range: records have {len(columns)} columns"
    if op in ("argmax", "top_k") and labels is not None:
        width = len(params["columns"]) if params.get("columns") else None
        width = width if width is not None else (len(columns) if columns is not None else None)
        if width is not None and width != len(labels):
            return f"{width} score columns but {len(labels)} labels"
    return None


def _columns_after(op: str, params: dict[str, Any], columns: list[Any]) -> list[Any] | None:
    """The columns a step leaves (None when it cannot be known before a request)."""
    if op == "name_columns":
        return list(params["names"])
    if op == "select":
        return [columns[c] if isinstance(c, int) else c for c in params["columns"]]
    if op == "rename":
        return [params["columns"].get(c, c) for c in columns]
    if op == "inverse_transform":
        return None if not params.get("output") else [*columns, params["output"]]
    added = [params.get("output", OUTPUT_DEFAULTS.get(op))]
    if op in ("argmax", "top_k"):
        added.append(params.get("score_output", "scores" if op == "top_k" else None))
    if op == "label_map" and not params.get("output"):
        added = []
    new = [a for a in added if a is not None and a not in columns]
    return [*columns, *new]


#: The output column a step writes when its `output` key is absent.
OUTPUT_DEFAULTS = {"threshold": "label", "argmax": "label", "top_k": "labels", "bins": "band"}


def check_columns(
    steps: list[tuple[str, dict[str, Any]]], input_columns: list[str] | None, source: Path
) -> None:
    """Check label counts and column references at load, naming the step.

    Columns are followed from `input_columns` through the steps while they are known;
    without `input_columns`, only what a step says of itself is checked."""
    columns: list[Any] | None = list(input_columns) if input_columns else None
    for index, (op, params) in enumerate(steps):
        problem = _step_problem(op, params, columns)
        if problem:
            raise ArtifactError(f"{source}: steps[{index}] ({op}): {problem}")
        if columns is not None:
            columns = _columns_after(op, params, columns)


OPS: dict[str, Callable[..., pd.DataFrame]] = {
    "name_columns": op_name_columns,
    "threshold": op_threshold,
    "argmax": op_argmax,
    "top_k": op_top_k,
    "label_map": op_label_map,
    "bins": op_bins,
    "round": op_round,
    "select": op_select,
    "rename": op_rename,
    "inverse_transform": op_inverse_transform,
}


def _check_step(index: int, step: Any, source: Path) -> tuple[str, dict[str, Any]]:
    where = f"{source}: steps[{index}]"
    if not isinstance(step, dict) or step.get("op") not in OPS:
        raise ArtifactError(f"{where} needs an 'op' among {sorted(OPS)}, got {step!r}")
    params = {k: v for k, v in step.items() if k != "op"}
    op = OPS[step["op"]]
    supplied = dict(params)
    if step["op"] == "inverse_transform":
        supplied["estimator"] = None  # loaded by PostprocessStage.load once all steps check
    try:
        inspect.signature(op).bind(None, **supplied)
    except TypeError as exc:
        raise ArtifactError(f"{where} ({step['op']}): {exc}") from None
    return step["op"], supplied


def _merge_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """Give positional columns text names once a step has added named ones."""
    kinds = {isinstance(c, str) for c in frame.columns}
    return frame.set_axis([str(c) for c in frame.columns], axis=1) if len(kinds) > 1 else frame


class PostprocessStage(Stage):
    """Run the declared steps over the previous container's records."""

    kind = "postprocess"

    def load(self, model_dir: Path, settings: ServingSettings) -> None:
        super().load(model_dir, settings)
        source = model_dir / STEPS_FILE
        try:
            document = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ArtifactError(f"{source} cannot be read: {exc}") from exc
        if not isinstance(document, dict) or not isinstance(document.get("steps"), list):
            raise ArtifactError(f"{source} needs a 'steps' list")
        self.input_columns: list[str] | None = document.get("input_columns")
        self.steps = [_check_step(i, s, source) for i, s in enumerate(document["steps"])]
        check_columns(self.steps, self.input_columns, source)
        for op, params in self.steps:
            if op == "inverse_transform":
                params["estimator"] = load_joblib(model_dir / params["artifact"])

    def interface(self) -> StageInterface:
        """The records it reads are as wide as `input_columns` (unknown without them)."""
        if not self.input_columns:
            return StageInterface(self.kind)
        return StageInterface(
            self.kind, columns(self.input_columns, f"input_columns of {STEPS_FILE}")
        )

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.input_columns:
            frame = op_name_columns(frame, self.input_columns)
        for op, params in self.steps:
            frame = _merge_labels(OPS[op](frame, **params))
        return frame
