"""The speed benchmarks' workload: abalone rows through a ColumnTransformer (impute +
scale the numbers, one-hot the sex) and a GradientBoostingRegressor.

Writes, under one folder: `whole/` (the Pipeline in one model dir, for one container and
the baseline), `compiled/` (the same with its compiled form, as `inferpipe compile-sklearn`
writes it), `preprocess/`, `model/`, `postprocess/` (the same work split into three
inferpipe containers), `spec.yaml` (those three behind a local endpoint), `fused.yaml`
(the same with `fuse: true`: one container running the three in process), and the request
bodies `one.csv` (1 row) and `many.csv` (1,000 rows).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import joblib
import pandas as pd
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "abalone"
sys.path.insert(0, str(EXAMPLE))
from train import DATA, FEATURES, NUMERIC, SCHEMA  # noqa: E402

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def _model_dir(folder: Path, model: object, schema: dict[str, object] | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, folder / "model.joblib")
    if schema is not None:
        (folder / "schema.json").write_text(json.dumps(schema))
    return folder


def _spec(out: Path) -> Path:
    def container(name: str, stage: str) -> dict[str, object]:
        return {
            "name": name,
            "image": f"{ECR}/inferpipe-preprocess:0.1.0",
            "artifact": name,
            "local": {"stage": stage},
        }

    document = {
        "spec_version": 1,
        "endpoint": "bench",
        "region": "us-east-1",
        "models": {
            "bench": {
                "role": "arn:aws:iam::123456789012:role/SageMakerExecution",
                "containers": [
                    container("preprocess", "sklearn"),
                    container("model", "sklearn"),
                    {
                        **container("postprocess", "postprocess"),
                        "image": f"{ECR}/inferpipe-postprocess:0.1.0",
                    },
                ],
            }
        },
        "variants": [{"name": "A", "model": "bench", "instance_type": "ml.m5.large"}],
    }
    (out / "spec.yaml").write_text(yaml.safe_dump(document))
    document["models"]["bench"]["fuse"] = True
    (out / "fused.yaml").write_text(yaml.safe_dump(document))
    return out / "spec.yaml"


def fit_pipeline() -> tuple[object, pd.DataFrame]:
    """The fitted Pipeline (features + regressor) and the data it was fitted on."""
    data = pd.read_csv(DATA, header=None, names=[*FEATURES, "rings"])
    features = ColumnTransformer(
        [
            ("sex", OneHotEncoder(handle_unknown="ignore"), ["sex"]),
            ("numbers", make_pipeline(SimpleImputer(), StandardScaler()), NUMERIC),
        ]
    )
    regressor = GradientBoostingRegressor(n_estimators=100, max_depth=3, random_state=0)
    return make_pipeline(features, regressor).fit(data[FEATURES], data["rings"]), data


def _compiled_copy(source: Path, target: Path) -> None:
    """`source` plus its compiled form (as `inferpipe compile-sklearn` writes it)."""
    from inferpipe.serving.settings import ServingSettings
    from inferpipe.transformers.sklearn import SklearnStage

    shutil.copytree(source, target, dirs_exist_ok=True)
    stage = SklearnStage()
    stage.load_from_joblib(target, ServingSettings.from_environ({}, fast_path=True))
    for name, data in stage.compiled_files(target).items():
        (target / name).write_bytes(data)


def build_workload(out: Path) -> Path:
    """Fit the workload once and write every model dir, the spec and the bodies
    (`one-header.csv` and `many-header.csv` carry a header row, as MLflow's CSV wants)."""
    whole, _ = fit_pipeline()
    schema = {"input": SCHEMA["input"]}
    _model_dir(out / "whole", whole, schema)
    _model_dir(out / "preprocess", whole[0], schema)
    _model_dir(out / "model", whole[-1], None)
    (out / "postprocess").mkdir(exist_ok=True)
    (out / "postprocess" / "postprocess.json").write_text(
        json.dumps({"steps": [{"op": "round", "decimals": 3}]})
    )
    rows = [line.rsplit(",", 1)[0] for line in DATA.read_text().splitlines()]
    _compiled_copy(out / "whole", out / "compiled")
    (out / "one.csv").write_text(rows[0] + "\n")
    (out / "many.csv").write_text("\n".join(rows[:1000]) + "\n")
    header = ",".join(FEATURES) + "\n"
    (out / "one-header.csv").write_text(header + rows[0] + "\n")
    (out / "many-header.csv").write_text(header + "\n".join(rows[:1000]) + "\n")
    return _spec(out)
