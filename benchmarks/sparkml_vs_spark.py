"""Per-row cost of the sparkml stage's runtime next to Spark's own `transform`, same run.

Trains the abalone preprocessing pipeline in pyspark (StringIndexer, OneHotEncoder,
Imputer, VectorAssembler, StandardScaler), saves it natively, loads it with our
loader, then times one-row and 1,000-row transforms both ways (warm, median of runs).
Usage: python -P benchmarks/sparkml_vs_spark.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from inferpipe.transformers.sparkml.artifact import load_model
from inferpipe.transformers.sparkml.columns import Frame
from inferpipe.transformers.sparkml.convert import column_from_values, python_values
from inferpipe.transformers.sparkml.training import serving_schema, train_pipeline

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "examples" / "abalone" / "data" / "abalone.csv"
FEATURES = ["sex", "length", "diameter", "height", "whole_weight", "shucked_weight",
            "viscera_weight", "shell_weight"]  # fmt: skip
CONFIG = {"categorical": ["sex"], "numeric": FEATURES[1:], "output": "features"}


def median_ms(action: Callable[[], object], runs: int) -> float:
    action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> int:
    from pyspark.sql import SparkSession
    from pyspark.sql import types as T

    spark = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    fields = [T.StructField("sex", T.StringType())]
    fields += [T.StructField(n, T.DoubleType()) for n in [*FEATURES[1:], "rings"]]
    frame = spark.read.csv(str(DATA), schema=T.StructType(fields)).cache()
    model = train_pipeline(frame, CONFIG)
    rows = [line.split(",")[:8] for line in DATA.read_text().splitlines()[:1000]]
    typed = [[r[0], *map(float, r[1:])] for r in rows]
    schema = serving_schema(CONFIG)
    with tempfile.TemporaryDirectory() as work:
        model.write().save(work + "/model")
        ours, _ = load_model(Path(work) / "model")

    def our_frame(batch: list[list[object]]) -> Frame:
        columns = {
            c["name"]: column_from_values([r[j] for r in batch], c["name"], c["type"], "basic")
            for j, c in enumerate(schema["input"])
        }
        return Frame(columns, len(batch))

    spark_one = spark.createDataFrame(typed[:1], T.StructType(fields[:-1])).cache()
    spark_many = spark.createDataFrame(typed, T.StructType(fields[:-1])).cache()
    spark_one.count()
    spark_many.count()
    results = {
        "1 row": (
            median_ms(
                lambda: python_values(ours.apply(our_frame(typed[:1])).get("features", "")), 200
            ),
            median_ms(lambda: model.transform(spark_one).select("features").collect(), 30),
        ),
        "1,000 rows": (
            median_ms(lambda: python_values(ours.apply(our_frame(typed)).get("features", "")), 30),
            median_ms(lambda: model.transform(spark_many).select("features").collect(), 10),
        ),
    }
    spark.stop()
    print(
        f"{'request':<12}{'inferpipe ms':>14}{'Spark ms':>12}{'Spark/ours':>12}{'ours us/row':>13}"
    )
    for name, (ours_ms, spark_ms) in results.items():
        count = 1 if name == "1 row" else 1000
        print(
            f"{name:<12}{ours_ms:>14.3f}{spark_ms:>12.3f}{spark_ms / ours_ms:>12.1f}"
            f"{ours_ms * 1000 / count:>13.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
