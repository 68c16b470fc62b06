"""MLeap nodes for the model ops: linear and logistic regression, and tree models.

Trees go to `tree.json` (one node per line, pre-order); forests and GBTs keep each
tree in its own folder. Classifier leaves carry class counts, GBT trees (regression
trees) their predictions.
"""

from __future__ import annotations

import json
from typing import Any

from inferpipe.transformers.sparkml import ops_linear as lin
from inferpipe.transformers.sparkml import ops_trees as trees
from inferpipe.transformers.sparkml.mleap_nodes import (
    NodeSpec,
    Seen,
    double_value,
    list_value,
    long_value,
    model_ports,
    tensor_value,
)


def tree_lines(tree: trees.Tree, classifier: bool) -> bytes:
    lines: list[str] = []

    def visit(node: int) -> None:
        if tree.left[node] < 0:
            values = tree.stats[node].tolist() if classifier else [float(tree.prediction[node])]
            lines.append(json.dumps({"type": "leaf", "values": values}))
            return
        chosen = tree.left_categories[node]
        right = tree.right_categories[node] if tree.right_categories else None
        if chosen is not None:
            split = {
                "type": "categorical",
                "featureIndex": int(tree.feature[node]),
                "isLeft": right is None,
                "numCategories": len(chosen | right)
                if right is not None
                else int(max(chosen, default=0)) + 1,
                "categories": sorted(chosen if right is None else right),
            }
        else:
            split = {
                "type": "continuous",
                "featureIndex": int(tree.feature[node]),
                "threshold": float(tree.threshold[node]),
            }
        lines.append(json.dumps({"type": "internal", "split": split}))
        visit(int(tree.left[node]))
        visit(int(tree.right[node]))

    visit(0)
    return ("\n".join(lines) + "\n").encode()


TREE_OPS = {
    "decision_tree_regression": ("decision_tree_regression", None),
    "decision_tree_classification": ("decision_tree_classifier", None),
    "random_forest_regression": ("random_forest_regression", "decision_tree_regression"),
    "random_forest_classification": ("random_forest_classifier", "decision_tree_classifier"),
    "gbt_regression": ("gbt_regression", "decision_tree_regression"),
    "gbt_classification": ("gbt_classifier", "decision_tree_regression"),
}


def tree_model(op: trees.TreeEnsemble) -> list[NodeSpec]:
    name, tree_op = TREE_OPS[op.kind]
    classifier = op.kind.endswith("classification")
    leaf_stats = op.kind in ("decision_tree_classification", "random_forest_classification")
    classes = int(op.trees[0].stats.shape[1]) if leaf_stats else 2
    attributes: dict[str, Any] = {"num_features": long_value(op.num_features)}
    if classifier:
        attributes["num_classes"] = long_value(classes)
        if op.thresholds:
            attributes["thresholds"] = list_value("double", list(op.thresholds))
    files: dict[str, bytes] = {}
    if tree_op is None:
        files["tree.json"] = tree_lines(op.trees[0], leaf_stats)
    else:
        names = [f"tree{i}" for i in range(len(op.trees))]
        attributes["trees"] = list_value("string", names)
        attributes["tree_weights"] = list_value("double", [float(w) for w in op.weights])
        for tree_name, tree in zip(names, op.trees, strict=True):
            tree_attributes: dict[str, Any] = {"num_features": long_value(op.num_features)}
            if tree_op == "decision_tree_classifier":
                tree_attributes["num_classes"] = long_value(classes)
            files[f"{tree_name}/model.json"] = json.dumps(
                {"op": tree_op, "attributes": tree_attributes}
            ).encode()
            files[f"{tree_name}/tree.json"] = tree_lines(tree, leaf_stats)
    return [
        NodeSpec(
            op.uid,
            name,
            attributes,
            [("features", op.inputs[0])],
            model_ports(op, op.names),
            files,
        )
    ]


def logistic(op: lin.LogisticRegression) -> list[NodeSpec]:
    if op.multinomial:
        attributes: dict[str, Any] = {
            "coefficient_matrix": tensor_value(op.coefficients),
            "intercept_vector": tensor_value(op.intercepts),
            "num_classes": long_value(op.coefficients.shape[0]),
        }
    else:
        attributes = {
            "coefficients": tensor_value(op.coefficients[0]),
            "intercept": double_value(float(op.intercepts[0])),
            "num_classes": long_value(2),
            "threshold": double_value(op.threshold),
        }
    if op.thresholds:
        attributes["thresholds"] = list_value("double", list(op.thresholds))
    return [
        NodeSpec(
            op.uid,
            "logistic_regression",
            attributes,
            [("features", op.inputs[0])],
            model_ports(op, op.names),
        )
    ]


def linear(op: lin.LinearRegression, seen: list[Seen]) -> list[NodeSpec]:
    attributes = {
        "coefficients": tensor_value(op.coefficients),
        "intercept": double_value(op.intercept),
    }
    ports = [("features", op.inputs[0])]
    return [NodeSpec(op.uid, "linear_regression", attributes, ports, model_ports(op, op.names))]
