"""Spark ML pipelines served without a JVM: one numpy op library behind two loaders
(MLeap bundles, Spark's own `PipelineModel.save()`), and the AWS SparkML serving contract.
"""

from __future__ import annotations

from inferpipe.transformers.sparkml.artifact import load_model
from inferpipe.transformers.sparkml.stage import SparkMLStage

__all__ = ["SparkMLStage", "load_model"]
