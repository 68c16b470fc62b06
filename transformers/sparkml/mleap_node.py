"""One node of an MLeap bundle as stored: its op, decoded attributes and ports.

Shared by the bundle loader (`mleap_bundle`) and the op builders (`mleap_ops`), which
reach child nodes (ensemble trees) through `child_node`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from inferpipe.protocol.errors import ArtifactError
from inferpipe.transformers.sparkml.mleap_files import BundleFiles


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
        return read_json(self.files, f"{self.folder}/{relative}")


def _ports(shape: Any, key: str) -> dict[str, str]:
    return {str(p["port"]): str(p["name"]) for p in (shape or {}).get(key, [])}


def read_json(files: BundleFiles, path: str) -> Any:
    """One JSON file of the bundle; a broken one is an ArtifactError naming it."""
    try:
        return json.loads(files.read(path))
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{files.source}: {path} is not JSON: {exc}") from exc


def read_node(files: BundleFiles, folder: str) -> Node:
    """The node stored in `folder` (model.json, and node.json when present)."""
    model = read_json(files, f"{folder}/model.json")
    node = read_json(files, f"{folder}/node.json") if files.exists(f"{folder}/node.json") else {}
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


def child_folder(files: BundleFiles, folder: str, child: str) -> str:
    for candidate in (f"{folder}/{child}.node", f"{folder}/{child}"):
        if files.exists(f"{candidate}/model.json"):
            return candidate
    raise ArtifactError(f"{files.source}: node {child!r} has no folder under {folder}/")


def child_node(parent: Node, child: str) -> Node:
    """A node stored under `parent`'s folder (pipeline stages, ensemble trees)."""
    return read_node(parent.files, child_folder(parent.files, parent.folder, child))
