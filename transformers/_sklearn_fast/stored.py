"""The compiled form stored beside `model.joblib`: plain arrays and JSON, no pickle.

`model.compiled.json` holds the program (each step's op and params, its arrays named
by key), what the stage needs to know of the model (method, fitted input names, its
interface) and the sha256 of the `model.joblib` it was compiled from;
`model.compiled.npz` holds the arrays (read with `allow_pickle=False`). Loading either
imports neither scikit-learn nor joblib and runs no code from the artifact, so such a
model dir starts in a fraction of the time (and serves without scikit-learn at all).

A program is stored only when every step has a Plan and was verified against
scikit-learn when it was compiled (`compile_model`); the stored form is rebuilt through
the same `plans.build` that served during that verification.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inferpipe.protocol.errors import ArtifactError
from inferpipe.transformers._sklearn_fast.plans import build
from inferpipe.transformers._sklearn_fast.registry import Kernel, Plan

COMPILED_JSON = "model.compiled.json"
COMPILED_ARRAYS = "model.compiled.npz"
FORMAT = "inferpipe-compiled-sklearn"
FORMAT_VERSION = 1


class NotStorable(Exception):
    """The compiled program holds something plain arrays and JSON cannot carry."""


@dataclass(frozen=True)
class StoredModel:
    """A loaded compiled form: the kernel and what the stage knows of the model."""

    call: Kernel
    #: method, model_class, feature_names, interface, model_sha256, versions.
    about: dict[str, Any]


def file_digest(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _store_array(array: np.ndarray, where: str) -> tuple[np.ndarray, bool]:
    """An array npz can hold without pickle; True when it was object strings."""
    if array.dtype != object:
        return array, False
    values = array.ravel().tolist()
    if not all(isinstance(v, str) for v in values):
        raise NotStorable(f"{where} holds Python objects other than strings")
    return np.array(values, dtype=str).reshape(array.shape), True


def _flatten(plan: Plan, arrays: dict[str, np.ndarray], where: str) -> dict[str, Any]:
    names = {}
    object_arrays = []
    for name, array in plan.arrays.items():
        key = f"a{len(arrays)}"
        arrays[key], was_object = _store_array(np.asarray(array), f"{where}.{name}")
        names[name] = key
        if was_object:
            object_arrays.append(name)
    return {
        "op": plan.op,
        "params": plan.params,
        "arrays": names,
        "object_arrays": object_arrays,
        "children": [_flatten(c, arrays, f"{where}/{c.op}") for c in plan.children],
    }


def _unflatten(node: dict[str, Any], arrays: Any) -> Plan:
    loaded = {}
    for name, key in node["arrays"].items():
        array = arrays[key]
        if name in node.get("object_arrays", []):
            array = array.astype(object)
        loaded[name] = array
    return Plan(
        node["op"],
        node["params"],
        loaded,
        tuple(_unflatten(child, arrays) for child in node["children"]),
    )


def compiled_files(plan: Plan, about: dict[str, Any]) -> dict[str, bytes]:
    """The two files of a stored program, by name; NotStorable when it cannot be."""
    arrays: dict[str, np.ndarray] = {}
    document = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        **about,
        "program": _flatten(plan, arrays, plan.op),
    }
    try:
        text = json.dumps(document, default=_json_value, allow_nan=False, indent=1)
    except (TypeError, ValueError) as exc:
        raise NotStorable(f"a step's parameters are not plain JSON: {exc}") from None
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return {COMPILED_JSON: (text + "\n").encode(), COMPILED_ARRAYS: buffer.getvalue()}


def read_about(model_dir: Path) -> dict[str, Any] | None:
    """The stored form's JSON document, or None when the model dir has none."""
    path = model_dir / COMPILED_JSON
    if not path.is_file():
        return None
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path} cannot be read: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ArtifactError(f"{path} is not an inferpipe compiled scikit-learn model")
    if document.get("version") != FORMAT_VERSION:
        raise ArtifactError(
            f"{path} has format version {document.get('version')}; this inferpipe reads "
            f"version {FORMAT_VERSION}: run `inferpipe compile-sklearn` again"
        )
    return document


def load_stored(model_dir: Path, document: dict[str, Any]) -> StoredModel:
    """Rebuild the kernel of a stored program (no pickle, no scikit-learn)."""
    path = model_dir / COMPILED_ARRAYS
    try:
        with np.load(path, allow_pickle=False) as arrays:
            plan = _unflatten(document["program"], arrays)
        call = build(plan)
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise ArtifactError(f"{path} does not hold the compiled model: {exc}") from None
    about = {k: v for k, v in document.items() if k not in {"program", "format", "version"}}
    return StoredModel(call, about)
