"""Find and load the Spark ML artifact in a model dir: an MLeap bundle or a Spark save.

Looked for, in order: `bundle.json` (an unpacked MLeap bundle, as AWS's SparkML
container expects), Spark's `metadata/` (PipelineModel.save()), then one `*.zip`
(a zipped MLeap bundle).
"""

from __future__ import annotations

from pathlib import Path

from inferpipe.protocol.errors import ArtifactError
from inferpipe.transformers.sparkml.mleap_bundle import load_bundle
from inferpipe.transformers.sparkml.mleap_files import open_bundle
from inferpipe.transformers.sparkml.op import Op
from inferpipe.transformers.sparkml.spark_native import is_spark_save, load_stage_dir


def load_model(model_dir: Path) -> tuple[Op, str]:
    """The root op and a description of what was loaded (for the start-up log)."""
    if (model_dir / "bundle.json").is_file():
        return load_bundle(open_bundle(model_dir)), "MLeap bundle"
    if is_spark_save(model_dir):
        return load_stage_dir(model_dir), "Spark PipelineModel"
    zips = sorted(model_dir.glob("*.zip"))
    if len(zips) == 1:
        return load_bundle(open_bundle(zips[0])), f"MLeap bundle {zips[0].name}"
    if len(zips) > 1:
        raise ArtifactError(f"{model_dir} holds several zips {[z.name for z in zips]}; keep one")
    raise ArtifactError(
        f"{model_dir} holds no Spark ML artifact: looked for bundle.json (MLeap bundle), "
        "metadata/ (Spark PipelineModel.save()) and one *.zip (zipped MLeap bundle)"
    )
