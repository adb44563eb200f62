"""Gradient-boosted trees as plain JSON data, evaluated with numpy (no scikit-learn).

The shipped cost model must load fast and must never unpickle anything (DESIGN
§6): a fitted `HistGradientBoostingRegressor` is exported node by node (feature
index, numeric threshold, children, leaf flag, value, where missing values go)
with its baseline prediction, and evaluated here exactly as scikit-learn does:
`raw = baseline + sum(tree values)`, going left when `x <= threshold` and for NaN
when `missing_go_to_left`. Only `to_json` touches scikit-learn objects, and only
their attributes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Tree:
    """One regression tree in flat arrays (node 0 is the root)."""

    feature: np.ndarray  # int64, per node
    threshold: np.ndarray  # float64
    left: np.ndarray  # int64
    right: np.ndarray  # int64
    leaf: np.ndarray  # bool
    value: np.ndarray  # float64
    missing_left: np.ndarray  # bool

    @property
    def depth(self) -> int:
        """Number of decisions on the longest root-to-leaf path."""
        depth = np.zeros(len(self.leaf), dtype=np.int64)
        best = 0
        for i in range(len(self.leaf)):  # children always come after their parent
            if not self.leaf[i]:
                for child in (self.left[i], self.right[i]):
                    depth[child] = depth[i] + 1
                    best = max(best, int(depth[child]))
        return best

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Leaf values for each row of `x` (shape (n, n_features))."""
        n = x.shape[0]
        node = np.zeros(n, dtype=np.int64)
        rows = np.arange(n)
        for _ in range(self.depth + 1):
            is_leaf = self.leaf[node]
            if is_leaf.all():
                break
            vals = x[rows, self.feature[node]]
            go_left = np.where(
                np.isnan(vals), self.missing_left[node], vals <= self.threshold[node]
            )
            nxt = np.where(go_left, self.left[node], self.right[node])
            node = np.where(is_leaf, node, nxt)
        return self.value[node]

    def predict_one(self, x: Sequence[float]) -> float:
        """Leaf value for one sample (pure Python walk, for single predictions)."""
        i = 0
        leaf, feature, threshold = self.leaf, self.feature, self.threshold
        while not leaf[i]:
            v = x[int(feature[i])]
            if v != v:  # NaN
                i = int(self.left[i] if self.missing_left[i] else self.right[i])
            elif v <= threshold[i]:
                i = int(self.left[i])
            else:
                i = int(self.right[i])
        return float(self.value[i])

    def to_dict(self) -> dict[str, list[Any]]:
        """JSON-ready lists."""
        return {
            "feature": self.feature.tolist(),
            "threshold": self.threshold.tolist(),
            "left": self.left.tolist(),
            "right": self.right.tolist(),
            "leaf": self.leaf.astype(int).tolist(),
            "value": self.value.tolist(),
            "missing_left": self.missing_left.astype(int).tolist(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Sequence[Any]]) -> Tree:
        """Rebuild a tree from `to_dict` output, validating its structure."""
        tree = cls(
            feature=np.asarray(data["feature"], dtype=np.int64),
            threshold=np.asarray(data["threshold"], dtype=np.float64),
            left=np.asarray(data["left"], dtype=np.int64),
            right=np.asarray(data["right"], dtype=np.int64),
            leaf=np.asarray(data["leaf"], dtype=bool),
            value=np.asarray(data["value"], dtype=np.float64),
            missing_left=np.asarray(data["missing_left"], dtype=bool),
        )
        n = len(tree.leaf)
        arrays = (
            tree.feature,
            tree.threshold,
            tree.left,
            tree.right,
            tree.value,
            tree.missing_left,
        )
        if n == 0 or any(len(a) != n for a in arrays):
            raise ValueError("malformed tree: arrays of different lengths")
        inner = ~tree.leaf
        for child in (tree.left[inner], tree.right[inner]):
            if child.size and (child.min() <= 0 or child.max() >= n):
                raise ValueError("malformed tree: child index out of range")
        if inner.any() and (np.nonzero(inner)[0] >= np.minimum(tree.left, tree.right)[inner]).any():
            raise ValueError("malformed tree: a child precedes its parent")
        return tree


@dataclass(frozen=True)
class Ensemble:
    """A boosted ensemble: baseline + sum of trees (identity link, regression)."""

    baseline: float
    trees: tuple[Tree, ...]
    n_features: int

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions for each row of `x`, summed in scikit-learn's order."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"expected shape (n, {self.n_features}), got {x.shape}")
        out = np.full(x.shape[0], self.baseline, dtype=np.float64)
        for tree in self.trees:
            out += tree.predict(x)
        return out

    def predict_one(self, x: Sequence[float]) -> float:
        """Prediction for one sample."""
        if len(x) != self.n_features:
            raise ValueError(f"expected {self.n_features} features, got {len(x)}")
        total = self.baseline
        for tree in self.trees:
            total += tree.predict_one(x)
        return total

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "baseline": self.baseline,
            "n_features": self.n_features,
            "trees": [t.to_dict() for t in self.trees],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Ensemble:
        """Rebuild from `to_dict` output."""
        return cls(
            baseline=float(data["baseline"]),
            trees=tuple(Tree.from_dict(t) for t in data["trees"]),
            n_features=int(data["n_features"]),
        )


def from_sklearn(estimator: Any) -> Ensemble:
    """Export a fitted single-output `HistGradientBoostingRegressor` (numeric features only)."""
    if getattr(estimator, "n_trees_per_iteration_", 1) != 1:
        raise ValueError("only single-output regressors can be exported")
    if getattr(estimator, "is_categorical_", None) is not None and np.any(
        estimator.is_categorical_
    ):
        raise ValueError("categorical features are not supported by the JSON evaluator")
    trees: list[Tree] = []
    for iteration in estimator._predictors:
        predictor = iteration[0]
        nodes = predictor.nodes
        trees.append(
            Tree(
                feature=nodes["feature_idx"].astype(np.int64),
                threshold=nodes["num_threshold"].astype(np.float64),
                left=nodes["left"].astype(np.int64),
                right=nodes["right"].astype(np.int64),
                leaf=nodes["is_leaf"].astype(bool),
                value=nodes["value"].astype(np.float64),
                missing_left=nodes["missing_go_to_left"].astype(bool),
            )
        )
    baseline = float(np.asarray(estimator._baseline_prediction).ravel()[0])
    return Ensemble(baseline=baseline, trees=tuple(trees), n_features=int(estimator.n_features_in_))
