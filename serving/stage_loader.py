"""Choose, import and load the stage an image serves.

`INFERPIPE_STAGE` names a kind or a `module:attr` import string; unset, the kind
is detected from the files in the model dir. Only the chosen stage's module is
imported, so an image never loads a library another stage needs.
"""

from __future__ import annotations

import importlib
import logging
import sys
import time
from pathlib import Path

from inferpipe.protocol import names
from inferpipe.protocol.errors import ArtifactError, ConfigError, InferpipeError
from inferpipe.protocol.manifest import verify_model_dir
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage import Stage

logger = logging.getLogger(__name__)

STAGE_KINDS = {
    "sklearn": "inferpipe.transformers.sklearn:SklearnStage",
    "sparkml": "inferpipe.transformers.sparkml:SparkMLStage",
    "postprocess": "inferpipe.transformers.postprocess:PostprocessStage",
    "script": "inferpipe.transformers.script:ScriptStage",
    "xgboost": "inferpipe.transformers.xgboost:XGBoostStage",
    "fused": "inferpipe.transformers.fused:FusedStage",
}

#: (what to look for, kind) in the order detection tries them.
DETECTION_RULES = (
    ("fused.json", "fused"),
    ("bundle.json", "sparkml"),
    ("metadata/", "sparkml"),
    ("code/<SAGEMAKER_PROGRAM>", "script"),
    ("xgboost-model", "xgboost"),
    ("postprocess.json", "postprocess"),
    ("model.joblib", "sklearn"),
    ("model.compiled.json", "sklearn"),
)


def detect_kind(model_dir: Path, settings: ServingSettings) -> str:
    """Name the stage kind the files in `model_dir` call for."""
    for marker, kind in DETECTION_RULES:
        if marker.startswith("code/"):
            path = model_dir / "code" / settings.program
        else:
            path = model_dir / marker.rstrip("/")
        if path.exists():
            return kind
    looked_for = ", ".join(marker for marker, _ in DETECTION_RULES)
    raise ArtifactError(
        f"cannot tell which stage serves {model_dir}: found none of {looked_for}; "
        "set INFERPIPE_STAGE to a kind or module:attr"
    )


def resolve_stage_class(name: str, search_dirs: tuple[Path, ...] = ()) -> type[Stage]:
    """Import the Stage class a kind or `module:attr` string names.

    A user's `module:attr` is looked up in `search_dirs` first (the model dir's `code/`,
    then the model dir), so a stage shipped in the artifact works on every engine."""
    target = STAGE_KINDS.get(name, name)
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(
            f"{names.STAGE}={name!r} is neither a kind ({', '.join(STAGE_KINDS)}) "
            "nor a module:attr import string"
        )
    if name not in STAGE_KINDS:
        for folder in reversed(search_dirs):
            if folder.is_dir() and str(folder) not in sys.path:
                sys.path.insert(0, str(folder))
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"stage {name!r}: cannot import {module_name}: {exc}") from exc
    stage_class = getattr(module, attr, None)
    if not (isinstance(stage_class, type) and issubclass(stage_class, Stage)):
        raise ConfigError(f"stage {name!r}: {target} is not a Stage subclass")
    return stage_class


def load_stage(settings: ServingSettings) -> Stage:
    """Pick, import and load the stage; raises an InferpipeError naming what is wrong."""
    model_dir = settings.model_dir
    if not model_dir.is_dir():
        raise ArtifactError(f"model dir {model_dir} does not exist or is not a directory")
    if settings.artifact_sha256:
        # Before any stage opens a file: a joblib artifact runs code when unpickled.
        verify_model_dir(model_dir, settings.artifact_sha256)
        logger.info("model dir %s matches manifest %s", model_dir, settings.artifact_sha256)
    name = settings.stage or detect_kind(model_dir, settings)
    stage = resolve_stage_class(name, (model_dir / "code", model_dir))()
    started = time.perf_counter()
    try:
        stage.load(model_dir, settings)
    except InferpipeError:
        raise
    except Exception as exc:
        raise ArtifactError(f"stage {name!r} failed to load {model_dir}: {exc}") from exc
    logger.info(
        "loaded stage=%s model_dir=%s in %.0f ms",
        stage.kind,
        model_dir,
        (time.perf_counter() - started) * 1000,
    )
    return stage
