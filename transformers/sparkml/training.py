"""Train a Spark ML preprocessing pipeline from a short config and save it for serving.

Runs inside pyspark (`inferpipe[spark]`, never in a serving image). The config names
categorical and numeric columns; categories are indexed (unseen → their own slot) and
one-hot encoded, numbers imputed and standardised, all assembled into one vector:

    {"categorical": ["sex"], "numeric": ["length", "height"], "output": "features"}

`save_for_serving` writes the PipelineModel with Spark's own `save()` plus the
`schema.json` the sparkml stage reads, so the folder is a complete model artifact;
`export_mleap_bundle` writes the same fitted pipeline as an MLeap bundle (JSON format),
which the sparkml stage, AWS's sparkml-serving image and MLeap's runtime all load.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from inferpipe.protocol.errors import ConfigError
from inferpipe.transformers.sparkml.columns import Frame
from inferpipe.transformers.sparkml.convert import column_from_values
from inferpipe.transformers.sparkml.mleap_writer import write_bundle
from inferpipe.transformers.sparkml.spark_native import load_stage_dir


def _spark_ml() -> Any:
    try:
        import pyspark.ml as ml
        import pyspark.ml.feature  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            "training needs pyspark: pip install 'inferpipe[spark]' (pyspark 4.1.x)"
        ) from exc
    return ml


def build_pipeline(config: dict[str, Any]) -> Any:
    """An unfitted pyspark Pipeline for the config."""
    ml = _spark_ml()
    categorical = list(config.get("categorical", []))
    numeric = list(config.get("numeric", []))
    if not categorical and not numeric:
        raise ConfigError("the training config names no 'categorical' or 'numeric' columns")
    output = str(config.get("output", "features"))
    stages: list[Any] = []
    assembled: list[str] = []
    if categorical:
        indexed = [f"{c}__index" for c in categorical]
        encoded = [f"{c}__onehot" for c in categorical]
        stages.append(
            ml.feature.StringIndexer(
                inputCols=categorical, outputCols=indexed, handleInvalid="keep"
            )
        )
        stages.append(ml.feature.OneHotEncoder(inputCols=indexed, outputCols=encoded))
        assembled += encoded
    if numeric:
        imputed = [f"{c}__imputed" for c in numeric]
        stages.append(ml.feature.Imputer(inputCols=numeric, outputCols=imputed))
        stages.append(ml.feature.VectorAssembler(inputCols=imputed, outputCol="numeric__raw"))
        stages.append(
            ml.feature.StandardScaler(
                inputCol="numeric__raw", outputCol="numeric__scaled", withMean=True
            )
        )
        assembled.append("numeric__scaled")
    stages.append(ml.feature.VectorAssembler(inputCols=assembled, outputCol=output))
    return ml.Pipeline(stages=stages)


def serving_schema(config: dict[str, Any]) -> dict[str, Any]:
    """The AWS-format schema for requests to the trained pipeline."""
    inputs = [{"name": c, "type": "string"} for c in config.get("categorical", [])]
    inputs += [{"name": c, "type": "double"} for c in config.get("numeric", [])]
    output = {"name": str(config.get("output", "features")), "type": "double", "struct": "vector"}
    return {"input": inputs, "output": output}


def train_pipeline(frame: Any, config: dict[str, Any]) -> Any:
    """Fit the config's pipeline on a Spark DataFrame; returns the PipelineModel."""
    return build_pipeline(config).fit(frame)


def save_for_serving(model: Any, config: dict[str, Any], folder: Path) -> Path:
    """Save natively (`PipelineModel.save`) with schema.json: a sparkml model artifact."""
    model.write().overwrite().save(str(folder))
    (folder / "schema.json").write_text(json.dumps(serving_schema(config), indent=2))
    return folder


def frame_from_spark(frame: Any) -> Frame:
    """Collect a (small) Spark DataFrame into our columns: strings, numbers, vectors, arrays."""
    from pyspark.ml.linalg import VectorUDT
    from pyspark.sql import types as T

    rows = frame.collect()
    columns = {}
    for field in frame.schema.fields:
        values = [row[field.name] for row in rows]
        if isinstance(field.dataType, VectorUDT):
            values = [None if v is None else v.toArray().tolist() for v in values]
            columns[field.name] = column_from_values(values, field.name, "double", "vector")
        elif isinstance(field.dataType, T.ArrayType):
            columns[field.name] = column_from_values(values, field.name, "string", "array")
        elif isinstance(field.dataType, T.StringType):
            columns[field.name] = column_from_values(values, field.name, "string", "basic")
        else:
            columns[field.name] = column_from_values(values, field.name, "double", "basic")
    return Frame(columns, len(rows))


def export_mleap_bundle(model: Any, sample: Any, target: Path) -> Path:
    """Write a fitted PipelineModel as an MLeap bundle (zip if `target` ends in .zip).

    `sample` is a DataFrame of the pipeline's input columns (a few rows suffice): like
    MLeap's own exporter, the writer reads vector widths off a transformed sample.
    """
    with tempfile.TemporaryDirectory() as work:
        model.write().save(f"{work}/model")
        ops = load_stage_dir(Path(work) / "model")
    return write_bundle(ops, frame_from_spark(sample.limit(5)), target)
