"""Check a compiled step against scikit-learn before it serves a single request.

The step runs on probe rows built from its fitted state, once as compiled and once
through scikit-learn: values must agree within 1e-12 (relative, with a 1e-12 floor),
shapes and kinds of dtype exactly; with a NaN and an infinity planted, both must
refuse or both answer the same. The probe's first rows are checked on their own too.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from inferpipe.transformers._sklearn_fast.registry import NotCompilable

TOLERANCE = 1e-12
#: Rows of the small-batch case (the probe itself is the big one).
SMALL_BATCH_ROWS = 8


def _dense(result: Any) -> np.ndarray:
    if hasattr(result, "toarray"):
        result = result.toarray()
    return np.asarray(result)


def _outcome(call: Callable[[Any], Any], probe: np.ndarray) -> np.ndarray | str:
    """The answer, or the name of the error class for a refused input."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _dense(call(probe.copy()))
    except (ValueError, TypeError) as exc:
        return type(exc).__name__
    except Exception as exc:  # a kernel bug must not stop the start: it just won't be used
        raise NotCompilable(f"{type(exc).__name__}: {exc}") from exc


def same_values(expected: np.ndarray, got: np.ndarray) -> str | None:
    """None when the arrays agree, else what differs."""
    if expected.shape != got.shape:
        return f"shape {got.shape} instead of {expected.shape}"
    if expected.dtype.kind != got.dtype.kind or (
        expected.dtype.kind == "f" and expected.dtype != got.dtype
    ):
        return f"dtype {got.dtype} instead of {expected.dtype}"
    if expected.dtype.kind in "fc":
        if not np.allclose(got, expected, rtol=TOLERANCE, atol=TOLERANCE, equal_nan=True):
            worst = np.nanmax(np.abs(got - expected))
            return f"values differ by up to {worst:.3g}"
        return None
    if expected.tolist() != got.tolist():
        return "values differ"
    return None


def _verb(outcome: np.ndarray | str) -> str:
    return "refuses" if isinstance(outcome, str) else "answers"


def _planted(probe: np.ndarray, value: float) -> np.ndarray | None:
    if probe.dtype.kind != "f" or probe.size == 0:
        return None
    planted = probe.copy()
    planted[0, 0] = value
    return planted


def verify(estimator: Any, method: str, kernel: Callable[[Any], Any], probe: np.ndarray) -> None:
    """Raise NotCompilable unless `kernel` answers as `estimator.<method>` on the probes."""
    reference = getattr(estimator, method)
    saved_jobs = getattr(estimator, "n_jobs", None)
    if saved_jobs not in (None, 1):
        estimator.n_jobs = 1  # no thread pools in the master process before fork
    try:
        # Kernels may take another path for big batches than for small ones, and columns
        # taken from a frame arrive in Fortran order: all count.
        cases = [
            ("probe rows", probe),
            ("a few probe rows", probe[:SMALL_BATCH_ROWS]),
            ("probe rows in Fortran order", np.asfortranarray(probe)),
        ]
        cases += [
            (label, planted)
            for label, value in (("a NaN", np.nan), ("an infinity", np.inf))
            if (planted := _planted(probe, value)) is not None
        ]
        for label, rows in cases:
            expected, got = _outcome(reference, rows), _outcome(kernel, rows)
            if isinstance(expected, str) or isinstance(got, str):
                if isinstance(expected, str) != isinstance(got, str):
                    raise NotCompilable(
                        f"on {label}, scikit-learn {_verb(expected)} but the kernel {_verb(got)}"
                    )
                continue
            difference = same_values(expected, got)
            if difference:
                raise NotCompilable(f"on {label}: {difference}")
    finally:
        if saved_jobs not in (None, 1):
            estimator.n_jobs = saved_jobs
