"""The README cannot drift from the code: tables are compared, examples are run."""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

import pytest

from inferpipe.serving.settings import ServingSettings, describe_settings
from inferpipe.transformers.postprocess import PostprocessStage

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def section(marker: str) -> str:
    start = README.index(f"<!-- {marker}")
    return README[start : README.index(f"<!-- end {marker} -->", start)]


def table_rows(text: str) -> list[list[str]]:
    rows = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("| ")]
    return [[cell.strip().strip("`") for cell in row] for row in rows[1:]]


def test_settings_table_matches_the_settings_fields() -> None:
    documented = [
        (v, "" if d == "—" else d, doc) for v, d, doc in table_rows(section("settings-table"))
    ]
    assert documented == describe_settings()


def test_every_documented_variable_is_read() -> None:
    for variable, _, _ in describe_settings():
        assert variable.startswith(("SAGEMAKER_", "INFERPIPE_"))
    assert len(describe_settings()) == len(ServingSettings.__dataclass_fields__)


def test_versions_table_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = {
        extra: ", ".join(f"`{r}`" for r in requirements)
        for extra, requirements in project["project"]["optional-dependencies"].items()
        if requirements
    }
    documented = {}
    for line in section("versions-table").splitlines():
        match = re.match(r"\| `(\w+)` \| (.+) \|$", line)
        if match:
            documented[match[1]] = match[2]
    assert documented == pins


def test_postprocess_example_loads_and_runs(tmp_path: Path) -> None:
    block = README.split("<!-- example: postprocess.json -->", 1)[1]
    document = json.loads(block.split("```json", 1)[1].split("```", 1)[0])
    (tmp_path / "postprocess.json").write_text(json.dumps(document))
    stage = PostprocessStage()
    stage.load(tmp_path, ServingSettings.from_environ({}))
    import pandas as pd

    result = stage.transform(pd.DataFrame([[9.456]]))
    assert result.to_dict("records") == [{"rings": 9.46, "age_band": "adult"}]


def test_the_two_fresh_machine_commands_exist_and_are_executable() -> None:
    commands = re.findall(r"^\./(scripts/\S+\.sh)", README.split("```sh", 1)[1], re.M)
    assert commands == ["scripts/main.sh", "scripts/test.sh"]
    for command in commands:
        assert os.access(ROOT / command, os.X_OK)
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_notebook_example_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    block = README.split("<!-- example: python -->", 1)[1]
    code = block.split("```python", 1)[1].split("```", 1)[0]
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip() == "A"


def test_error_table_lists_every_error_code() -> None:
    import inferpipe.protocol.errors as errors

    codes = {
        cls.code
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.InferpipeError)
    } - {errors.InferpipeError.code}
    table = README[README.index("### Errors") : README.index("### Settings")]
    assert sorted(c for c in codes if f"`{c}`" not in table) == []


def test_own_stage_example_runs_from_the_model_dir(tmp_path: Path) -> None:
    from inferpipe.serving import create_app
    from inferpipe.serving.stage_loader import load_stage

    block = README.split("<!-- example: code/scaler_stage.py -->", 1)[1]
    source = block.split("```python", 1)[1].split("```", 1)[0]
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "scaler_stage.py").write_text(source)
    (tmp_path / "factor.txt").write_text("2")
    settings = ServingSettings.from_environ(
        {"INFERPIPE_STAGE": "scaler_stage:ScalerStage"}, model_dir=tmp_path
    )
    client = create_app(load_stage(settings), settings).test_client()
    answer = client.post("/invocations", data="1,2\n", content_type="text/csv")
    assert answer.data == b"2.0,4.0\n"
    bad = client.post("/invocations", data="a,2\n", content_type="text/csv")
    assert bad.status_code == 400 and bad.get_json()["message"] == "every field must be a number"
