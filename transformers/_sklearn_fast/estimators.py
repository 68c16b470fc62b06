"""Translators for final estimators: linear models, logistic regression, decision
trees and tree ensembles (RandomForest, ExtraTrees, GradientBoosting, HistGradientBoosting).

Trees become one stacked node array walked for all rows and trees at once
(`_kernels.trees`); tree outputs are added in scikit-learn's order, and link functions
and probability maps repeat scikit-learn's arithmetic in numpy (the stored form serves
without scikit-learn); `verify` holds them to its numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from inferpipe.transformers._kernels.trees import (
    CATEGORY_CODES,
    Forest,
    TreeNodes,
    sequential_sum,
    stack_trees,
)
from inferpipe.transformers._sklearn_fast.checks import matrix_reader
from inferpipe.transformers._sklearn_fast.registry import (
    NotCompilable,
    Plan,
    Translator,
    random_probe,
    reader_params,
)

Kernel = Callable[[Any], Any]


def _methods(name: str, method: str, table: dict[str, Kernel]) -> Kernel:
    if method not in table:
        raise NotCompilable(f"{method}() is not compiled for {name}")
    return table[method]


def _planned(est: Any, method: str, op: str, methods: tuple[str, ...], **parts: Any) -> Plan:
    """A Plan for `op`, refusing a method its builder does not answer."""
    if method not in methods:
        raise NotCompilable(f"{method}() is not compiled for {type(est).__name__}")
    params = {"method": method, "class": type(est).__name__, **parts.pop("params", {})}
    return Plan(op, params, {k: np.asarray(v) for k, v in parts.items() if v is not None})


def expit(values: np.ndarray) -> np.ndarray:
    """The logistic function, as scipy's expit computes it: 1 / (1 + exp(-x))."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-values))


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax as scikit-learn computes it: subtract the row max, exp, divide."""
    scores = scores - scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=1, keepdims=True)
    return scores


def _two_class_proba(positive: np.ndarray) -> np.ndarray:
    return np.vstack([1 - positive, positive]).T


# -- linear models ---------------------------------------------------------------------


def _linear_regressor(est: Any, method: str, link: str = "identity") -> Plan:
    coef = np.asarray(est.coef_)
    return _planned(
        est,
        method,
        "linear_regressor",
        ("predict",),
        params={"read": reader_params(est), "link": link},
        weights=coef if coef.ndim == 1 else coef.T,
        intercept=est.intercept_,
    )


#: A generalised linear model's link by scikit-learn's class name -> its inverse here.
_GLM_LINKS = {"IdentityLink": "identity", "LogLink": "exp"}


def _glm_regressor(est: Any, method: str) -> Plan:
    """Poisson, Gamma and Tweedie regression: the linear predictor through the inverse
    link (exp for the log link), as scikit-learn's predict computes it."""
    name = type(est._base_loss.link).__name__
    if name not in _GLM_LINKS:
        raise NotCompilable(f"the {name} link")
    return _linear_regressor(est, method, _GLM_LINKS[name])


def _build_linear_regressor(plan: Plan) -> Kernel:
    read = matrix_reader(plan.params["read"])
    weights, intercept = plan.arrays["weights"], plan.arrays["intercept"]
    if plan.params.get("link", "identity") == "exp":
        return lambda data: np.exp(read(data) @ weights + intercept)
    return lambda data: read(data) @ weights + intercept


def _linear_classifier(est: Any, method: str) -> Plan:
    coef = np.asarray(est.coef_)
    probability = type(est).__name__ in {"LogisticRegression", "LogisticRegressionCV"}
    methods = ("decision_function", "predict") + (("predict_proba",) if probability else ())
    return _planned(
        est,
        method,
        "linear_classifier",
        methods,
        params={"read": reader_params(est)},
        weights=coef.T if coef.ndim == 2 else coef,
        intercept=est.intercept_,
        classes=est.classes_,
    )


def _build_linear_classifier(plan: Plan) -> Kernel:
    read = matrix_reader(plan.params["read"])
    weights, intercept = plan.arrays["weights"], plan.arrays["intercept"]
    classes = plan.arrays["classes"]

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
            return _two_class_proba(expit(scores))
        return softmax(scores)

    table = {
        "decision_function": decision_function,
        "predict": predict,
        "predict_proba": predict_proba,
    }
    return _methods(plan.params["class"], plan.params["method"], table)


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


def _forest_arrays(forest: Forest) -> dict[str, np.ndarray]:
    arrays = {
        "feature": forest.feature,
        "threshold": forest.threshold,
        "left": forest.left,
        "right": forest.right,
        "nan_left": forest.nan_left,
        "roots": forest.roots,
    }
    if forest.category_row is not None and forest.category_table is not None:
        arrays["category_row"] = forest.category_row
        arrays["category_table"] = forest.category_table
    return arrays


def _forest_of(plan: Plan) -> Forest:
    a = plan.arrays
    return Forest(
        a["feature"],
        a["threshold"],
        a["left"],
        a["right"],
        a["nan_left"],
        a["roots"],
        int(plan.params["depth"]),
        a.get("category_row"),
        a.get("category_table"),
    )


def _tree_plan(
    est: Any,
    method: str,
    op: str,
    methods: tuple[str, ...],
    forest: Forest,
    dtype: str = "float32",
    finite: bool = True,
    params: dict[str, Any] | None = None,
    **arrays: Any,
) -> Plan:
    return _planned(
        est,
        method,
        op,
        methods,
        params={"read": reader_params(est, dtype, finite), "depth": forest.depth, **(params or {})},
        **_forest_arrays(forest),
        **arrays,
    )


def _leaves_of(plan: Plan) -> Callable[[Any], np.ndarray]:
    forest, read = _forest_of(plan), matrix_reader(plan.params["read"])
    return lambda data: forest.leaves(read(data))


_CLASSIFIER_METHODS = ("predict", "predict_proba")


def _decision_tree(est: Any, method: str) -> Plan:
    _single_output(est)
    forest = stack_trees([_sk_nodes(est.tree_)])
    if not hasattr(est, "classes_"):
        values = _tree_values([est.tree_])[:, 0]
        return _tree_plan(est, method, "tree_regressor", ("predict",), forest, values=values)
    raw = _tree_values([est.tree_], est.n_classes_)
    return _tree_plan(
        est,
        method,
        "tree_classifier",
        _CLASSIFIER_METHODS,
        forest,
        raw=raw,
        probability=_normalised(raw),
        classes=est.classes_,
    )


def _build_tree_regressor(plan: Plan) -> Kernel:
    leaves, values = _leaves_of(plan), plan.arrays["values"]
    return lambda d: values.take(leaves(d)[:, 0])


def _build_tree_classifier(plan: Plan) -> Kernel:
    leaves = _leaves_of(plan)
    raw, probability, classes = (plan.arrays[k] for k in ("raw", "probability", "classes"))
    return _methods(
        plan.params["class"],
        plan.params["method"],
        {
            "predict": lambda d: classes.take(raw.take(leaves(d)[:, 0], axis=0).argmax(axis=1)),
            "predict_proba": lambda d: probability.take(leaves(d)[:, 0], axis=0),
        },
    )


def _forest(est: Any, method: str) -> Plan:
    _single_output(est)
    trees = [member.tree_ for member in est.estimators_]
    forest = stack_trees([_sk_nodes(t) for t in trees])
    if not hasattr(est, "classes_"):
        values = _tree_values(trees)[:, 0]
        return _tree_plan(est, method, "forest_regressor", ("predict",), forest, values=values)
    probability = _normalised(_tree_values(trees, est.n_classes_))
    return _tree_plan(
        est,
        method,
        "forest_classifier",
        _CLASSIFIER_METHODS,
        forest,
        probability=probability,
        classes=est.classes_,
    )


def _build_forest_regressor(plan: Plan) -> Kernel:
    leaves, values = _leaves_of(plan), plan.arrays["values"]
    count = len(plan.arrays["roots"])
    return lambda data: sequential_sum(np.zeros(1), values.take(leaves(data))) / count


def _build_forest_classifier(plan: Plan) -> Kernel:
    leaves, probability, classes = (
        _leaves_of(plan),
        plan.arrays["probability"],
        plan.arrays["classes"],
    )
    count = len(plan.arrays["roots"])

    def predict_proba(data: Any) -> np.ndarray:
        hits = probability.take(leaves(data), axis=0)  # rows x trees x classes
        return np.cumsum(hits, axis=1)[:, -1, :] / count

    return _methods(
        plan.params["class"],
        plan.params["method"],
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


def _boosted_raw(plan: Plan) -> Callable[[np.ndarray], np.ndarray]:
    """Input matrix -> rows x K raw scores of a boosted Plan (numpy's walk)."""
    forest, values = _forest_of(plan), plan.arrays["values"]
    initial, per_stage = plan.arrays["initial"], int(plan.params["per_stage"])
    return lambda matrix: _boosted_sum(initial, values.take(forest.leaves(matrix)), per_stage)


def _gradient_boosting(est: Any, method: str) -> Plan:
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
    initial = np.asarray(est._raw_predict_init(np.zeros((1, est.n_features_in_))), dtype=np.float64)
    classifier = hasattr(est, "classes_")
    if classifier and type(est._loss).__name__ not in {"HalfBinomialLoss", "HalfMultinomialLoss"}:
        raise NotCompilable(f"the {type(est._loss).__name__} loss")
    methods = ("decision_function", "predict", "predict_proba") if classifier else ("predict",)
    return _tree_plan(
        est,
        method,
        "gradient_boosting",
        methods,
        forest,
        params={"per_stage": per_stage},
        values=est.learning_rate * _tree_values(trees)[:, 0],
        initial=initial,
        classes=est.classes_ if classifier else None,
    )


def _boosted_kernel(
    plan: Plan, walk: Callable[[np.ndarray], np.ndarray], link: str, zero_is_positive: bool
) -> Kernel:
    """The methods of a boosted ensemble from its raw scores (rows x K, from `walk`):
    a regressor's `link` on them, a classifier's classes and probabilities."""
    read = matrix_reader(plan.params["read"])

    def raw(data: Any) -> np.ndarray:
        return walk(read(data))

    classes = plan.arrays.get("classes")
    if classes is None:
        predict = {"predict": lambda d: _inverse_link(link, raw(d).ravel())}
        return _methods(plan.params["class"], plan.params["method"], predict)

    def decision_function(data: Any) -> np.ndarray:
        scores = raw(data)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(data: Any) -> np.ndarray:
        scores = decision_function(data)
        if scores.ndim > 1:
            return classes[np.argmax(scores, axis=1)]
        positive = scores >= 0 if zero_is_positive else scores > 0
        return classes[positive.astype(int)]

    def predict_proba(data: Any) -> np.ndarray:
        scores = decision_function(data)
        return _two_class_proba(expit(scores)) if scores.ndim == 1 else softmax(scores)

    return _methods(
        plan.params["class"],
        plan.params["method"],
        {
            "decision_function": decision_function,
            "predict": predict,
            "predict_proba": predict_proba,
        },
    )


def _build_gradient_boosting(
    plan: Plan, raw_of: Callable[[np.ndarray], np.ndarray] | None = None
) -> Kernel:
    # A margin of exactly 0 is the positive class here (HistGradientBoosting: negative),
    # and the probabilities map the squeezed scores: both as scikit-learn's two classes do.
    return _boosted_kernel(plan, raw_of or _boosted_raw(plan), "identity", zero_is_positive=True)


def _gradient_boosting_with_sklearn(est: Any, plan: Plan, kernel: Kernel) -> Kernel:
    """Big batches through scikit-learn's own compiled stage loop (without the second
    validation `predict` makes: the plan's reader made it, as scikit-learn words it)."""
    try:
        from sklearn.ensemble._gradient_boosting import predict_stages
    except ImportError:  # another layout of scikit-learn: the numpy walk serves all sizes
        return kernel
    walk, initial, stages = _boosted_raw(plan), plan.arrays["initial"], est.estimators_

    def raw_of(matrix: np.ndarray) -> np.ndarray:
        if len(matrix) <= NATIVE_ABOVE_ROWS:
            return walk(matrix)
        out = np.repeat(initial, len(matrix), axis=0)
        predict_stages(stages, np.ascontiguousarray(matrix), est.learning_rate, out)
        return out

    return _build_gradient_boosting(plan, raw_of)


def _in_bitsets(bitsets: np.ndarray) -> np.ndarray:
    """rows x 256 booleans from scikit-learn's rows x 8 uint32 bitsets (bit c of word c//32)."""
    codes = np.arange(CATEGORY_CODES)
    words = np.asarray(bitsets, dtype=np.uint32)[:, codes // 32]
    return ((words >> (codes % 32).astype(np.uint32)) & 1).astype(bool)


def _hgb_nodes(predictor: Any, known: np.ndarray | None, column_of: np.ndarray | None) -> TreeNodes:
    """One predictor's nodes; `known` (categorical features x 256) and `column_of`
    (feature -> its row of `known`) place its categorical splits."""
    nodes = predictor.nodes
    leaf = nodes["is_leaf"].astype(bool)
    categorical = nodes["is_categorical"].astype(bool) & ~leaf
    category_row, table = None, None
    if categorical.any():
        if known is None or column_of is None:
            raise NotCompilable("categorical splits without known categories")
        at = np.flatnonzero(categorical)
        goes_left = _in_bitsets(predictor.raw_left_cat_bitsets)[nodes["bitset_idx"][at]]
        is_known = known[column_of[nodes["feature_idx"][at]]]
        nan_left = nodes["missing_go_to_left"][at].astype(bool)[:, None]
        # As scikit-learn's walk: a code in the left set goes left, another known code
        # right, an unknown one (and NaN: the last column) where missing values go.
        table = np.concatenate([goes_left | (~is_known & nan_left), nan_left], axis=1)
        category_row = np.full(len(nodes), -1, dtype=np.int64)
        category_row[at] = np.arange(len(at))
    return TreeNodes(
        nodes["feature_idx"].astype(np.int64),
        nodes["num_threshold"].astype(np.float64),
        np.where(leaf, -1, nodes["left"].astype(np.int64)),
        np.where(leaf, -1, nodes["right"].astype(np.int64)),
        nodes["missing_go_to_left"].astype(bool),
        category_row,
        table,
    )


#: scikit-learn's link functions by class name -> how the raw scores map to predictions.
_LINKS = {
    "IdentityLink": "identity",
    "LogLink": "exp",
    "LogitLink": "expit",
    "MultinomialLogit": "softmax",
}


def _hist_gradient_boosting(est: Any, method: str) -> Plan:
    link = _LINKS.get(type(est._loss.link).__name__)
    if link is None:
        raise NotCompilable(f"the {type(est._loss.link).__name__} link")
    known, column_of = None, None
    if est._preprocessor is not None:
        bitsets, column_of = est._bin_mapper.make_known_categories_bitsets()
        known = _in_bitsets(bitsets)
    predictors = est._predictors
    per_stage = est.n_trees_per_iteration_
    flat = [p for stage in predictors for p in stage]
    forest = stack_trees([_hgb_nodes(p, known, column_of) for p in flat])
    classifier = hasattr(est, "classes_")
    methods = ("decision_function", "predict", "predict_proba") if classifier else ("predict",)
    trees = _tree_plan(
        est,
        method,
        "hist_gradient_boosting",
        methods,
        forest,
        dtype="float64",
        finite=False,
        params={"per_stage": per_stage, "link": link},
        values=np.concatenate([p.nodes["value"].astype(np.float64) for p in flat]),
        initial=np.asarray(est._baseline_prediction, dtype=np.float64).reshape(1, per_stage),
        classes=est.classes_ if classifier else None,
    )
    if est._preprocessor is None:
        return trees
    return Plan("pipeline", children=(_hgb_preprocessor(est._preprocessor), trees))


def _hgb_preprocessor(preprocessor: Any) -> Plan:
    """The categorical columns' OrdinalEncoder first, the numeric columns after them, as
    the model's own ColumnTransformer puts them (the trees' features are in that order)."""
    from inferpipe.transformers._sklearn_fast import encoders

    encoder = preprocessor.named_transformers_["encoder"]
    indices = preprocessor._transformer_to_input_indices
    categorical = [int(i) for i in indices["encoder"]]
    numeric = [int(i) for i in indices["numerical"]]
    parts = [[categorical, True]] + ([[numeric, False]] if numeric else [])
    return Plan(
        "column_transformer",
        {"parts": parts, "width": preprocessor.n_features_in_},
        children=(encoders.TRANSLATORS["OrdinalEncoder"].plan(encoder, "transform"),),
    )


def _inverse_link(link: str, scores: np.ndarray) -> np.ndarray:
    if link == "exp":
        return np.exp(scores)
    if link == "expit":
        return expit(scores)
    if link == "softmax":
        return softmax(scores)
    return scores


def _build_hist_gradient_boosting(plan: Plan) -> Kernel:
    return _boosted_kernel(plan, _boosted_raw(plan), plan.params["link"], zero_is_positive=False)


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


def _near(points: np.ndarray) -> np.ndarray:
    """Each split point, its float neighbours and the points one unit either side."""
    if len(points) == 0:
        points = np.zeros(1)
    steps = (np.nextafter(points, -np.inf), np.nextafter(points, np.inf), points + 1, points - 1)
    return np.concatenate([points, *steps])


def _probe_values(est: Any) -> list[np.ndarray]:
    """Per input column, the values to probe with: around the split points, and where a
    HistGradientBoosting model encodes categories itself, each category (numbers and
    their neighbours: unseen ones; strings and one never seen) and a missing value."""
    points = _split_points(est)
    preprocessor = getattr(est, "_preprocessor", None)
    if preprocessor is None:
        return [_near(p) for p in points]
    indices = preprocessor._transformer_to_input_indices
    order = [int(i) for i in (*indices["encoder"], *indices["numerical"])]
    values = [np.zeros(1)] * len(order)
    for tree_feature, column in enumerate(order):  # the trees see categories first
        values[column] = _near(points[tree_feature])
    encoder = preprocessor.named_transformers_["encoder"]
    for column, categories in zip(indices["encoder"], encoder.categories_, strict=True):
        if categories.dtype.kind == "f":
            values[int(column)] = np.append(_near(categories), np.nan)
        else:
            extra = np.array(["never seen", np.nan], dtype=object)
            values[int(column)] = np.concatenate([categories.astype(object), extra])
    return values


def _tree_probe(est: Any) -> np.ndarray:
    """Rows whose values sit on, just below and just above the model's thresholds."""
    generator = np.random.default_rng(20261203)
    columns = [generator.choice(v, size=256) for v in _probe_values(est)]
    if any(c.dtype == object for c in columns):
        return np.column_stack([c.astype(object) for c in columns])
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


#: scikit-learn's own walk of one deep tree is compiled code: faster than numpy's
#: level-by-level gathers on big batches (HistGradientBoosting, 100 trees of 31 leaves,
#: 1,000 rows: 2.2 vs 5.7 ms), slower on small ones.
NATIVE_ABOVE_ROWS = 64


def _trees(plan: Callable[[Any, str], Plan]) -> Translator:
    return Translator(_tree_probe, plan=plan, native_above_rows=NATIVE_ABOVE_ROWS)


TRANSLATORS = {
    **{name: Translator(_linear_probe, plan=_linear_regressor) for name in _LINEAR_REGRESSORS},
    **{name: Translator(_linear_probe, plan=_linear_classifier) for name in _LINEAR_CLASSIFIERS},
    **{
        name: Translator(_linear_probe, plan=_glm_regressor)
        for name in ("PoissonRegressor", "GammaRegressor", "TweedieRegressor")
    },
    "DecisionTreeRegressor": _trees(_decision_tree),
    "DecisionTreeClassifier": _trees(_decision_tree),
    "ExtraTreeRegressor": _trees(_decision_tree),
    "ExtraTreeClassifier": _trees(_decision_tree),
    # Forests stay in the kernel at every size: scikit-learn's per-tree calls cost more
    # (1,000 rows x 100 trees of depth 8: 2.9 ms here, 6.7 ms in scikit-learn).
    **{
        name: Translator(_tree_probe, plan=_forest)
        for name in (
            "RandomForestRegressor",
            "RandomForestClassifier",
            "ExtraTreesRegressor",
            "ExtraTreesClassifier",
        )
    },
    # Big batches take scikit-learn's stage loop inside the kernel, not its `predict`.
    **{
        name: Translator(
            _tree_probe, plan=_gradient_boosting, with_sklearn=_gradient_boosting_with_sklearn
        )
        for name in ("GradientBoostingRegressor", "GradientBoostingClassifier")
    },
    "HistGradientBoostingRegressor": _trees(_hist_gradient_boosting),
    "HistGradientBoostingClassifier": _trees(_hist_gradient_boosting),
}
BUILDERS: dict[str, Callable[[Plan], Kernel]] = {
    "linear_regressor": _build_linear_regressor,
    "linear_classifier": _build_linear_classifier,
    "tree_regressor": _build_tree_regressor,
    "tree_classifier": _build_tree_classifier,
    "forest_regressor": _build_forest_regressor,
    "forest_classifier": _build_forest_classifier,
    "gradient_boosting": _build_gradient_boosting,
    "hist_gradient_boosting": _build_hist_gradient_boosting,
}
