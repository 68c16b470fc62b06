"""Decision-tree ensembles as flat node arrays, walked for every row and tree at once.

All trees of an ensemble share one set of node arrays (a tree's nodes are offset by
its root index); a leaf points to itself, so walking `depth` levels lands every row in
its leaf in every tree without per-tree Python loops. A split sends a row left when
`x <= threshold`, and a missing value (NaN) the way the node's `nan_left` says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class Forest:
    """Node arrays of one or more trees; `roots[t]` is tree t's first node."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    nan_left: np.ndarray
    roots: np.ndarray
    depth: int

    def __post_init__(self) -> None:
        # Without a NaN-left node a NaN goes right by the comparison alone: skip isnan.
        self._any_nan_left = bool(self.nan_left.any())

    def leaves(self, features: np.ndarray) -> np.ndarray:
        """The leaf node (global index) of every row in every tree: rows x trees."""
        rows, width = features.shape
        flat = np.ascontiguousarray(features).ravel()
        offsets = (np.arange(rows, dtype=np.int64) * width)[:, None]
        node = np.repeat(self.roots[None, :], rows, axis=0)
        for _ in range(self.depth):
            values = flat.take(offsets + self.feature.take(node))
            go_left = values <= self.threshold.take(node)
            if self._any_nan_left:
                go_left |= np.isnan(values) & self.nan_left.take(node)
            node = np.where(go_left, self.left.take(node), self.right.take(node))
        return node


@dataclass(frozen=True)
class TreeNodes:
    """One tree as parallel arrays; a negative child marks a leaf."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    nan_left: np.ndarray


def _depth(left: np.ndarray, right: np.ndarray) -> int:
    """Levels below the root (node 0) of its deepest leaf."""
    deepest, pending = 0, [(0, 0)]
    while pending:
        node, level = pending.pop()
        if left[node] >= 0:
            pending += [(int(left[node]), level + 1), (int(right[node]), level + 1)]
        else:
            deepest = max(deepest, level)
    return deepest


def stack_trees(trees: Sequence[TreeNodes]) -> Forest:
    """Join trees into one Forest: children offset by each tree's start, leaves self-loop."""
    features, thresholds, lefts, rights, nan_lefts, roots = [], [], [], [], [], []
    start, depth = 0, 0
    for tree in trees:
        count = len(tree.feature)
        index = np.arange(count, dtype=np.int64)
        leaf = tree.left < 0
        lefts.append(np.where(leaf, index, tree.left).astype(np.int64) + start)
        rights.append(np.where(leaf, index, tree.right).astype(np.int64) + start)
        features.append(np.where(leaf, 0, tree.feature).astype(np.int64))
        thresholds.append(np.where(leaf, 0.0, tree.threshold).astype(np.float64))
        nan_lefts.append(np.asarray(tree.nan_left, dtype=bool) & ~leaf)
        roots.append(start)
        depth = max(depth, _depth(tree.left, tree.right))
        start += count
    return Forest(
        np.concatenate(features),
        np.concatenate(thresholds),
        np.concatenate(lefts),
        np.concatenate(rights),
        np.concatenate(nan_lefts),
        np.asarray(roots, dtype=np.int64),
        depth,
    )


def sequential_sum(initial: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """initial + terms[:, 0] + terms[:, 1] + ..., added left to right as a loop would.

    Boosting libraries add tree outputs one at a time; `cumsum` keeps that order (a
    plain `sum` pairs terms differently and can differ in the last bit)."""
    stacked = np.concatenate([np.broadcast_to(initial, (terms.shape[0], 1)), terms], axis=1)
    return np.cumsum(stacked, axis=1)[:, -1]
