"""The abalone pipeline composed in-process: the oracle for the local endpoint's answers."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import xgboost

from inferpipe.serving.settings import ServingSettings
from inferpipe.transformers.postprocess import PostprocessStage
from inferpipe_testing.local import abalone_train_module

FEATURES: list[str] = abalone_train_module().FEATURES


def raw_rows(count: int, data_csv: Path) -> str:
    """The first `count` abalone rows without the rings column, as header-less CSV."""
    lines = data_csv.read_text().splitlines()[:count]
    return "\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n"


def compose(build: Path, csv_text: str) -> list[dict[str, Any]]:
    """preprocess -> xgboost -> postprocess in this process, as JSON records."""
    frame = pd.read_csv(
        io.StringIO(csv_text),
        header=None,
        names=FEATURES,
        dtype={"sex": str} | {n: np.float64 for n in FEATURES[1:]},
    )
    features = joblib.load(build / "preprocess" / "model.joblib").transform(frame)
    booster = xgboost.Booster()
    booster.load_model(bytearray((build / "xgboost" / "xgboost-model").read_bytes()))
    scores = booster.predict(xgboost.DMatrix(np.asarray(features, dtype=np.float64)))
    stage = PostprocessStage()
    stage.load(build / "postprocess", ServingSettings.from_environ({}))
    result = stage.transform(pd.DataFrame({0: scores.astype(np.float64)}))
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in record.items()}
        for record in result.to_dict("records")
    ]
