"""Spark's Interaction: every product of one feature from each input column.

What a column contributes depends on its ML attributes, which Spark keeps in the
DataFrame's schema metadata, not in the Interaction stage's save: a numeric feature
contributes its value, a nominal one (a StringIndexer's index, a Bucketizer's bucket, a
VectorIndexer's categorical feature) a one-hot indicator over its values. A save does not
carry that metadata, so `resolve_attributes` follows the pipeline as Spark's schema does
(the stages that write nominal attributes, the assembler that concatenates them) and
gives each Interaction its inputs' encodings; an MLeap bundle carries them on the node.

The output index puts the first input's feature first (most significant), as Spark
multiplies from the last input to the first; values are multiplied in that order too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from inferpipe.transformers.sparkml import ops_categorical as cat
from inferpipe.transformers.sparkml import ops_numeric as num
from inferpipe.transformers.sparkml import ops_vector as vec
from inferpipe.transformers.sparkml.columns import VECTOR, Column, Frame, dense, vector_column
from inferpipe.transformers.sparkml.op import Op, Pipeline, WhenPresent, first_row

#: Per attribute of a column, its output size: 1 numeric, k > 1 nominal with k values.
Encoding = list[int]

#: Rows per block of the dense products (keeps a block's array small).
BLOCK_CELLS = 1 << 22


@dataclass
class Interaction(Op):
    #: Per input column its encoding; None where the pipeline does not say (a scalar is
    #: then numeric, as Spark takes an unannotated number; a vector is refused).
    encodings: list[Encoding | None] | None = None
    label = "Interaction"

    def encoding(self, j: int) -> Encoding | None:
        """Input j's encoding; None when the pipeline does not say (or was not resolved)."""
        return self.encodings[j] if self.encodings else None

    def _encode(self, j: int, column: Column) -> np.ndarray:
        """The column as a rows x size matrix of what it contributes (nulls refused)."""
        name = self.inputs[j]
        encoding = self.encoding(j)
        nulls = column.null_mask()
        if nulls.any():
            raise self.fail(
                f"record {first_row(nulls)}: column {name!r} is null; Spark's Interaction "
                "cannot interact nulls"
            )
        if column.kind == VECTOR:
            if encoding is None:
                raise self.fail(
                    f"column {name!r} is a vector whose attributes the pipeline does not "
                    "define (Spark: 'Vector attributes must be defined for interaction')"
                )
            values = np.asarray(dense(column.values), dtype=np.float64)
            if values.shape[1] != len(encoding):
                raise self.fail(
                    f"column {name!r} has vectors of size {values.shape[1]}; its attributes "
                    f"say {len(encoding)}"
                )
            # Spark visits a vector's active entries: all of a dense vector, the stored ones
            # of a sparse one, so category 0 counts only in a dense vector. Which form a
            # row has is the assembler's `compressed` rule (sparse when 1.5 (nnz + 1) < size).
            nonzero = np.count_nonzero(values, axis=1)
            stored_only = 1.5 * (nonzero + 1.0) < values.shape[1]
            return self._expand(name, values, encoding, stored_only)
        scalar = np.asarray(column.values, dtype=np.float64).reshape(-1, 1)
        return self._expand(name, scalar, encoding or [1], np.zeros(len(scalar), dtype=bool))

    def _expand(
        self, name: str, values: np.ndarray, encoding: Encoding, stored_only: np.ndarray
    ) -> np.ndarray:
        out = np.zeros((values.shape[0], sum(encoding)))
        offset = 0
        for k, size in enumerate(encoding):
            part = values[:, k]
            if size <= 1:
                out[:, offset] = part
            else:
                present = (part != 0) | ~stored_only
                whole = (part >= 0) & (part < size) & (part == np.floor(part))
                bad = present & ~whole
                if bad.any():
                    row = first_row(bad)
                    raise self.fail(
                        f"record {row}: column {name!r} holds {float(part[row - 1])!r} where Spark "
                        f"expects a category index below {size}"
                    )
                rows = np.flatnonzero(present)
                out[rows, offset + part[rows].astype(np.int64)] = 1.0
            offset += size
        return out

    def apply(self, frame: Frame) -> Frame:
        encoded = [self._encode(j, self.column(frame, j)) for j in range(len(self.inputs))]
        width = int(np.prod([e.shape[1] for e in encoded]))
        step = max(1, BLOCK_CELLS // max(width, 1))
        blocks = []
        for start in range(0, frame.length, step):
            product = encoded[-1][start : start + step]
            for part in reversed(encoded[:-1]):
                chunk = part[start : start + step]
                # Spark: value = (later features' product) * this feature's value.
                product = (product[:, None, :] * chunk[:, :, None]).reshape(len(chunk), -1)
            blocks.append(sparse.csr_matrix(product))
        matrix = sparse.vstack(blocks, format="csr") if blocks else sparse.csr_matrix((0, width))
        return frame.with_column(self.outputs[0], vector_column(matrix))


def _assembled(inputs: Sequence[str], known: dict[str, Encoding | None]) -> Encoding | None:
    encoding: Encoding = []
    for name in inputs:
        part = known.get(name, [1])  # an unannotated number is numeric
        if part is None:
            return None
        encoding += part
    return encoding


def _outputs(op: Op, known: dict[str, Encoding | None]) -> dict[str, Encoding | None]:
    """The encodings of what `op` writes, as Spark's schema metadata would say."""
    if isinstance(op, cat.StringIndexer):
        extra = 1 if op.handle_invalid == "keep" else 0
        return {out: [len(op.labels[j]) + extra] for j, out in enumerate(op.outputs)}
    if isinstance(op, num.Bucketizer):
        extra = 1 if op.handle_invalid == "keep" else 0
        return {out: [len(op.splits[j]) - 1 + extra] for j, out in enumerate(op.outputs)}
    if isinstance(op, num.Imputer):
        return {out: [1] for out in op.outputs}
    if isinstance(op, cat.OneHotEncoder):
        return {out: [1] * op._size(op.category_sizes[j]) for j, out in enumerate(op.outputs)}
    if isinstance(op, vec.VectorAssembler):
        return {op.outputs[0]: _assembled(op.inputs, known)}
    if isinstance(op, vec.VectorIndexer):
        return {
            op.outputs[0]: [
                len(op.category_maps[i]) if i in op.category_maps else 1
                for i in range(op.num_features)
            ]
        }
    if isinstance(op, vec.VectorSlicer):
        source = known.get(op.inputs[0])
        return {op.outputs[0]: None if source is None else [source[i] for i in op.indices]}
    if isinstance(op, Interaction):
        sizes = [op.encoding(j) or [1] for j in range(len(op.inputs))]
        return {op.outputs[0]: [1] * int(np.prod([sum(e) for e in sizes]))}
    if isinstance(op, WhenPresent) and op.inner is not None:
        return _outputs(op.inner, known)
    return dict.fromkeys(op.outputs)  # numbers stay numeric; vectors lose their attributes


def resolve_attributes(root: Op) -> None:
    """Give every Interaction under `root` its inputs' encodings, following the pipeline
    in order. Called at each pipeline level; the outermost call, made last, sees all."""
    stages = root.flat() if isinstance(root, Pipeline) else [root]
    known: dict[str, Encoding | None] = {}
    for op in stages:
        if isinstance(op, Interaction):
            op.encodings = [known.get(name) for name in op.inputs]
        known.update(_outputs(op, known))
