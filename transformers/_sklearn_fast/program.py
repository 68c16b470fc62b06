"""Compile a fitted scikit-learn object into one callable, step by step.

Pipelines and ColumnTransformers are composed here; leaf steps come from the
translator tables (`preprocessing`, `encoders`, `estimators`). Every translated leaf
is verified against scikit-learn before use (`verify`), so a leaf that cannot be
translated exactly keeps its own method and the model's answers stay scikit-learn's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inferpipe.serving.frames import column_arrays
from inferpipe.transformers._sklearn_fast.checks import as_matrix, check_width
from inferpipe.transformers._sklearn_fast.registry import NotCompilable
from inferpipe.transformers._sklearn_fast.tables import lookup
from inferpipe.transformers._sklearn_fast.verify import verify

logger = logging.getLogger(__name__)

Kernel = Callable[[Any], Any]


@dataclass(frozen=True)
class StepReport:
    """One leaf step: where it sits, whether it runs compiled, and why not."""

    path: str
    compiled: bool
    reason: str = ""


@dataclass
class CompiledModel:
    """`call(features)` answers what `getattr(model, method)(features)` answers."""

    call: Kernel
    steps: list[StepReport] = field(default_factory=list)

    @property
    def fully_compiled(self) -> bool:
        return all(step.compiled for step in self.steps)

    def summary(self) -> str:
        """One line for the start-up log: which steps run compiled, which do not and why."""
        done = [s.path for s in self.steps if s.compiled]
        left = [f"{s.path} ({s.reason})" for s in self.steps if not s.compiled]
        text = f"{len(done)}/{len(self.steps)} steps compiled"
        if done:
            text += ": " + ", ".join(done)
        if left:
            text += "; in scikit-learn: " + ", ".join(left)
        return text


def compile_model(model: Any, method: str) -> CompiledModel:
    """Compile `model.<method>`; steps that cannot be compiled keep scikit-learn's."""
    steps: list[StepReport] = []
    call = _compile(model, method, type(model).__name__, steps)
    return CompiledModel(call, steps)


def _output_is_default(estimator: Any) -> bool:
    config = getattr(estimator, "_sklearn_output_config", {}) or {}
    return config.get("transform", "default") == "default"


def _compile(estimator: Any, method: str, path: str, steps: list[StepReport]) -> Kernel:
    name = type(estimator).__name__
    if type(estimator).__module__.startswith("sklearn.") and _output_is_default(estimator):
        if name == "Pipeline":
            return _pipeline(estimator, method, path, steps)
        if name == "ColumnTransformer" and method == "transform":
            return _column_transformer(estimator, path, steps)
    return _leaf(estimator, method, path, steps)


def _leaf(estimator: Any, method: str, path: str, steps: list[StepReport]) -> Kernel:
    fallback: Kernel = getattr(estimator, method)
    translator = lookup(estimator)
    reason = "no translation"
    if translator is not None and not _output_is_default(estimator):
        reason = "set_output(transform=...) is not the default"
    elif translator is not None:
        try:
            kernel = translator.translate(estimator, method)
            verify(estimator, method, kernel, translator.probe(estimator))
        except NotCompilable as exc:
            reason = str(exc)
        except Exception as exc:  # an artifact we did not foresee: serve it unchanged
            logger.debug("cannot compile %s", path, exc_info=exc)
            reason = f"{type(exc).__name__}: {exc}"
        else:
            steps.append(StepReport(path, True))
            return _by_batch_size(kernel, fallback, translator.native_above_rows)
    steps.append(StepReport(path, False, reason))
    return fallback


def _by_batch_size(kernel: Kernel, native: Kernel, limit: int | None) -> Kernel:
    """The kernel for batches up to `limit` rows, scikit-learn's own method above."""
    if limit is None:
        return kernel

    def run(features: Any) -> Any:
        return native(features) if len(features) > limit else kernel(features)

    return run


def _pipeline(pipeline: Any, method: str, path: str, steps: list[StepReport]) -> Kernel:
    named = [(n, s) for n, s in pipeline.steps if s is not None and s != "passthrough"]
    kernels: list[Kernel] = []
    for index, (step_name, step) in enumerate(named):
        last = index == len(named) - 1
        kernels.append(
            _compile(step, method if last else "transform", f"{path}/{step_name}", steps)
        )

    def run(features: Any) -> Any:
        for kernel in kernels:
            features = kernel(features)
        return features

    return run


def _column_transformer(transformer: Any, path: str, steps: list[StepReport]) -> Kernel:
    indices = getattr(transformer, "_transformer_to_input_indices", None)
    if indices is None:
        return _leaf(transformer, "transform", path, steps)
    parts: list[tuple[list[int], Kernel | None]] = []
    compiled: set[Kernel] = set()
    for name, child, _columns in transformer.transformers_:
        selected = [int(i) for i in indices.get(name, [])]
        if (isinstance(child, str) and child == "drop") or not selected:
            continue
        kernel = None
        if not (isinstance(child, str) and child == "passthrough"):
            before = len(steps)
            kernel = _compile(child, "transform", f"{path}/{name}", steps)
            if all(step.compiled for step in steps[before:]):
                compiled.add(kernel)
        parts.append((selected, kernel))
    width = getattr(transformer, "n_features_in_", None)

    def run(features: Any) -> Any:
        named = hasattr(features, "columns")
        if not named:
            features = as_matrix(features)
        check_width(features, width, "ColumnTransformer")
        # A frame's columns are taken out once: pandas indexing per part costs more than
        # the arithmetic of a small request.
        arrays = column_arrays(features) if named else None
        blocks = []
        for selected, kernel in parts:
            if arrays is None:
                part: Any = features[:, selected]
            elif kernel is None or kernel in compiled:
                part = np.column_stack([arrays[i] for i in selected])
            else:
                part = features.iloc[:, selected]  # scikit-learn sees the frame it expects
            block = as_matrix(part) if kernel is None else kernel(part)
            blocks.append(block.toarray() if hasattr(block, "toarray") else np.asarray(block))
        if not blocks:
            return np.zeros((features.shape[0], 0))
        return np.hstack(blocks)

    return run
