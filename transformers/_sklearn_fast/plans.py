"""Plans back into kernels: every op a translator plans, and the two compositions
(Pipeline, ColumnTransformer), built with numpy alone.

`compile_model` builds each verified step from its Plan, and `stored` loads a saved
program through the same `build`, so the stored form serves what was verified.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from inferpipe.serving.frames import column_arrays
from inferpipe.transformers._sklearn_fast import encoders, estimators, preprocessing
from inferpipe.transformers._sklearn_fast.checks import as_matrix, check_width
from inferpipe.transformers._sklearn_fast.registry import Kernel, Plan


def chain_kernel(kernels: Sequence[Kernel]) -> Kernel:
    """A Pipeline: each step's output is the next one's input."""

    def run(features: Any) -> Any:
        for kernel in kernels:
            features = kernel(features)
        return features

    return run


def columns_kernel(
    parts: Sequence[tuple[list[int], Kernel | None]],
    width: int | None,
    compiled: Callable[[Kernel], bool] = lambda kernel: True,
) -> Kernel:
    """A ColumnTransformer: each part's kernel (None: passthrough) on its input columns,
    the blocks side by side. A kernel `compiled` says is not gets the frame's columns
    as a frame, as scikit-learn expects them."""

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
            elif kernel is None or compiled(kernel):
                part = np.column_stack([arrays[i] for i in selected])
            else:
                part = features.iloc[:, selected]  # scikit-learn sees the frame it expects
            block = as_matrix(part) if kernel is None else kernel(part)
            blocks.append(block.toarray() if hasattr(block, "toarray") else np.asarray(block))
        if not blocks:
            return np.zeros((features.shape[0], 0))
        return np.hstack(blocks)

    return run


def _build_pipeline(plan: Plan) -> Kernel:
    return chain_kernel([build(child) for child in plan.children])


def _build_columns(plan: Plan) -> Kernel:
    children = iter(plan.children)
    parts = [
        (list(selected), build(next(children)) if has_step else None)
        for selected, has_step in plan.params["parts"]
    ]
    return columns_kernel(parts, plan.params["width"])


BUILDERS: dict[str, Callable[[Plan], Kernel]] = {
    **preprocessing.BUILDERS,
    **encoders.BUILDERS,
    **estimators.BUILDERS,
    "pipeline": _build_pipeline,
    "column_transformer": _build_columns,
}


def build(plan: Plan) -> Kernel:
    """The kernel of a Plan (a step or a whole program)."""
    builder = BUILDERS.get(plan.op)
    if builder is None:
        raise ValueError(f"unknown compiled step {plan.op!r}")
    return builder(plan)
