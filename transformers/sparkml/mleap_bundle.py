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

from inferpipe.protocol.errors import ArtifactError
from inferpipe.transformers.sparkml import mleap_ops
from inferpipe.transformers.sparkml._params import unsupported
from inferpipe.transformers.sparkml.mleap_files import BundleFiles
from inferpipe.transformers.sparkml.mleap_node import Node, child_folder, read_node
from inferpipe.transformers.sparkml.op import Op, Pipeline

SUPPORTED_FORMATS = ("json",)


def build_node(node: Node) -> Op:
    if node.op == "pipeline":
        children = [
            build_node(read_node(node.files, child_folder(node.files, node.folder, str(c))))
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
