"""The baseline: the hand-made Flask predictor from AWS's example notebooks, for comparison.

It reads CSV with pandas, calls the pipeline, writes CSV; no content negotiation, no
error shapes, no limits. Started by serving_latency.py and matrix.py under gunicorn.
The pipeline predicts when its last step can (the speed issue's whole Pipeline ends in
a regressor), else transforms (a preprocessing artifact) — the one change since it was
frozen, so that both benchmarks serve the same artifact as inferpipe does.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import flask
import joblib
import pandas as pd

MODEL_DIR = Path(os.environ["BASELINE_MODEL_DIR"])
MODEL = joblib.load(MODEL_DIR / "model.joblib")
SCHEMA = json.loads((MODEL_DIR / "schema.json").read_text())
NAMES = [c["name"] for c in SCHEMA["input"]]

PREDICT = MODEL.predict if hasattr(MODEL, "predict") else MODEL.transform

app = flask.Flask(__name__)


@app.route("/ping", methods=["GET"])
def ping() -> flask.Response:
    return flask.Response(status=200)


@app.route("/invocations", methods=["POST"])
def invocations() -> flask.Response:
    frame = pd.read_csv(io.StringIO(flask.request.data.decode()), header=None, names=NAMES)
    result = PREDICT(frame)
    out = io.StringIO()
    pd.DataFrame(result).to_csv(out, header=False, index=False)
    return flask.Response(out.getvalue(), mimetype="text/csv")
