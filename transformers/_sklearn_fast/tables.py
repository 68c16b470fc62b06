"""The translator tables: scikit-learn class name -> how to compile it and probe it."""

from __future__ import annotations

from typing import Any

from inferpipe.transformers._sklearn_fast import encoders, estimators, preprocessing
from inferpipe.transformers._sklearn_fast.registry import Translator

TABLES = (preprocessing.TRANSLATORS, encoders.TRANSLATORS, estimators.TRANSLATORS)


def lookup(estimator: Any) -> Translator | None:
    """The translator for exactly this scikit-learn class (subclasses are not trusted)."""
    cls = type(estimator)
    if not cls.__module__.startswith("sklearn."):
        return None
    for table in TABLES:
        if cls.__name__ in table:
            return table[cls.__name__]
    return None


def translated_classes() -> list[str]:
    """Every class name the fast path translates, for docs and tests."""
    return sorted(name for table in TABLES for name in table)
