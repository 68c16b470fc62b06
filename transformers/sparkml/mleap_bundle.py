"""Load MLeap bundles (JSON format, MLeap 0.8 to 0.23 layouts) onto our ops.

A bundle is `bundle.json` plus `root/` (`model.json` = op + attributes, `node.json` =
name + input/output ports); pipelines list child nodes in `<name>.node/` folders,
tree ensembles keep each tree in its own folder with a line-per-node `tree.json`.
Attributes are typed values (`{"double": 1.0}`, `{"type": "list", "string": [...]}`,
`{"type": "tensor", "double": [...], "shape": ...}`, matrices column-major); omitted ones
take MLeap's defaults, and a null split point stands for ±Inf (JSON has no infinity).
https://combust.github.io/mleap-docs/mleap-runtime/
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from inferpipe.serving.errors import ArtifactError
from inferpipe.transformers.sparkml import mleap_ops
from inferpipe.transformers.sparkml._params import unsupported
from inferpipe.transformers.sparkml.mleap_files import BundleFiles
from inferpipe.transformers.sparkml.op import Op, Pipeline

SUPPORTED_FORMATS = ("json",)


def decode_value(raw: Any, where: str) -> Any:
    """One MLeap attribute value as Python (lists, numpy arrays for tensors)."""
    if not isinstance(raw, dict):
        return raw
    kind = raw.get("type")
    keys = [k for k in raw if k not in ("type", "shape")]
    if not keys:
        raise ArtifactError(f"{where}: attribute {raw!r} holds no value")
    value = raw[keys[0]]
    if kind == "tensor":
        dims = [int(d["size"]) for d in (raw.get("shape") or {}).get("dimensions", [])]
        array = np.asarray(value, dtype=np.float64)
        if not dims or int(np.prod(dims)) != array.size:
            return array
        # Matrices are column-major (MLeap builds a DenseMatrix from the values).
        return array.reshape(dims, order="F")
    return value


@dataclass
class Node:
    """One bundle node: op name, decoded attributes, ports, and where it lives."""

    name: str
    op: str
    attributes: dict[str, Any]
    inputs: dict[str, str]
    outputs: dict[str, str]
    folder: str
    files: BundleFiles

    def attr(self, name: str, default: Any = None) -> Any:
        return self.attributes.get(name, default)

    def require(self, name: str) -> Any:
        if name not in self.attributes:
            raise ArtifactError(
                f"{self.files.source}: node {self.name!r} ({self.op}) lacks attribute {name!r}"
            )
        return self.attributes[name]

    def ordered(self, ports: dict[str, str], base: str) -> list[str]:
        """Columns of `base`, `base0`, `base1`, ... in port order."""
        if base in ports:
            return [ports[base]]
        numbered = sorted(
            (int(port[len(base) :]), column)
            for port, column in ports.items()
            if port.startswith(base) and port[len(base) :].isdigit()
        )
        return [column for _, column in numbered]

    def read_json(self, relative: str) -> Any:
        path = f"{self.folder}/{relative}"
        try:
            return json.loads(self.files.read(path))
        except json.JSONDecodeError as exc:
            raise ArtifactError(f"{self.files.source}: {path} is not JSON: {exc}") from exc


def _ports(shape: Any, key: str) -> dict[str, str]:
    return {str(p["port"]): str(p["name"]) for p in (shape or {}).get(key, [])}


def read_node(files: BundleFiles, folder: str) -> Node:
    def load(name: str) -> Any:
        path = f"{folder}/{name}"
        try:
            return json.loads(files.read(path))
        except json.JSONDecodeError as exc:
            raise ArtifactError(f"{files.source}: {path} is not JSON: {exc}") from exc

    model = load("model.json")
    node = load("node.json") if files.exists(f"{folder}/node.json") else {}
    name = str(node.get("name", folder.rsplit("/", 1)[-1]))
    attributes = {
        key: decode_value(value, f"{files.source}: {folder}/model.json {key}")
        for key, value in (model.get("attributes") or {}).items()
    }
    shape = node.get("shape") or {}
    return Node(
        name=name,
        op=str(model.get("op")),
        attributes=attributes,
        inputs=_ports(shape, "inputs"),
        outputs=_ports(shape, "outputs"),
        folder=folder,
        files=files,
    )


def _child_folder(files: BundleFiles, folder: str, child: str) -> str:
    for candidate in (f"{folder}/{child}.node", f"{folder}/{child}"):
        if files.exists(f"{candidate}/model.json"):
            return candidate
    raise ArtifactError(f"{files.source}: node {child!r} has no folder under {folder}/")


def build_node(node: Node) -> Op:
    if node.op == "pipeline":
        children = [
            build_node(read_node(node.files, _child_folder(node.files, node.folder, str(c))))
            for c in node.require("nodes")
        ]
        return Pipeline(node.name, [], [], stages=children)
    builder: Callable[[Node], Op] | None = mleap_ops.BUILDERS.get(node.op)
    if builder is None:
        raise unsupported(node.name, node.op, [*mleap_ops.BUILDERS, "pipeline"])
    try:
        return builder(node)
    except ArtifactError:
        raise
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ArtifactError(
            f"{node.files.source}: node {node.name!r} ({node.op}) cannot be read: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def child_node(parent: Node, child: str) -> Node:
    return read_node(parent.files, _child_folder(parent.files, parent.folder, child))


def load_bundle(files: BundleFiles) -> Op:
    """Read `bundle.json` and build the root node's op tree."""
    try:
        manifest = json.loads(files.read("bundle.json"))
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{files.source}: bundle.json is not JSON: {exc}") from exc
    bundle_format = str(manifest.get("format", "json"))
    if bundle_format not in SUPPORTED_FORMATS:
        raise ArtifactError(
            f"{files.source}: bundle format {bundle_format!r} is not supported; export the "
            "bundle with SerializationFormat.Json"
        )
    return build_node(read_node(files, "root"))
