"""Every step of the benchmark workload and of the abalone example runs compiled, and
the sklearn stage answers the same through the fast path as without it."""

from __future__ import annotations

import logging
from pathlib import Path
from types import ModuleType

import joblib
import numpy as np
import pytest
from inferpipe_testing.local import abalone_train_module, import_by_path

from inferpipe.serving.settings import ServingSettings
from inferpipe.transformers._sklearn_fast import compile_model
from inferpipe.transformers.sklearn import SklearnStage

BENCHMARKS = Path(__file__).resolve().parents[4] / "benchmarks"


def _benchmark_workload() -> ModuleType:
    return import_by_path(BENCHMARKS / "workload.py", "bench_workload")


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("workload")
    _benchmark_workload().build_workload(out)
    return out


@pytest.mark.parametrize(
    ("folder", "method"), [("whole", "predict"), ("preprocess", "transform"), ("model", "predict")]
)
def test_every_benchmark_step_runs_compiled(workload: Path, folder: str, method: str) -> None:
    compiled = compile_model(joblib.load(workload / folder / "model.joblib"), method)
    assert compiled.steps and compiled.fully_compiled, compiled.summary()


def test_every_abalone_preprocessing_step_runs_compiled(tmp_path: Path) -> None:
    dirs = abalone_train_module().train(tmp_path)
    compiled = compile_model(joblib.load(dirs["preprocess"] / "model.joblib"), "transform")
    assert len(compiled.steps) == 3 and compiled.fully_compiled, compiled.summary()


def _answers(model_dir: Path, fast: bool, body: bytes) -> np.ndarray:
    stage = SklearnStage()
    stage.load(model_dir, ServingSettings.from_environ({"INFERPIPE_FAST_PATH": str(fast)}))
    frame = stage.codec_registry.decode(body, _csv(), stage.schema)
    return stage.transform(frame).to_numpy()


def _csv():  # type: ignore[no-untyped-def]
    from inferpipe.protocol.media import parse_media_type

    return parse_media_type("text/csv")


def test_the_stage_answers_the_same_with_and_without_the_fast_path(workload: Path) -> None:
    body = (workload / "many.csv").read_bytes()
    assert np.array_equal(
        _answers(workload / "whole", True, body), _answers(workload / "whole", False, body)
    )


def test_the_start_log_says_which_steps_run_compiled(
    workload: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="inferpipe.transformers.sklearn"):
        SklearnStage().load(workload / "whole", ServingSettings.from_environ({}))
    assert "fast path for Pipeline.predict: 4/4 steps compiled" in caplog.text


def test_fast_path_false_serves_scikit_learn_itself(
    workload: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="inferpipe.transformers.sklearn"):
        SklearnStage().load(
            workload / "whole", ServingSettings.from_environ({"INFERPIPE_FAST_PATH": "false"})
        )
    assert "fast path" not in caplog.text


def test_a_pandas_output_preprocessor_answers_the_same_bytes_compiled(tmp_path: Path) -> None:
    """A ColumnTransformer with set_output(transform="pandas") served as a preprocess
    stage: compiled, and byte for byte scikit-learn's answer in CSV, JSON and JSON Lines."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    train = pd.DataFrame(
        {
            "size": [1.0, 2.5, np.nan, 4.0, 3.0, 2.0],
            "colour": ["red", "blue", "red", "green", "blue", "red"],
            "count": [1, 2, 3, 4, 5, 6],
        }
    )
    model = ColumnTransformer(
        [
            ("size", make_pipeline(SimpleImputer(add_indicator=True), StandardScaler()), [0]),
            ("colour", OneHotEncoder(handle_unknown="ignore", sparse_output=False), [1]),
        ],
        remainder="passthrough",
    ).set_output(transform="pandas")
    model.fit(train)
    joblib.dump(model, tmp_path / "model.joblib")
    body = b"1.5,red,3\n,violet,7\n9.25,green,-2\n"

    def served(fast: bool) -> dict[str, bytes]:
        stage = SklearnStage()
        stage.load(tmp_path, ServingSettings.from_environ({"INFERPIPE_FAST_PATH": str(fast)}))
        answer = stage.transform(stage.codec_registry.decode(body, _csv(), stage.schema))
        kinds = ("text/csv", "application/json", "application/jsonlines")
        return {kind: stage.codec_registry.encode(answer, kind) for kind in kinds}

    compiled = compile_model(model, "transform")
    assert compiled.fully_compiled, compiled.summary()
    fast = served(True)
    assert fast == served(False)
    assert fast["text/csv"].count(b"\n") == 3 and b"violet" not in fast["text/csv"]
