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

#: Shallow forests (boosting's depth 3-8) are laid out as perfect binary trees, where a
#: node's children are 2i+1 and 2i+2: no child arrays to read on the way down.
PERFECT_MAX_DEPTH = 10


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
        self._perfect = _perfect_layout(self) if 0 < self.depth <= PERFECT_MAX_DEPTH else None

    def leaves(self, features: np.ndarray) -> np.ndarray:
        """The leaf node (global index) of every row in every tree: rows x trees."""
        if self._perfect is not None:
            return self._perfect.leaves(features)
        rows, width = features.shape
        flat = np.ascontiguousarray(features).ravel()
        offsets = (np.arange(rows, dtype=np.int64) * width)[:, None]
        node = np.repeat(self.roots[None, :], rows, axis=0)
        any_nan_left = bool(self.nan_left.any())
        for _ in range(self.depth):
            values = flat.take(offsets + self.feature.take(node))
            go_left = values <= self.threshold.take(node)
            if any_nan_left:
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


@dataclass(frozen=True)
class _PerfectForest:
    """Every tree padded to a perfect tree of the forest's depth.

    A leaf above the bottom becomes a chain of pass-through nodes (threshold +inf, NaN
    left: always left) down to the bottom level, whose slots name the original leaf."""

    feature: np.ndarray
    threshold: np.ndarray
    nan_left: np.ndarray
    leaf_node: np.ndarray
    trees: int
    depth: int

    def leaves(self, features: np.ndarray) -> np.ndarray:
        rows, width = features.shape
        flat = np.ascontiguousarray(features).ravel()
        size = 2 ** (self.depth + 1) - 1
        base = (np.arange(self.trees, dtype=np.int64) * size)[:, None]
        offsets = (np.arange(rows, dtype=np.int64) * width)[None, :]
        local = np.zeros((self.trees, rows), dtype=np.int64)
        any_nan_left = bool(self.nan_left.any())
        for _ in range(self.depth):
            node = local + base
            values = flat.take(offsets + self.feature.take(node))
            go_left = values <= self.threshold.take(node)
            if any_nan_left:
                go_left |= np.isnan(values) & self.nan_left.take(node)
            local *= 2
            local += 2 - go_left
        bottom = 2**self.depth - 1
        slots = local - bottom + (np.arange(self.trees, dtype=np.int64) * (bottom + 1))[:, None]
        return self.leaf_node.take(slots).T


def _perfect_layout(forest: Forest) -> _PerfectForest:
    trees, depth = len(forest.roots), forest.depth
    size = 2 ** (depth + 1) - 1
    feature = np.zeros(trees * size, dtype=np.int64)
    threshold = np.full(trees * size, np.inf)
    nan_left = np.ones(trees * size, dtype=bool)
    leaf_node = np.zeros(trees * 2**depth, dtype=np.int64)
    bottom = 2**depth - 1
    for tree, root in enumerate(forest.roots.tolist()):
        pending = [(root, 0)]
        while pending:
            node, slot = pending.pop()
            if slot >= bottom:
                leaf_node[tree * (bottom + 1) + slot - bottom] = node
                continue
            at = tree * size + slot
            if forest.left[node] != node:  # a split
                feature[at] = forest.feature[node]
                threshold[at] = forest.threshold[node]
                nan_left[at] = forest.nan_left[node]
                pending += [
                    (int(forest.left[node]), 2 * slot + 1),
                    (int(forest.right[node]), 2 * slot + 2),
                ]
            else:  # a leaf above the bottom: pass through on both sides
                pending += [(node, 2 * slot + 1), (node, 2 * slot + 2)]
    return _PerfectForest(feature, threshold, nan_left, leaf_node, trees, depth)
