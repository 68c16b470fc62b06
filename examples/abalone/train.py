"""Train the abalone example's three stages and write their model dirs.

preprocess (sklearn ColumnTransformer, `transform`) -> model (XGBoost regressor saved as
SageMaker's built-in algorithm saves it, `xgboost-model`) -> postprocess (declarative:
bin the predicted rings into an age band, round).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import joblib
import pandas as pd
import xgboost
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "abalone.csv"
FEATURES = [
    "sex",
    "length",
    "diameter",
    "height",
    "whole_weight",
    "shucked_weight",
    "viscera_weight",
    "shell_weight",
]
NUMERIC = FEATURES[1:]
SCHEMA = {
    "input": [{"name": "sex", "type": "string"}]
    + [{"name": name, "type": "double"} for name in NUMERIC],
    "output": {"name": "features", "type": "double", "struct": "vector"},
}
POSTPROCESS = {
    "input_columns": ["rings"],
    "steps": [
        {
            "op": "bins",
            "column": "rings",
            "edges": [8, 11],
            "labels": ["young", "adult", "old"],
            "output": "age_band",
        },
        {"op": "round", "decimals": 2, "columns": ["rings"]},
    ],
}


def load_abalone() -> pd.DataFrame:
    return pd.read_csv(DATA, header=None, names=[*FEATURES, "rings"])


def train(out: Path) -> dict[str, Path]:
    """Fit the stages on the abalone data and write one model dir per stage under `out`."""
    data = load_abalone()
    preprocess = ColumnTransformer(
        [
            ("sex", OneHotEncoder(handle_unknown="ignore"), ["sex"]),
            ("numbers", make_pipeline(SimpleImputer(), StandardScaler()), NUMERIC),
        ]
    )
    features = preprocess.fit_transform(data[FEATURES])
    booster = xgboost.train(
        {"objective": "reg:squarederror", "max_depth": 4, "eta": 0.2, "nthread": 1, "seed": 0},
        xgboost.DMatrix(features, label=data["rings"]),
        num_boost_round=60,
    )

    dirs = {name: out / name for name in ("preprocess", "xgboost", "postprocess")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    joblib.dump(preprocess, dirs["preprocess"] / "model.joblib")
    (dirs["preprocess"] / "schema.json").write_text(json.dumps(SCHEMA, indent=2))
    # The built-in container's file name, in a format current xgboost reads (UBJSON).
    booster.save_model(dirs["xgboost"] / "xgboost-model.ubj")
    (dirs["xgboost"] / "xgboost-model.ubj").replace(dirs["xgboost"] / "xgboost-model")
    (dirs["postprocess"] / "postprocess.json").write_text(json.dumps(POSTPROCESS, indent=2))
    return dirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "build")
    args = parser.parse_args()
    for name, path in train(args.out).items():
        print(f"{name}: {path}")


if __name__ == "__main__":
    main()
