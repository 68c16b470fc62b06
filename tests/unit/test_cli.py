from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from inferpipe import __version__
from inferpipe.cli import main


def test_help_lists_the_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--help"])
    assert raised.value.code == 0
    out = capsys.readouterr().out
    assert "serve" in out and "check-container" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"inferpipe {__version__}"


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: inferpipe" in capsys.readouterr().err


def test_serve_with_a_missing_model_dir_exits_1_with_one_clear_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-P",
            "-m",
            "inferpipe",
            "serve",
            "--model-dir",
            str(tmp_path / "absent"),
            "--port",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert f"cannot start: model dir {tmp_path / 'absent'} does not exist" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_with_a_bad_setting_exits_1_naming_the_variable(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-P", "-m", "inferpipe", "serve", "--model-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"SAGEMAKER_MODEL_SERVER_WORKERS": "many", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 1
    assert "SAGEMAKER_MODEL_SERVER_WORKERS='many' is not a positive integer" in done.stderr


def test_check_container_openapi_prints_the_contract_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check-container", "--openapi"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document["paths"]) == {"/ping", "/invocations", "/execution-parameters"}
    assert "413" in document["paths"]["/invocations"]["post"]["responses"]


def test_check_container_without_an_image_says_what_it_needs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert main(["check-container"]) == 2
    assert "needs IMAGE and --model-dir (or --openapi)" in caplog.text


def test_check_container_with_a_missing_model_dir_is_a_usage_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert main(["check-container", "some-image", "--model-dir", str(tmp_path / "no")]) == 2
    assert "is not a directory" in caplog.text


def test_spec_validate_and_render_write_requests_and_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = Path(__file__).resolve().parents[2] / "examples" / "abalone" / "spec.yaml"
    assert main(["spec", "validate", str(spec)]) == 0
    assert "valid: endpoint abalone in us-east-1" in capsys.readouterr().out
    assert main(["spec", "render", str(spec), "--out", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert "CreateModel.json" in written and "template.json" in written


def test_spec_validate_of_a_bad_spec_exits_2_naming_the_field(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad = tmp_path / "spec.yaml"
    bad.write_text("spec_version: 1\nendpoint: x\nregion: us-east-1\nmodels: {}\nvariants: []\n")
    assert main(["spec", "validate", str(bad)]) == 2
    assert "models: Dictionary should have at least 1 item" in caplog.text


def test_spec_schema_prints_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["spec", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "PipelineSpec" and "spec_version" in schema["required"]


def test_batch_with_a_missing_input_exits_2_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    done = subprocess.run(
        [
            sys.executable,
            "-P",
            "-m",
            "inferpipe",
            "batch",
            str(tmp_path / "spec.yaml"),
            "--input",
            str(missing),
            "--output",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert f"--input {missing} does not exist" in done.stderr


def test_batch_help_names_the_spark_master_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["batch", "--help"])
    out = capsys.readouterr().out
    assert "--master" in out and "mapInPandas" in out
