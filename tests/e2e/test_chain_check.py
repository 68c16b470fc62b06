"""The schema chain check on real artifacts, through the CLI: the abalone example passes,
a model trained on one feature more is refused before anything starts or is packaged
(sklearn → xgboost and AWS's Titanic MLeap bundle → xgboost), `package` records each
interface in the tarball so a later check reads data, and pickles load in a child."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml
from inferpipe_testing.containers import free_port
from inferpipe_testing.titanic import TITANIC_SCHEMA, unpack_titanic

from inferpipe.pipeline_spec.chain_check import check_chain
from inferpipe.pipeline_spec.loader import load_spec
from inferpipe.protocol.interface import INTERFACE_FILE, StageInterface

ROLE = "arn:aws:iam::123456789012:role/SageMakerExecution"


def _cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-P", "-m", "inferpipe", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _xgboost_model(folder: Path, features: int) -> Path:
    """A small regression booster trained on `features` columns, saved as the built-in does."""
    import xgboost

    rng = np.random.default_rng(features)
    data = rng.normal(size=(64, features))
    booster = xgboost.train(
        {"objective": "reg:squarederror", "nthread": 1},
        xgboost.DMatrix(data, label=data.sum(axis=1)),
        num_boost_round=3,
    )
    folder.mkdir(parents=True, exist_ok=True)
    booster.save_model(folder / "xgboost-model.ubj")
    (folder / "xgboost-model.ubj").replace(folder / "xgboost-model")
    return folder


@pytest.fixture()
def abalone_copy(abalone_dir: Path, tmp_path: Path) -> Path:
    root = tmp_path / "abalone"
    shutil.copytree(abalone_dir, root)
    return root


def test_the_abalone_example_passes_with_both_hops_checked(abalone_copy: Path) -> None:
    done = _cli("spec", "validate", "spec.yaml", cwd=abalone_copy)
    assert done.returncode == 0, done.stderr
    assert (
        "chain: abalone-v1: preprocess -> model: preprocess emits 10 features, model was "
        "trained on 10: they match" in done.stdout
    )
    assert "model -> postprocess: model emits 1 feature, postprocess reads 1" in done.stdout


def test_a_model_trained_on_one_feature_more_is_refused_naming_both(abalone_copy: Path) -> None:
    _xgboost_model(abalone_copy / "build" / "xgboost", 11)
    done = _cli("spec", "validate", "spec.yaml", cwd=abalone_copy)
    assert done.returncode == 2, done.stdout
    assert "the schema chain check failed" in done.stderr
    assert (
        "models.abalone-v1.containers[0]: preprocess emits 10 features; model was trained "
        "on 11 (preprocess: ColumnTransformer.get_feature_names_out(); model: num_feature "
        "of xgboost-model)" in done.stderr
    )
    # package and local up stop at the same check: nothing packaged, nothing started.
    packaged = _cli("package", "spec.yaml", "--build-dir", "out", cwd=abalone_copy)
    assert packaged.returncode == 2 and "preprocess emits 10 features" in packaged.stderr
    assert not (abalone_copy / "out").exists()
    port = free_port()
    up = _cli(
        "local", "up", "spec.yaml", "--engine", "process", "--port", str(port),
        "--state-dir", "state", cwd=abalone_copy,
    )  # fmt: skip
    assert up.returncode == 2 and "model was trained on 11" in up.stderr
    assert not (abalone_copy / "state").exists()
    skipped = _cli("spec", "validate", "spec.yaml", "--skip-chain-check", cwd=abalone_copy)
    assert skipped.returncode == 0 and "chain:" not in skipped.stdout


def _titanic_spec(folder: Path, features: int) -> Path:
    unpack_titanic(folder / "titanic")
    _xgboost_model(folder / "xgboost", features)
    document = {
        "spec_version": 1,
        "region": "us-east-1",
        "endpoint": "titanic",
        "models": {
            "titanic": {
                "role": ROLE,
                "containers": [
                    {
                        "name": "features",
                        "builtin": {"algorithm": "sparkml-serving", "version": "3.3"},
                        "artifact": "titanic",
                        "environment": {"SAGEMAKER_SPARKML_SCHEMA": json.dumps(TITANIC_SCHEMA)},
                    },
                    {
                        "name": "model",
                        "builtin": {"algorithm": "xgboost", "version": "1.7-1"},
                        "artifact": "xgboost",
                    },
                ],
            }
        },
        "variants": [{"name": "A", "model": "titanic", "instance_type": "ml.m5.large"}],
    }
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_a_sparkml_bundle_in_front_of_xgboost_is_checked(tmp_path: Path) -> None:
    _titanic_spec(tmp_path / "good", 7)
    done = _cli("spec", "validate", "spec.yaml", cwd=tmp_path / "good")
    assert done.returncode == 0, done.stderr
    assert "features emits 7 features, model was trained on 7: they match" in done.stdout
    _titanic_spec(tmp_path / "bad", 8)
    refused = _cli("spec", "validate", "spec.yaml", cwd=tmp_path / "bad")
    assert refused.returncode == 2
    assert "features emits 7 features; model was trained on 8" in refused.stderr
    assert "a probe row through the pipeline" in refused.stderr


def test_package_records_each_interface_and_a_packaged_artifact_is_checked_from_it(
    abalone_copy: Path,
) -> None:
    done = _cli("package", "spec.yaml", "--build-dir", "out", cwd=abalone_copy)
    assert done.returncode == 0, done.stderr
    tarball = abalone_copy / "out" / "abalone-v1" / "preprocess" / "model.tar.gz"
    with tarfile.open(tarball) as archive:
        member = archive.extractfile(INTERFACE_FILE)
        assert member is not None
        recorded = StageInterface.from_json(json.loads(member.read()))
        manifest = archive.extractfile("inferpipe-manifest.json")
        assert manifest is not None and INTERFACE_FILE in json.loads(manifest.read())["files"]
    assert recorded.kind == "sklearn" and recorded.outputs is not None
    assert recorded.outputs.width == 10 and recorded.inputs is not None
    assert recorded.inputs.names is not None and recorded.inputs.names[:3] == (
        "sex",
        "length",
        "diameter",
    )
    # A spec naming the packaged tarballs is checked from the recorded files alone.
    document = yaml.safe_load((abalone_copy / "spec.yaml").read_text())
    for container in document["models"]["abalone-v1"]["containers"]:
        container["artifact"] = f"out/abalone-v1/{container['name']}/model.tar.gz"
    (abalone_copy / "packaged.yaml").write_text(yaml.safe_dump(document))

    def no_loading(model_dir: Path, environment: dict[str, str]) -> StageInterface:
        raise AssertionError(f"{model_dir} was loaded although its interface is recorded")

    report = check_chain(load_spec(abalone_copy / "packaged.yaml"), abalone_copy, no_loading)
    assert [h.outcome for h in report.hops] == ["ok", "ok"]


PICKLE_MAKER = """
import os, sys, joblib
from pathlib import Path

class Loud:
    def __reduce__(self):
        return (exec, ("from pathlib import Path; import os; "
                       "Path(os.environ['MARKER']).write_text(str(os.getpid()))",))

folder = Path(sys.argv[1])
joblib.dump({"model": Loud()}, folder / "model.joblib")
"""


def test_a_joblib_artifact_is_loaded_in_a_child_process_never_in_ours(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    subprocess.run([sys.executable, "-c", textwrap.dedent(PICKLE_MAKER), str(first)], check=True)
    _xgboost_model(second, 3)
    marker = tmp_path / "marker"
    containers = [
        {
            "name": "first",
            "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/inferpipe-preprocess:1",
            "artifact": "first",
            "environment": {"MARKER": str(marker)},
        },
        {"name": "second", "builtin": {"algorithm": "xgboost", "version": "1.7-1"},
         "artifact": "second"},
    ]  # fmt: skip
    document = {
        "spec_version": 1, "region": "us-east-1", "endpoint": "loud",
        "models": {"loud": {"role": ROLE, "containers": containers}},
        "variants": [{"name": "A", "model": "loud", "instance_type": "ml.m5.large"}],
    }  # fmt: skip
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(document))
    report = check_chain(load_spec(tmp_path / "spec.yaml"), tmp_path)
    assert marker.read_text() != str(os.getpid())  # the pickle ran, in another process
    (hop,) = report.hops
    assert hop.outcome == "unchecked"
    assert "first's output: its artifact could not be loaded here" in hop.message
