"""Save small fitted pipelines with the installed pyspark, plus Spark's own outputs.

Run once per Spark version whose save layout the native loader must read; the results
are committed under tests/data/spark-layouts/spark-<version>/ and checked by
tests/unit/transformers/sparkml/test_spark_layouts.py without that Spark installed:

    python -m venv /tmp/spark35 && /tmp/spark35/bin/pip install pyspark==3.5.9 'numpy<2' pandas
    /tmp/spark35/bin/python scripts/make_spark_layouts.py tests/data/spark-layouts [NAME ...]

Names choose which pipelines to (re)write; without them every pipeline is written.

Each pipeline folder holds `model/` (PipelineModel.save(), .crc files removed),
`input.json` (column types and rows) and `expected.json` (Spark's transform).
"""

from __future__ import annotations

import json
import math
import random
import shutil
import sys
from pathlib import Path
from typing import Any

TYPES = {
    "x1": "double",
    "x2": "double",
    "x4": "double",
    "category": "string",
    "text": "string",
    "label": "double",
    "klass": "double",
    "target": "double",
    "x5": "double",
}
WORDS = ["the", "a", "spark", "model", "serves", "fast", "data", "of", "rows"]


def rows(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    # x5 (a few values, NaN and null among them: what VectorIndexer takes as categorical)
    # has its own generator, so the other columns stay as they were before it was added.
    fifth = random.Random(seed + 100)
    out = []
    for i in range(count):
        x1 = round(rng.gauss(1.0, 2.0), 6)
        x2 = None if i % 11 == 3 else round(rng.uniform(-5, 5), 6)
        category = None if i % 13 == 5 else rng.choice(["red", "green", "blue"])
        if seed != 1 and i % 17 == 2:
            category = "unseen"
        out.append(
            {
                "x1": x1,
                "x2": x2,
                "x4": rng.choice([-1.0, 0.0, 0.5, 2.0, -0.0, 1.25]),
                "category": category,
                "text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 6))),
                "label": 1.0 if x1 + rng.gauss(0, 1) > 1 else 0.0,
                "klass": float(i % 3),
                "target": 2.0 * x1 + rng.gauss(0, 0.5),
                "x5": _fifth(fifth, i, seed),
            }
        )
    return out


def _fifth(rng: random.Random, i: int, seed: int) -> float | None:
    """Training rows (seed 1) hold 0, 1, 2; test rows add null, NaN and an unseen 9."""
    value = rng.choice([0.0, 1.0, 2.0])
    if seed == 1:
        return value
    if i % 19 == 7:
        return None
    if i % 7 == 4:
        return math.nan
    return 9.0 if i % 23 == 5 else value


def _indexed(f: Any, handle_invalid: str) -> list[Any]:
    """x5 and x4 (few distinct values) become categorical features, x1 stays continuous."""
    return [
        f.VectorAssembler(inputCols=["x5", "x4", "x1"], outputCol="raw", handleInvalid="keep"),
        f.VectorIndexer(
            inputCol="raw", outputCol="indexed", maxCategories=7, handleInvalid=handle_invalid
        ),
    ]


#: SQLTransformer expressions, each added as a column (`SELECT *, <expr> AS sN`); nulls and
#: NaN reach every argument position through x2, category and x5.
SQL_EXPRESSIONS = [
    "x1 * 2 + 1", "x1 - x2", "x1 / x2", "x2 % 3", "CAST(x1 AS INT) div 2", "-x2",
    "x2 > 0", "x2 = x1", "x5 = x5", "x5 > 1", "x2 > 0 AND x1 > 1", "x2 > 0 OR x1 > 1",
    "NOT (x2 > 0)", "x2 IS NULL", "x5 IS NOT NULL", "x1 BETWEEN 0 AND 2",
    "category IN ('red', 'blue')", "x5 IN (1.0, NULL)",
    "CASE WHEN x2 > 0 THEN 'pos' WHEN x2 IS NULL THEN 'none' ELSE 'neg' END",
    "CASE category WHEN 'red' THEN 1 WHEN 'blue' THEN 2 END", "IF(x2 > 0, x1, -x1)",
    "COALESCE(x2, x1, 0)", "NVL(category, 'missing')", "NULLIF(x5, 0)",
    "TRY_CAST(category AS DOUBLE)", "CAST(x1 AS INT)", "CAST(x1 AS STRING)",
    "CAST(klass AS BOOLEAN)", "CAST(x4 AS FLOAT)", "CAST(x5 AS STRING)", "abs(x2)",
    "sqrt(x1)", "ln(x1)", "log(2, x1)", "log10(abs(x2))", "exp(x4)", "pow(x4, 2)",
    "round(x1, 2)", "round(x2)", "floor(x2)", "ceil(x1)", "signum(x2)", "lower(category)",
    "upper(text)", "trim(concat('  ', category, ' '))", "length(text)",
    "substring(text, 2, 3)", "substr(text, -3)", "concat(category, '-', text)",
    "concat_ws('/', category, text)", "x1 + klass", "x5 * 2",
]  # fmt: skip


def pipelines(ml: Any) -> dict[str, list[Any]]:
    f, c, r = ml.feature, ml.classification, ml.regression
    features = [
        f.StringIndexer(inputCol="category", outputCol="category_i", handleInvalid="keep"),
        f.OneHotEncoder(inputCols=["category_i"], outputCols=["category_v"]),
        f.Imputer(inputCols=["x2"], outputCols=["x2_i"]),
        f.VectorAssembler(inputCols=["x1", "x2_i", "category_v"], outputCol="assembled"),
    ]
    return {
        "features": [
            *features,
            f.StandardScaler(inputCol="assembled", outputCol="standard", withMean=True),
            f.MinMaxScaler(inputCol="assembled", outputCol="minmax"),
            f.MaxAbsScaler(inputCol="assembled", outputCol="maxabs"),
            f.Normalizer(inputCol="assembled", outputCol="l2"),
            f.PCA(k=2, inputCol="assembled", outputCol="pca"),
            f.Binarizer(inputCol="x2", outputCol="x2_bin", threshold=0.0),
            f.Bucketizer(
                splits=[-math.inf, -1.0, 0.0, 0.5, math.inf], inputCol="x4", outputCol="x4_bucket"
            ),
            f.QuantileDiscretizer(numBuckets=3, inputCol="x1", outputCol="x1_q"),
            f.IndexToString(
                inputCol="category_i",
                outputCol="category_back",
                labels=["blue", "green", "red", "?"],
            ),
        ],
        "text": [
            f.Tokenizer(inputCol="text", outputCol="tokens"),
            f.RegexTokenizer(inputCol="text", outputCol="words", pattern="\\W", minTokenLength=2),
            f.StopWordsRemover(inputCol="tokens", outputCol="kept"),
            f.CountVectorizer(inputCol="kept", outputCol="counts"),
            f.HashingTF(inputCol="tokens", outputCol="hashed", numFeatures=32),
            f.IDF(inputCol="hashed", outputCol="tfidf"),
        ],
        "features2": [
            f.VectorAssembler(
                inputCols=["x1", "x4", "x5", "klass"], outputCol="v", handleInvalid="keep"
            ),
            f.DCT(inputCol="v", outputCol="dct"),
            f.DCT(inputCol="v", outputCol="idct", inverse=True),
            f.PolynomialExpansion(inputCol="v", outputCol="poly", degree=3),
            f.RobustScaler(inputCol="v", outputCol="robust", withCentering=True),
            f.RobustScaler(inputCol="v", outputCol="robust_scaled", lower=0.1, upper=0.9),
            f.VarianceThresholdSelector(featuresCol="v", outputCol="vts", varianceThreshold=0.5),
            f.ChiSqSelector(featuresCol="v", labelCol="label", outputCol="chi", numTopFeatures=2),
            f.UnivariateFeatureSelector(
                featuresCol="v", labelCol="target", outputCol="ufs", selectionMode="numTopFeatures"
            )
            .setFeatureType("continuous")
            .setLabelType("continuous")
            .setSelectionThreshold(2),
            f.BucketedRandomProjectionLSH(
                inputCol="v", outputCol="brp", bucketLength=1.5, numHashTables=3, seed=3
            ),
            f.MinHashLSH(inputCol="v", outputCol="mh", numHashTables=3, seed=4),
            f.FeatureHasher(
                inputCols=["x1", "category", "klass", "x2"],
                outputCol="fh",
                numFeatures=64,
                categoricalCols=["klass"],
            ),
        ],
        "text2": [
            f.Tokenizer(inputCol="text", outputCol="tokens"),
            f.NGram(inputCol="tokens", outputCol="bigrams", n=2),
            f.NGram(inputCol="tokens", outputCol="trigrams", n=3),
            f.Word2Vec(
                inputCol="tokens", outputCol="w2v", vectorSize=4, minCount=1, seed=5, maxIter=2
            ),
        ],
        "sql": [
            f.SQLTransformer(statement=f"SELECT *, {e} AS s{i} FROM __THIS__")
            for i, e in enumerate(SQL_EXPRESSIONS)
        ],
        "sql_where": [
            f.SQLTransformer(
                statement="SELECT x1, x2 * 2 AS doubled, upper(category) AS shout "
                "FROM __THIS__ WHERE x2 > 0 OR category = 'red'"
            ),
        ],
        "rformula": [
            f.RFormula(
                formula="label ~ x1 + category + x4",
                featuresCol="numeric_label_features",
                labelCol="numeric_label",
                handleInvalid="keep",
            ),
            f.RFormula(
                formula="category ~ x1 + x4",
                featuresCol="string_label_features",
                labelCol="string_label",
                handleInvalid="keep",
                stringIndexerOrderType="alphabetAsc",
            ),
        ],
        "interaction": [
            *features,
            f.Bucketizer(inputCol="x1", outputCol="x1_b", splits=[-math.inf, 0.0, 1.5, math.inf]),
            f.VectorAssembler(inputCols=["x1", "category_i", "x1_b"], outputCol="mixed"),
            f.VectorAssembler(inputCols=["x4", "x1"], outputCol="raw2"),
            f.VectorIndexer(inputCol="raw2", outputCol="idx2", maxCategories=7),
            f.Interaction(inputCols=["category_i", "x1"], outputCol="i_nominal_numeric"),
            f.Interaction(inputCols=["x1", "x2_i", "x4"], outputCol="i_numeric"),
            f.Interaction(inputCols=["category_v", "x4"], outputCol="i_onehot"),
            f.Interaction(inputCols=["mixed", "x1_b"], outputCol="i_mixed"),
            f.Interaction(inputCols=["assembled", "klass"], outputCol="i_assembled"),
            f.Interaction(inputCols=["idx2", "category_i"], outputCol="i_indexed"),
            f.RFormula(
                formula="target ~ category:x1 + x4 + category:x4:x1",
                featuresCol="rf_features",
                labelCol="rf_label",
                handleInvalid="keep",
            ),
        ],
        "indexer": [
            *_indexed(f, "keep"),
            c.RandomForestClassifier(
                featuresCol="indexed",
                labelCol="label",
                numTrees=4,
                seed=5,
                predictionCol="rfc",
                rawPredictionCol="rfc_raw",
                probabilityCol="rfc_p",
            ),
            r.DecisionTreeRegressor(featuresCol="indexed", labelCol="target", predictionCol="dtr"),
        ],
        "indexer_skip": [
            *_indexed(f, "skip"),
            r.GBTRegressor(
                featuresCol="indexed", labelCol="target", maxIter=3, predictionCol="gbtr"
            ),
        ],
        "models": [
            *features,
            r.LinearRegression(featuresCol="assembled", labelCol="target", predictionCol="lin"),
            c.LogisticRegression(
                featuresCol="assembled",
                labelCol="label",
                predictionCol="lr",
                rawPredictionCol="lr_raw",
                probabilityCol="lr_p",
            ),
            c.LogisticRegression(
                featuresCol="assembled",
                labelCol="klass",
                predictionCol="mlr",
                rawPredictionCol="mlr_raw",
                probabilityCol="mlr_p",
            ),
            c.DecisionTreeClassifier(
                featuresCol="assembled",
                labelCol="klass",
                predictionCol="dtc",
                rawPredictionCol="dtc_raw",
                probabilityCol="dtc_p",
            ),
            r.DecisionTreeRegressor(
                featuresCol="assembled", labelCol="target", predictionCol="dtr"
            ),
            c.RandomForestClassifier(
                featuresCol="assembled",
                labelCol="label",
                numTrees=4,
                seed=1,
                predictionCol="rfc",
                rawPredictionCol="rfc_raw",
                probabilityCol="rfc_p",
            ),
            r.RandomForestRegressor(
                featuresCol="assembled", labelCol="target", numTrees=3, seed=2, predictionCol="rfr"
            ),
            c.GBTClassifier(
                featuresCol="assembled", labelCol="label", maxIter=4, seed=3, predictionCol="gbtc"
            ),
            r.GBTRegressor(
                featuresCol="assembled", labelCol="target", maxIter=4, predictionCol="gbtr"
            ),
        ],
    }


def plain(value: Any) -> Any:
    if hasattr(value, "toArray"):
        return [float(v) for v in value.toArray()]
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def spark4_pipelines(ml: Any) -> dict[str, list[Any]]:
    """Stages Spark 3.5 does not have."""
    f = ml.feature
    return {
        "target_encoder": [
            f.StringIndexer(inputCol="category", outputCol="category_i", handleInvalid="keep"),
            f.TargetEncoder(
                inputCols=["category_i", "klass"],
                outputCols=["te_binary", "te_klass"],
                labelCol="label",
                targetType="binary",
                handleInvalid="keep",
                smoothing=2.0,
            ),
            f.TargetEncoder(
                inputCols=["category_i"],
                outputCols=["te_target"],
                labelCol="target",
                targetType="continuous",
                handleInvalid="keep",
            ),
        ],
    }


def main(target: Path, only: list[str]) -> int:
    import pyspark
    import pyspark.ml as ml
    import pyspark.ml.classification
    import pyspark.ml.feature
    import pyspark.ml.regression
    from pyspark.sql import SparkSession
    from pyspark.sql import types as T

    spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
    spark = spark.getOrCreate()
    schema = T.StructType(
        [
            T.StructField(n, T.StringType() if k == "string" else T.DoubleType())
            for n, k in TYPES.items()
        ]
    )
    train = spark.createDataFrame([tuple(r[n] for n in TYPES) for r in rows(120, 1)], schema)
    test_rows = rows(1000, 2)  # the first 40 are the rows of the layouts made before
    test = spark.createDataFrame([tuple(r[n] for n in TYPES) for r in test_rows], schema)
    base = target / f"spark-{pyspark.__version__}"
    everything = pipelines(ml)
    if int(pyspark.__version__.split(".")[0]) >= 4:
        everything |= spark4_pipelines(ml)
    chosen = {n: s for n, s in everything.items() if not only or n in only}
    for name, stages in chosen.items():
        folder = base / name
        shutil.rmtree(folder, ignore_errors=True)
        model = ml.Pipeline(stages=stages).fit(train)
        model.write().save(str(folder / "model"))
        for crc in (folder / "model").rglob("*.crc"):
            crc.unlink()
        result = model.transform(test)
        new = [c for c in result.columns if c not in TYPES]
        collected = result.select(*new).collect()
        expected = {c: [plain(row[c]) for row in collected] for c in new}
        (folder / "input.json").write_text(json.dumps({"types": TYPES, "rows": test_rows}))
        (folder / "expected.json").write_text(json.dumps(expected))
        print(f"{folder}: {len(new)} columns", file=sys.stderr)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2:]))
