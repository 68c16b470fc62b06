"""Write our op pipeline as an MLeap bundle (JSON format, zip), readable by MLeap's runtime.

MLeap's own exporter needs the mleap-spark jars of the Spark it runs in (none exist for
every Spark); this writer needs only the fitted ops, so a pipeline saved by any Spark
3.x/4.x becomes a bundle. Like MLeap's exporter it needs a sample frame: vector widths
and scalar/tensor shapes are read off the columns each op sees. Attribute names are
MLeap's (`bundle-ml` BuiltinOps and the runtime's op serializers).
"""

from __future__ import annotations

import io
import json
import math
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inferpipe.serving.errors import ArtifactError
from inferpipe.transformers.sparkml import ops_categorical as cat
from inferpipe.transformers.sparkml import ops_linear as lin
from inferpipe.transformers.sparkml import ops_numeric as num
from inferpipe.transformers.sparkml import ops_text as text
from inferpipe.transformers.sparkml import ops_trees as trees
from inferpipe.transformers.sparkml import ops_vector as vec
from inferpipe.transformers.sparkml.columns import VECTOR, Frame
from inferpipe.transformers.sparkml.op import Op, Pipeline

MLEAP_VERSION = "0.20.0"


def _double(value: float) -> dict[str, Any]:
    return {"double": value}


def _long(value: int) -> dict[str, Any]:
    return {"long": int(value)}


def _int(value: int) -> dict[str, Any]:
    return {"int": int(value)}


def _bool(value: bool) -> dict[str, Any]:
    return {"boolean": bool(value)}


def _string(value: str) -> dict[str, Any]:
    return {"string": value}


def _list(kind: str, values: list[Any]) -> dict[str, Any]:
    return {"type": "list", kind: values}


def _tensor(values: np.ndarray) -> dict[str, Any]:
    """A tensor attribute; matrices are column-major, as MLeap builds its DenseMatrix."""
    array = np.asarray(values, dtype=np.float64)
    dims = [{"size": int(d), "name": ""} for d in array.shape]
    flat = array.reshape(-1, order="F").tolist()
    return {"type": "tensor", "double": flat, "shape": {"dimensions": dims}}


def _finite(values: list[float]) -> list[float | None]:
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


def _ports(prefix: str, names: list[str]) -> list[tuple[str, str]]:
    if len(names) == 1:
        return [(prefix, names[0])]
    return [(f"{prefix}{i}", n) for i, n in enumerate(names)]


def _shape(seen: Seen) -> dict[str, Any]:
    if seen.kind == VECTOR:
        dims = [{"size": seen.width, "name": ""}]
        return {"base": "tensor", "isNullable": True, "tensorShape": {"dimensions": dims}}
    return {"base": "scalar", "isNullable": True}


def _simple(op: Op, name: str, attributes: dict[str, Any]) -> list[NodeSpec]:
    return [
        NodeSpec(op.uid, name, attributes, _ports("input", op.inputs), _ports("output", op.outputs))
    ]


def _per_column(
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


def _model_ports(op: Op, names: lin.ModelOutputs) -> list[tuple[str, str]]:
    ports = [("prediction", names.prediction)] if names.prediction else []
    if names.raw_prediction:
        ports.append(("raw_prediction", names.raw_prediction))
    if names.probability:
        ports.append(("probability", names.probability))
    return ports


def _tree_lines(tree: trees.Tree, classifier: bool) -> bytes:
    lines: list[str] = []

    def visit(node: int) -> None:
        if tree.left[node] < 0:
            values = tree.stats[node].tolist() if classifier else [float(tree.prediction[node])]
            lines.append(json.dumps({"type": "leaf", "values": values}))
            return
        chosen = tree.left_categories[node]
        if chosen is not None:
            split = {
                "type": "categorical",
                "featureIndex": int(tree.feature[node]),
                "isLeft": True,
                "numCategories": int(max(chosen, default=0)) + 1,
                "categories": sorted(chosen),
            }
        else:
            split = {
                "type": "continuous",
                "featureIndex": int(tree.feature[node]),
                "threshold": float(tree.threshold[node]),
            }
        lines.append(json.dumps({"type": "internal", "split": split}))
        visit(int(tree.left[node]))
        visit(int(tree.right[node]))

    visit(0)
    return ("\n".join(lines) + "\n").encode()


TREE_OPS = {
    "decision_tree_regression": ("decision_tree_regression", None),
    "decision_tree_classification": ("decision_tree_classifier", None),
    "random_forest_regression": ("random_forest_regression", "decision_tree_regression"),
    "random_forest_classification": ("random_forest_classifier", "decision_tree_classifier"),
    "gbt_regression": ("gbt_regression", "decision_tree_regression"),
    "gbt_classification": ("gbt_classifier", "decision_tree_regression"),
}


def _tree_model(op: trees.TreeEnsemble) -> list[NodeSpec]:
    name, tree_op = TREE_OPS[op.kind]
    classifier = op.kind.endswith("classification")
    leaf_stats = op.kind in ("decision_tree_classification", "random_forest_classification")
    classes = int(op.trees[0].stats.shape[1]) if leaf_stats else 2
    attributes: dict[str, Any] = {"num_features": _long(op.num_features)}
    if classifier:
        attributes["num_classes"] = _long(classes)
        if op.thresholds:
            attributes["thresholds"] = _list("double", list(op.thresholds))
    files: dict[str, bytes] = {}
    if tree_op is None:
        files["tree.json"] = _tree_lines(op.trees[0], leaf_stats)
    else:
        names = [f"tree{i}" for i in range(len(op.trees))]
        attributes["trees"] = _list("string", names)
        attributes["tree_weights"] = _list("double", [float(w) for w in op.weights])
        for tree_name, tree in zip(names, op.trees, strict=True):
            tree_attributes: dict[str, Any] = {"num_features": _long(op.num_features)}
            if tree_op == "decision_tree_classifier":
                tree_attributes["num_classes"] = _long(classes)
            files[f"{tree_name}/model.json"] = json.dumps(
                {"op": tree_op, "attributes": tree_attributes}
            ).encode()
            files[f"{tree_name}/tree.json"] = _tree_lines(tree, leaf_stats)
    return [
        NodeSpec(
            op.uid,
            name,
            attributes,
            [("features", op.inputs[0])],
            _model_ports(op, op.names),
            files,
        )
    ]


def _logistic(op: lin.LogisticRegression) -> list[NodeSpec]:
    if op.multinomial:
        attributes: dict[str, Any] = {
            "coefficient_matrix": _tensor(op.coefficients),
            "intercept_vector": _tensor(op.intercepts),
            "num_classes": _long(op.coefficients.shape[0]),
        }
    else:
        attributes = {
            "coefficients": _tensor(op.coefficients[0]),
            "intercept": _double(float(op.intercepts[0])),
            "num_classes": _long(2),
            "threshold": _double(op.threshold),
        }
    if op.thresholds:
        attributes["thresholds"] = _list("double", list(op.thresholds))
    return [
        NodeSpec(
            op.uid,
            "logistic_regression",
            attributes,
            [("features", op.inputs[0])],
            _model_ports(op, op.names),
        )
    ]


def describe(op: Op, seen: list[Seen]) -> list[NodeSpec]:
    """The MLeap node(s) for one op; `seen` describes its input columns in the sample."""
    if isinstance(op, cat.StringIndexer):
        return _per_column(
            op,
            lambda j: (
                "string_indexer",
                {
                    "labels": _list("string", list(op.labels[j])),
                    "handle_invalid": _string(op.handle_invalid),
                },
            ),
        )
    if isinstance(op, cat.OneHotEncoder):
        return _per_column(
            op,
            lambda j: (
                "one_hot_encoder",
                {
                    "category_sizes": _list("int", [int(op.category_sizes[j])]),
                    "drop_last": _bool(op.drop_last),
                    "handle_invalid": _string(op.handle_invalid),
                },
            ),
            suffix="0",
        )
    if isinstance(op, cat.IndexToString):
        return _simple(op, "reverse_string_indexer", {"labels": _list("string", op.labels)})
    if isinstance(op, vec.VectorAssembler):
        attributes = {
            "input_shapes": {"type": "list", "data_shape": [_shape(s) for s in seen]},
            # MLeap 0.20 ignores it; our loader (and newer MLeaps) read it.
            "handle_invalid": _string(op.handle_invalid),
        }
        return [
            NodeSpec(
                op.uid,
                "vector_assembler",
                attributes,
                _ports_multi("input", op.inputs),
                [("output", op.outputs[0])],
            )
        ]
    if isinstance(op, num.StandardScaler):
        attributes = {}
        if op.with_mean and op.mean is not None:
            attributes["mean"] = _tensor(op.mean)
        if op.with_std and op.std is not None:
            attributes["std"] = _tensor(op.std)
        return _simple(op, "standard_scaler", attributes)
    if isinstance(op, num.MinMaxScaler):
        attributes = {
            "min": _tensor(op.original_min),
            "max": _tensor(op.original_max),
            "minValue": _double(op.min),
            "maxValue": _double(op.max),
        }
        return _simple(op, "min_max_scaler", attributes)
    if isinstance(op, num.MaxAbsScaler):
        return _simple(op, "max_abs_scaler", {"maxAbs": _tensor(op.max_abs)})
    if isinstance(op, num.Normalizer):
        if not math.isfinite(op.p):
            raise ArtifactError(
                f"Normalizer {op.uid!r} uses p=Infinity, which MLeap's JSON format cannot "
                "carry; serve the native Spark save instead"
            )
        attributes = {"p_norm": _double(op.p), "input_size": _int(seen[0].width)}
        return _simple(op, "normalizer", attributes)
    if isinstance(op, num.ElementwiseProduct):
        return _simple(op, "elementwise_product", {"scaling_vec": _tensor(op.scaling)})
    if isinstance(op, num.PCA):
        return _simple(op, "pca", {"principal_components": _tensor(op.components)})
    if isinstance(op, num.Binarizer):
        return _per_column(
            op,
            lambda j: (
                "binarizer",
                {
                    "threshold": _double(op.thresholds[j]),
                    "input_shapes": {"data_shape": _shape(seen[j])},
                },
            ),
        )
    if isinstance(op, num.Bucketizer):
        return _per_column(
            op,
            lambda j: (
                "bucketizer",
                {
                    "splits": _list("double", _finite(op.splits[j].tolist())),
                    "handle_invalid": _string(op.handle_invalid),
                },
            ),
        )
    if isinstance(op, num.Imputer):
        return _per_column(
            op,
            lambda j: (
                "imputer",
                {
                    "surrogate_value": _double(op.surrogates[j]),
                    "missing_value": _double(op.missing_value)
                    if op.missing_value == op.missing_value
                    else _string("NaN"),
                    "strategy": _string("mean"),
                },
            ),
        )
    if isinstance(op, text.Tokenizer):
        return _simple(op, "tokenizer", {})
    if isinstance(op, text.RegexTokenizer):
        attributes = {
            "regex": _string(op.pattern),
            "match_gaps": _bool(op.gaps),
            "token_min_length": _int(op.min_token_length),
            "lowercase_text": _bool(op.to_lowercase),
        }
        return _simple(op, "regex_tokenizer", attributes)
    if isinstance(op, text.StopWordsRemover):
        return _per_column(
            op,
            lambda j: (
                "stopwords_remover",
                {
                    "stop_words": _list("string", op.stop_words),
                    "case_sensitive": _bool(op.case_sensitive),
                },
            ),
        )
    if isinstance(op, text.CountVectorizer):
        attributes = {
            "vocabulary": _list("string", op.vocabulary),
            "binary": _bool(op.binary),
            "min_tf": _double(op.min_tf),
        }
        return _simple(op, "count_vectorizer", attributes)
    if isinstance(op, text.HashingTF):
        attributes = {
            "num_features": _long(op.num_features),
            "binary": _bool(op.binary),
            # MLeap's switch to Spark 3's murmur3 of the UTF-8 bytes (hashUnsafeBytes2).
            "hashUnsafeBytesVersion": _int(2),
        }
        return _simple(op, "hashing_term_frequency", attributes)
    if isinstance(op, text.IDF):
        return _simple(op, "idf", {"idf": _tensor(op.idf)})
    if isinstance(op, vec.VectorSlicer):
        attributes = {
            "indices": _list("long", op.indices),
            "names": _list("string", []),
            "named_indices": _list("int", []),
            "input_size": _int(seen[0].width),
        }
        return _simple(op, "vector_slicer", attributes)
    if isinstance(op, lin.LinearRegression):
        attributes = {"coefficients": _tensor(op.coefficients), "intercept": _double(op.intercept)}
        return [
            NodeSpec(
                op.uid,
                "linear_regression",
                attributes,
                [("features", op.inputs[0])],
                _model_ports(op, op.names),
            )
        ]
    if isinstance(op, lin.LogisticRegression):
        return _logistic(op)
    if isinstance(op, trees.TreeEnsemble):
        return _tree_model(op)
    raise ArtifactError(f"{op.label} {op.uid!r} cannot be written as an MLeap bundle yet")


def _ports_multi(prefix: str, names: list[str]) -> list[tuple[str, str]]:
    """MLeap's multi-column ops always number their ports (input0, output0, ...)."""
    return [(f"{prefix}{i}", n) for i, n in enumerate(names)]


def _seen(frame: Frame, names: list[str]) -> list[Seen]:
    out = []
    for name in names:
        column = frame.columns.get(name)
        if column is None:
            out.append(Seen("double", 1))
        else:
            out.append(Seen(column.kind, column.width))
    return out


def bundle_nodes(root: Op, sample: Frame) -> list[NodeSpec]:
    """Every op as MLeap nodes, in order, with shapes read off `sample`."""
    leaves = root.flat() if isinstance(root, Pipeline) else [root]
    nodes: list[NodeSpec] = []
    frame = sample
    for op in leaves:
        nodes.extend(describe(op, _seen(frame, op.inputs)))
        frame = op.apply(frame)
    return nodes


def _shape_json(name: str, inputs: list[tuple[str, str]], outputs: list[tuple[str, str]]) -> bytes:
    shape = {
        "inputs": [{"name": n, "port": p} for p, n in inputs],
        "outputs": [{"name": n, "port": p} for p, n in outputs],
    }
    return json.dumps({"name": name, "shape": shape}).encode()


def write_bundle(root: Op, sample: Frame, target: Path, name: str = "pipeline") -> Path:
    """Write `root` as a JSON-format MLeap bundle: a zip when `target` ends in .zip, else
    a directory with bundle.json and root/ (the layout AWS's SparkML container reads)."""
    nodes = bundle_nodes(root, sample)
    files: dict[str, bytes] = {
        "bundle.json": json.dumps(
            {
                "uid": str(uuid.uuid4()),
                "name": name,
                "format": "json",
                "version": MLEAP_VERSION,
                "timestamp": "2026-01-01T00:00:00.000",
            }
        ).encode(),
        "root/model.json": json.dumps(
            {"op": "pipeline", "attributes": {"nodes": _list("string", [n.name for n in nodes])}}
        ).encode(),
        "root/node.json": _shape_json(name, [], []),
    }
    for node in nodes:
        folder = f"root/{node.name}.node"
        files[f"{folder}/model.json"] = json.dumps(
            {"op": node.op, "attributes": node.attributes}
        ).encode()
        files[f"{folder}/node.json"] = _shape_json(node.name, node.inputs, node.outputs)
        for relative, data in node.files.items():
            files[f"{folder}/{relative}"] = data
    if target.suffix != ".zip":
        for path, data in files.items():
            (target / path).parent.mkdir(parents=True, exist_ok=True)
            (target / path).write_bytes(data)
        return target
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    target.write_bytes(buffer.getvalue())
    return target
