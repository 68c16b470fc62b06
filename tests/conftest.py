"""Shared fixtures: a clean environment per test and tiny real artifacts built once per run."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from inferpipe_testing.containers import docker
from inferpipe_testing.data import MIXED_SCHEMA, make_mixed_rows, read_oracle_frame, rows_to_csv
from inferpipe_testing.images import run_build
from inferpipe_testing.local import EXAMPLE, abalone_train_module


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test passes or fails because of someone's shell: drop SAGEMAKER_*/INFERPIPE_*."""
    for name in list(os.environ):
        if name.startswith(("SAGEMAKER_", "INFERPIPE_")):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def mixed_pipeline_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fitted ColumnTransformer over mixed-type columns, saved as a model dir."""
    import joblib
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = read_oracle_frame(rows_to_csv(make_mixed_rows(400, seed=1)))
    pipeline = ColumnTransformer(
        [
            ("categories", OneHotEncoder(handle_unknown="ignore"), ["sex", "color", "flag"]),
            (
                "numbers",
                make_pipeline(SimpleImputer(), StandardScaler()),
                ["length", "diameter", "weight"],
            ),
            ("passed", "passthrough", ["count"]),
        ]
    )
    pipeline.fit(frame)
    model_dir = tmp_path_factory.mktemp("mixed-pipeline")
    joblib.dump(pipeline, model_dir / "model.joblib")
    (model_dir / "schema.json").write_text(json.dumps(MIXED_SCHEMA))
    model_dir.chmod(0o755)
    for path in model_dir.iterdir():
        path.chmod(0o644)
    return model_dir


@pytest.fixture(scope="session")
def classifier_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-feature logistic regression (predict / predict_proba), no schema."""
    import joblib
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    features = rng.normal(size=(200, 2))
    labels = (features[:, 0] + features[:, 1] > 0).astype(int)
    model_dir = tmp_path_factory.mktemp("classifier")
    joblib.dump(LogisticRegression().fit(features, labels), model_dir / "model.joblib")
    model_dir.chmod(0o755)
    (model_dir / "model.joblib").chmod(0o644)
    return model_dir


@pytest.fixture()
def chdir_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@pytest.fixture(scope="session")
def abalone_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The abalone example trained into a fresh dir, with its spec beside the artifacts."""
    root = tmp_path_factory.mktemp("abalone")
    abalone_train_module().train(root / "build")
    shutil.copy(EXAMPLE / "spec.yaml", root / "spec.yaml")
    return root


@pytest.fixture(scope="session")
def docker_engine() -> None:
    done = docker("info", "--format", "{{.ServerVersion}}", check=False)
    if done.returncode != 0:
        pytest.fail(
            "no Docker engine answers; run scripts/setup-machine.sh (the README's "
            f"test command does): {done.stderr.strip()}"
        )


@pytest.fixture(scope="session")
def images(docker_engine: None) -> dict[str, str]:
    """Build both images with build.sh (cached layers make reruns fast)."""
    log = run_build("build", "--images", "preprocess,postprocess,xgboost")
    for line in log.splitlines():
        if line.startswith("build.sh: built"):
            print(line)
    return {name: f"inferpipe-{name}:latest" for name in ("preprocess", "postprocess", "xgboost")}


@pytest.fixture(params=["process", "docker"])
def engine(request: pytest.FixtureRequest) -> str:
    """Run a local-endpoint test on both engines (docker builds the images first)."""
    if request.param == "docker":
        request.getfixturevalue("images")
    return str(request.param)
