from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from inferpipe.protocol.errors import ArtifactError, ConfigError, SchemaMismatch
from inferpipe.serving.settings import ServingSettings
from inferpipe.transformers.sklearn import SklearnStage


def load(model_dir: Path, **env: str) -> SklearnStage:
    stage = SklearnStage()
    stage.load(model_dir, ServingSettings.from_environ({k.upper(): v for k, v in env.items()}))
    return stage


def test_predictor_defaults_to_predict(classifier_dir: Path) -> None:
    stage = load(classifier_dir)
    result = stage.transform(pd.DataFrame([[2.0, 2.0], [-2.0, -2.0]]))
    assert result[0].tolist() == [1, 0]


def test_predict_proba_is_chosen_by_setting(classifier_dir: Path) -> None:
    stage = load(classifier_dir, inferpipe_sklearn_method="predict_proba")
    result = stage.transform(pd.DataFrame([[2.0, 2.0]]))
    assert result.shape == (1, 2) and abs(result.iloc[0].sum() - 1.0) < 1e-12


def test_unknown_method_fails_at_load(classifier_dir: Path) -> None:
    with pytest.raises(ConfigError, match="INFERPIPE_SKLEARN_METHOD='fit'"):
        load(classifier_dir, inferpipe_sklearn_method="fit")


def test_transformer_defaults_to_transform(mixed_pipeline_dir: Path) -> None:
    assert load(mixed_pipeline_dir).method == "transform"


def test_sparse_output_is_densified(tmp_path: Path) -> None:
    from sklearn.preprocessing import OneHotEncoder

    encoder = OneHotEncoder(sparse_output=True).fit(np.array([["a"], ["b"]]))
    joblib.dump(encoder, tmp_path / "model.joblib")
    result = load(tmp_path).transform(pd.DataFrame([["b"]]))
    assert result.to_numpy().tolist() == [[0.0, 1.0]]


def test_feature_names_from_the_model_name_positional_columns(tmp_path: Path) -> None:
    from sklearn.preprocessing import StandardScaler

    frame = pd.DataFrame({"a": [1.0, 3.0], "b": [10.0, 30.0]})
    joblib.dump(StandardScaler().fit(frame), tmp_path / "model.joblib")
    stage = load(tmp_path)
    assert stage.transform(pd.DataFrame([[3.0, 30.0]])).to_numpy().tolist() == [[1.0, 1.0]]
    with pytest.raises(SchemaMismatch, match="expects 2"):
        stage.transform(pd.DataFrame([[3.0]]))


def test_wrong_feature_count_is_a_400_with_sklearns_message(classifier_dir: Path) -> None:
    with pytest.raises(SchemaMismatch, match="features"):
        load(classifier_dir).transform(pd.DataFrame([[1.0, 2.0, 3.0]]))


def test_schema_missing_model_columns_fails_at_load(tmp_path: Path) -> None:
    from sklearn.preprocessing import StandardScaler

    joblib.dump(
        StandardScaler().fit(pd.DataFrame({"a": [1.0], "b": [2.0]})), tmp_path / "model.joblib"
    )
    (tmp_path / "schema.json").write_text(json.dumps({"input": [{"name": "a", "type": "double"}]}))
    with pytest.raises(ArtifactError, match=r"\['b'\]"):
        load(tmp_path)


def test_artifact_from_another_sklearn_version_names_both_versions(tmp_path: Path) -> None:
    import sklearn
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit([[1.0], [2.0]])
    state = scaler.__getstate__()
    state["_sklearn_version"] = "0.24.2"
    old = StandardScaler.__new__(StandardScaler)
    old.__dict__.update(state)
    # __getstate__ would stamp the current version again, so dump the raw state.
    old.__getstate__ = lambda: state  # type: ignore[method-assign]
    joblib.dump(old, tmp_path / "model.joblib")
    with pytest.raises(ArtifactError) as raised:
        load(tmp_path)
    assert "0.24.2" in raised.value.message and sklearn.__version__ in raised.value.message
    assert "--sklearn-version 0.24.2" in raised.value.message


def test_missing_artifact_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"model\.joblib is missing"):
        load(tmp_path)


def test_corrupt_artifact_names_the_file_and_reason(tmp_path: Path) -> None:
    (tmp_path / "model.joblib").write_bytes(b"not a pickle")
    with pytest.raises(ArtifactError, match=r"model\.joblib cannot be loaded"):
        load(tmp_path)
