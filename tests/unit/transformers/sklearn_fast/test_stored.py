"""The compiled form stored beside model.joblib (`inferpipe compile-sklearn`): written by
the real CLI, served without importing scikit-learn or joblib, byte-identical answers,
and every way it can be out of place (stale, switched off, alone, not storable) handled."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import joblib
import pytest
from inferpipe_testing.local import import_by_path
from sklearn.decomposition import PCA
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from inferpipe.protocol.errors import ArtifactError
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage_loader import detect_kind
from inferpipe.transformers._sklearn_fast.stored import COMPILED_ARRAYS, COMPILED_JSON
from inferpipe.transformers.sklearn import SklearnStage

BENCHMARKS = Path(__file__).resolve().parents[4] / "benchmarks"

#: Serves one request in a fresh interpreter and reports what it imported.
SERVE_ONCE = """
import json, os, sys, time
started = time.perf_counter()
from inferpipe.serving.app import create_app
from inferpipe.serving.settings import ServingSettings
from inferpipe.serving.stage_loader import load_stage
settings = ServingSettings.from_environ()
client = create_app(load_stage(settings), settings).test_client()
loaded = time.perf_counter() - started
body = open(sys.argv[1], "rb").read()
answers = []
for accept in ("text/csv", "application/json"):
    answer = client.post("/invocations", data=body,
                         headers={"Content-Type": "text/csv", "Accept": accept})
    answers.append(answer.data.decode())
imported = sorted(m for m in ("sklearn", "joblib", "scipy") if m in sys.modules)
print(json.dumps({"loaded_seconds": loaded, "status": answer.status_code,
                  "modules": imported, "answers": answers}))
"""


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("workload")
    import_by_path(BENCHMARKS / "workload.py", "bench_workload_stored").build_workload(out)
    return out


def _compile(model_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-P", "-m", "inferpipe", "compile-sklearn", str(model_dir), *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _serve_once(model_dir: Path, body: Path, **environment: str) -> tuple[list[str], dict]:
    result = subprocess.run(
        [sys.executable, "-P", "-c", SERVE_ONCE, str(body)],
        capture_output=True,
        timeout=120,
        env={"INFERPIPE_MODEL_DIR": str(model_dir), "PATH": "/usr/bin:/bin", **environment},
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    report = json.loads(result.stdout.decode().splitlines()[-1])
    return report.pop("answers"), report


@pytest.fixture(scope="module")
def compiled_dir(workload: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("compiled") / "whole"
    shutil.copytree(workload / "whole", folder)
    result = _compile(folder)
    assert result.returncode == 0, result.stderr
    assert "4/4 steps compiled" in result.stdout
    assert f"wrote {folder / COMPILED_JSON}" in result.stdout
    return folder


def test_the_stored_form_is_plain_arrays_and_json(compiled_dir: Path) -> None:
    document = json.loads((compiled_dir / COMPILED_JSON).read_text())
    assert document["method"] == "predict" and document["model_class"] == "Pipeline"
    assert document["program"]["op"] == "pipeline"
    with zipfile.ZipFile(compiled_dir / COMPILED_ARRAYS) as archive:
        for name in archive.namelist():
            with archive.open(name) as member:
                header = member.read(200)
            assert b"'descr': '|O'" not in header, name  # no object arrays, so no pickle


def test_it_serves_without_scikit_learn_and_answers_byte_for_byte(
    workload: Path, compiled_dir: Path
) -> None:
    body = workload / "many.csv"
    stored_answers, stored = _serve_once(compiled_dir, body)
    joblib_answers, original = _serve_once(workload / "whole", body)
    assert stored["status"] == original["status"] == 200
    assert stored["modules"] == [] and "sklearn" in original["modules"]
    assert stored_answers == joblib_answers
    print(
        f"load: stored {stored['loaded_seconds']:.2f} s, joblib {original['loaded_seconds']:.2f} s"
    )


def test_a_model_dir_with_only_the_compiled_form_is_an_sklearn_stage(
    workload: Path, compiled_dir: Path, tmp_path: Path
) -> None:
    alone = tmp_path / "alone"
    shutil.copytree(compiled_dir, alone)
    (alone / "model.joblib").unlink()
    assert detect_kind(alone, ServingSettings.from_environ({})) == "sklearn"
    answers, report = _serve_once(alone, workload / "one.csv")
    reference, _ = _serve_once(workload / "whole", workload / "one.csv")
    assert report["status"] == 200 and answers == reference
    with pytest.raises(ArtifactError, match="holds only the compiled form"):
        SklearnStage().load(alone, ServingSettings.from_environ({"INFERPIPE_FAST_PATH": "false"}))


def test_a_changed_model_joblib_is_served_instead_of_a_stale_compiled_form(
    compiled_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stale = tmp_path / "stale"
    shutil.copytree(compiled_dir, stale)
    model = joblib.load(stale / "model.joblib")
    model.set_params(gradientboostingregressor__learning_rate=0.5)
    joblib.dump(model, stale / "model.joblib")
    stage = SklearnStage()
    with caplog.at_level(logging.WARNING, logger="inferpipe.transformers.sklearn"):
        stage.load(stale, ServingSettings.from_environ({}))
    assert "compiled from another model.joblib" in caplog.text
    assert stage.compiled is not None  # compiled afresh from the joblib file


def test_fast_path_false_and_another_method_serve_model_joblib(compiled_dir: Path) -> None:
    off = SklearnStage()
    off.load(compiled_dir, ServingSettings.from_environ({"INFERPIPE_FAST_PATH": "false"}))
    assert off.compiled is None and hasattr(off, "model")
    stored = SklearnStage()
    stored.load(compiled_dir, ServingSettings.from_environ({}))
    assert stored.stored_interface is not None and not hasattr(stored, "model")
    assert stored.interface().to_json() == off.interface().to_json()


def test_a_step_left_in_scikit_learn_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    import numpy as np

    rows = np.random.default_rng(0).normal(size=(50, 4))
    model = make_pipeline(PCA(n_components=2), Ridge()).fit(rows, rows[:, 0])
    joblib.dump(model, tmp_path / "model.joblib")
    result = _compile(tmp_path)
    assert result.returncode == 1
    assert "not written" in result.stdout and "pca (no translation)" in result.stdout
    assert not (tmp_path / COMPILED_JSON).exists()
