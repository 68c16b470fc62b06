"""Bring-your-own-model style: only model_fn; SageMaker's defaults do the rest."""

import os

import joblib


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))
