"""Gradient-boosted trees as plain JSON data, evaluated without scikit-learn.

The shipped cost model must load fast and must never unpickle anything (DESIGN
§6): a fitted `HistGradientBoostingRegressor` is exported node by node (feature
index, numeric threshold, children, leaf flag, value, where missing values go)
with its baseline prediction, and evaluated here exactly as scikit-learn does:
`raw = baseline + sum(tree values)`, going left when `x <= threshold` and, for NaN,
when `missing_go_to_left`.

Serialised form of an ensemble: all trees' nodes concatenated into seven flat
lists plus the offset of each tree's root (`offsets`), children indexed within
their tree. Loading keeps the plain lists and validates them in one pass, so a
single prediction (`predict_one`, a pure-Python walk) needs neither numpy nor
scikit-learn; batch prediction (`predict`) uses numpy. Only `from_sklearn`
touches scikit-learn objects, and only their attributes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

#: the per-node fields of the serialised form
FIELDS = ("feature", "threshold", "left", "right", "leaf", "value", "missing_left")


@dataclass(frozen=True)
class Tree:
    """One regression tree in flat lists (node 0 is the root, children after parents)."""

    feature: list[int]
    threshold: list[float]
    left: list[int]
    right: list[int]
    leaf: list[bool]
    value: list[float]
    missing_left: list[bool]

    def validate(self) -> None:
        """Raise ValueError unless the lists describe a well-formed tree."""
        n = len(self.leaf)
        if n == 0 or any(len(getattr(self, f)) != n for f in FIELDS):
            raise ValueError("malformed tree: fields of different lengths")
        for i in range(n):
            if not self.leaf[i]:
                for child in (self.left[i], self.right[i]):
                    if not (i < child < n):
                        raise ValueError(f"malformed tree: node {i} has child {child}")

    def predict_one(self, x: Sequence[float]) -> float:
        """Leaf value for one sample."""
        i = 0
        leaf, feature, threshold = self.leaf, self.feature, self.threshold
        while not leaf[i]:
            v = x[feature[i]]
            if v != v:  # NaN
                i = self.left[i] if self.missing_left[i] else self.right[i]
            elif v <= threshold[i]:
                i = self.left[i]
            else:
                i = self.right[i]
        return self.value[i]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Leaf values for each row of `x` (shape (n, n_features)), vectorised."""
        import numpy as np

        feature = np.asarray(self.feature, dtype=np.int64)
        threshold = np.asarray(self.threshold, dtype=np.float64)
        left = np.asarray(self.left, dtype=np.int64)
        right = np.asarray(self.right, dtype=np.int64)
        leaf = np.asarray(self.leaf, dtype=bool)
        missing_left = np.asarray(self.missing_left, dtype=bool)
        node = np.zeros(x.shape[0], dtype=np.int64)
        rows = np.arange(x.shape[0])
        while True:
            is_leaf = leaf[node]
            if is_leaf.all():
                break
            vals = x[rows, feature[node]]
            go_left = np.where(np.isnan(vals), missing_left[node], vals <= threshold[node])
            node = np.where(is_leaf, node, np.where(go_left, left[node], right[node]))
        return np.asarray(self.value, dtype=np.float64)[node]

    def to_dict(self) -> dict[str, list[Any]]:
        """JSON-ready lists (booleans as 0/1)."""
        return {
            "feature": list(self.feature),
            "threshold": list(self.threshold),
            "left": list(self.left),
            "right": list(self.right),
            "leaf": [int(b) for b in self.leaf],
            "value": list(self.value),
            "missing_left": [int(b) for b in self.missing_left],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Sequence[Any]]) -> Tree:
        """Rebuild and validate a tree from `to_dict` output."""
        try:
            tree = cls(
                feature=[int(v) for v in data["feature"]],
                threshold=[float(v) for v in data["threshold"]],
                left=[int(v) for v in data["left"]],
                right=[int(v) for v in data["right"]],
                leaf=[bool(v) for v in data["leaf"]],
                value=[float(v) for v in data["value"]],
                missing_left=[bool(v) for v in data["missing_left"]],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed tree: {exc}") from None
        tree.validate()
        return tree


@dataclass(frozen=True)
class Ensemble:
    """A boosted ensemble: baseline + sum of trees (identity link, regression)."""

    baseline: float
    trees: tuple[Tree, ...]
    n_features: int

    def predict_one(self, x: Sequence[float]) -> float:
        """Prediction for one sample (pure Python)."""
        if len(x) != self.n_features:
            raise ValueError(f"expected {self.n_features} features, got {len(x)}")
        values = [float(v) for v in x]
        total = self.baseline
        for tree in self.trees:
            total += tree.predict_one(values)
        return total

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions for each row of `x`, summed in scikit-learn's order."""
        import numpy as np

        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"expected shape (n, {self.n_features}), got {x.shape}")
        out = np.full(x.shape[0], self.baseline, dtype=np.float64)
        for tree in self.trees:
            out += tree.predict(x)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Packed JSON-ready form: flat node lists and each tree's offset."""
        packed: dict[str, list[Any]] = {f: [] for f in FIELDS}
        offsets: list[int] = []
        for tree in self.trees:
            offsets.append(len(packed["leaf"]))
            for name, values in tree.to_dict().items():
                packed[name].extend(values)
        return {
            "baseline": self.baseline,
            "n_features": self.n_features,
            "offsets": offsets,
            "nodes": packed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Ensemble:
        """Rebuild from `to_dict` output; malformed data raise ValueError."""
        try:
            nodes = data["nodes"]
            offsets = [int(o) for o in data["offsets"]]
            total = len(nodes["leaf"])
            n_features = int(data["n_features"])
            baseline = float(data["baseline"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed ensemble: {exc}") from None
        bounds = [*offsets, total]
        trees: list[Tree] = []
        for start, end in zip(bounds[:-1], bounds[1:], strict=True):
            if not 0 <= start < end <= total:
                raise ValueError("malformed ensemble: bad tree offsets")
            tree = Tree.from_dict({f: nodes[f][start:end] for f in FIELDS})
            if any(
                not (0 <= f < n_features)
                for f, lf in zip(tree.feature, tree.leaf, strict=True)
                if not lf
            ):
                raise ValueError("malformed ensemble: feature index out of range")
            trees.append(tree)
        return cls(baseline=baseline, trees=tuple(trees), n_features=n_features)


def from_sklearn(estimator: Any) -> Ensemble:
    """Export a fitted single-output `HistGradientBoostingRegressor` (numeric features only)."""
    import numpy as np

    if getattr(estimator, "n_trees_per_iteration_", 1) != 1:
        raise ValueError("only single-output regressors can be exported")
    if getattr(estimator, "is_categorical_", None) is not None and np.any(
        estimator.is_categorical_
    ):
        raise ValueError("categorical features are not supported by the JSON evaluator")
    trees: list[Tree] = []
    for iteration in estimator._predictors:
        nodes = iteration[0].nodes
        trees.append(
            Tree(
                feature=nodes["feature_idx"].astype(np.int64).tolist(),
                threshold=nodes["num_threshold"].astype(np.float64).tolist(),
                left=nodes["left"].astype(np.int64).tolist(),
                right=nodes["right"].astype(np.int64).tolist(),
                leaf=nodes["is_leaf"].astype(bool).tolist(),
                value=nodes["value"].astype(np.float64).tolist(),
                missing_left=nodes["missing_go_to_left"].astype(bool).tolist(),
            )
        )
    baseline = float(np.asarray(estimator._baseline_prediction).ravel()[0])
    return Ensemble(baseline=baseline, trees=tuple(trees), n_features=int(estimator.n_features_in_))
