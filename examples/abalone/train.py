"""Train the abalone example's three stages and write their model dirs.

preprocess (sklearn ColumnTransformer, `transform`) → model (sklearn regressor,
`predict` rings) → postprocess (declarative: round rings, bin into an age band).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import joblib
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor
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
    model = HistGradientBoostingRegressor(max_iter=100, random_state=0)
    model.fit(features, data["rings"])

    dirs = {name: out / name for name in ("preprocess", "model", "postprocess")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    joblib.dump(preprocess, dirs["preprocess"] / "model.joblib")
    (dirs["preprocess"] / "schema.json").write_text(json.dumps(SCHEMA, indent=2))
    joblib.dump(model, dirs["model"] / "model.joblib")
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
