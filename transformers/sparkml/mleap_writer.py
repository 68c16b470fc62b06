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
from pathlib import Path
from typing import Any

from inferpipe.protocol.errors import ArtifactError
from inferpipe.transformers.sparkml import mleap_models
from inferpipe.transformers.sparkml import ops_categorical as cat
from inferpipe.transformers.sparkml import ops_features as feat
from inferpipe.transformers.sparkml import ops_interaction as inter
from inferpipe.transformers.sparkml import ops_linear as lin
from inferpipe.transformers.sparkml import ops_numeric as num
from inferpipe.transformers.sparkml import ops_text as text
from inferpipe.transformers.sparkml import ops_trees as trees
from inferpipe.transformers.sparkml import ops_vector as vec
from inferpipe.transformers.sparkml.columns import VECTOR, Frame
from inferpipe.transformers.sparkml.mleap_nodes import (
    NodeSpec,
    Seen,
    Writer,
    bool_value,
    data_shape,
    double_value,
    finite_splits,
    int_value,
    list_value,
    long_value,
    numbered_ports,
    per_column,
    simple_node,
    string_value,
    tensor_value,
)
from inferpipe.transformers.sparkml.op import Op, Pipeline

MLEAP_VERSION = "0.20.0"


def _column_wise(
    name: str, attributes: Callable[[Any, int], dict[str, Any]], suffix: str = ""
) -> Writer:
    """A writer for an MLeap op that takes one column, from a per-column attributes maker."""

    def write(op: Any, seen: list[Seen]) -> list[NodeSpec]:
        return per_column(op, lambda j: (name, attributes(op, j)), suffix)

    return write


def _plain(name: str, attributes: Callable[[Any, list[Seen]], dict[str, Any]]) -> Writer:
    """A writer for an MLeap op with plain input/output ports."""

    def write(op: Any, seen: list[Seen]) -> list[NodeSpec]:
        return simple_node(op, name, attributes(op, seen))

    return write


def _imputer_attributes(op: num.Imputer, j: int) -> dict[str, Any]:
    # MLeap requires a strategy but imputes only the surrogate, which Spark already chose.
    attributes = {
        "surrogate_value": double_value(op.surrogates[j]),
        "strategy": string_value("mean"),
    }
    if op.missing_value == op.missing_value:  # NaN is MLeap's default: omitted
        attributes["missing_value"] = double_value(op.missing_value)
    return attributes


def _scaler_attributes(op: num.StandardScaler, seen: list[Seen]) -> dict[str, Any]:
    attributes = {}
    if op.with_mean and op.mean is not None:
        attributes["mean"] = tensor_value(op.mean)
    if op.with_std and op.std is not None:
        attributes["std"] = tensor_value(op.std)
    return attributes


def _normalizer_attributes(op: num.Normalizer, seen: list[Seen]) -> dict[str, Any]:
    if not math.isfinite(op.p):
        raise ArtifactError(
            f"Normalizer {op.uid!r} uses p=Infinity, which MLeap's JSON format cannot "
            "carry; serve the native Spark save instead"
        )
    return {"p_norm": double_value(op.p), "input_size": int_value(seen[0].width)}


def _assembler(op: vec.VectorAssembler, seen: list[Seen]) -> list[NodeSpec]:
    attributes = {
        "input_shapes": {"type": "list", "data_shape": [data_shape(s) for s in seen]},
        # MLeap 0.20 ignores it; our loader (and newer MLeaps) read it.
        "handle_invalid": string_value(op.handle_invalid),
    }
    ports = numbered_ports("input", op.inputs)
    return [NodeSpec(op.uid, "vector_assembler", attributes, ports, [("output", op.outputs[0])])]


def _vector_indexer_attributes(op: vec.VectorIndexer, _seen: list[Seen]) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "keys": list_value("long", sorted(op.category_maps)),
        "num_features": long_value(op.num_features),
        "handle_invalid": string_value(op.handle_invalid),
    }
    for key, mapping in sorted(op.category_maps.items()):
        pairs = sorted(mapping.items(), key=lambda pair: pair[1])
        attributes[f"key_{key}_keys"] = list_value("double", [v for v, _ in pairs])
        attributes[f"key_{key}_values"] = list_value("long", [i for _, i in pairs])
    return attributes


def _word2vec_attributes(op: feat.Word2Vec, _seen: list[Seen]) -> dict[str, Any]:
    words = sorted(op.words, key=op.words.__getitem__)
    return {
        "words": list_value("string", words),
        "indices": list_value("long", [op.words[w] for w in words]),
        "word_vectors": list_value("double", op.vectors.reshape(-1).tolist()),
        "kernel": string_value("default"),
    }


_BASIC_TYPES = {"double": "double", "string": "string", "boolean": "boolean"}


def _feature_hasher(op: feat.FeatureHasher, seen: list[Seen]) -> list[NodeSpec]:
    """MLeap hashes like Spark; it needs each input's basic type to tell numbers apart."""
    kinds = []
    for name, column in zip(op.inputs, seen, strict=True):
        if column.kind not in _BASIC_TYPES:
            raise ArtifactError(
                f"FeatureHasher {op.uid!r}: column {name!r} holds {column.kind}, which "
                "MLeap's feature_hasher does not take"
            )
        kinds.append(_BASIC_TYPES[column.kind])
    attributes = {
        "num_features": long_value(op.num_features),
        "categorical_cols": list_value("string", list(op.categorical)),
        "input_names": list_value("string", list(op.inputs)),
        "input_shapes": {"type": "list", "data_shape": [data_shape(s) for s in seen]},
        "basic_types": {"type": "list", "basic_type": kinds},
    }
    ports = numbered_ports("input", op.inputs)
    return [NodeSpec(op.uid, "feature_hasher", attributes, ports, [("output", op.outputs[0])])]


def _brp_attributes(op: feat.BucketedRandomProjectionLSH, seen: list[Seen]) -> dict[str, Any]:
    vectors = [tensor_value(row) for row in op.unit_vectors]
    return {
        "random_unit_vectors": {"type": "list", "tensor": vectors},
        "bucket_length": double_value(op.bucket_length),
        "input_size": int_value(seen[0].width),
    }


def _interaction(op: inter.Interaction, seen: list[Seen]) -> list[NodeSpec]:
    attributes: dict[str, Any] = {
        "num_inputs": int_value(len(op.inputs)),
        "input_shapes": {"type": "list", "data_shape": [data_shape(s) for s in seen]},
    }
    for j, (name, column) in enumerate(zip(op.inputs, seen, strict=True)):
        encoding = op.encoding(j)
        if encoding is None and column.kind == VECTOR:
            raise ArtifactError(
                f"Interaction {op.uid!r}: the attributes of vector column {name!r} are not "
                "known, so MLeap's interaction cannot be told its feature sizes"
            )
        attributes[f"num_features{j}"] = list_value("int", encoding or [1])
    ports = numbered_ports("input", op.inputs)
    return [NodeSpec(op.uid, "interaction", attributes, ports, [("output", op.outputs[0])])]


def _min_hash_refused(op: feat.MinHashLSH, _seen: list[Seen]) -> list[NodeSpec]:
    raise ArtifactError(
        f"MinHashLSH {op.uid!r} cannot be written as an MLeap bundle: MLeap 0.20's runtime "
        "hashes in 32-bit arithmetic and gives other numbers than Spark (64-bit); serve "
        "the native Spark save instead"
    )


#: Our op classes and how each is written (attribute names and types as MLeap 0.20 reads them).
WRITERS: dict[type, Writer] = {
    vec.VectorIndexer: _plain("vector_indexer", _vector_indexer_attributes),
    cat.StringIndexer: _column_wise(
        "string_indexer",
        lambda op, j: {
            "labels": list_value("string", list(op.labels[j])),
            "handle_invalid": string_value(op.handle_invalid),
        },
    ),
    cat.OneHotEncoder: _column_wise(
        "one_hot_encoder",
        lambda op, j: {
            "category_sizes": list_value("int", [int(op.category_sizes[j])]),
            "drop_last": bool_value(op.drop_last),
            "handle_invalid": string_value(op.handle_invalid),
        },
        suffix="0",
    ),
    cat.IndexToString: _plain(
        "reverse_string_indexer", lambda op, seen: {"labels": list_value("string", op.labels)}
    ),
    vec.VectorAssembler: _assembler,
    num.StandardScaler: _plain("standard_scaler", _scaler_attributes),
    num.MinMaxScaler: _plain(
        "min_max_scaler",
        lambda op, seen: {
            "min": tensor_value(op.original_min),
            "max": tensor_value(op.original_max),
            "minValue": double_value(op.min),
            "maxValue": double_value(op.max),
        },
    ),
    num.MaxAbsScaler: _plain(
        "max_abs_scaler", lambda op, seen: {"maxAbs": tensor_value(op.max_abs)}
    ),
    num.Normalizer: _plain("normalizer", _normalizer_attributes),
    num.ElementwiseProduct: _plain(
        "elementwise_product", lambda op, seen: {"scaling_vec": tensor_value(op.scaling)}
    ),
    num.PCA: _plain("pca", lambda op, seen: {"principal_components": tensor_value(op.components)}),
    num.Binarizer: lambda op, seen: per_column(
        op,
        lambda j: (
            "binarizer",
            {
                "threshold": double_value(op.thresholds[j]),
                "input_shapes": {"data_shape": data_shape(seen[j])},
            },
        ),
    ),
    num.Bucketizer: _column_wise(
        "bucketizer",
        lambda op, j: {
            "splits": list_value("double", finite_splits(op.splits[j].tolist())),
            "handle_invalid": string_value(op.handle_invalid),
        },
    ),
    num.Imputer: _column_wise("imputer", _imputer_attributes),
    text.Tokenizer: _plain("tokenizer", lambda op, seen: {}),
    text.RegexTokenizer: _plain(
        "regex_tokenizer",
        lambda op, seen: {
            "regex": string_value(op.pattern),
            "match_gaps": bool_value(op.gaps),
            "token_min_length": int_value(op.min_token_length),
            "lowercase_text": bool_value(op.to_lowercase),
        },
    ),
    text.StopWordsRemover: _column_wise(
        "stopwords_remover",
        lambda op, j: {
            "stop_words": list_value("string", op.stop_words),
            "case_sensitive": bool_value(op.case_sensitive),
        },
    ),
    text.CountVectorizer: _plain(
        "count_vectorizer",
        lambda op, seen: {
            "vocabulary": list_value("string", op.vocabulary),
            "binary": bool_value(op.binary),
            "min_tf": double_value(op.min_tf),
        },
    ),
    text.HashingTF: _plain(
        "hashing_term_frequency",
        lambda op, seen: {
            "num_features": long_value(op.num_features),
            "binary": bool_value(op.binary),
            # MLeap's switch to Spark 3's murmur3 of the UTF-8 bytes (hashUnsafeBytes2).
            "hashUnsafeBytesVersion": int_value(2),
        },
    ),
    text.IDF: _plain("idf", lambda op, seen: {"idf": tensor_value(op.idf)}),
    vec.VectorSlicer: _plain(
        "vector_slicer",
        lambda op, seen: {
            "indices": list_value("long", op.indices),
            "names": list_value("string", []),
            "named_indices": list_value("int", []),
            "input_size": int_value(seen[0].width),
        },
    ),
    feat.DCT: _plain(
        "dct",
        lambda op, seen: {
            "inverse": bool_value(op.inverse),
            "input_size": int_value(seen[0].width),
        },
    ),
    feat.PolynomialExpansion: _plain(
        "polynomial_expansion",
        lambda op, seen: {"degree": long_value(op.degree), "input_size": long_value(seen[0].width)},
    ),
    feat.NGram: _plain("ngram", lambda op, seen: {"n": long_value(op.n)}),
    feat.Word2Vec: _plain("word_to_vector", _word2vec_attributes),
    feat.FeatureHasher: _feature_hasher,
    feat.BucketedRandomProjectionLSH: _plain("bucketed_random_projection_lsh", _brp_attributes),
    feat.MinHashLSH: _min_hash_refused,
    inter.Interaction: _interaction,
    lin.LinearRegression: mleap_models.linear,
    lin.LogisticRegression: lambda op, seen: mleap_models.logistic(op),
    trees.TreeEnsemble: lambda op, seen: mleap_models.tree_model(op),
}


def describe(op: Op, seen: list[Seen]) -> list[NodeSpec]:
    """The MLeap node(s) for one op; `seen` describes its input columns in the sample."""
    writer = WRITERS.get(type(op))
    if writer is None:
        raise ArtifactError(f"{op.label} {op.uid!r} cannot be written as an MLeap bundle yet")
    return writer(op, seen)


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
            {
                "op": "pipeline",
                "attributes": {"nodes": list_value("string", [n.name for n in nodes])},
            }
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
