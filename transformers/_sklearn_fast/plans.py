"""Plans back into kernels: every op a translator plans, and the two compositions
(Pipeline, ColumnTransformer), built with numpy alone.

`compile_model` builds each verified step from its Plan, and `stored` loads a saved
program through the same `build`, so the stored form serves what was verified.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

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


def _column_blocks(
    parts: Sequence[tuple[list[int], Kernel | None]],
    width: int | None,
    compiled: Callable[[Kernel], bool],
    keep_passthrough: bool = False,
) -> Callable[[Any], tuple[Any, list[Any]]]:
    """The input and each part's answer, in order (`keep_passthrough`: a passthrough part
    of a frame stays a frame, its columns' dtypes kept)."""

    def run(features: Any) -> tuple[Any, list[Any]]:
        named = hasattr(features, "columns")
        if not named:
            features = as_matrix(features)
        check_width(features, width, "ColumnTransformer")
        # A frame's columns are taken out once: pandas indexing per part costs more than
        # the arithmetic of a small request.
        arrays = column_arrays(features) if named else None
        blocks: list[Any] = []
        for selected, kernel in parts:
            if arrays is None:
                part: Any = features[:, selected]
            elif kernel is None and keep_passthrough:
                part = features.iloc[:, selected]
            elif kernel is None or compiled(kernel):
                part = np.column_stack([arrays[i] for i in selected])
            else:
                part = features.iloc[:, selected]  # scikit-learn sees the frame it expects
            if kernel is None:
                blocks.append(part if keep_passthrough and named else as_matrix(part))
                continue
            block = kernel(part)
            blocks.append(block.toarray() if hasattr(block, "toarray") else block)
        return features, blocks

    return run


def columns_kernel(
    parts: Sequence[tuple[list[int], Kernel | None]],
    width: int | None,
    compiled: Callable[[Kernel], bool] = lambda kernel: True,
) -> Kernel:
    """A ColumnTransformer: each part's kernel (None: passthrough) on its input columns,
    the blocks side by side. A kernel `compiled` says is not gets the frame's columns
    as a frame, as scikit-learn expects them."""
    blocks_of = _column_blocks(parts, width, compiled)

    def run(features: Any) -> Any:
        features, blocks = blocks_of(features)
        if not blocks:
            return np.zeros((features.shape[0], 0))
        return np.hstack([np.asarray(block) for block in blocks])

    return run


def _index_of(features: Any) -> Any:
    return features.index if isinstance(features, pd.DataFrame | pd.Series) else None


def framed_kernel(kernel: Kernel, columns: Sequence[str]) -> Kernel:
    """A step answering with set_output(transform="pandas"): its array as a frame named
    by get_feature_names_out, on its input's row index, as scikit-learn wraps it."""
    names = list(columns)

    def run(features: Any) -> pd.DataFrame:
        return pd.DataFrame(kernel(features), columns=names, index=_index_of(features))

    return run


def columns_frame_kernel(
    parts: Sequence[tuple[list[int], Kernel | None]],
    width: int | None,
    columns: Sequence[str],
    compiled: Callable[[Kernel], bool] = lambda kernel: True,
) -> Kernel:
    """A ColumnTransformer answering with pandas: each part a frame (a passthrough part
    keeps its columns' dtypes, a compiled part is one array), joined side by side and
    named by get_feature_names_out, as scikit-learn's pandas output does."""
    blocks_of = _column_blocks(parts, width, compiled, keep_passthrough=True)
    names = list(columns)

    def run(features: Any) -> pd.DataFrame:
        index = _index_of(features)
        features, blocks = blocks_of(features)
        rows = index if index is not None else pd.RangeIndex(features.shape[0])
        frames = [
            block.set_axis(rows, axis=0)
            if isinstance(block, pd.DataFrame)
            else pd.DataFrame(np.asarray(block), index=rows)
            for block in blocks
        ]
        if not frames:
            return pd.DataFrame(index=rows)
        joined = pd.concat(frames, axis=1, ignore_index=True)
        joined.columns = names
        return joined

    return run


def _build_pipeline(plan: Plan) -> Kernel:
    chain = chain_kernel([build(child) for child in plan.children])
    return keeping_index(chain) if plan.params.get("keep_index") else chain


def keeping_index(chain: Kernel) -> Kernel:
    """A Pipeline whose steps all answer frames: the answer keeps the input's row index
    (scikit-learn passes it along; compiled steps in between pass arrays)."""

    def run(features: Any) -> Any:
        answer = chain(features)
        index = _index_of(features)
        if index is not None and isinstance(answer, pd.DataFrame):
            answer.index = index
        return answer

    return run


def _build_columns(plan: Plan) -> Kernel:
    children = iter(plan.children)
    parts = [
        (list(selected), build(next(children)) if has_step else None)
        for selected, has_step in plan.params["parts"]
    ]
    if plan.params.get("frame_columns") is not None:
        return columns_frame_kernel(parts, plan.params["width"], plan.params["frame_columns"])
    return columns_kernel(parts, plan.params["width"])


def _build_frame(plan: Plan) -> Kernel:
    return framed_kernel(build(plan.children[0]), plan.params["columns"])


BUILDERS: dict[str, Callable[[Plan], Kernel]] = {
    **preprocessing.BUILDERS,
    **encoders.BUILDERS,
    **estimators.BUILDERS,
    "pipeline": _build_pipeline,
    "column_transformer": _build_columns,
    "frame": _build_frame,
}


def build(plan: Plan) -> Kernel:
    """The kernel of a Plan (a step or a whole program)."""
    builder = BUILDERS.get(plan.op)
    if builder is None:
        raise ValueError(f"unknown compiled step {plan.op!r}")
    return builder(plan)
