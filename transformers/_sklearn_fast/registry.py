"""What every translator module shares: the Translator record, NotCompilable and helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class NotCompilable(Exception):
    """This fitted object (or this configuration of it) runs in scikit-learn instead."""


Kernel = Callable[[Any], Any]


@dataclass(frozen=True)
class Plan:
    """A compiled step as data: what `BUILDERS[op]` needs to rebuild its kernel with
    numpy alone (JSON `params`, numpy `arrays`, the `children` of a composition), so that
    a verified program can be stored beside the artifact and served without it."""

    op: str
    params: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    children: tuple[Plan, ...] = ()


@dataclass(frozen=True)
class Translator:
    #: fitted estimator -> input rows that exercise its fitted state.
    probe: Callable[[Any], np.ndarray]
    #: (fitted estimator, method name) -> the step as a Plan; raises NotCompilable.
    plan: Callable[[Any, str], Plan]
    #: Batches larger than this go to scikit-learn's own method (faster there).
    native_above_rows: int | None = None
    #: (estimator, plan, kernel) -> the kernel to serve with while scikit-learn is loaded
    #: (its own compiled loops for big batches); the stored plan serves without them.
    with_sklearn: Callable[[Any, Plan, Kernel], Kernel] | None = None


def reader_params(estimator: Any, dtype: str | None = None, finite: bool = True) -> dict[str, Any]:
    """The input check of a numeric step, as Plan params (see `read_matrix`)."""
    return {
        "name": type(estimator).__name__,
        "width": getattr(estimator, "n_features_in_", None),
        "nan_ok": allows_nan(estimator) if finite else None,
        "dtype": dtype,
    }


def allows_nan(estimator: Any) -> bool:
    """What scikit-learn's tags say about NaN in this estimator's input."""
    from sklearn.utils import get_tags

    return bool(get_tags(estimator).input_tags.allow_nan)


def random_probe(width: int, rows: int = 64, scale: float = 3.0) -> np.ndarray:
    """Reproducible float rows around zero (plus a row of zeros), for steps with no
    fitted values to aim at."""
    generator = np.random.default_rng(20261203)
    probe = generator.normal(size=(rows, width)) * scale
    probe[0] = 0.0
    return probe
