"""The fast path answers what scikit-learn answers: every translated class, over a grid
of its parameters, on 1,200 rows with missing values, unseen categories and extremes.

Numbers agree within 1e-12 (relative, 1e-12 floor), shapes and dtypes exactly; where
scikit-learn refuses a request (NaN into a model that takes none), so does the kernel.
Each compiled program is also stored as plain arrays, loaded back and checked again.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import ensemble, linear_model, preprocessing, tree
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline

from inferpipe.transformers._sklearn_fast import compile_model, stored

ROWS = 1200
NUMBERS = ["a", "b", "c", "d"]


def _numbers(seed: int, rows: int = ROWS, holes: bool = True, extremes: bool = True) -> np.ndarray:
    generator = np.random.default_rng(seed)
    matrix = generator.normal(size=(rows, len(NUMBERS))) * [1.0, 10.0, 0.01, 1e4]
    matrix[:, 3] = np.round(matrix[:, 3], -3)  # repeated values, for encoders and bins
    if extremes:
        matrix[rows - 6 :, :] = [[1e12], [-1e12], [1e-300], [-0.0], [0.0], [3.4e38]]
    if holes:
        matrix[generator.random(size=matrix.shape) < 0.08] = np.nan
    return matrix


def _categories(seed: int, unseen: bool) -> np.ndarray:
    generator = np.random.default_rng(seed)
    pool = np.array(["red", "green", "blue", "grey", "rare", ""], dtype=object)
    values = generator.choice(pool, p=[0.4, 0.3, 0.2, 0.095, 0.004, 0.001], size=(ROWS, 2))
    values[generator.random(size=values.shape) < 0.05] = np.nan
    if unseen:
        values[::97, 0] = "violet"
        values[::89, 1] = "black"
    return values


def _same(expected: Any, got: Any) -> None:
    expected = expected.toarray() if hasattr(expected, "toarray") else np.asarray(expected)
    got = got.toarray() if hasattr(got, "toarray") else np.asarray(got)
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype
    if expected.dtype.kind == "f":
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
        assert (np.isnan(got) == np.isnan(expected)).all()
    else:
        assert got.tolist() == expected.tolist()


def _quiet(call: Callable[[Any], Any], data: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return call(data)
        except ValueError as exc:
            return exc


def check_matches(model: Any, method: str, data: Any, all_compiled: bool = True) -> None:
    compiled = compile_model(model, method)
    if all_compiled:
        assert compiled.fully_compiled, compiled.summary()
    expected = _quiet(getattr(model, method), data)
    got = _quiet(compiled.call, data)
    if isinstance(expected, ValueError):
        assert isinstance(got, ValueError), (
            f"scikit-learn refused ({expected}) but the kernel answered"
        )
        return
    assert not isinstance(got, ValueError), got
    _same(expected, got)
    # Small batches take the kernels even where big ones go to scikit-learn's own code.
    chunks = [_quiet(compiled.call, _rows(data, i, i + 50)) for i in range(0, len(data), 50)]
    assert not any(isinstance(c, ValueError) for c in chunks)
    _same(expected, np.concatenate([_dense(c) for c in chunks]))
    if isinstance(data, np.ndarray):  # columns taken from a frame arrive in Fortran order
        _same(expected, _quiet(compiled.call, np.asfortranarray(data)))
    if all_compiled:
        _same(expected, _quiet(_stored_call(compiled), data))


def _stored_call(compiled: Any) -> Callable[[Any], Any]:
    """The program as `inferpipe compile-sklearn` stores it, loaded back (numpy only)."""
    assert compiled.plan is not None, f"not storable: {compiled.summary()}"
    files = stored.compiled_files(compiled.plan, {"method": "m"})
    with tempfile.TemporaryDirectory() as folder:
        for name, data in files.items():
            (Path(folder) / name).write_bytes(data)
        about = stored.read_about(Path(folder))
        assert about is not None
        return stored.load_stored(Path(folder), about).call


def _rows(data: Any, start: int, stop: int) -> Any:
    return data.iloc[start:stop] if hasattr(data, "iloc") else data[start:stop]


def _dense(result: Any) -> np.ndarray:
    return result.toarray() if hasattr(result, "toarray") else np.asarray(result)


NUMERIC_TRANSFORMERS = [
    *[
        preprocessing.StandardScaler(with_mean=m, with_std=s)
        for m in (True, False)
        for s in (True, False)
    ],
    *[
        preprocessing.MinMaxScaler(feature_range=r, clip=c)
        for r in ((0, 1), (-2, 3))
        for c in (False, True)
    ],
    preprocessing.MaxAbsScaler(),
    *[
        preprocessing.RobustScaler(with_centering=c, with_scaling=s, quantile_range=q)
        for c in (True, False)
        for s in (True, False)
        for q in ((25.0, 75.0), (10.0, 90.0))
    ],
    *[SimpleImputer(strategy=s) for s in ("mean", "median", "most_frequent")],
    SimpleImputer(strategy="constant", fill_value=-1.5),
    SimpleImputer(strategy="mean", keep_empty_features=True),
    *[SimpleImputer(strategy=s, add_indicator=True) for s in ("mean", "most_frequent")],
    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
]


@pytest.mark.parametrize("transformer", NUMERIC_TRANSFORMERS, ids=repr)
def test_numeric_transformers_match_scikit_learn(transformer: Any) -> None:
    train = _numbers(1, extremes=False)
    if isinstance(transformer, SimpleImputer):
        train[:, 2] = np.nan  # empty at fit: dropped, or kept by keep_empty_features
        train[:, 0] = np.nan_to_num(train[:, 0])  # no holes at fit: no indicator column
    transformer.fit(train)
    check_matches(transformer, "transform", _numbers(2))
    check_matches(transformer, "transform", _numbers(3, holes=False, extremes=False))


NAN_FREE = [
    *[preprocessing.Normalizer(norm=n) for n in ("l1", "l2", "max")],
    *[
        preprocessing.PolynomialFeatures(degree=d, interaction_only=i, include_bias=b)
        for d in (2, 3)
        for i in (False, True)
        for b in (True, False)
    ],
    preprocessing.PolynomialFeatures(degree=(2, 3)),
    preprocessing.FunctionTransformer(np.abs),
    preprocessing.FunctionTransformer(np.log1p, validate=True),
    *[
        preprocessing.KBinsDiscretizer(
            n_bins=n, strategy=s, encode=e, quantile_method="averaged_inverted_cdf"
        )
        if s == "quantile"
        else preprocessing.KBinsDiscretizer(n_bins=n, strategy=s, encode=e)
        for n in (3, 5)
        for s in ("uniform", "quantile", "kmeans")
        for e in ("ordinal", "onehot", "onehot-dense")
    ],
]


@pytest.mark.parametrize("transformer", NAN_FREE, ids=repr)
def test_transformers_without_missing_values_match_scikit_learn(transformer: Any) -> None:
    train = _numbers(1, holes=False, extremes=False)
    transformer.fit(
        np.abs(train) if transformer.__class__.__name__ == "FunctionTransformer" else train
    )
    check_matches(transformer, "transform", _numbers(2, holes=False))
    check_matches(transformer, "transform", np.abs(_numbers(3, holes=False, extremes=False)))
    check_matches(transformer, "transform", _numbers(4))  # NaN: both refuse, or both answer


ENCODERS = [
    *[
        preprocessing.OneHotEncoder(handle_unknown=h, drop=d)
        for h in ("ignore", "error", "infrequent_if_exist")
        for d in (None, "first", "if_binary")
    ],
    preprocessing.OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=10),
    preprocessing.OneHotEncoder(
        handle_unknown="infrequent_if_exist", max_categories=3, drop="first"
    ),
    preprocessing.OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float32),
    preprocessing.OrdinalEncoder(),
    preprocessing.OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
    preprocessing.OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2
    ),
    preprocessing.OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=np.nan, min_frequency=10
    ),
]


@pytest.mark.parametrize("encoder", ENCODERS, ids=repr)
def test_encoders_match_scikit_learn_on_strings_and_numbers(encoder: Any) -> None:
    encoder.fit(_categories(1, unseen=False))
    check_matches(encoder, "transform", _categories(2, unseen=False))
    check_matches(encoder, "transform", _categories(3, unseen=True))  # refused or encoded
    numbers = np.round(_numbers(1, extremes=False)[:, :2] * 2)
    encoder.fit(numbers)
    check_matches(encoder, "transform", np.round(_numbers(2, extremes=False)[:, :2] * 2))


def test_target_encoder_matches_scikit_learn() -> None:
    train = _categories(1, unseen=False)
    target = np.random.default_rng(0).normal(size=ROWS)
    encoder = preprocessing.TargetEncoder(random_state=0).fit(train, target)
    check_matches(encoder, "transform", _categories(3, unseen=True))


def _target(matrix: np.ndarray, classes: int | None) -> np.ndarray:
    score = np.nan_to_num(matrix[:, 0]) + 0.1 * np.nan_to_num(matrix[:, 1])
    if classes is None:
        return score
    return np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))


REGRESSORS = [
    linear_model.LinearRegression(),
    linear_model.Ridge(alpha=2.0),
    linear_model.Lasso(alpha=0.01),
    linear_model.ElasticNet(alpha=0.01, l1_ratio=0.3),
    linear_model.SGDRegressor(random_state=0),
    linear_model.HuberRegressor(),
    linear_model.PoissonRegressor(alpha=0.1),
    linear_model.GammaRegressor(),
    linear_model.TweedieRegressor(power=1.5),
    linear_model.TweedieRegressor(power=0.0),
    tree.DecisionTreeRegressor(random_state=0),
    tree.DecisionTreeRegressor(max_depth=4, random_state=0),
    ensemble.RandomForestRegressor(n_estimators=10, random_state=0),
    ensemble.ExtraTreesRegressor(n_estimators=10, max_depth=6, random_state=0),
    ensemble.GradientBoostingRegressor(n_estimators=30, random_state=0),
    ensemble.GradientBoostingRegressor(n_estimators=20, loss="huber", max_depth=5, random_state=0),
    ensemble.GradientBoostingRegressor(n_estimators=20, init="zero", random_state=0),
    ensemble.HistGradientBoostingRegressor(max_iter=30, random_state=0),
    ensemble.HistGradientBoostingRegressor(max_iter=20, loss="poisson", random_state=0),
]


@pytest.mark.parametrize("regressor", REGRESSORS, ids=repr)
def test_regressors_match_scikit_learn(regressor: Any) -> None:
    train = _numbers(1, holes=False, extremes=False)
    target = _target(train, None)
    if regressor.__class__.__name__.startswith("HistGradientBoosting"):
        train = _numbers(1, extremes=False)  # learns where missing values go
    positive = {"PoissonRegressor", "GammaRegressor", "TweedieRegressor"}
    if getattr(regressor, "loss", "") == "poisson" or type(regressor).__name__ in positive:
        target = np.exp(target / 4)  # positive, as these losses take
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence on unscaled columns is not the point
        regressor.fit(train, target)
    check_matches(regressor, "predict", _numbers(2, holes=False))
    check_matches(regressor, "predict", _numbers(3))  # NaN: refused unless the model takes it


CLASSIFIERS = [
    (linear_model.LogisticRegression(), ("predict", "predict_proba", "decision_function")),
    (linear_model.RidgeClassifier(), ("predict", "decision_function")),
    (linear_model.SGDClassifier(random_state=0), ("predict", "decision_function")),
    (tree.DecisionTreeClassifier(max_depth=6, random_state=0), ("predict", "predict_proba")),
    (
        ensemble.RandomForestClassifier(n_estimators=10, random_state=0),
        ("predict", "predict_proba"),
    ),
    (ensemble.ExtraTreesClassifier(n_estimators=10, random_state=0), ("predict", "predict_proba")),
    (
        ensemble.GradientBoostingClassifier(n_estimators=20, random_state=0),
        ("predict", "predict_proba", "decision_function"),
    ),
    (
        ensemble.HistGradientBoostingClassifier(max_iter=20, random_state=0),
        ("predict", "predict_proba", "decision_function"),
    ),
]


@pytest.mark.parametrize("classes", [2, 3])
@pytest.mark.parametrize(("classifier", "methods"), CLASSIFIERS, ids=lambda c: repr(c)[:40])
def test_classifiers_match_scikit_learn(
    classifier: Any, methods: tuple[str, ...], classes: int
) -> None:
    train = _numbers(1, holes=False, extremes=False)
    labels = np.array(["low", "mid", "high"], dtype=object)[_target(train, classes)]
    if classifier.__class__.__name__.startswith(
        ("HistGradientBoosting", "DecisionTree", "RandomForest")
    ):
        train = _numbers(1, extremes=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        classifier.fit(train, labels)
    for method in methods:
        check_matches(classifier, method, _numbers(2, holes=False))
        check_matches(classifier, method, _numbers(3))


def _mixed(seed: int, unseen: bool) -> pd.DataFrame:
    frame = pd.DataFrame(_numbers(seed, extremes=False), columns=NUMBERS)
    cats = _categories(seed, unseen)
    frame["colour"] = pd.Series(cats[:, 0], dtype=object)
    frame["shade"] = pd.Series(cats[:, 1], dtype=object)
    return frame


@pytest.mark.parametrize("remainder", ["drop", "passthrough"])
def test_column_transformer_pipelines_match_scikit_learn(remainder: str) -> None:
    features = ColumnTransformer(
        [
            ("colour", preprocessing.OneHotEncoder(handle_unknown="ignore"), ["colour"]),
            (
                "numbers",
                make_pipeline(SimpleImputer(), preprocessing.StandardScaler()),
                ["a", "b", "c"],
            ),
        ],
        remainder=remainder,
    )
    train = _mixed(1, unseen=False).drop(columns=["shade"])
    if remainder == "passthrough":
        train["d"] = train["d"].fillna(0.0)
    model = make_pipeline(
        features, ensemble.HistGradientBoostingRegressor(max_iter=20, random_state=0)
    )
    model.fit(train, _target(train[NUMBERS].to_numpy(), None))
    test = _mixed(2, unseen=True).drop(columns=["shade"])
    check_matches(model, "predict", test)
    check_matches(model[0], "transform", test)


def test_an_unknown_step_runs_in_scikit_learn_and_the_rest_compiled() -> None:
    from sklearn.decomposition import PCA

    model = make_pipeline(preprocessing.StandardScaler(), PCA(n_components=2), linear_model.Ridge())
    train = _numbers(1, holes=False, extremes=False)
    model.fit(train, _target(train, None))
    compiled = compile_model(model, "predict")
    assert [s.compiled for s in compiled.steps] == [True, False, True]
    assert "pca (no translation)" in compiled.summary()
    check_matches(model, "predict", _numbers(2, holes=False, extremes=False), all_compiled=False)


def test_a_subclass_is_not_trusted_to_behave_like_its_parent() -> None:
    class Doubling(preprocessing.StandardScaler):
        def transform(self, X: Any, copy: Any = None) -> Any:
            return super().transform(X) * 2

    scaler = Doubling().fit(_numbers(1, holes=False))
    compiled = compile_model(scaler, "transform")
    assert not compiled.fully_compiled
    check_matches(scaler, "transform", _numbers(2), all_compiled=False)


def _select_a_and_b(frame: Any) -> Any:
    return frame[["a", "b"]]  # by name: only a frame will do


def test_steps_with_pandas_output_run_compiled_where_only_kernels_read_them() -> None:
    train = _mixed(1, unseen=False).drop(columns=["shade"])
    target = _target(train[NUMBERS].to_numpy(), None)
    features = ColumnTransformer(
        [
            (
                "colour",
                preprocessing.OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ["colour"],
            ),
            (
                "numbers",
                make_pipeline(SimpleImputer(add_indicator=True), preprocessing.StandardScaler()),
                ["a", "b", "c", "d"],
            ),
        ]
    )
    model = make_pipeline(features, linear_model.Ridge()).set_output(transform="pandas")
    model.fit(train, target)
    test = _mixed(2, unseen=True).drop(columns=["shade"])
    check_matches(model, "predict", test)

    # A FunctionTransformer's frame is its function's to shape: it stays scikit-learn's,
    # and says why; the step before it must then answer its frame too (compiled).
    ending = make_pipeline(features, preprocessing.FunctionTransformer(np.abs))
    ending.set_output(transform="pandas").fit(train, target)
    compiled = compile_model(ending, "transform")
    assert [s.compiled for s in compiled.steps] == [True, True, True, False]
    assert "functiontransformer (its set_output" in compiled.summary()
    _same_frame(ending.transform(test), compiled.call(test))

    # A step left in scikit-learn that reads columns by name still gets the frame it was
    # fitted on: the compiled scaler before it answers that frame, named.
    by_name = make_pipeline(
        preprocessing.StandardScaler(),
        preprocessing.FunctionTransformer(_select_a_and_b),
        linear_model.Ridge(),
    ).set_output(transform="pandas")
    numbers = pd.DataFrame(_numbers(1, holes=False, extremes=False), columns=NUMBERS)
    by_name.fit(numbers, _target(numbers.to_numpy(), None))
    compiled = compile_model(by_name, "predict")
    assert [s.compiled for s in compiled.steps] == [True, False, True]
    check_matches(
        by_name,
        "predict",
        pd.DataFrame(_numbers(2, holes=False, extremes=False), columns=NUMBERS),
        all_compiled=False,
    )


def _with_codes(seed: int, unseen: bool) -> pd.DataFrame:
    """_mixed plus `code`, integer category codes with holes (and unseen, negative and
    fractional codes when `unseen`)."""
    frame = _mixed(seed, unseen)
    codes = np.random.default_rng(seed).integers(0, 12, len(frame)).astype(np.float64)
    codes[::31] = np.nan
    if unseen:
        codes[::41], codes[::43], codes[::47] = 50.0, -3.0, 2.5
    frame["code"] = codes
    return frame


def _categorical_target(frame: pd.DataFrame, classes: int | None) -> np.ndarray:
    score = (
        np.nan_to_num(frame["a"].to_numpy())
        + 2.0 * (frame["colour"] == "red").to_numpy()
        + np.nan_to_num(frame["code"].to_numpy()) % 3
    )
    if classes is None:
        return score
    return np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))


def _categorical_inputs(form: str, frame: pd.DataFrame) -> Any:
    if form == "codes":
        return frame[["a", "b", "code"]].to_numpy()
    if form == "strings":
        return frame[["a", "colour", "b", "shade"]]
    return frame[["a", "colour", "b"]].astype({"colour": "category"})


_CATEGORICAL = {"codes": [2], "strings": ["colour", "shade"], "from_dtype": "from_dtype"}


@pytest.mark.parametrize("form", list(_CATEGORICAL))
@pytest.mark.parametrize("classes", [None, 2, 3])
def test_hist_gradient_boosting_with_categorical_splits_matches_scikit_learn(
    form: str, classes: int | None
) -> None:
    train = _with_codes(1, unseen=False)
    kind = ensemble.HistGradientBoostingRegressor
    if classes is not None:
        kind = ensemble.HistGradientBoostingClassifier  # type: ignore[assignment]
    model = kind(max_iter=15, categorical_features=_CATEGORICAL[form], random_state=0)
    inputs = _categorical_inputs(form, train)
    model.fit(inputs, _categorical_target(train, classes))
    assert model._preprocessor is not None
    test = _categorical_inputs(form, _with_codes(2, unseen=True))
    methods = ["predict"] if classes is None else ["predict", "predict_proba", "decision_function"]
    for method in methods:
        check_matches(model, method, test)


def _same_frame(expected: Any, got: Any) -> None:
    assert isinstance(expected, pd.DataFrame) and isinstance(got, pd.DataFrame), type(got)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12, atol=1e-12)


def _check_frames(model: Any, data: pd.DataFrame) -> None:
    """The compiled transform, and its stored form, answer scikit-learn's frame: the
    same columns, dtypes, row index and values, for the batch and for single rows."""
    compiled = compile_model(model, "transform")
    assert compiled.fully_compiled, compiled.summary()
    expected = model.transform(data)
    _same_frame(expected, compiled.call(data))
    _same_frame(expected, _stored_call(compiled)(data))
    for row in (0, 7, len(data) - 1):
        _same_frame(model.transform(data.iloc[[row]]), compiled.call(data.iloc[[row]]))


def test_pandas_answers_of_column_transformers_and_pipelines_match_scikit_learn() -> None:
    train = _mixed(1, unseen=False)
    train["count"] = np.arange(len(train)) % 7  # an int column passed through as int
    test = _mixed(2, unseen=True)
    test["count"] = np.arange(len(test)) % 9
    test.index = pd.RangeIndex(500, 500 + len(test), name="request_row")
    numbers = make_pipeline(SimpleImputer(add_indicator=True), preprocessing.StandardScaler())
    columns = ColumnTransformer(
        [
            (
                "colour",
                preprocessing.OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ["colour"],
            ),
            ("numbers", numbers, ["a", "b", "c"]),
            ("kept", "passthrough", ["shade"]),  # strings stay strings
        ],
        remainder="passthrough",  # d (float) and count (int) keep their dtypes
    ).set_output(transform="pandas")
    columns.fit(train)
    _check_frames(columns, test)

    short_names = ColumnTransformer(
        [("numbers", numbers, ["a", "b"])], remainder="drop", verbose_feature_names_out=False
    ).set_output(transform="pandas")
    _check_frames(short_names.fit(train), test)

    whole = make_pipeline(
        ColumnTransformer(
            [
                (
                    "colour",
                    preprocessing.OrdinalEncoder(
                        handle_unknown="use_encoded_value", unknown_value=-1
                    ),
                    ["colour", "shade"],
                )
            ],
            remainder=SimpleImputer(),
        ),
        preprocessing.MinMaxScaler(),
    ).set_output(transform="pandas")
    whole.fit(train)
    _check_frames(whole, test)  # the row index goes through compiled steps


def test_a_pandas_answer_after_a_default_step_has_a_fresh_row_index() -> None:
    model = make_pipeline(SimpleImputer(), preprocessing.StandardScaler())
    model[-1].set_output(transform="pandas")
    numbers = pd.DataFrame(_numbers(1, extremes=False), columns=NUMBERS)
    model.fit(numbers)
    test = pd.DataFrame(_numbers(2, extremes=False), columns=NUMBERS, index=range(9, 1209))
    _check_frames(model, test)
