"""What every translator module shares: the Translator record, NotCompilable and helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


class NotCompilable(Exception):
    """This fitted object (or this configuration of it) runs in scikit-learn instead."""


@dataclass(frozen=True)
class Translator:
    #: (fitted estimator, method name) -> kernel; raises NotCompilable.
    translate: Callable[[Any, str], Callable[[Any], Any]]
    #: fitted estimator -> input rows that exercise its fitted state.
    probe: Callable[[Any], np.ndarray]
    #: Batches larger than this go to scikit-learn's own method (faster there).
    native_above_rows: int | None = None


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
