"""Tree models: DecisionTree, RandomForest and GBT, for classification and regression.

A tree is flat arrays (feature, threshold, children, leaf values) walked for all rows
at once, one level per step. Continuous splits go left when `x <= threshold` (NaN goes
right); categorical splits go left when x is one of the left categories, except where
Spark keeps the right categories instead (more than half go left: `isLeft` false), and
then a category the fit never saw goes left. Ensembles
combine trees as Spark does: forests average predictions or sum normalised class
votes, GBTs sum weighted predictions and map the margin through the logistic loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from inferpipe.transformers.sparkml.columns import Frame, dense
from inferpipe.transformers.sparkml.op import Op
from inferpipe.transformers.sparkml.ops_linear import (
    ModelOutputs,
    add_outputs,
    features_of,
    predict_from_probability,
)


@dataclass
class Tree:
    """Nodes 0..n-1, root 0; `left[i] < 0` marks a leaf."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    #: For categorical nodes: the categories that go left (None for continuous nodes).
    left_categories: list[frozenset[float] | None]
    #: Leaf prediction, and leaf class statistics (rows x classes; empty for regression).
    prediction: np.ndarray
    stats: np.ndarray
    #: Per node, the right categories where Spark matches those (None elsewhere): such a
    #: node sends a value left unless it is one of them, so an unseen category goes left.
    right_categories: list[frozenset[float] | None] | None = None

    def __post_init__(self) -> None:
        # Categorical nodes, their categories as arrays and whether a match goes left.
        rights = self.right_categories or [None] * len(self.left_categories)
        self._categorical = [
            (i, np.fromiter(sorted(c if r is None else r), dtype=np.float64), r is None)
            for i, (c, r) in enumerate(zip(self.left_categories, rights, strict=True))
            if c is not None
        ]

    def leaves(self, features: np.ndarray) -> np.ndarray:
        """The leaf each row lands in."""
        node = np.zeros(features.shape[0], dtype=np.int64)
        rows = np.arange(features.shape[0])
        while True:
            active = self.left[node] >= 0
            if not active.any():
                return node
            at = node[active]
            values = features[rows[active], self.feature[at]]
            go_left = values <= self.threshold[at]
            for index, wanted, match_goes_left in self._categorical:
                here = at == index
                if here.any():
                    matched = np.isin(values[here], wanted)
                    go_left[here] = matched if match_goes_left else ~matched
            node[active] = np.where(go_left, self.left[at], self.right[at])


def _normalised(stats: np.ndarray) -> np.ndarray:
    total = stats.sum(axis=1, keepdims=True)
    return np.where(total != 0, stats / np.where(total != 0, total, 1.0), 0.0)


@dataclass
class TreeEnsemble(Op):
    """Every tree model; `kind` picks the combination rule."""

    #: decision_tree_regression, decision_tree_classification, random_forest_regression,
    #: random_forest_classification, gbt_regression, gbt_classification
    kind: str = "decision_tree_regression"
    trees: list[Tree] = field(default_factory=list)
    weights: np.ndarray = field(default_factory=lambda: np.ones(0))
    num_features: int = 0
    thresholds: list[float] | None = None
    names: ModelOutputs = field(default_factory=ModelOutputs)
    label = "tree model"

    def _classify(self, raw: np.ndarray, probability: np.ndarray) -> np.ndarray:
        if self.thresholds:
            return predict_from_probability(probability, self.thresholds)
        return np.argmax(raw, axis=1).astype(np.float64)

    def apply(self, frame: Frame) -> Frame:
        features = dense(features_of(self, frame, self.num_features))
        leaves = [tree.leaves(features) for tree in self.trees]
        if self.kind.endswith("regression"):
            predictions = np.column_stack(
                [tree.prediction[leaf] for tree, leaf in zip(self.trees, leaves, strict=True)]
            )
            if self.kind.startswith("gbt"):
                prediction = predictions @ self.weights
            else:
                prediction = predictions.sum(axis=1) / len(self.trees)
            return add_outputs(frame, self.names, prediction)
        if self.kind.startswith("gbt"):
            predictions = np.column_stack(
                [tree.prediction[leaf] for tree, leaf in zip(self.trees, leaves, strict=True)]
            )
            margin = predictions @ self.weights
            raw = np.column_stack([-margin, margin])
            p0 = 1.0 / (1.0 + np.exp(2.0 * margin))
            probability = np.column_stack([p0, 1.0 - p0])
        elif self.kind.startswith("random_forest"):
            raw = sum(
                _normalised(tree.stats[leaf]) for tree, leaf in zip(self.trees, leaves, strict=True)
            )
            probability = _normalised(raw)
        else:
            raw = self.trees[0].stats[leaves[0]].copy()
            probability = _normalised(raw)
        return add_outputs(frame, self.names, self._classify(raw, probability), raw, probability)
