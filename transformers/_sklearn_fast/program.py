"""Compile a fitted scikit-learn object into one callable, step by step.

Pipelines and ColumnTransformers are composed here; leaf steps are planned by the
translator tables (`preprocessing`, `encoders`, `estimators`) and built from their
Plans by `plans.build`. Every translated leaf is verified against scikit-learn before
use (`verify`), so a leaf that cannot be translated exactly keeps its own method and
the model's answers stay scikit-learn's. When every step has a Plan, the program's Plan
is what `stored` saves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from inferpipe.transformers._sklearn_fast.plans import (
    build,
    chain_kernel,
    columns_frame_kernel,
    columns_kernel,
    framed_kernel,
    keeping_index,
)
from inferpipe.transformers._sklearn_fast.registry import NotCompilable, Plan, Translator
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
    """`call(features)` answers what `getattr(model, method)(features)` answers; `plan`
    is the whole program as data when every step has one (what `stored` saves)."""

    call: Kernel
    steps: list[StepReport] = field(default_factory=list)
    plan: Plan | None = None

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


@dataclass
class _Compiled:
    kernel: Kernel
    #: None when this step (or one inside it) cannot be stored.
    plan: Plan | None


def compile_model(model: Any, method: str) -> CompiledModel:
    """Compile `model.<method>`; steps that cannot be compiled keep scikit-learn's."""
    steps: list[StepReport] = []
    compiled = _compile(model, method, type(model).__name__, steps)
    return CompiledModel(compiled.kernel, steps, compiled.plan)


def _output_format(estimator: Any) -> str:
    config = getattr(estimator, "_sklearn_output_config", {}) or {}
    return str(config.get("transform", "default"))


def _output_is_default(estimator: Any) -> bool:
    return _output_format(estimator) == "default"


def _named_steps(pipeline: Any) -> list[tuple[str, Any]]:
    return [(n, s) for n, s in pipeline.steps if s is not None and s != "passthrough"]


def _answering_step(estimator: Any) -> Any | None:
    """The step whose transform() answers for this one: a Pipeline's last, nested ones
    followed down (None: a Pipeline of passthroughs)."""
    while type(estimator).__name__ == "Pipeline":
        named = _named_steps(estimator)
        if not named:
            return None
        estimator = named[-1][1]
    return estimator


def _answers_frame(estimator: Any) -> bool:
    """Whether scikit-learn's transform() of this step answers a pandas frame."""
    step = _answering_step(estimator)
    return step is not None and _output_format(step) == "pandas"


def _one_dtype_frame(estimator: Any) -> bool:
    """Whether that frame is one array of one dtype, named: what `framed_kernel` builds.
    A ColumnTransformer's keeps each part's dtypes; a FunctionTransformer's is its
    function's."""
    step = _answering_step(estimator)
    return _answers_frame(estimator) and type(step).__name__ not in {
        "ColumnTransformer",
        "FunctionTransformer",
    }


def _is_identity(estimator: Any) -> bool:
    return (
        type(estimator).__name__ == "FunctionTransformer"
        and type(estimator).__module__.startswith("sklearn.")
        and estimator.func is None
        and not estimator.validate
    )


def _feature_names(estimator: Any) -> list[str] | None:
    try:
        return [str(name) for name in estimator.get_feature_names_out()]
    except Exception:  # no names: scikit-learn's own method answers
        return None


def _compile(
    estimator: Any, method: str, path: str, steps: list[StepReport], feeds_kernel: bool = False
) -> _Compiled:
    """`feeds_kernel`: the answer goes only to compiled steps, which read columns by
    position, so a step's set_output(transform="pandas") changes nothing downstream."""
    name = type(estimator).__name__
    from_sklearn = type(estimator).__module__.startswith("sklearn.")
    if from_sklearn and (feeds_kernel or _output_is_default(estimator)):
        if name == "Pipeline":
            return _pipeline(estimator, method, path, steps, feeds_kernel)
        if name == "ColumnTransformer" and method == "transform":
            return _column_transformer(estimator, path, steps)
    elif from_sklearn and method == "transform" and _answers_frame(estimator):
        # The frame is the answer: compiled arrays, named and indexed as scikit-learn's.
        if name == "ColumnTransformer":
            return _column_transformer(estimator, path, steps, as_frame=True)
        if _one_dtype_frame(estimator):
            return _framed_leaf(estimator, path, steps)
    return _leaf(estimator, method, path, steps, feeds_kernel)


def _framed_leaf(estimator: Any, path: str, steps: list[StepReport]) -> _Compiled:
    names = _feature_names(estimator)
    if names is None:
        return _leaf(estimator, "transform", path, steps)
    compiled = _leaf(estimator, "transform", path, steps, feeds_kernel=True)
    if not steps[-1].compiled:
        return compiled  # scikit-learn's own transform, which answers the frame
    plan = None
    if compiled.plan is not None:
        plan = Plan("frame", {"columns": names}, children=(compiled.plan,))
    return _Compiled(framed_kernel(compiled.kernel, names), plan)


def _translate(translator: Translator, estimator: Any, method: str) -> tuple[Kernel, Plan]:
    plan = translator.plan(estimator, method)
    kernel = build(plan)
    if translator.with_sklearn is not None:
        kernel = translator.with_sklearn(estimator, plan, kernel)
    return kernel, plan


def _leaf(
    estimator: Any, method: str, path: str, steps: list[StepReport], feeds_kernel: bool = False
) -> _Compiled:
    fallback: Kernel = getattr(estimator, method)
    translator = lookup(estimator)
    reason = "no translation"
    if not (feeds_kernel or _output_is_default(estimator)):
        reason = "its set_output(transform=...) format is the answer"
    elif translator is not None:
        try:
            kernel, plan = _translate(translator, estimator, method)
            probe = translator.probe(estimator)
            verify(estimator, method, kernel, probe)
            if translator.with_sklearn is not None:
                verify(estimator, method, build(plan), probe)  # the stored form
        except NotCompilable as exc:
            reason = str(exc)
        except Exception as exc:  # an artifact we did not foresee: serve it unchanged
            logger.debug("cannot compile %s", path, exc_info=exc)
            reason = f"{type(exc).__name__}: {exc}"
        else:
            steps.append(StepReport(path, True))
            return _Compiled(_by_batch_size(kernel, fallback, translator.native_above_rows), plan)
    steps.append(StepReport(path, False, reason))
    return _Compiled(fallback, None)


def _by_batch_size(kernel: Kernel, native: Kernel, limit: int | None) -> Kernel:
    """The kernel for batches up to `limit` rows, scikit-learn's own method above."""
    if limit is None:
        return kernel

    def run(features: Any) -> Any:
        return native(features) if len(features) > limit else kernel(features)

    return run


def _all_planned(parts: list[_Compiled]) -> bool:
    return all(part.plan is not None for part in parts)


def _pipeline(
    pipeline: Any, method: str, path: str, steps: list[StepReport], feeds_kernel: bool
) -> _Compiled:
    named = _named_steps(pipeline)
    # From the last step back: a step whose successors run compiled may ignore its own
    # output format (a frame or an array reads the same to them); so may a last step
    # asked to predict, whose answer set_output does not touch.
    parts: list[_Compiled] = []
    reports: list[list[StepReport]] = []
    successor_compiled = feeds_kernel or method != "transform"
    for index in range(len(named) - 1, -1, -1):
        name, step = named[index]
        own: list[StepReport] = []
        step_method = method if index == len(named) - 1 else "transform"
        parts.insert(0, _compile(step, step_method, f"{path}/{name}", own, successor_compiled))
        reports.insert(0, own)
        successor_compiled = all(report.compiled for report in own)
    steps += [report for own in reports for report in own]
    # Frames all the way: scikit-learn's answer keeps the input's row index.
    keep_index = (
        method == "transform" and not feeds_kernel and all(_answers_frame(s) for _, s in named)
    )
    plan = None
    if _all_planned(parts):
        children = tuple(p.plan for p in parts if p.plan is not None)
        plan = Plan("pipeline", {"keep_index": True} if keep_index else {}, children=children)
    chain = chain_kernel([p.kernel for p in parts])
    return _Compiled(keeping_index(chain) if keep_index else chain, plan)


def _column_transformer(
    transformer: Any, path: str, steps: list[StepReport], as_frame: bool = False
) -> _Compiled:
    indices = getattr(transformer, "_transformer_to_input_indices", None)
    frame_columns = _feature_names(transformer) if as_frame and indices is not None else None
    if indices is None or (as_frame and frame_columns is None):
        return _leaf(transformer, "transform", path, steps)
    if as_frame and not all(
        isinstance(child, str) or _is_identity(child) or _one_dtype_frame(child)
        for _, child, _ in transformer.transformers_
    ):
        # A nested ColumnTransformer's or a FunctionTransformer's frame has dtypes of its own.
        steps.append(StepReport(path, False, "a part answers a frame of mixed dtypes"))
        return _Compiled(transformer.transform, None)
    parts: list[tuple[list[int], Kernel | None]] = []
    children: list[_Compiled] = []
    compiled: set[Kernel] = set()
    for name, child, _columns in transformer.transformers_:
        selected = [int(i) for i in indices.get(name, [])]
        if (isinstance(child, str) and child == "drop") or not selected:
            continue
        kernel = None
        # A passthrough (the remainder's is an identity FunctionTransformer once fitted)
        # hands its columns on as they are: in a frame, with their dtypes.
        if not (isinstance(child, str) and child == "passthrough") and not (
            frame_columns is not None and _is_identity(child)
        ):
            before = len(steps)
            # The blocks are stacked as arrays: a part's own output format is moot.
            part = _compile(child, "transform", f"{path}/{name}", steps, feeds_kernel=True)
            children.append(part)
            kernel = part.kernel
            if all(step.compiled for step in steps[before:]):
                compiled.add(kernel)
        parts.append((selected, kernel))
    width = getattr(transformer, "n_features_in_", None)
    plan = None
    if _all_planned(children):
        layout = [[selected, kernel is not None] for selected, kernel in parts]
        params: dict[str, Any] = {"parts": layout, "width": width}
        if frame_columns is not None:
            params["frame_columns"] = frame_columns
        plan = Plan(
            "column_transformer",
            params,
            children=tuple(c.plan for c in children if c.plan is not None),
        )
    if frame_columns is not None:
        kernel_of = columns_frame_kernel(parts, width, frame_columns, compiled.__contains__)
        return _Compiled(kernel_of, plan)
    return _Compiled(columns_kernel(parts, width, compiled.__contains__), plan)
