"""Translators for final estimators: linear models, logistic regression, decision
trees and tree ensembles (RandomForest, ExtraTrees, GradientBoosting, HistGradientBoosting).

Trees become one stacked node array walked for all rows and trees at once
(`_kernels.trees`); tree outputs are added in scikit-learn's order, and link functions
and probability maps are scikit-learn's own loss objects, so the numbers are its numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from inferpipe.transformers._kernels.trees import Forest, TreeNodes, sequential_sum, stack_trees
from inferpipe.transformers._sklearn_fast.checks import float_matrix
from inferpipe.transformers._sklearn_fast.registry import (
    NotCompilable,
    Translator,
    allows_nan,
    random_probe,
)

Kernel = Callable[[Any], Any]


def _reader(est: Any, dtype: Any = None, finite: bool = True) -> Callable[[Any], np.ndarray]:
    name = type(est).__name__
    width = getattr(est, "n_features_in_", None)
    nan_ok = allows_nan(est) if finite else None
    return lambda data: float_matrix(data, name, width, nan_ok, dtype)


def _methods(est: Any, method: str, table: dict[str, Kernel]) -> Kernel:
    if method not in table:
        raise NotCompilable(f"{method}() is not compiled for {type(est).__name__}")
    return table[method]


# -- linear models ---------------------------------------------------------------------


def _linear_regressor(est: Any, method: str) -> Kernel:
    read = _reader(est)
    coef = np.asarray(est.coef_)
    weights = coef if coef.ndim == 1 else coef.T
    intercept = est.intercept_

    def predict(data: Any) -> np.ndarray:
        return read(data) @ weights + intercept

    return _methods(est, method, {"predict": predict})


def _linear_classifier(est: Any, method: str) -> Kernel:
    from scipy.special import expit
    from sklearn.utils.extmath import softmax

    read = _reader(est)
    coef = np.asarray(est.coef_)
    weights = coef.T if coef.ndim == 2 else coef
    intercept = est.intercept_
    classes = est.classes_

    def decision_function(data: Any) -> np.ndarray:
        scores = read(data) @ weights + intercept
        return scores.reshape(-1) if scores.ndim > 1 and scores.shape[1] == 1 else scores

    def predict(data: Any) -> np.ndarray:
        scores = decision_function(data)
        indices = (scores > 0).astype(np.intp) if scores.ndim == 1 else scores.argmax(axis=1)
        return classes.take(indices, axis=0)

    def predict_proba(data: Any) -> np.ndarray:
        scores = decision_function(data)
        if len(classes) <= 2:
            probability = expit(scores)
            return np.vstack([1 - probability, probability]).T
        return softmax(scores, copy=False)

    table = {"decision_function": decision_function, "predict": predict}
    if type(est).__name__ in {"LogisticRegression", "LogisticRegressionCV"}:
        table["predict_proba"] = predict_proba
    return _methods(est, method, table)


# -- trees -----------------------------------------------------------------------------


def _sk_nodes(tree: Any, nan_aware: bool = True) -> TreeNodes:
    nodes = tree.__getstate__()["nodes"]
    fields = nodes.dtype.names or ()
    nan_left = (
        nodes["missing_go_to_left"].astype(bool)
        if nan_aware and "missing_go_to_left" in fields
        else np.zeros(tree.node_count, dtype=bool)
    )
    return TreeNodes(
        tree.feature, tree.threshold, tree.children_left, tree.children_right, nan_left
    )


def _single_output(est: Any) -> None:
    if getattr(est, "n_outputs_", 1) != 1:
        raise NotCompilable("multi-output trees")


def _tree_values(trees: list[Any], width: int | None = None) -> np.ndarray:
    """Every node's value rows, stacked in the Forest's node order."""
    rows = [t.value[:, 0, :] if width is None else t.value[:, 0, :width] for t in trees]
    return np.concatenate(rows, axis=0)


def _normalised(values: np.ndarray) -> np.ndarray:
    """Leaf class weights as probabilities, as DecisionTreeClassifier.predict_proba does."""
    normaliser = values.sum(axis=1)[:, np.newaxis]
    normaliser[normaliser == 0.0] = 1.0
    return values / normaliser


def _leaves(forest: Forest, read: Callable[[Any], np.ndarray]) -> Callable[[Any], np.ndarray]:
    def leaves(data: Any) -> np.ndarray:
        return forest.leaves(read(data))

    return leaves


def _decision_tree(est: Any, method: str) -> Kernel:
    _single_output(est)
    forest = stack_trees([_sk_nodes(est.tree_)])
    leaves = _leaves(forest, _reader(est, np.float32))
    if not hasattr(est, "classes_"):
        values = _tree_values([est.tree_])[:, 0]
        return _methods(est, method, {"predict": lambda d: values.take(leaves(d)[:, 0])})
    raw = _tree_values([est.tree_], est.n_classes_)
    probability = _normalised(raw)
    classes = est.classes_
    return _methods(
        est,
        method,
        {
            "predict": lambda d: classes.take(raw.take(leaves(d)[:, 0], axis=0).argmax(axis=1)),
            "predict_proba": lambda d: probability.take(leaves(d)[:, 0], axis=0),
        },
    )


def _forest(est: Any, method: str) -> Kernel:
    _single_output(est)
    trees = [member.tree_ for member in est.estimators_]
    forest = stack_trees([_sk_nodes(t) for t in trees])
    leaves = _leaves(forest, _reader(est, np.float32))
    count = len(trees)
    if not hasattr(est, "classes_"):
        values = _tree_values(trees)[:, 0]

        def predict(data: Any) -> np.ndarray:
            hits = values.take(leaves(data))
            return sequential_sum(np.zeros(1), hits) / count

        return _methods(est, method, {"predict": predict})
    probability = _normalised(_tree_values(trees, est.n_classes_))
    classes = est.classes_

    def predict_proba(data: Any) -> np.ndarray:
        hits = probability.take(leaves(data), axis=0)  # rows x trees x classes
        return np.cumsum(hits, axis=1)[:, -1, :] / count

    return _methods(
        est,
        method,
        {
            "predict_proba": predict_proba,
            "predict": lambda d: classes.take(predict_proba(d).argmax(axis=1), axis=0),
        },
    )


def _boosted_sum(initial: np.ndarray, hits: np.ndarray, per_stage: int) -> np.ndarray:
    """rows x K raw scores: each class's trees added stage by stage after `initial`."""
    hits = hits.reshape(hits.shape[0], -1, per_stage)
    return np.column_stack(
        [sequential_sum(initial[:, k : k + 1], hits[:, :, k]) for k in range(per_stage)]
    )


def _sklearn_predict_stages() -> Callable[..., None] | None:
    """scikit-learn's compiled stage sum for GradientBoosting, when this version has it
    where 1.9 keeps it (the kernel is verified on both paths before it serves)."""
    try:
        from sklearn.ensemble._gradient_boosting import predict_stages
    except ImportError:
        return None
    return predict_stages  # type: ignore[no-any-return]


def _gradient_boosting(est: Any, method: str) -> Kernel:
    init = est.init_
    if not (isinstance(init, str) and init == "zero") and type(init).__name__ not in {
        "DummyRegressor",
        "DummyClassifier",
    }:
        raise NotCompilable(f"init={type(init).__name__} is not a constant")
    stages = est.estimators_
    per_stage = stages.shape[1]
    trees = [stages[i, k].tree_ for i in range(stages.shape[0]) for k in range(per_stage)]
    # predict_stages compares x <= threshold only: a NaN goes right whatever the node says.
    forest = stack_trees([_sk_nodes(t, nan_aware=False) for t in trees])
    scaled = est.learning_rate * _tree_values(trees)[:, 0]
    initial = np.asarray(est._raw_predict_init(np.zeros((1, est.n_features_in_))), dtype=np.float64)
    read = _reader(est, np.float32)
    compiled_stages = _sklearn_predict_stages()

    def raw(data: Any) -> np.ndarray:
        matrix = read(data)
        if compiled_stages is not None and len(matrix) > NATIVE_ABOVE_ROWS:
            # scikit-learn's own compiled loop, without the validation `predict` repeats
            # (done by `read`, as scikit-learn words it).
            out = np.repeat(initial, len(matrix), axis=0)
            compiled_stages(stages, matrix, est.learning_rate, out)
            return out
        hits = scaled.take(forest.leaves(matrix))
        return _boosted_sum(initial, hits, per_stage)

    if not hasattr(est, "classes_"):
        return _methods(est, method, {"predict": lambda d: raw(d).ravel()})
    classes, loss = est.classes_, est._loss

    def decision_function(data: Any) -> np.ndarray:
        scores = raw(data)
        return scores.ravel() if scores.shape[1] == 1 else scores

    # Unlike HistGradientBoosting below, a margin of exactly 0 is the positive class here,
    # and the loss maps the squeezed scores: both as scikit-learn's two classes do.
    def predict(data: Any) -> np.ndarray:
        scores = decision_function(data)
        encoded = (scores >= 0).astype(int) if scores.ndim == 1 else np.argmax(scores, axis=1)
        return classes[encoded]

    return _methods(
        est,
        method,
        {
            "decision_function": decision_function,
            "predict": predict,
            "predict_proba": lambda d: loss.predict_proba(decision_function(d)),
        },
    )


def _hgb_nodes(predictor: Any) -> TreeNodes:
    nodes = predictor.nodes
    if nodes["is_categorical"].any():
        raise NotCompilable("categorical splits")
    leaf = nodes["is_leaf"].astype(bool)
    return TreeNodes(
        nodes["feature_idx"].astype(np.int64),
        nodes["num_threshold"].astype(np.float64),
        np.where(leaf, -1, nodes["left"].astype(np.int64)),
        np.where(leaf, -1, nodes["right"].astype(np.int64)),
        nodes["missing_go_to_left"].astype(bool),
    )


def _hist_gradient_boosting(est: Any, method: str) -> Kernel:
    if getattr(est, "_preprocessor", None) is not None:
        raise NotCompilable("categorical features")
    predictors = est._predictors
    per_stage = est.n_trees_per_iteration_
    flat = [p for stage in predictors for p in stage]
    forest = stack_trees([_hgb_nodes(p) for p in flat])
    values = np.concatenate([p.nodes["value"].astype(np.float64) for p in flat])
    initial = np.asarray(est._baseline_prediction, dtype=np.float64).reshape(1, per_stage)
    leaves = _leaves(forest, _reader(est, np.float64, finite=False))
    loss = est._loss

    def raw(data: Any) -> np.ndarray:
        return _boosted_sum(initial, values.take(leaves(data)), per_stage)

    if not hasattr(est, "classes_"):
        return _methods(est, method, {"predict": lambda d: loss.link.inverse(raw(d).ravel())})
    classes = est.classes_

    def decision_function(data: Any) -> np.ndarray:
        scores = raw(data)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(data: Any) -> np.ndarray:
        scores = raw(data)
        encoded = (scores.ravel() > 0).astype(int) if scores.shape[1] == 1 else scores.argmax(1)
        return classes[encoded]

    return _methods(
        est,
        method,
        {
            "decision_function": decision_function,
            "predict": predict,
            "predict_proba": lambda d: loss.predict_proba(raw(d)),
        },
    )


# -- probes ----------------------------------------------------------------------------


def _linear_probe(est: Any) -> np.ndarray:
    return random_probe(est.n_features_in_)


def _split_points(est: Any) -> list[np.ndarray]:
    """Per feature, every threshold the model splits on."""
    width = est.n_features_in_
    found: list[list[float]] = [[] for _ in range(width)]
    if hasattr(est, "_predictors"):
        pairs = [
            (
                p.nodes["feature_idx"][~p.nodes["is_leaf"].astype(bool)],
                p.nodes["num_threshold"][~p.nodes["is_leaf"].astype(bool)],
            )
            for stage in est._predictors
            for p in stage
        ]
    else:
        members = getattr(est, "estimators_", [est])
        trees = [m.tree_ for m in np.ravel(members)]
        pairs = [
            (t.feature[t.children_left >= 0], t.threshold[t.children_left >= 0]) for t in trees
        ]
    for features, thresholds in pairs:
        for f, t in zip(features.tolist(), thresholds.tolist(), strict=True):
            found[f].append(t)
    return [np.unique(np.asarray(v, dtype=np.float64)) for v in found]


def _tree_probe(est: Any) -> np.ndarray:
    """Rows whose values sit on, just below and just above the model's thresholds."""
    generator = np.random.default_rng(20261203)
    columns = []
    for points in _split_points(est):
        if len(points) == 0:
            points = np.zeros(1)
        near = np.concatenate(
            [
                points,
                np.nextafter(points, -np.inf),
                np.nextafter(points, np.inf),
                points + 1,
                points - 1,
            ]
        )
        columns.append(generator.choice(near, size=256))
    return np.column_stack(columns)


_LINEAR_REGRESSORS = [
    "LinearRegression",
    "Ridge",
    "RidgeCV",
    "Lasso",
    "LassoCV",
    "ElasticNet",
    "ElasticNetCV",
    "Lars",
    "LarsCV",
    "LassoLars",
    "LassoLarsCV",
    "LassoLarsIC",
    "OrthogonalMatchingPursuit",
    "BayesianRidge",
    "ARDRegression",
    "HuberRegressor",
    "SGDRegressor",
    "LinearSVR",
    "QuantileRegressor",
    "TheilSenRegressor",
    "PassiveAggressiveRegressor",
]
_LINEAR_CLASSIFIERS = [
    "LogisticRegression",
    "LogisticRegressionCV",
    "RidgeClassifier",
    "RidgeClassifierCV",
    "SGDClassifier",
    "LinearSVC",
    "Perceptron",
    "PassiveAggressiveClassifier",
]


#: scikit-learn's own tree walk is compiled code: faster than numpy's level-by-level
#: gathers on big batches (3.5x at 1,000 rows here), slower on small ones (0.2x at 10).
NATIVE_ABOVE_ROWS = 64


def _trees(translate: Callable[[Any, str], Kernel], native: bool = True) -> Translator:
    return Translator(translate, _tree_probe, NATIVE_ABOVE_ROWS if native else None)


TRANSLATORS = {
    **{name: Translator(_linear_regressor, _linear_probe) for name in _LINEAR_REGRESSORS},
    **{name: Translator(_linear_classifier, _linear_probe) for name in _LINEAR_CLASSIFIERS},
    "DecisionTreeRegressor": _trees(_decision_tree),
    "DecisionTreeClassifier": _trees(_decision_tree),
    "ExtraTreeRegressor": _trees(_decision_tree),
    "ExtraTreeClassifier": _trees(_decision_tree),
    "RandomForestRegressor": _trees(_forest),
    "RandomForestClassifier": _trees(_forest),
    "ExtraTreesRegressor": _trees(_forest),
    "ExtraTreesClassifier": _trees(_forest),
    # Big batches take scikit-learn's stage loop inside the kernel (see _gradient_boosting).
    "GradientBoostingRegressor": _trees(_gradient_boosting, native=False),
    "GradientBoostingClassifier": _trees(_gradient_boosting, native=False),
    "HistGradientBoostingRegressor": _trees(_hist_gradient_boosting),
    "HistGradientBoostingClassifier": _trees(_hist_gradient_boosting),
}
