from __future__ import annotations

import json
from pathlib import Path

import pytest

from inferpipe.protocol.errors import ArtifactError, ConfigError
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage_loader import detect_kind, load_stage, resolve_stage_class

SETTINGS = ServingSettings.from_environ({})


@pytest.mark.parametrize(
    ("files", "kind"),
    [
        (["bundle.json"], "sparkml"),
        (["metadata/part-00000"], "sparkml"),
        (["code/inference.py", "model.joblib"], "script"),
        (["xgboost-model"], "xgboost"),
        (["postprocess.json"], "postprocess"),
        (["model.joblib", "schema.json"], "sklearn"),
    ],
)
def test_kind_is_detected_from_the_model_dir(tmp_path: Path, files: list[str], kind: str) -> None:
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    assert detect_kind(tmp_path, SETTINGS) == kind


def test_sagemaker_program_names_the_script_to_detect(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "serve.py").write_text("")
    settings = ServingSettings.from_environ({"SAGEMAKER_PROGRAM": "serve.py"})
    assert detect_kind(tmp_path, settings) == "script"


def test_undetectable_model_dir_lists_what_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"bundle\.json.*model\.joblib.*INFERPIPE_STAGE"):
        detect_kind(tmp_path, SETTINGS)


def test_missing_model_dir_is_named(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="does not exist"):
        load_stage(ServingSettings.from_environ({}, model_dir=tmp_path / "absent"))


def test_stage_import_string_loads_a_user_stage(tmp_path: Path) -> None:
    stage = load_stage(
        ServingSettings.from_environ(
            {"INFERPIPE_STAGE": "inferpipe.serving.stage:Stage"}, model_dir=tmp_path
        )
    )
    assert stage.kind == "custom"


@pytest.mark.parametrize("name", ["nonsense", "no_such_module_xyz:Stage", "json:loads"])
def test_bad_stage_names_are_config_errors(name: str) -> None:
    with pytest.raises(ConfigError, match=name.split(":")[0]):
        resolve_stage_class(name)


def test_bad_postprocess_file_fails_the_load_naming_it(tmp_path: Path) -> None:
    (tmp_path / "postprocess.json").write_text(json.dumps({"steps": "nope"}))
    with pytest.raises(ArtifactError, match=r"postprocess\.json"):
        load_stage(ServingSettings.from_environ({}, model_dir=tmp_path))
