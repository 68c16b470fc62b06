"""A featurizer serving script in the style of AWS's newer scikit-learn pipeline example."""

import json
import os
from io import StringIO

import flask
import joblib
import numpy as np
import pandas as pd
from sagemaker_inference import content_types
from sagemaker_inference.encoder import encode

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
LABEL = "rings"


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(input_data, content_type):
    if content_type != content_types.CSV:
        raise ValueError(f"{content_type} not supported by script!")
    frame = pd.read_csv(StringIO(input_data), header=None)
    frame.columns = [*FEATURES, LABEL] if len(frame.columns) == len(FEATURES) + 1 else FEATURES
    return frame


def predict_fn(input_data, model):
    features = model.transform(input_data)
    if LABEL in input_data:
        return np.insert(features, 0, input_data[LABEL], axis=1)
    return features


def output_fn(prediction, accept):
    if accept == "application/json":
        document = {"instances": [{"features": row} for row in prediction.tolist()]}
        return flask.Response(response=json.dumps(document), mimetype=accept)
    if accept == "text/csv":
        return flask.Response(response=encode(prediction, accept), mimetype=accept)
    raise RuntimeError(f"{accept} accept type is not supported by this script.")
