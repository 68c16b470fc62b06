"""The sklearn stage's compiled fast path: fitted scikit-learn objects as numpy kernels.

`compile_model(model, method)` walks a Pipeline / ColumnTransformer tree and replaces
each step it knows by a kernel built from the fitted attributes; each kernel is checked
against scikit-learn on probe rows built from that step's own fitted state before it is
used. A step that is not known, or whose check differs, keeps running in scikit-learn,
so the answer never depends on whether a step compiled. `report` says which did.
"""

from __future__ import annotations

from inferpipe.transformers._sklearn_fast.program import CompiledModel, StepReport, compile_model

__all__ = ["CompiledModel", "StepReport", "compile_model"]
