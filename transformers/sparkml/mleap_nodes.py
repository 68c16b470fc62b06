"""The pieces of an MLeap bundle node: typed attribute values, ports, shapes.

Value spellings are MLeap's JSON format (`{"double": 1.0}`, `{"type": "list", "long": [...]}`,
tensors with column-major matrices); which type each attribute needs comes from the MLeap
runtime's op serializers (`getInt` vs `getLong`), so a wrong one here fails in MLeap.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inferpipe.transformers.sparkml import ops_linear as lin
from inferpipe.transformers.sparkml.columns import VECTOR
from inferpipe.transformers.sparkml.op import Op


def double_value(value: float) -> dict[str, Any]:
    return {"double": value}


def long_value(value: int) -> dict[str, Any]:
    return {"long": int(value)}


def int_value(value: int) -> dict[str, Any]:
    return {"int": int(value)}


def bool_value(value: bool) -> dict[str, Any]:
    return {"boolean": bool(value)}


def string_value(value: str) -> dict[str, Any]:
    return {"string": value}


def list_value(kind: str, values: list[Any]) -> dict[str, Any]:
    return {"type": "list", kind: values}


def tensor_value(values: np.ndarray) -> dict[str, Any]:
    """A tensor attribute; matrices are column-major, as MLeap builds its DenseMatrix."""
    array = np.asarray(values, dtype=np.float64)
    dims = [{"size": int(d), "name": ""} for d in array.shape]
    flat = array.reshape(-1, order="F").tolist()
    return {"type": "tensor", "double": flat, "shape": {"dimensions": dims}}


def finite_splits(values: list[float]) -> list[float | None]:
    """Split points as MLeap writes them: JSON has no infinity, so ±Inf is null."""
    return [v if math.isfinite(v) else None for v in values]


@dataclass
class NodeSpec:
    """One bundle node before it is written."""

    name: str
    op: str
    attributes: dict[str, Any]
    inputs: list[tuple[str, str]]
    outputs: list[tuple[str, str]]
    #: Extra files inside the node folder (trees): relative path -> bytes.
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    """What an input column looked like in the sample: scalar or tensor, and its width."""

    kind: str
    width: int


#: Writes one op as MLeap node(s), given what its input columns looked like.
Writer = Callable[[Any, list[Seen]], list[NodeSpec]]


def ports(prefix: str, names: list[str]) -> list[tuple[str, str]]:
    if len(names) == 1:
        return [(prefix, names[0])]
    return [(f"{prefix}{i}", n) for i, n in enumerate(names)]


def data_shape(seen: Seen) -> dict[str, Any]:
    if seen.kind == VECTOR:
        dims = [{"size": seen.width, "name": ""}]
        return {"base": "tensor", "isNullable": True, "tensorShape": {"dimensions": dims}}
    return {"base": "scalar", "isNullable": True}


def simple_node(op: Op, name: str, attributes: dict[str, Any]) -> list[NodeSpec]:
    return [
        NodeSpec(op.uid, name, attributes, ports("input", op.inputs), ports("output", op.outputs))
    ]


def per_column(
    op: Op, build: Callable[[int], tuple[str, dict[str, Any]]], suffix: str = ""
) -> list[NodeSpec]:
    """MLeap ops that take one column: a multi-column Spark stage becomes one node per column.

    `suffix` is the port suffix the MLeap op expects ("0" for one_hot_encoder's input0).
    """
    nodes = []
    for j, (source, target) in enumerate(zip(op.inputs, op.outputs, strict=True)):
        name, attributes = build(j)
        uid = op.uid if len(op.inputs) == 1 else f"{op.uid}_{j}"
        ports_in, ports_out = [(f"input{suffix}", source)], [(f"output{suffix}", target)]
        nodes.append(NodeSpec(uid, name, attributes, ports_in, ports_out))
    return nodes


def model_ports(op: Op, names: lin.ModelOutputs) -> list[tuple[str, str]]:
    ports = [("prediction", names.prediction)] if names.prediction else []
    if names.raw_prediction:
        ports.append(("raw_prediction", names.raw_prediction))
    if names.probability:
        ports.append(("probability", names.probability))
    return ports


def numbered_ports(prefix: str, names: list[str]) -> list[tuple[str, str]]:
    """MLeap's multi-column ops always number their ports (input0, output0, ...)."""
    return [(f"{prefix}{i}", n) for i, n in enumerate(names)]
