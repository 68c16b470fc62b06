"""The interface of one pipeline op, and the pipeline that runs ops in order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from inferpipe.protocol.errors import SchemaMismatch
from inferpipe.transformers.sparkml.columns import Column, Frame


@dataclass
class Op:
    """A fitted stage: reads `inputs`, adds `outputs`; `uid` names it in errors."""

    uid: str
    inputs: list[str]
    outputs: list[str]

    #: The Spark class / MLeap op this implements, for messages.
    label = "op"

    def apply(self, frame: Frame) -> Frame:
        raise NotImplementedError

    def fail(self, message: str) -> SchemaMismatch:
        """An error about the request's data, naming this stage."""
        return SchemaMismatch(f"{self.label} {self.uid!r}: {message}")

    def column(self, frame: Frame, index: int = 0) -> Column:
        return frame.get(self.inputs[index], f"{self.label} {self.uid!r}")


def columns_needed(ops: Sequence[Op]) -> tuple[list[str], set[str]]:
    """(columns the request must bring, columns the ops produce), in pipeline order."""
    produced: set[str] = set()
    needed: list[str] = []
    for op in ops:
        needed += [c for c in op.inputs if c not in produced and c not in needed]
        produced.update(op.outputs)
    return needed, produced


def first_row(mask: np.ndarray) -> int:
    """1-based number of the first True row, for messages."""
    return int(np.flatnonzero(mask)[0]) + 1


@dataclass
class Pipeline(Op):
    """Ops in order; a nested pipeline is itself an op."""

    stages: Sequence[Op] = field(default_factory=list)
    label = "Pipeline"

    def apply(self, frame: Frame) -> Frame:
        for stage in self.stages:
            frame = stage.apply(frame)
        return frame

    def flat(self) -> list[Op]:
        """Every leaf op, nested pipelines expanded."""
        leaves: list[Op] = []
        for stage in self.stages:
            leaves.extend(stage.flat() if isinstance(stage, Pipeline) else [stage])
        return leaves


@dataclass
class DropColumns(Op):
    """Spark's ColumnPruner (inside a fitted RFormula): its helper columns are dropped."""

    dropped: list[str] = field(default_factory=list)
    label = "ColumnPruner"

    def apply(self, frame: Frame) -> Frame:
        kept = {n: c for n, c in frame.columns.items() if n not in self.dropped}
        return Frame(kept, frame.length)


@dataclass
class WhenPresent(Op):
    """An op that runs only when the request has its inputs: RFormula's label indexer,
    which Spark skips at prediction time when the label column is absent."""

    inner: Op | None = None
    label = "WhenPresent"

    def apply(self, frame: Frame) -> Frame:
        assert self.inner is not None
        if all(name in frame for name in self.inner.inputs):
            return self.inner.apply(frame)
        return frame
