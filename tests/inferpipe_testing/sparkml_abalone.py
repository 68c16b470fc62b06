"""The abalone pipeline with Spark ML preprocessing: trained in pyspark, saved natively,
served by the sparkml stage in front of the XGBoost hop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from inferpipe.transformers.sparkml.training import (
    export_mleap_bundle,
    save_for_serving,
    serving_schema,
    train_pipeline,
)
from inferpipe_testing.abalone import FEATURES
from inferpipe_testing.local import EXAMPLE

CONFIG = {"categorical": ["sex"], "numeric": FEATURES[1:], "output": "features"}


def abalone_frame(spark: Any, csv: Path) -> Any:
    from pyspark.sql import types as T

    fields = [T.StructField("sex", T.StringType())]
    fields += [T.StructField(n, T.DoubleType()) for n in [*FEATURES[1:], "rings"]]
    return spark.read.csv(str(csv), schema=T.StructType(fields), header=False)


def build(spark: Any, out: Path) -> Path:
    """sparkml/ (PipelineModel + schema.json), sparkml-mleap/ (the same as an MLeap bundle),
    xgboost/ (xgboost-model) and spec.yaml: variant A serves the native save, B the bundle."""
    import xgboost

    frame = abalone_frame(spark, EXAMPLE / "data" / "abalone.csv")
    model = train_pipeline(frame, CONFIG)
    save_for_serving(model, CONFIG, out / "sparkml")
    export_mleap_bundle(model, frame.drop("rings"), out / "sparkml-mleap")
    rows = model.transform(frame).select("features", "rings").collect()
    features = np.array([r["features"].toArray() for r in rows])
    booster = xgboost.train(
        {"objective": "reg:squarederror", "max_depth": 4, "eta": 0.2, "nthread": 1, "seed": 0},
        xgboost.DMatrix(features, label=[r["rings"] for r in rows]),
        num_boost_round=40,
    )
    (out / "xgboost").mkdir(parents=True, exist_ok=True)
    booster.save_model(out / "xgboost" / "xgboost-model.ubj")
    (out / "xgboost" / "xgboost-model.ubj").replace(out / "xgboost" / "xgboost-model")
    schema = json.dumps(serving_schema(CONFIG))

    def model_spec(artifact: str) -> dict[str, Any]:
        return {
            "role": "arn:aws:iam::123456789012:role/SageMakerExecution",
            "containers": [
                {
                    "name": "sparkml",
                    "builtin": {"algorithm": "sparkml-serving", "version": "3.3"},
                    "artifact": artifact,
                    "environment": {"SAGEMAKER_SPARKML_SCHEMA": schema},
                },
                {
                    "name": "model",
                    "builtin": {"algorithm": "xgboost", "version": "1.7-1"},
                    "artifact": "xgboost",
                },
            ],
        }

    variant = {"instance_type": "ml.m5.large", "instance_count": 1, "weight": 0.5}
    spec = {
        "spec_version": 1,
        "endpoint": "abalone-spark",
        "region": "us-east-1",
        "models": {
            "spark-native": model_spec("sparkml"),
            "spark-mleap": model_spec("sparkml-mleap"),
        },
        "variants": [
            {"name": "A", "model": "spark-native", **variant},
            {"name": "B", "model": "spark-mleap", **variant},
        ],
    }
    (out / "spec.yaml").write_text(yaml.safe_dump(spec))
    return out


def expected_predictions(spark: Any, out: Path, csv: Path) -> list[float]:
    """Spark's own transform, then xgboost in-process: the oracle for the endpoint."""
    import xgboost
    from pyspark.ml import PipelineModel

    model = PipelineModel.load(str(out / "sparkml"))
    rows = model.transform(abalone_frame(spark, csv)).select("features").collect()
    booster = xgboost.Booster()
    booster.load_model(str(out / "xgboost" / "xgboost-model"))
    features = np.array([r["features"].toArray() for r in rows])
    return [float(v) for v in booster.predict(xgboost.DMatrix(features))]
