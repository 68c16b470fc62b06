"""The sklearn stage: a joblib artifact (Pipeline, ColumnTransformer or estimator).

`model.joblib` is loaded with the image's scikit-learn; an artifact saved by another
version fails the start naming both versions. Loading a joblib file runs code from
it: serve only artifacts you built. Its steps run as compiled numpy kernels where
they translate and verify (`_sklearn_fast`; `INFERPIPE_FAST_PATH=false` turns it off).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from inferpipe.protocol.errors import ArtifactError, ConfigError, SchemaMismatch
from inferpipe.protocol.interface import Columns, StageInterface, columns
from inferpipe.serving.frames import has_named_columns
from inferpipe.serving.schema import read_schema_file
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage import Stage
from inferpipe.transformers._joblib import load_joblib
from inferpipe.transformers._sklearn_fast import CompiledModel, compile_model
from inferpipe.transformers._sklearn_fast.stored import (
    COMPILED_JSON,
    NotStorable,
    StoredModel,
    compiled_files,
    file_digest,
    load_stored,
    read_about,
)
from inferpipe.transformers._tabular import frame_from_result

logger = logging.getLogger(__name__)

MODEL_FILE = "model.joblib"
METHODS = ("transform", "predict", "predict_proba")


def choose_method(model: Any, configured: str | None) -> str:
    """The model method to call: configured, else transform for transformers, else predict."""
    if configured:
        if configured not in METHODS:
            raise ConfigError(f"INFERPIPE_SKLEARN_METHOD={configured!r} is not one of {METHODS}")
        if not hasattr(model, configured):
            raise ConfigError(
                f"INFERPIPE_SKLEARN_METHOD={configured!r} but "
                f"{type(model).__name__} has no {configured}()"
            )
        return configured
    if hasattr(model, "transform") and not hasattr(model, "predict"):
        return "transform"
    if hasattr(model, "predict"):
        return "predict"
    raise ArtifactError(f"{type(model).__name__} has neither transform() nor predict()")


class SklearnStage(Stage):
    """Serve a scikit-learn object: decode records to named columns, call one method."""

    kind = "sklearn"

    def load(self, model_dir: Path, settings: ServingSettings) -> None:
        self._load(model_dir, settings, stored_form=True)

    def load_from_joblib(self, model_dir: Path, settings: ServingSettings) -> None:
        """Load model.joblib whatever is stored beside it (to compile it again)."""
        self._load(model_dir, settings, stored_form=False)

    def _load(self, model_dir: Path, settings: ServingSettings, stored_form: bool) -> None:
        super().load(model_dir, settings)
        self.schema = read_schema_file(model_dir)
        self.stored_interface: StageInterface | None = None
        self.compiled: CompiledModel | None = None
        stored = self._stored_form(model_dir, settings) if stored_form else None
        if stored is not None:
            self.call: Callable[[Any], Any] = stored.call
            self.method = str(stored.about["method"])
            self.model_class = str(stored.about["model_class"])
            names = stored.about.get("feature_names")
            self.feature_names: list[str] | None = list(names) if names is not None else None
            self.stored_interface = StageInterface.from_json(stored.about["interface"])
            logger.info("serving the compiled form of %s.%s", self.model_class, self.method)
        else:
            self._load_joblib(model_dir, settings)
        if self.schema and self.feature_names:
            missing = [n for n in self.feature_names if n not in self.schema.names]
            if missing:
                raise ArtifactError(
                    f"{model_dir / 'schema.json'} lacks columns the model was fitted on: {missing}"
                )

    def _stored_form(self, model_dir: Path, settings: ServingSettings) -> StoredModel | None:
        """The compiled form beside model.joblib, when it is there, wanted and current."""
        about = read_about(model_dir)
        joblib_path = model_dir / MODEL_FILE
        if about is None:
            return None
        if not settings.fast_path:
            if not joblib_path.is_file():
                raise ArtifactError(
                    f"{model_dir} holds only the compiled form ({COMPILED_JSON}) and "
                    "INFERPIPE_FAST_PATH=false asks for model.joblib"
                )
            return None
        if joblib_path.is_file() and file_digest(joblib_path) != about.get("model_sha256"):
            logger.warning(
                "%s was compiled from another model.joblib: serving model.joblib; "
                "run `inferpipe compile-sklearn %s` again",
                COMPILED_JSON,
                model_dir,
            )
            return None
        if settings.sklearn_method and settings.sklearn_method != about.get("method"):
            if not joblib_path.is_file():
                raise ConfigError(
                    f"INFERPIPE_SKLEARN_METHOD={settings.sklearn_method!r} but {COMPILED_JSON} "
                    f"was compiled for {about.get('method')}() and there is no model.joblib"
                )
            return None
        return load_stored(model_dir, about)

    def _load_joblib(self, model_dir: Path, settings: ServingSettings) -> None:
        self.model = load_joblib(model_dir / MODEL_FILE)
        self.model_class = type(self.model).__name__
        self.method = choose_method(self.model, settings.sklearn_method)
        self.call = getattr(self.model, self.method)
        if settings.fast_path:
            self.compiled = compile_model(self.model, self.method)
            logger.info(
                "fast path for %s.%s: %s",
                self.model_class,
                self.method,
                self.compiled.summary(),
            )
            self.call = self.compiled.call
        expected = getattr(self.model, "feature_names_in_", None)
        self.feature_names = [str(n) for n in expected] if expected is not None else None

    def compiled_files(self, model_dir: Path) -> dict[str, bytes]:
        """The compiled form of the loaded model.joblib, to store beside it; NotStorable
        names the steps that keep scikit-learn (those cannot be stored)."""
        if self.compiled is None:
            raise NotStorable("the model was not compiled (INFERPIPE_FAST_PATH=false?)")
        if self.compiled.plan is None:
            raise NotStorable(
                f"not every step compiles to plain arrays ({self.compiled.summary()})"
            )
        import sklearn

        from inferpipe import __version__

        about = {
            "method": self.method,
            "model_class": self.model_class,
            "feature_names": self.feature_names,
            "interface": self.interface().to_json(),
            "model_sha256": file_digest(model_dir / MODEL_FILE),
            "compiled_with": {"inferpipe": __version__, "scikit-learn": sklearn.__version__},
            "steps": [step.path for step in self.compiled.steps],
        }
        return compiled_files(self.compiled.plan, about)

    def interface(self) -> StageInterface:
        """Inputs from what the model was fitted on (else schema.json); outputs from
        get_feature_names_out() for transform, the final estimator for predict."""
        if self.stored_interface is not None:
            return self.stored_interface
        name = type(self.model).__name__
        width = getattr(self.model, "n_features_in_", None)
        if self.feature_names is not None:
            inputs: Columns | None = columns(self.feature_names, f"feature_names_in_ of {name}")
        elif isinstance(width, int):
            inputs = Columns(width, None, f"n_features_in_ of {name}")
        elif self.schema is not None:
            inputs = columns(self.schema.names, "schema.json")
        else:
            inputs = None
        fitted = self.feature_names is not None or isinstance(width, int)
        return StageInterface(self.kind, inputs, self._outputs(), fitted_inputs=fitted)

    def _outputs(self) -> Columns:
        name = type(self.model).__name__
        if self.method == "transform":
            try:
                return columns(
                    self.model.get_feature_names_out(), f"{name}.get_feature_names_out()"
                )
            except Exception as exc:  # estimators without it raise several types
                return Columns(source=f"{name} cannot name its output columns ({exc})")
        final = self.model[-1] if hasattr(self.model, "steps") else self.model
        final_name = type(final).__name__
        if self.method == "predict_proba":
            classes = getattr(final, "classes_", None)
            if classes is None or isinstance(classes, list):
                return Columns(source=f"{final_name} has no single classes_ list")
            return Columns(len(classes), None, f"the classes_ of {final_name}")
        outputs = getattr(final, "n_outputs_", None)
        coefficients = getattr(final, "coef_", None)
        if outputs is None and getattr(final, "_estimator_type", "") == "regressor":
            outputs = coefficients.shape[0] if getattr(coefficients, "ndim", 1) == 2 else 1
        return Columns(int(outputs or 1), None, f"{final_name}.predict()")

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame | Any:
        if self.feature_names is None:
            return frame if has_named_columns(frame) else frame.to_numpy()
        if has_named_columns(frame):
            columns = frame.columns.tolist()
            if columns == self.feature_names:
                return frame  # already in the fitted order: no copy
            present = set(columns)
            missing = [n for n in self.feature_names if n not in present]
            if missing:
                raise SchemaMismatch(f"the records lack columns {missing}")
            return frame[self.feature_names]
        if len(frame.columns) != len(self.feature_names):
            raise SchemaMismatch(
                f"each record has {len(frame.columns)} fields; the model "
                f"expects {len(self.feature_names)}: {self.feature_names}"
            )
        return frame.set_axis(self.feature_names, axis=1)

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        features = self._features(frame)
        try:
            result = self.call(features)
        except ValueError as exc:
            # scikit-learn reports wrong widths, unknown categories and bad values
            # as ValueError: the request's fault, so a 400 with its message.
            raise SchemaMismatch(f"{self.model_class}.{self.method}: {exc}") from None
        return frame_from_result(result)


def compile_model_dir(model_dir: Path, method: str | None = None) -> tuple[str, dict[str, bytes]]:
    """Compile a model dir's model.joblib: the summary line and the two files of its
    stored form (`inferpipe compile-sklearn`, `inferpipe package --compile-sklearn`).
    Raises NotStorable, naming the steps, when a step stays in scikit-learn."""
    if not (model_dir / MODEL_FILE).is_file():
        raise ArtifactError(f"{model_dir / MODEL_FILE} is missing: nothing to compile")
    settings = ServingSettings.from_environ(
        {}, model_dir=model_dir, sklearn_method=method, fast_path=True
    )
    stage = SklearnStage()
    stage.load_from_joblib(model_dir, settings)
    assert stage.compiled is not None
    summary = f"{stage.model_class}.{stage.method}: {stage.compiled.summary()}"
    return summary, stage.compiled_files(model_dir)
