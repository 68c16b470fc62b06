"""A featurizer serving script in the style of AWS's published (older) pipeline example."""

import json
import os
from io import StringIO

import joblib
import pandas as pd
from sagemaker_containers.beta.framework import content_types, encoders, worker

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


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(input_data, content_type):
    if content_type == content_types.CSV:
        frame = pd.read_csv(StringIO(input_data), header=None)
        frame.columns = FEATURES
        return frame
    raise ValueError(f"{content_type} not supported by script!")


def predict_fn(input_data, model):
    return model.transform(input_data)


def output_fn(prediction, accept):
    if accept == "application/json":
        instances = [{"features": row} for row in prediction.tolist()]
        return worker.Response(json.dumps({"instances": instances}), mimetype=accept)
    if accept == "text/csv":
        return worker.Response(encoders.encode(prediction, accept), mimetype=accept)
    raise RuntimeError(f"{accept} accept type is not supported by this script.")
