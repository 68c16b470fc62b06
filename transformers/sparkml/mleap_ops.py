"""MLeap op names and attributes mapped onto our ops (one builder per MLeap op)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np

from inferpipe.protocol.errors import ArtifactError
from inferpipe.transformers.sparkml import ops_categorical as cat
from inferpipe.transformers.sparkml import ops_features as feat
from inferpipe.transformers.sparkml import ops_interaction as inter
from inferpipe.transformers.sparkml import ops_linear as lin
from inferpipe.transformers.sparkml import ops_numeric as num
from inferpipe.transformers.sparkml import ops_text as text
from inferpipe.transformers.sparkml import ops_trees as trees
from inferpipe.transformers.sparkml import ops_vector as vec
from inferpipe.transformers.sparkml._params import splits_of, to_float
from inferpipe.transformers.sparkml.mleap_node import Node, child_node, decode_value
from inferpipe.transformers.sparkml.op import Op


def _io(node: Node) -> dict[str, Any]:
    return {
        "uid": node.name,
        "inputs": node.ordered(node.inputs, "input"),
        "outputs": node.ordered(node.outputs, "output"),
    }


def _vector(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float64).reshape(-1)


def _word2vec(node: Node) -> Op:
    words = [str(w) for w in node.require("words")]
    indices = [int(i) for i in node.attr("indices") or range(len(words))]
    flat = _vector(node.require("word_vectors"))
    kernel = str(node.attr("kernel") or "default")
    if kernel != "default":
        raise ArtifactError(
            f"{node.files.source}: node {node.name!r} uses the word_to_vector kernel "
            f"{kernel!r}; only Spark's average ('default') is served"
        )
    width = flat.size // max(len(words), 1)
    return feat.Word2Vec(
        **_io(node), words=dict(zip(words, indices, strict=True)), vectors=flat.reshape(-1, width)
    )


def _interaction(node: Node) -> Op:
    """MLeap carries what Spark's schema metadata said: each input's feature sizes."""
    count = int(node.require("num_inputs"))
    encodings: list[list[int] | None] = [
        [int(size) for size in node.require(f"num_features{j}")] for j in range(count)
    ]
    return inter.Interaction(**_io(node), encodings=encodings)


def _brp(node: Node) -> Op:
    raw = node.require("random_unit_vectors")
    vectors = [_vector(decode_value(v, node.name)) for v in raw]
    return feat.BucketedRandomProjectionLSH(
        **_io(node),
        unit_vectors=np.array(vectors).reshape(len(vectors), -1),
        bucket_length=to_float(node.require("bucket_length"), "bucket_length"),
    )


def _string_indexer(node: Node) -> Op:
    if "labels_length" in node.attributes:
        labels = [
            list(node.require(f"labels_array_{i}")) for i in range(node.attr("labels_length"))
        ]
    else:
        labels = [list(node.require("labels"))]
    return cat.StringIndexer(
        **_io(node), labels=labels, handle_invalid=str(node.attr("handle_invalid", "error"))
    )


def _one_hot(node: Node) -> Op:
    if "category_sizes" in node.attributes:
        sizes = [int(s) for s in np.atleast_1d(node.attr("category_sizes"))]
    else:
        sizes = [int(node.require("size"))]
    drop_last = bool(node.attr("drop_last", True))
    handle_invalid = str(node.attr("handle_invalid", "error"))
    if "category_sizes" not in node.attributes:
        # MLeap's single-column form stores the size after dropLast; ours counts categories.
        sizes = [s + 1 if drop_last else s for s in sizes]
    return cat.OneHotEncoder(
        **_io(node), category_sizes=sizes, drop_last=drop_last, handle_invalid=handle_invalid
    )


def _assembler(node: Node) -> Op:
    return vec.VectorAssembler(
        **_io(node), handle_invalid=str(node.attr("handle_invalid", "error"))
    )


def _model_names(node: Node, classifier: bool) -> lin.ModelOutputs:
    return lin.ModelOutputs(
        prediction=node.outputs.get("prediction", ""),
        raw_prediction=node.outputs.get("raw_prediction", "") if classifier else "",
        probability=node.outputs.get("probability", "") if classifier else "",
    )


def _model_io(node: Node, classifier: bool) -> dict[str, Any]:
    names = _model_names(node, classifier)
    return {
        "uid": node.name,
        "inputs": [node.inputs.get("features", "features")],
        "outputs": [n for n in (names.prediction, names.raw_prediction, names.probability) if n],
        "names": names,
    }


def _thresholds(node: Node) -> list[float] | None:
    raw = node.attr("thresholds")
    return [float(t) for t in np.atleast_1d(raw)] if raw is not None else None


def _logistic(node: Node) -> Op:
    if "coefficient_matrix" in node.attributes:
        coefficients = np.atleast_2d(np.asarray(node.attr("coefficient_matrix"), dtype=float))
        intercepts = _vector(node.require("intercept_vector"))
        multinomial = int(node.attr("num_classes", 2)) > 2 or coefficients.shape[0] > 1
    else:
        coefficients = _vector(node.require("coefficients")).reshape(1, -1)
        intercepts = np.array([float(node.attr("intercept", 0.0))])
        multinomial = False
    return lin.LogisticRegression(
        **_model_io(node, True),
        coefficients=coefficients,
        intercepts=intercepts,
        multinomial=multinomial,
        threshold=float(node.attr("threshold", 0.5)),
        thresholds=_thresholds(node),
    )


def read_tree(parent: Node, classifier: bool) -> trees.Tree:
    """A tree.json (one node per line, pre-order) as flat arrays."""
    raw = parent.files.read(f"{parent.folder}/tree.json").decode("utf-8")
    nodes = [json.loads(line) for line in raw.splitlines() if line.strip()]
    feature, threshold, left, right, categories, prediction, stats = [], [], [], [], [], [], []
    rights: list[frozenset[float] | None] = []

    def visit(position: int) -> int:
        """Add the subtree starting at `position`; return the next unread position."""
        node = nodes[position]
        index = len(feature)
        feature.append(0)
        threshold.append(0.0)
        left.append(-1)
        right.append(-1)
        categories.append(None)
        rights.append(None)
        if node["type"] == "leaf":
            values = [float(v) for v in node["values"]]
            stats.append(values)
            prediction.append(float(np.argmax(values)) if classifier else values[0])
            return position + 1
        stats.append([])
        prediction.append(0.0)
        split = node["split"]
        feature[index] = int(split["featureIndex"])
        if split["type"] == "categorical":
            chosen = frozenset(float(c) for c in split["categories"])
            if not split.get("isLeft", True):
                # MLeap, like Spark, sends a value left unless it is one of these.
                rights[index] = chosen
                everything = frozenset(float(c) for c in range(int(split["numCategories"])))
                chosen = everything - chosen
            categories[index] = chosen
        else:
            threshold[index] = float(split["threshold"])
        left[index] = len(feature)
        after_left = visit(position + 1)
        right[index] = len(feature)
        return visit(after_left)

    visit(0)
    width = max((len(s) for s in stats), default=0)
    padded = [s if s else [0.0] * width for s in stats]
    return trees.Tree(
        feature=np.array(feature, dtype=np.int64),
        threshold=np.array(threshold),
        left=np.array(left, dtype=np.int64),
        right=np.array(right, dtype=np.int64),
        left_categories=categories,
        prediction=np.array(prediction),
        stats=np.array(padded, dtype=np.float64),
        right_categories=rights,
    )


def _tree_model(kind: str, classifier: bool) -> Callable[[Node], Op]:
    # GBT classifiers are built of regression trees: only these leaves hold class counts.
    leaf_stats = kind in ("decision_tree_classification", "random_forest_classification")

    def build(node: Node) -> Op:
        if kind.startswith("decision_tree"):
            forest = [read_tree(node, leaf_stats)]
            weights = np.ones(1)
        else:
            names = [str(t) for t in node.require("trees")]
            forest = [read_tree(child_node(node, t), leaf_stats) for t in names]
            weights = _vector(node.attr("tree_weights", [1.0] * len(names)))
        return trees.TreeEnsemble(
            **_model_io(node, classifier),
            kind=kind,
            trees=forest,
            weights=weights,
            num_features=int(node.require("num_features")),
            thresholds=_thresholds(node) if classifier else None,
        )

    return build


def _math_binary(node: Node) -> Op:
    return vec.MathBinary(
        uid=node.name,
        inputs=[c for c in (node.inputs.get("input_a"), node.inputs.get("input_b")) if c],
        outputs=[node.outputs.get("output", "output")],
        operation=str(node.require("operation")),
        default_a=node.attr("da"),
        default_b=node.attr("db"),
        input_a=node.inputs.get("input_a"),
        input_b=node.inputs.get("input_b"),
    )


def _string_map(node: Node) -> Op:
    keys = [str(k) for k in node.require("labels")]
    values = [float(v) for v in node.require("values")]
    if len(keys) != len(values):
        raise ArtifactError(
            f"string_map {node.name!r}: {len(keys)} labels but {len(values)} values"
        )
    return cat.StringMap(
        **_io(node),
        mapping=dict(zip(keys, values, strict=True)),
        handle_invalid=str(node.attr("handle_invalid", "error")),
        default_value=float(node.attr("default_value", 0.0)),
    )


def _std_scaler(node: Node) -> Op:
    mean, std = node.attr("mean"), node.attr("std")
    return num.StandardScaler(
        **_io(node),
        mean=None if mean is None else _vector(mean),
        std=None if std is None else _vector(std),
        with_mean=mean is not None,
        with_std=std is not None,
    )


def _bucketizer(node: Node) -> Op:
    if "splits_array" in node.attributes:
        raw = node.attr("splits_array")
    else:
        raw = [node.require("splits")]
    splits = [np.asarray(splits_of(list(s), f"{node.name}.splits")) for s in raw]
    return num.Bucketizer(
        **_io(node), splits=splits, handle_invalid=str(node.attr("handle_invalid", "error"))
    )


def _vector_indexer(node: Node) -> Op:
    """MLeap's vector_indexer: `keys`, then `key_<k>_keys` / `key_<k>_values` per feature."""
    category_maps = {
        int(key): {
            float(value): int(index)
            for value, index in zip(
                node.require(f"key_{int(key)}_keys"),
                node.require(f"key_{int(key)}_values"),
                strict=True,
            )
        }
        for key in node.attr("keys", [])
    }
    return vec.VectorIndexer(
        **_io(node),
        num_features=int(node.require("num_features")),
        category_maps=category_maps,
        handle_invalid=str(node.attr("handle_invalid", "error")),
    )


BUILDERS: dict[str, Callable[[Node], Op]] = {
    "string_indexer": _string_indexer,
    "vector_indexer": _vector_indexer,
    "reverse_string_indexer": lambda n: cat.IndexToString(
        **_io(n), labels=[str(x) for x in n.require("labels")]
    ),
    "one_hot_encoder": _one_hot,
    "vector_assembler": _assembler,
    "standard_scaler": _std_scaler,
    "min_max_scaler": lambda n: num.MinMaxScaler(
        **_io(n),
        original_min=_vector(n.require("min")),
        original_max=_vector(n.require("max")),
        min=float(n.attr("minValue", n.attr("min_value", 0.0))),
        max=float(n.attr("maxValue", n.attr("max_value", 1.0))),
    ),
    "max_abs_scaler": lambda n: num.MaxAbsScaler(**_io(n), max_abs=_vector(n.require("maxAbs"))),
    "normalizer": lambda n: num.Normalizer(**_io(n), p=to_float(n.require("p_norm"), "p_norm")),
    "binarizer": lambda n: num.Binarizer(
        **_io(n),
        thresholds=[float(t) for t in np.atleast_1d(n.attr("thresholds", n.attr("threshold")))],
        null_as_zero=True,
    ),
    "bucketizer": _bucketizer,
    "imputer": lambda n: num.Imputer(
        **_io(n),
        surrogates=[float(n.require("surrogate_value"))],
        missing_value=to_float(n.attr("missing_value", "NaN"), "missing_value"),
    ),
    "elementwise_product": lambda n: num.ElementwiseProduct(
        **_io(n), scaling=_vector(n.require("scaling_vec"))
    ),
    "pca": lambda n: num.PCA(
        **_io(n), components=np.atleast_2d(np.asarray(n.require("principal_components")))
    ),
    "tokenizer": lambda n: text.Tokenizer(**_io(n)),
    "regex_tokenizer": lambda n: text.RegexTokenizer(
        **_io(n),
        pattern=str(n.attr("regex", r"\s+")),
        gaps=bool(n.attr("match_gaps", True)),
        min_token_length=int(n.attr("token_min_length", 1)),
        to_lowercase=bool(n.attr("lowercase_text", n.attr("lower_case", True))),
    ),
    "stopwords_remover": lambda n: text.StopWordsRemover(
        **_io(n),
        stop_words=[str(w) for w in n.require("stop_words")],
        case_sensitive=bool(n.attr("case_sensitive", False)),
    ),
    "count_vectorizer": lambda n: text.CountVectorizer(
        **_io(n),
        vocabulary=[str(w) for w in n.require("vocabulary")],
        min_tf=float(n.attr("min_tf", 1.0)),
        binary=bool(n.attr("binary", False)),
    ),
    "hashing_term_frequency": lambda n: text.HashingTF(
        **_io(n), num_features=int(n.attr("num_features", 1 << 18)), binary=bool(n.attr("binary"))
    ),
    "idf": lambda n: text.IDF(**_io(n), idf=_vector(n.require("idf"))),
    "vector_slicer": lambda n: vec.VectorSlicer(
        **_io(n), indices=[int(i) for i in np.atleast_1d(n.require("indices"))]
    ),
    "linear_regression": lambda n: lin.LinearRegression(
        **_model_io(n, False),
        coefficients=_vector(n.require("coefficients")),
        intercept=float(n.attr("intercept", 0.0)),
    ),
    "logistic_regression": _logistic,
    "decision_tree_regression": _tree_model("decision_tree_regression", False),
    "decision_tree_classifier": _tree_model("decision_tree_classification", True),
    "random_forest_regression": _tree_model("random_forest_regression", False),
    "random_forest_classifier": _tree_model("random_forest_classification", True),
    "gbt_regression": _tree_model("gbt_regression", False),
    "gbt_classifier": _tree_model("gbt_classification", True),
    "dct": lambda n: feat.DCT(**_io(n), inverse=bool(n.attr("inverse", False))),
    "polynomial_expansion": lambda n: feat.PolynomialExpansion(
        **_io(n), degree=int(n.require("degree"))
    ),
    "ngram": lambda n: feat.NGram(**_io(n), n=int(n.require("n"))),
    "word_to_vector": _word2vec,
    "feature_hasher": lambda n: feat.FeatureHasher(
        **_io(n),
        num_features=int(n.require("num_features")),
        categorical=[str(c) for c in n.attr("categorical_cols") or []],
    ),
    "chi_sq_selector": lambda n: vec.VectorSlicer(
        **_io(n), indices=[int(i) for i in n.require("filter_indices")]
    ),
    "bucketed_random_projection_lsh": _brp,
    "interaction": _interaction,
    "min_hash_lsh": lambda n: feat.MinHashLSH(
        **_io(n),
        coefficients=list(
            zip(
                [int(a) for a in n.require("random_coefficients_a")],
                [int(b) for b in n.require("random_coefficients_b")],
                strict=True,
            )
        ),
    ),
    "math_unary": lambda n: vec.MathUnary(**_io(n), operation=str(n.require("operation"))),
    "math_binary": _math_binary,
    "string_map": _string_map,
}
