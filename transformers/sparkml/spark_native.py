"""Load a `PipelineModel.save()` directory (metadata JSON + data parquet) onto our ops.

Layouts of Spark 3.x and 4.x: `metadata/part-*` holds one JSON line (class, uid,
sparkVersion, paramMap, defaultParamMap); models keep their fitted values in
`data/*.parquet`, tree ensembles add `treesMetadata/`. Parquet is read with pyarrow.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inferpipe.protocol.errors import ArtifactError
from inferpipe.transformers.sparkml import ops_categorical as cat
from inferpipe.transformers.sparkml import ops_features as feat
from inferpipe.transformers.sparkml import ops_linear as lin
from inferpipe.transformers.sparkml import ops_numeric as num
from inferpipe.transformers.sparkml import ops_text as text
from inferpipe.transformers.sparkml import ops_trees as trees
from inferpipe.transformers.sparkml import ops_vector as vec
from inferpipe.transformers.sparkml._params import splits_of, to_float, unsupported
from inferpipe.transformers.sparkml.op import DropColumns, Op, Pipeline, WhenPresent
from inferpipe.transformers.sparkml.ops_interaction import Interaction, resolve_attributes
from inferpipe.transformers.sparkml.sql import SQLTransformer


@dataclass
class SavedStage:
    """One saved stage: its metadata, merged params and directory."""

    path: Path
    metadata: dict[str, Any]

    @property
    def uid(self) -> str:
        return str(self.metadata.get("uid", self.path.name))

    @property
    def spark_version(self) -> tuple[int, int]:
        parts = str(self.metadata.get("sparkVersion", "4.0")).split(".")
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0

    @property
    def params(self) -> dict[str, Any]:
        merged = dict(self.metadata.get("defaultParamMap") or {})
        merged.update(self.metadata.get("paramMap") or {})
        return merged

    def param(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    def rows(self, folder: str = "data") -> list[dict[str, Any]]:
        import pyarrow.parquet as pq

        where = self.path / folder
        if not where.is_dir():
            raise ArtifactError(f"{where} is missing: stage {self.uid!r} has no saved data")
        return list(pq.read_table(where).to_pylist())

    def data(self) -> dict[str, Any]:
        rows = self.rows()
        if not rows:
            raise ArtifactError(f"{self.path / 'data'} holds no rows")
        return rows[0]

    def columns(self, single: str, many: str) -> list[str]:
        """The input or output column names, from the single or the multi-column param."""
        value = self.params.get(many) if many in (self.metadata.get("paramMap") or {}) else None
        if value:
            return [str(v) for v in value]
        one = self.param(single)
        if one is None:
            raise ArtifactError(f"stage {self.uid!r}: neither {single} nor {many} is set")
        return [str(one)]


def read_metadata(path: Path) -> dict[str, Any]:
    folder = path / "metadata"
    parts = sorted(folder.glob("part-*")) if folder.is_dir() else []
    if not parts:
        raise ArtifactError(f"{folder} has no part-* file: not a Spark ML save directory")
    line = parts[0].read_text(encoding="utf-8").strip().splitlines()[0]
    try:
        metadata = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{parts[0]} is not JSON: {exc}") from exc
    if not isinstance(metadata, dict) or "class" not in metadata:
        raise ArtifactError(f"{parts[0]} names no class")
    return metadata


def vector_of(value: dict[str, Any]) -> np.ndarray:
    """Spark's vector struct {type: 0 sparse / 1 dense, size, indices, values}."""
    if value["type"] == 1:
        return np.asarray(value["values"], dtype=np.float64)
    out = np.zeros(int(value["size"]))
    out[np.asarray(value["indices"], dtype=np.int64)] = value["values"]
    return out


def matrix_of(value: dict[str, Any]) -> np.ndarray:
    """Spark's matrix struct (column-major unless isTransposed; sparse is CSC)."""
    rows, cols = int(value["numRows"]), int(value["numCols"])
    values = np.asarray(value["values"], dtype=np.float64)
    transposed = bool(value["isTransposed"])
    if value["type"] == 1:
        return values.reshape(rows, cols) if transposed else values.reshape(cols, rows).T
    out = np.zeros((rows, cols))
    pointers, indices = value["colPtrs"], value["rowIndices"]
    for major in range(len(pointers) - 1):
        for k in range(pointers[major], pointers[major + 1]):
            if transposed:
                out[major, indices[k]] = values[k]
            else:
                out[indices[k], major] = values[k]
    return out


def _param_vector(value: Any) -> np.ndarray:
    if isinstance(value, str):
        value = json.loads(value)
    return vector_of(value)


def _io(stage: SavedStage) -> dict[str, Any]:
    return {
        "uid": stage.uid,
        "inputs": stage.columns("inputCol", "inputCols"),
        "outputs": stage.columns("outputCol", "outputCols"),
    }


def _model_outputs(stage: SavedStage, classifier: bool) -> lin.ModelOutputs:
    return lin.ModelOutputs(
        prediction=str(stage.param("predictionCol", "prediction")),
        raw_prediction=str(stage.param("rawPredictionCol", "rawPrediction")) if classifier else "",
        probability=str(stage.param("probabilityCol", "probability")) if classifier else "",
    )


def _model_io(stage: SavedStage, classifier: bool) -> dict[str, Any]:
    names = _model_outputs(stage, classifier)
    outputs = [n for n in (names.prediction, names.raw_prediction, names.probability) if n]
    return {
        "uid": stage.uid,
        "inputs": [str(stage.param("featuresCol", "features"))],
        "outputs": outputs,
        "names": names,
    }


def _thresholds(stage: SavedStage) -> list[float] | None:
    if "thresholds" not in (stage.metadata.get("paramMap") or {}):
        return None
    return [to_float(t, f"{stage.uid}.thresholds") for t in stage.param("thresholds")]


def _string_indexer(stage: SavedStage) -> Op:
    data = stage.data()
    labels = data.get("labelsArray") or [data.get("labels")]
    return cat.StringIndexer(
        **_io(stage),
        labels=[list(ls) for ls in labels],
        handle_invalid=stage.param("handleInvalid"),
    )


def _index_labels(stage: SavedStage) -> list[str]:
    labels = stage.param("labels")
    if not labels:
        raise ArtifactError(
            f"IndexToString {stage.uid!r} has no `labels`: Spark would read them from the "
            "input column's metadata, which a served request does not carry; set labels"
        )
    return [str(label) for label in labels]


def _one_hot(stage: SavedStage) -> Op:
    return cat.OneHotEncoder(
        **_io(stage),
        category_sizes=[int(s) for s in stage.data()["categorySizes"]],
        drop_last=bool(stage.param("dropLast", True)),
        handle_invalid=str(stage.param("handleInvalid", "error")),
    )


def _imputer(stage: SavedStage) -> Op:
    io = _io(stage)
    data = stage.data()
    return num.Imputer(
        **io,
        surrogates=[float(data[name]) for name in io["inputs"]],
        missing_value=to_float(stage.param("missingValue", "NaN"), f"{stage.uid}.missingValue"),
    )


def _bucketizer(stage: SavedStage) -> Op:
    raw = stage.param("splitsArray") or [stage.param("splits")]
    splits = [np.asarray(splits_of(s, f"{stage.uid}.splits")) for s in raw]
    return num.Bucketizer(**_io(stage), splits=splits, handle_invalid=stage.param("handleInvalid"))


def _binarizer(stage: SavedStage) -> Op:
    io = _io(stage)
    raw = stage.param("thresholds") or [stage.param("threshold", 0.0)] * len(io["inputs"])
    return num.Binarizer(
        **io,
        thresholds=[to_float(t, f"{stage.uid}.threshold") for t in raw],
        null_as_zero=stage.spark_version >= (4, 0),
    )


def _tree(rows: list[dict[str, Any]]) -> trees.Tree:
    nodes = sorted((r.get("nodeData", r) for r in rows), key=lambda n: n["id"])
    count = len(nodes)
    categories: list[frozenset[float] | None] = []
    rights: list[frozenset[float] | None] = []
    threshold = np.zeros(count)
    for i, node in enumerate(nodes):
        split = node.get("split") or {}
        values = split.get("leftCategoriesOrThreshold") or []
        total = int(split.get("numCategories", -1))
        right = None
        if total >= 0 and node["leftChild"] >= 0:
            left = frozenset(float(v) for v in values)
            categories.append(left)
            # Spark's CategoricalSplit keeps whichever side is at most half (isLeft).
            if len(left) > total // 2:
                right = frozenset(float(c) for c in range(total)) - left
        else:
            categories.append(None)
            threshold[i] = values[0] if values else 0.0
        rights.append(right)
    return trees.Tree(
        feature=np.array([max(n["split"]["featureIndex"], 0) for n in nodes], dtype=np.int64),
        threshold=threshold,
        left=np.array([n["leftChild"] for n in nodes], dtype=np.int64),
        right=np.array([n["rightChild"] for n in nodes], dtype=np.int64),
        left_categories=categories,
        prediction=np.array([n["prediction"] for n in nodes], dtype=np.float64),
        stats=np.array([n["impurityStats"] for n in nodes], dtype=np.float64),
        right_categories=rights,
    )


def _tree_model(kind: str, classifier: bool) -> Callable[[SavedStage], Op]:
    def build(stage: SavedStage) -> Op:
        rows = stage.rows()
        if kind.startswith("decision_tree"):
            forest = [_tree(rows)]
            weights = np.ones(1)
        else:
            by_tree: dict[int, list[dict[str, Any]]] = {}
            for row in rows:
                by_tree.setdefault(int(row["treeID"]), []).append(row)
            forest = [_tree(by_tree[i]) for i in sorted(by_tree)]
            # Spark 3.x names the columns (treeID, metadata, weights); 4.x writes a tuple (_1.._3).
            meta = [
                (int(r.get("treeID", r.get("_1"))), float(r.get("weights", r.get("_3"))))
                for r in stage.rows("treesMetadata")
            ]
            weights = np.array([weight for _, weight in sorted(meta)])
        return trees.TreeEnsemble(
            **_model_io(stage, classifier),
            kind=kind,
            trees=forest,
            weights=weights,
            num_features=int(stage.metadata.get("numFeatures", 0)),
            thresholds=_thresholds(stage) if classifier else None,
        )

    return build


def _logistic(stage: SavedStage) -> Op:
    data = stage.data()
    if "coefficientMatrix" in data:
        coefficients = matrix_of(data["coefficientMatrix"])
        intercepts = vector_of(data["interceptVector"])
        multinomial = bool(data["isMultinomial"])
    else:  # Spark 2.0/2.1 layout
        coefficients = vector_of(data["coefficients"]).reshape(1, -1)
        intercepts = np.array([float(data["intercept"])])
        multinomial = False
    return lin.LogisticRegression(
        **_model_io(stage, True),
        coefficients=coefficients,
        intercepts=intercepts,
        multinomial=multinomial,
        threshold=to_float(stage.param("threshold", 0.5), f"{stage.uid}.threshold"),
        thresholds=_thresholds(stage),
    )


def _hashing_tf(stage: SavedStage) -> Op:
    if stage.spark_version < (3, 0):
        raise ArtifactError(
            f"HashingTF {stage.uid!r} was saved by Spark {stage.metadata.get('sparkVersion')}, "
            "whose hash differs from Spark 3+; re-save the pipeline with Spark 3 or later"
        )
    return text.HashingTF(
        **_io(stage),
        num_features=int(stage.param("numFeatures", 1 << 18)),
        binary=bool(stage.param("binary", False)),
    )


def _vector_slicer(stage: SavedStage) -> Op:
    if stage.param("names"):
        raise ArtifactError(
            f"VectorSlicer {stage.uid!r} selects by names, which need Spark's column metadata; "
            "select by indices instead"
        )
    return vec.VectorSlicer(**_io(stage), indices=[int(i) for i in stage.param("indices", [])])


def _vector_indexer(stage: SavedStage) -> Op:
    data = stage.data()
    maps = data["categoryMaps"]
    pairs = maps.items() if isinstance(maps, dict) else maps  # pyarrow reads maps as pairs
    category_maps = {
        int(feature): {
            float(v): int(i) for v, i in (inner.items() if isinstance(inner, dict) else inner)
        }
        for feature, inner in pairs
    }
    return vec.VectorIndexer(
        **_io(stage),
        num_features=int(data["numFeatures"]),
        category_maps=category_maps,
        handle_invalid=str(stage.param("handleInvalid", "error")),
    )


def _selected(stage: SavedStage) -> Op:
    """ChiSq / Univariate / VarianceThreshold selector models: a slice of their features."""
    return vec.VectorSlicer(
        uid=stage.uid,
        inputs=[str(stage.param("featuresCol", "features"))],
        outputs=stage.columns("outputCol", "outputCols"),
        indices=sorted(int(i) for i in stage.data()["selectedFeatures"]),
    )


def _word2vec(stage: SavedStage) -> Op:
    rows = stage.rows()
    return feat.Word2Vec(
        **_io(stage),
        words={str(r["word"]): i for i, r in enumerate(rows)},
        # float32 as saved, widened exactly as Java widens float to double
        vectors=np.array([r["vector"] for r in rows], dtype=np.float32).astype(np.float64),
    )


def _min_hash(stage: SavedStage) -> Op:
    flat = [int(v) for v in stage.data()["randCoefficients"]]
    return feat.MinHashLSH(**_io(stage), coefficients=list(zip(flat[::2], flat[1::2], strict=True)))


def _target_encoder(stage: SavedStage) -> Op:
    """Spark 4.1 saves one row per input: index, categories, counts, stats."""
    rows = sorted(stage.rows(), key=lambda r: int(r["index"]))
    if rows and "categories" not in rows[0]:
        raise ArtifactError(
            f"TargetEncoder {stage.uid!r}: this save's layout (Spark "
            f"{stage.metadata.get('sparkVersion')}) is not one the sparkml stage reads; "
            "re-save it with Spark 4.1"
        )
    encodings = [
        {
            float(c): (float(n), float(v))
            for c, n, v in zip(r["categories"], r["counts"], r["stats"], strict=True)
        }
        for r in rows
    ]
    return feat.TargetEncoder(
        **_io(stage),
        encodings=encodings,
        binary=str(stage.param("targetType", "binary")) == "binary",
        smoothing=float(stage.param("smoothing", 0.0)),
        handle_invalid=str(stage.param("handleInvalid", "error")),
    )


BUILDERS: dict[str, Callable[[SavedStage], Op]] = {
    "StringIndexerModel": _string_indexer,
    "IndexToString": lambda s: cat.IndexToString(**_io(s), labels=_index_labels(s)),
    "OneHotEncoderModel": _one_hot,
    "ImputerModel": _imputer,
    "VectorAssembler": lambda s: vec.VectorAssembler(
        **_io(s), handle_invalid=str(s.param("handleInvalid", "error"))
    ),
    "StandardScalerModel": lambda s: num.StandardScaler(
        **_io(s),
        mean=vector_of(s.data()["mean"]),
        std=vector_of(s.data()["std"]),
        with_mean=bool(s.param("withMean", False)),
        with_std=bool(s.param("withStd", True)),
    ),
    "MinMaxScalerModel": lambda s: num.MinMaxScaler(
        **_io(s),
        original_min=vector_of(s.data()["originalMin"]),
        original_max=vector_of(s.data()["originalMax"]),
        min=float(s.param("min", 0.0)),
        max=float(s.param("max", 1.0)),
    ),
    "MaxAbsScalerModel": lambda s: num.MaxAbsScaler(
        **_io(s), max_abs=vector_of(s.data()["maxAbs"])
    ),
    "Normalizer": lambda s: num.Normalizer(**_io(s), p=to_float(s.param("p", 2.0), "p")),
    "ElementwiseProduct": lambda s: num.ElementwiseProduct(
        **_io(s), scaling=_param_vector(s.param("scalingVec"))
    ),
    "PCAModel": lambda s: num.PCA(**_io(s), components=matrix_of(s.data()["pc"])),
    "Binarizer": _binarizer,
    "Bucketizer": _bucketizer,
    "Tokenizer": lambda s: text.Tokenizer(**_io(s)),
    "RegexTokenizer": lambda s: text.RegexTokenizer(
        **_io(s),
        pattern=str(s.param("pattern", r"\s+")),
        gaps=bool(s.param("gaps", True)),
        min_token_length=int(s.param("minTokenLength", 1)),
        to_lowercase=bool(s.param("toLowercase", True)),
    ),
    "StopWordsRemover": lambda s: text.StopWordsRemover(
        **_io(s),
        stop_words=list(s.param("stopWords", [])),
        case_sensitive=bool(s.param("caseSensitive", False)),
    ),
    "CountVectorizerModel": lambda s: text.CountVectorizer(
        **_io(s),
        vocabulary=list(s.data()["vocabulary"]),
        min_tf=float(s.param("minTF", 1.0)),
        binary=bool(s.param("binary", False)),
    ),
    "HashingTF": _hashing_tf,
    "IDFModel": lambda s: text.IDF(**_io(s), idf=vector_of(s.data()["idf"])),
    "VectorSlicer": _vector_slicer,
    "VectorIndexerModel": _vector_indexer,
    "ChiSqSelectorModel": _selected,
    "UnivariateFeatureSelectorModel": _selected,
    "VarianceThresholdSelectorModel": _selected,
    "DCT": lambda s: feat.DCT(**_io(s), inverse=bool(s.param("inverse", False))),
    "PolynomialExpansion": lambda s: feat.PolynomialExpansion(
        **_io(s), degree=int(s.param("degree", 2))
    ),
    "RobustScalerModel": lambda s: feat.RobustScaler(
        **_io(s),
        median=vector_of(s.data()["median"]),
        range=vector_of(s.data()["range"]),
        with_centering=bool(s.param("withCentering", False)),
        with_scaling=bool(s.param("withScaling", True)),
    ),
    "NGram": lambda s: feat.NGram(**_io(s), n=int(s.param("n", 2))),
    "Word2VecModel": _word2vec,
    "FeatureHasher": lambda s: feat.FeatureHasher(
        **_io(s),
        num_features=int(s.param("numFeatures", 1 << 18)),
        categorical=[str(c) for c in s.param("categoricalCols", [])],
    ),
    "BucketedRandomProjectionLSHModel": lambda s: feat.BucketedRandomProjectionLSH(
        **_io(s),
        unit_vectors=matrix_of(s.data()["randUnitVectors"]),
        bucket_length=float(s.param("bucketLength")),
    ),
    "MinHashLSHModel": _min_hash,
    "Interaction": lambda s: Interaction(**_io(s)),
    "TargetEncoderModel": _target_encoder,
    "RFormulaModel": lambda s: _rformula(s),  # defined below, beside load_stage_dir
    # RFormula's helpers: the rewriter changes column metadata only, the pruner drops.
    "VectorAttributeRewriter": lambda s: Pipeline(s.uid, [], [], stages=[]),
    "ColumnPruner": lambda s: DropColumns(
        s.uid, [], [], dropped=[str(c) for c in s.data()["columnsToPrune"]]
    ),
    "SQLTransformer": lambda s: SQLTransformer(
        uid=s.uid,
        inputs=[],
        outputs=[],
        statement=str(s.param("statement")),
        ansi=s.spark_version >= (4, 0),  # spark.sql.ansi.enabled's default
    ),
    "LinearRegressionModel": lambda s: lin.LinearRegression(
        **_model_io(s, False),
        coefficients=vector_of(s.data()["coefficients"]),
        intercept=float(s.data()["intercept"]),
    ),
    "LogisticRegressionModel": _logistic,
    "DecisionTreeRegressionModel": _tree_model("decision_tree_regression", False),
    "DecisionTreeClassificationModel": _tree_model("decision_tree_classification", True),
    "RandomForestRegressionModel": _tree_model("random_forest_regression", False),
    "RandomForestClassificationModel": _tree_model("random_forest_classification", True),
    "GBTRegressionModel": _tree_model("gbt_regression", False),
    "GBTClassificationModel": _tree_model("gbt_classification", True),
}


def _stage_dirs(path: Path, uids: list[str]) -> list[Path]:
    """Stage folders in pipeline order: `<index>_<uid>` (zero-padded in newer Sparks).

    Matched by index and uid both: a fitted RFormula's inner pipeline repeats a uid."""
    stages = path / "stages"
    found: dict[tuple[int, str], Path] = {}
    for folder in stages.iterdir():
        index, sep, uid = folder.name.partition("_")
        if sep and index.isdigit():
            found[(int(index), uid)] = folder
    missing = [u for i, u in enumerate(uids) if (i, u) not in found]
    if missing:
        raise ArtifactError(f"{stages} lacks the folders of stages {missing}")
    return [found[(i, u)] for i, u in enumerate(uids)]


def _rformula(stage: SavedStage) -> Op:
    """A fitted RFormula: the pipeline it carries (indexers, encoders, the assembler), its
    label indexer run only when the label column is there (never at prediction time)."""
    inner = load_stage_dir(stage.path / "pipelineModel")
    label = str(stage.data().get("label") or "")
    stages = inner.flat() if isinstance(inner, Pipeline) else [inner]
    kept = [
        WhenPresent(op.uid, [], op.outputs, inner=op) if label and label in op.inputs else op
        for op in stages
    ]
    target = str(stage.param("labelCol", "label"))
    if label and not any(label in op.inputs for op in stages):
        # A numeric label is not indexed: RFormulaModel casts it to the label column.
        statement = f"SELECT *, CAST(`{label}` AS DOUBLE) AS `{target}` FROM __THIS__"
        cast = SQLTransformer(f"{stage.uid}-label", [], [], statement=statement)
        kept.append(WhenPresent(cast.uid, [], cast.outputs, inner=cast))
    pipeline = Pipeline(stage.uid, [], [], stages=kept)
    resolve_attributes(pipeline)
    return pipeline


def load_stage_dir(path: Path) -> Op:
    """Load one saved stage (a PipelineModel loads its stages, recursively)."""
    metadata = read_metadata(path)
    stage = SavedStage(path, metadata)
    class_name = str(metadata["class"]).rsplit(".", 1)[-1]
    if class_name in {"PipelineModel", "Pipeline"}:
        uids = [str(u) for u in stage.param("stageUids", [])]
        pipeline = Pipeline(
            stage.uid, [], [], stages=[load_stage_dir(p) for p in _stage_dirs(path, uids)]
        )
        resolve_attributes(pipeline)  # Interaction reads what the stages before it write
        return pipeline
    builder = BUILDERS.get(class_name)
    if builder is None:
        raise unsupported(stage.uid, class_name, list(BUILDERS))
    try:
        return builder(stage)
    except ArtifactError:
        raise
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ArtifactError(
            f"stage {stage.uid!r} ({class_name}, Spark {metadata.get('sparkVersion')}) "
            f"cannot be read from {path}: {type(exc).__name__}: {exc}"
        ) from exc


def is_spark_save(path: Path) -> bool:
    return (path / "metadata").is_dir()


__all__ = ["BUILDERS", "is_spark_save", "load_stage_dir"]
