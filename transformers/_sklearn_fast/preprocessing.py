"""Translators for numeric transformers: scalers, Normalizer, SimpleImputer,
PolynomialFeatures and FunctionTransformer of a numpy ufunc.

Each kernel repeats scikit-learn's own arithmetic in the same order (subtract then
divide, in place, in the input's float type), so answers agree to the last bit in
practice and within 1e-12 always; `verify` checks that before a kernel is used.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations, combinations_with_replacement
from typing import Any

import numpy as np

from inferpipe.transformers._sklearn_fast.checks import (
    as_matrix,
    check_finite,
    check_width,
    matrix_reader,
)
from inferpipe.transformers._sklearn_fast.registry import (
    NotCompilable,
    Plan,
    Translator,
    random_probe,
    reader_params,
)

Kernel = Callable[[Any], Any]


def _only_transform(method: str) -> None:
    if method != "transform":
        raise NotCompilable(f"only transform() is compiled, not {method}()")


def _numeric(estimator: Any) -> Callable[[Any], np.ndarray]:
    """The input check of a numeric transformer: floats, width, NaN as its tags allow."""
    return matrix_reader(reader_params(estimator))


def _arrays(**values: Any) -> dict[str, np.ndarray]:
    """Fitted arrays in their own dtype (scikit-learn computes in it)."""
    return {k: np.asarray(v) for k, v in values.items() if v is not None}


def _plan_centre_then_scale(est: Any, centre: Any, scale: Any) -> Plan:
    """x - centre, then / scale, in place (StandardScaler and RobustScaler alike)."""
    return Plan("centre_then_scale", reader_params(est), _arrays(centre=centre, scale=scale))


def _build_centre_then_scale(plan: Plan) -> Kernel:
    read = matrix_reader(plan.params)
    centre, scale = plan.arrays.get("centre"), plan.arrays.get("scale")

    def run(data: Any) -> np.ndarray:
        matrix = read(data)
        if centre is not None:
            matrix -= centre
        if scale is not None:
            matrix /= scale
        return matrix

    return run


def _standard_scaler(est: Any, method: str) -> Plan:
    _only_transform(method)
    return _plan_centre_then_scale(
        est, est.mean_ if est.with_mean else None, est.scale_ if est.with_std else None
    )


def _robust_scaler(est: Any, method: str) -> Plan:
    _only_transform(method)
    return _plan_centre_then_scale(
        est,
        est.center_ if est.with_centering else None,
        est.scale_ if est.with_scaling else None,
    )


def _min_max_scaler(est: Any, method: str) -> Plan:
    _only_transform(method)
    low, high = est.feature_range
    params = {**reader_params(est), "low": float(low), "high": float(high), "clip": bool(est.clip)}
    return Plan("min_max", params, _arrays(scale=est.scale_, min=est.min_))


def _build_min_max(plan: Plan) -> Kernel:
    read = matrix_reader(plan.params)
    scale, low_end = plan.arrays["scale"], plan.arrays["min"]
    low, high, clip = plan.params["low"], plan.params["high"], plan.params["clip"]

    def run(data: Any) -> np.ndarray:
        matrix = read(data)
        matrix *= scale
        matrix += low_end
        if clip:
            np.clip(matrix, low, high, out=matrix)
        return matrix

    return run


def _max_abs_scaler(est: Any, method: str) -> Plan:
    _only_transform(method)
    return _plan_centre_then_scale(est, None, est.scale_)


def _row_norms(matrix: np.ndarray, norm: str) -> np.ndarray:
    if norm == "l1":
        norms = np.sum(np.abs(matrix), axis=1)
    elif norm == "l2":
        norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))
    else:
        norms = np.max(np.abs(matrix), axis=1)
    # As scikit-learn's _handle_zeros_in_scale: (near-)zero norms leave the row alone.
    norms[norms < 10 * np.finfo(norms.dtype).eps] = 1.0
    return norms


def _normalizer(est: Any, method: str) -> Plan:
    _only_transform(method)
    return Plan("normalize", {**reader_params(est), "norm": str(est.norm)})


def _build_normalize(plan: Plan) -> Kernel:
    read = matrix_reader(plan.params)
    norm = plan.params["norm"]

    def run(data: Any) -> np.ndarray:
        matrix = read(data)
        if matrix.shape[1] == 0:
            return matrix
        matrix /= _row_norms(matrix, norm)[:, None]
        return matrix

    return run


def _simple_imputer(est: Any, method: str) -> Plan:
    _only_transform(method)
    missing = est.missing_values
    if not (isinstance(missing, float) and np.isnan(missing)):
        raise NotCompilable(f"missing_values={missing!r} (only NaN is compiled)")
    try:
        statistics = np.asarray(est.statistics_, dtype=np.float64)
    except (TypeError, ValueError):
        raise NotCompilable("statistics are not numbers") from None
    keep = np.arange(len(statistics))
    if not est.keep_empty_features:  # columns empty at fit are dropped, as in scikit-learn
        keep = np.flatnonzero(~np.isnan(statistics))
    # NaN passes the reader's check: filling it is this step's job.
    params = {**reader_params(est), "nan_ok": True}
    arrays = {"keep": keep, "fill": statistics[keep]}
    if est.add_indicator:
        arrays["indicate"] = _indicated_columns(est.indicator_)
    return Plan("impute", params, arrays)


def _indicated_columns(indicator: Any) -> np.ndarray:
    """The columns whose missing-value flags add_indicator appends, in their order."""
    if indicator.sparse is True or indicator.features != "missing-only":
        raise NotCompilable("a missing indicator other than SimpleImputer's own")
    return np.asarray(indicator.features_, dtype=np.int64)


def _build_impute(plan: Plan) -> Kernel:
    read = matrix_reader(plan.params)
    keep, fill = plan.arrays["keep"], plan.arrays["fill"]
    indicate = plan.arrays.get("indicate")

    def run(data: Any) -> np.ndarray:
        matrix = read(data)
        # The flags are of the input, before columns empty at fit are dropped.
        flags = None if indicate is None else np.isnan(matrix[:, indicate])
        if len(keep) != matrix.shape[1]:
            matrix = matrix[:, keep]
        holes = np.isnan(matrix)
        if holes.any():
            matrix = np.where(holes, fill.astype(matrix.dtype), matrix)
        return matrix if flags is None else np.hstack((matrix, flags))

    return run


def _terms(est: Any) -> list[tuple[int, ...]]:
    """The output columns of PolynomialFeatures as feature-index tuples, in its order."""
    width = est.n_features_in_
    pick = combinations if est.interaction_only else combinations_with_replacement
    terms: list[tuple[int, ...]] = [()] if est.include_bias else []
    for degree in range(max(1, est._min_degree), est._max_degree + 1):
        terms += list(pick(range(width), degree))
    return terms


def _polynomial_features(est: Any, method: str) -> Plan:
    _only_transform(method)
    try:
        terms = _terms(est)
    except AttributeError as exc:
        raise NotCompilable(f"unknown PolynomialFeatures layout: {exc}") from None
    powers = np.asarray(est.powers_)
    check = (
        np.array([np.bincount(t, minlength=powers.shape[1]) for t in terms]) if terms else powers
    )
    if check.shape != powers.shape or (check != powers).any():
        raise NotCompilable("term order differs from powers_")
    return Plan("polynomial", {**reader_params(est), "terms": [list(t) for t in terms]})


def _build_polynomial(plan: Plan) -> Kernel:
    read = matrix_reader(plan.params)
    terms = [tuple(t) for t in plan.params["terms"]]

    def run(data: Any) -> np.ndarray:
        matrix = read(data)
        columns: dict[tuple[int, ...], np.ndarray] = {}

        def term_values(term: tuple[int, ...]) -> np.ndarray:
            if term not in columns:
                if not term:
                    columns[term] = np.ones(matrix.shape[0], dtype=matrix.dtype)
                elif len(term) == 1:
                    columns[term] = matrix[:, term[0]]
                else:
                    # scikit-learn builds x_a*x_b*x_c as (x_b*x_c)*x_a: same factors, order.
                    columns[term] = term_values(term[1:]) * matrix[:, term[0]]
            return columns[term]

        out = np.empty((matrix.shape[0], len(terms)), dtype=matrix.dtype)
        for index, term in enumerate(terms):
            out[:, index] = term_values(term)
        return out

    return run


def _function_transformer(est: Any, method: str) -> Plan:
    _only_transform(method)
    func = est.func
    if func is not None and (
        not isinstance(func, np.ufunc)
        or func.nin != 1
        or est.kw_args
        or getattr(np, func.__name__, None) is not func
    ):
        raise NotCompilable("only a one-argument numpy ufunc without kw_args is compiled")
    params = {
        "ufunc": None if func is None else func.__name__,  # the identity: fitted "passthrough"
        "validate": bool(est.validate),
        "width": getattr(est, "n_features_in_", None),
    }
    return Plan("function", params)


def _build_function(plan: Plan) -> Kernel:
    name, validate, width = plan.params["ufunc"], plan.params["validate"], plan.params["width"]
    func = (lambda matrix: matrix) if name is None else getattr(np, name)
    if not isinstance(func, np.ufunc) and name is not None:
        raise ValueError(f"{name!r} is not a numpy ufunc")

    def run(data: Any) -> Any:
        if validate:
            matrix = as_matrix(data)
            check_width(matrix, width, "FunctionTransformer")
            if matrix.dtype.kind == "O":
                matrix = matrix.astype(np.float64)
            check_finite(matrix, allow_nan=False)
            return func(matrix)
        return func(data)  # a frame stays a frame, as in scikit-learn

    return run


def _probe(est: Any) -> np.ndarray:
    return random_probe(est.n_features_in_)


def _scaled_probe(est: Any) -> np.ndarray:
    """Rows around the fitted centre and spread, so clipping and zero norms are hit."""
    probe = random_probe(est.n_features_in_)
    centre = getattr(est, "mean_", None)
    if centre is None:
        centre = getattr(est, "center_", None)
    spread = getattr(est, "scale_", None)
    if centre is not None:
        probe = probe * (1.0 if spread is None else np.abs(spread)) + centre
    return probe


def _imputer_probe(est: Any) -> np.ndarray:
    probe = random_probe(est.n_features_in_)
    probe[1::3, :] = np.nan
    return probe


TRANSLATORS = {
    "StandardScaler": Translator(_scaled_probe, plan=_standard_scaler),
    "MinMaxScaler": Translator(_probe, plan=_min_max_scaler),
    "MaxAbsScaler": Translator(_probe, plan=_max_abs_scaler),
    "RobustScaler": Translator(_scaled_probe, plan=_robust_scaler),
    "Normalizer": Translator(_probe, plan=_normalizer),
    "SimpleImputer": Translator(_imputer_probe, plan=_simple_imputer),
    "PolynomialFeatures": Translator(_probe, plan=_polynomial_features),
    "FunctionTransformer": Translator(_probe, plan=_function_transformer),
}
BUILDERS = {
    "centre_then_scale": _build_centre_then_scale,
    "min_max": _build_min_max,
    "normalize": _build_normalize,
    "impute": _build_impute,
    "polynomial": _build_polynomial,
    "function": _build_function,
}
