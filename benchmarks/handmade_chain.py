"""A three-container pipeline as a user would write it by hand, for comparison: three
Flask stage apps (the same work as the benchmark's inferpipe stages) behind a Flask
router that calls them in turn over keep-alive HTTP; with HANDMADE_ROLE=echo the stages
only echo the body, which measures the HTTP ceiling of three hops.

Run under gunicorn by matrix.py, one process per role:
    HANDMADE_ROLE=preprocess|model|postprocess|echo  HANDMADE_MODEL_DIR=<workload dir>
    HANDMADE_ROLE=router  HANDMADE_STAGES=http://127.0.0.1:P1,http://127.0.0.1:P2,...
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import flask

ROLE = os.environ["HANDMADE_ROLE"]
app = flask.Flask(__name__)


@app.route("/ping", methods=["GET"])
def ping() -> flask.Response:
    return flask.Response(status=200)


def _csv(frame: object) -> flask.Response:
    import pandas as pd

    out = io.StringIO()
    pd.DataFrame(frame).to_csv(out, header=False, index=False)
    return flask.Response(out.getvalue(), mimetype="text/csv")


if ROLE == "router":
    import urllib3

    STAGES = os.environ["HANDMADE_STAGES"].split(",")
    POOL = urllib3.PoolManager(maxsize=4)

    @app.route("/invocations", methods=["POST"])
    def invocations() -> flask.Response:
        body, content_type = flask.request.get_data(), flask.request.content_type or "text/csv"
        for stage in STAGES:
            answer = POOL.request(
                "POST",
                f"{stage}/invocations",
                body=body,
                headers={"Content-Type": content_type},
                retries=False,
            )
            if answer.status != 200:
                return flask.Response(answer.data, status=answer.status)
            body = answer.data
            content_type = answer.headers.get("Content-Type", "text/csv")
        return flask.Response(body, content_type=content_type)

elif ROLE == "echo":

    @app.route("/invocations", methods=["POST"])
    def invocations() -> flask.Response:
        return flask.Response(flask.request.get_data(), mimetype="text/csv")

else:
    import joblib
    import pandas as pd

    FOLDER = Path(os.environ["HANDMADE_MODEL_DIR"])
    if ROLE == "preprocess":
        MODEL = joblib.load(FOLDER / "preprocess" / "model.joblib")
        NAMES = [
            c["name"]
            for c in json.loads((FOLDER / "preprocess" / "schema.json").read_text())["input"]
        ]

        @app.route("/invocations", methods=["POST"])
        def invocations() -> flask.Response:
            text = flask.request.get_data().decode()
            frame = pd.read_csv(io.StringIO(text), header=None, names=NAMES)
            return _csv(MODEL.transform(frame))

    elif ROLE == "model":
        MODEL = joblib.load(FOLDER / "model" / "model.joblib")

        @app.route("/invocations", methods=["POST"])
        def invocations() -> flask.Response:
            text = flask.request.get_data().decode()
            frame = pd.read_csv(io.StringIO(text), header=None)
            return _csv(MODEL.predict(frame.to_numpy()))

    else:

        @app.route("/invocations", methods=["POST"])
        def invocations() -> flask.Response:
            text = flask.request.get_data().decode()
            return _csv(pd.read_csv(io.StringIO(text), header=None).round(3))
