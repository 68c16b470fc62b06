"""Linear models: LinearRegression and LogisticRegression (binary and multinomial).

Binary logistic regression predicts from the margin against log(t/(1-t)) (or from
probability[1] against t when `thresholds` are set), and gives probability[0] =
1/(1+exp(margin)), probability[1] = 1 - probability[0]; multinomial uses Spark's
overflow-safe softmax and `thresholds` scaling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from inferpipe.transformers.sparkml.columns import VECTOR, Frame, double_column, vector_column
from inferpipe.transformers.sparkml.op import Op


def features_of(op: Op, frame: Frame, expected: int) -> object:
    column = op.column(frame)
    if column.kind != VECTOR:
        raise op.fail(f"column {op.inputs[0]!r} must hold feature vectors")
    if column.values.shape[1] != expected:
        raise op.fail(
            f"feature vectors have size {column.values.shape[1]}; the model expects {expected}"
        )
    if column.nulls is not None and column.nulls.any():
        raise op.fail(f"record {int(np.flatnonzero(column.nulls)[0]) + 1}: features are null")
    return column.values


@dataclass
class ModelOutputs:
    """Output column names; an empty name means Spark does not produce that column."""

    prediction: str = "prediction"
    raw_prediction: str = ""
    probability: str = ""


def add_outputs(
    frame: Frame,
    names: ModelOutputs,
    prediction: np.ndarray,
    raw: np.ndarray | None = None,
    probability: np.ndarray | None = None,
) -> Frame:
    if names.raw_prediction and raw is not None:
        frame = frame.with_column(names.raw_prediction, vector_column(raw))
    if names.probability and probability is not None:
        frame = frame.with_column(names.probability, vector_column(probability))
    if names.prediction:
        frame = frame.with_column(
            names.prediction, double_column(prediction, integral=raw is not None)
        )
    return frame


def predict_from_probability(probability: np.ndarray, thresholds: list[float]) -> np.ndarray:
    """Spark's probability2prediction with thresholds: argmax of p / t (first wins)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = probability / np.asarray(thresholds)
    scaled = np.where(np.isnan(scaled), -np.inf, scaled)
    return np.argmax(scaled, axis=1).astype(np.float64)


@dataclass
class LinearRegression(Op):
    coefficients: np.ndarray = field(default_factory=lambda: np.zeros(0))
    intercept: float = 0.0
    names: ModelOutputs = field(default_factory=ModelOutputs)
    label = "LinearRegressionModel"

    def apply(self, frame: Frame) -> Frame:
        features = features_of(self, frame, self.coefficients.size)
        prediction = np.asarray(features @ self.coefficients).reshape(-1) + self.intercept
        return add_outputs(frame, self.names, prediction)


@dataclass
class LogisticRegression(Op):
    #: numClasses x numFeatures (one row for binomial).
    coefficients: np.ndarray = field(default_factory=lambda: np.zeros((1, 0)))
    intercepts: np.ndarray = field(default_factory=lambda: np.zeros(1))
    multinomial: bool = False
    threshold: float = 0.5
    thresholds: list[float] | None = None
    names: ModelOutputs = field(default_factory=ModelOutputs)
    label = "LogisticRegressionModel"

    def _binary(self, margin: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        raw = np.column_stack([-margin, margin])
        p0 = 1.0 / (1.0 + np.exp(margin))
        probability = np.column_stack([p0, 1.0 - p0])
        if self.thresholds:
            t = 1.0 / (1.0 + self.thresholds[0] / self.thresholds[1])
            prediction = (probability[:, 1] > t).astype(np.float64)
        else:
            t = self.threshold
            cut = -math.inf if t == 0 else math.inf if t == 1 else math.log(t / (1.0 - t))
            prediction = (margin > cut).astype(np.float64)
        return prediction, raw, probability

    def _multinomial(self, margins: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        top = margins.max(axis=1, keepdims=True)
        shifted = np.where(top > 0, margins - top, margins)
        exp = np.exp(shifted)
        probability = exp * (1.0 / exp.sum(axis=1, keepdims=True))
        infinite = np.isposinf(top[:, 0])
        if infinite.any():
            hot = np.zeros_like(margins)
            hot[np.arange(len(margins)), np.argmax(margins, axis=1)] = 1.0
            probability = np.where(infinite[:, None], hot, probability)
        if self.thresholds:
            prediction = predict_from_probability(probability, self.thresholds)
        else:
            prediction = np.argmax(margins, axis=1).astype(np.float64)
        return prediction, margins, probability

    def apply(self, frame: Frame) -> Frame:
        features = features_of(self, frame, self.coefficients.shape[1])
        margins = np.asarray(features @ self.coefficients.T) + self.intercepts
        if self.multinomial:
            prediction, raw, probability = self._multinomial(margins)
        else:
            prediction, raw, probability = self._binary(margins[:, 0])
        return add_outputs(frame, self.names, prediction, raw, probability)
