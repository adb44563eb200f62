"""Gradient-boosted trees as plain JSON data, evaluated without scikit-learn.

The shipped cost model must load fast and must never unpickle anything (DESIGN
§6): a fitted `HistGradientBoostingRegressor` is exported node by node (feature
index, numeric threshold, children, leaf flag, value, where missing values go)
with its baseline prediction, and evaluated here exactly as scikit-learn does:
`raw = baseline + sum(tree values)`, going left when `x <= threshold` and, for NaN,
when `missing_go_to_left`.

Serialised form of an ensemble: all trees' nodes concatenated into seven flat
lists plus the offset of each tree's root (`offsets`), children indexed within
their tree. Loading converts and validates the packed lists in one pass and
also builds each tree as nested tuples, so a single prediction (`predict_one`,
a pure-Python walk: one tuple unpacking per level, as `check` needs for each
finding) needs neither numpy nor scikit-learn; batch prediction (`predict`) uses
numpy. Both add the trees' values in the same order, so they agree to the bit.
Only `from_sklearn` touches scikit-learn objects, and only their attributes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import numpy as np

#: the per-node fields of the serialised form
FIELDS = ("feature", "threshold", "left", "right", "leaf", "value", "missing_left")

#: a tree as nested tuples: `(feature, threshold, left, right)` for a split, the value for a leaf
NestedNode: TypeAlias = "tuple[int, float, NestedNode, NestedNode] | float"


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

    def validate(self, n_features: int | None = None) -> None:
        """Raise ValueError unless the lists describe a well-formed tree (see `nested`)."""
        self.nested(n_features)

    def nested(self, n_features: int | None = None) -> NestedNode:
        """The tree as nested tuples (`NestedNode`), the fast form of `Ensemble.predict_one`.

        Built and checked in one pass, so loading a model walks each node once: every
        split's children must come after it and inside the tree (so walks end), and
        its feature index must be non-negative and, with `n_features`, below it;
        otherwise ValueError. Missing values are not represented: rows with NaN use `predict_one`.
        """
        n = len(self.leaf)
        if n == 0 or any(len(getattr(self, f)) != n for f in FIELDS):
            raise ValueError("malformed tree: fields of different lengths")
        feature, threshold, left, right, leaf, value = (
            self.feature,
            self.threshold,
            self.left,
            self.right,
            self.leaf,
            self.value,
        )
        limit = math.inf if n_features is None else n_features
        built: list[Any] = [None] * n
        for i in range(n - 1, -1, -1):  # children come after their parent
            if leaf[i]:
                built[i] = value[i]
                continue
            lo, hi, f = left[i], right[i], feature[i]
            if not (i < lo < n and i < hi < n):
                child = hi if i < lo < n else lo
                raise ValueError(f"malformed tree: node {i} has child {child}")
            if not (0 <= f < limit):
                raise ValueError(f"malformed tree: node {i} splits on feature {f} (out of range)")
            built[i] = (f, threshold[i], built[lo], built[hi])
        return built[0]  # type: ignore[no-any-return]

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
            tree = cls(**_converted(data))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed tree: {exc}") from None
        tree.validate()
        return tree


#: how each serialised field is read back (JSON stores the booleans as 0/1)
_CONVERT: dict[str, type] = {
    "feature": int,
    "threshold": float,
    "left": int,
    "right": int,
    "leaf": bool,
    "value": float,
    "missing_left": bool,
}


def _converted(data: Mapping[str, Sequence[Any]], stop: int | None = None) -> dict[str, list[Any]]:
    """Each field of `data` (its first `stop` items) converted to its Python type."""
    return {f: list(map(_CONVERT[f], data[f][:stop])) for f in FIELDS}


@dataclass(frozen=True)
class Ensemble:
    """A boosted ensemble: baseline + sum of trees (identity link, regression)."""

    baseline: float
    trees: tuple[Tree, ...]
    n_features: int
    #: each tree as nested tuples, built once (the fast form of `predict_one`)
    nested: tuple[NestedNode, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Build (and so validate) each tree's nested form; malformed trees raise ValueError."""
        nested = tuple(tree.nested(self.n_features) for tree in self.trees)
        object.__setattr__(self, "nested", nested)

    def predict_one(self, x: Sequence[float]) -> float:
        """Prediction for one sample (pure Python), summed in the trees' order."""
        if len(x) != self.n_features:
            raise ValueError(f"expected {self.n_features} features, got {len(x)}")
        values = [float(v) for v in x]
        total = self.baseline
        if any(map(math.isnan, values)):  # missing values take each node's learned side
            for tree in self.trees:
                total += tree.predict_one(values)
            return total
        for node in self.nested:
            while type(node) is tuple:
                feature, threshold, left, right = node
                node = left if values[feature] <= threshold else right
            total += node
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
            packed = _converted(nodes, total)  # each list converted once, not per tree
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed ensemble: {exc}") from None
        bounds = [*offsets, total]
        trees: list[Tree] = []
        for start, end in zip(bounds[:-1], bounds[1:], strict=True):
            if not 0 <= start < end <= total:
                raise ValueError("malformed ensemble: bad tree offsets")
            trees.append(Tree(**{f: packed[f][start:end] for f in FIELDS}))
        return cls(baseline=baseline, trees=tuple(trees), n_features=n_features)  # validates


def averaged(members: Sequence[Ensemble]) -> Ensemble:
    """One ensemble that predicts the mean of `members` (a bagged model).

    Every member's trees are kept with their values divided by the number of
    members, and the baselines are averaged, so the result is evaluated, stored
    and loaded like any single ensemble (the model format does not change).
    """
    if not members:
        raise ValueError("averaging needs at least one ensemble")
    n_features = members[0].n_features
    if any(m.n_features != n_features for m in members):
        raise ValueError("averaged ensembles must have the same number of features")
    share = 1.0 / len(members)
    trees = tuple(
        Tree(
            feature=tree.feature,
            threshold=tree.threshold,
            left=tree.left,
            right=tree.right,
            leaf=tree.leaf,
            value=[v * share for v in tree.value],
            missing_left=tree.missing_left,
        )
        for member in members
        for tree in member.trees
    )
    baseline = math.fsum(m.baseline for m in members) * share
    return Ensemble(baseline=baseline, trees=trees, n_features=n_features)


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
