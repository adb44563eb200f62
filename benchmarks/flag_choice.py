"""Where the cost model's top-1 regret comes from: the choice among Numba's flags.

Most groups (one kernel at one workload size) of the training table hold several
`@numba.njit` variants of the same code that differ only in their flags: plain,
`fastmath` (`fastmath={...}` or `=True`), `parallel=True` (with `numba.prange`) and both. From the
shipped table, with the model's out-of-fold predictions (GroupKFold by family),
this prints for the sized view:

* which flags won how many groups;
* the mean top-1 regret of the model, of the model's first choice with its flags
  picked by an oracle (the best measured sibling), of the model's first choice
  with fixed flags (its `fastmath` sibling, ...), and of a ranking perfect in
  everything but the flags, which it fixes to one rule (a floor for any predictor
  that cannot tell the flags apart);
* a flag classifier: for every candidate family with at least two flag variants,
  which variant wins, predicted from the table's features of its variants and
  cross-validated by family the same way, against always answering `fastmath`.
  If it does no better, the flags' winner is not predictable from the source
  across families on this table, and only measuring settles it.

    .venv/bin/python benchmarks/flag_choice.py [--data TABLE.json] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from greenopt.models.table import TrainingRow, read_table
from greenopt.models.training import cross_validate

DEFAULT_DATA = (
    Path(__file__).resolve().parents[1] / "greenopt" / "models" / "data" / "training_table.json"
)
#: flag variants, in the order used for ties and tables
MODES = ("plain", "fastmath", "parallel", "parallel+fastmath")


def flag_mode(code: str) -> str | None:
    """The Numba flags of the function's `@njit`/`@jit` decorator, or None without one."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for dec in node.decorator_list:
            call = dec if isinstance(dec, ast.Call) else None
            target = call.func if call else dec
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if name not in {"njit", "jit"}:
                continue
            flags = {
                kw.arg
                for kw in (call.keywords if call else [])
                if (isinstance(kw.value, ast.Constant) and kw.value.value is True)
                or (isinstance(kw.value, ast.Set) and kw.value.elts)  # fastmath={"reassoc", ...}
            }
            parallel, fast = "parallel" in flags, "fastmath" in flags
            if parallel and fast:
                return "parallel+fastmath"
            return "parallel" if parallel else "fastmath" if fast else "plain"
    return None


class _FlagFree(ast.NodeTransformer):
    """Drops decorators and reads `prange` / `numba.prange` as `range`."""

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.decorator_list = []
        return self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if node.attr == "prange":
            return ast.copy_location(ast.Name(id="range", ctx=node.ctx), node)
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return (
            ast.copy_location(ast.Name(id="range", ctx=node.ctx), node)
            if node.id == "prange"
            else node
        )


def flag_free(code: str) -> str:
    """The candidate's code without its decorators and with `prange` read as `range`:
    flag variants of the same rewrite have the same flag-free code."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    return ast.unparse(_FlagFree().visit(tree))


def families(rows: list[TrainingRow]) -> dict[tuple[str, str], dict[str, int]]:
    """(group, flag-free code) -> {mode: row index} for the Numba candidates of `rows`."""
    out: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for i, r in enumerate(rows):
        mode = flag_mode(r.candidate_code)
        if mode is not None:
            out[(r.group, flag_free(r.candidate_code))].setdefault(mode, i)
    return out


def regret(true: np.ndarray, chosen: int, members: list[int]) -> float:
    """Relative regret of `chosen` against the best of `members`."""
    return math.exp(true[chosen] - float(np.min(true[members]))) - 1.0


def regret_breakdown(
    rows: list[TrainingRow], pred: np.ndarray, true: np.ndarray
) -> dict[str, float]:
    """Mean top-1 regret of the model and of its first choice with other flags."""
    by_group: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_group[r.group].append(i)
    siblings: dict[int, dict[str, int]] = {}
    for members in families(rows).values():
        for i in members.values():
            siblings[i] = members
    out: dict[str, list[float]] = defaultdict(list)
    for members in by_group.values():
        if len(members) < 2:
            continue
        chosen = members[int(np.argmin(pred[members]))]
        out["model"].append(regret(true, chosen, members))
        family = siblings.get(chosen, {})
        if family:
            oracle = min(family.values(), key=lambda i: true[i])
            out["model, flags by oracle"].append(regret(true, oracle, members))
        for mode in MODES:
            pick = family.get(mode, chosen)
            out[f"model, then {mode}"].append(regret(true, pick, members))
    return {k: float(np.mean(v)) for k, v in out.items()}


def flag_blind_oracle(rows: list[TrainingRow], true: np.ndarray) -> dict[str, float]:
    """Mean top-1 regret of a ranking perfect in everything but the Numba flags, which
    it fixes to one rule (the family's `mode` variant, else `fastmath`, else plain)."""
    by_group: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_group[r.group].append(i)
    family_of: dict[int, tuple[tuple[str, str], dict[str, int]]] = {}
    for key, members in families(rows).items():
        for i in members.values():
            family_of[i] = (key, members)
    out: dict[str, float] = {}
    for mode in MODES:
        regrets = []
        for members in by_group.values():
            if len(members) < 2:
                continue
            choices: list[int] = []
            seen: set[tuple[str, str]] = set()
            for i in members:
                if i not in family_of:
                    choices.append(i)
                    continue
                key, family = family_of[i]
                if key not in seen:
                    seen.add(key)
                    fallback = family.get("fastmath", family.get("plain", i))
                    choices.append(family.get(mode, fallback))
            best_choice = min(choices, key=lambda i: true[i])
            regrets.append(regret(true, best_choice, members))
        out[f"perfect but flags fixed to {mode}"] = float(np.mean(regrets))
    return out


def flag_classifier(
    rows: list[TrainingRow],
    x: np.ndarray,
    true: np.ndarray,
    folds: np.ndarray,
) -> dict[str, Any]:
    """Cross-validated accuracy and regret of predicting each family's winning flags."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    samples: list[tuple[np.ndarray, str, int, dict[str, int]]] = []
    for members in families(rows).values():
        if len(members) < 2:
            continue
        parts = [x[members[m]] if m in members else np.zeros(x.shape[1]) for m in MODES]
        present = np.array([1.0 if m in members else 0.0 for m in MODES])
        feats = np.concatenate([*parts, present])
        best = min(members, key=lambda m: true[members[m]])
        first = next(iter(members.values()))
        samples.append((feats, best, int(folds[first]), members))
    features = np.array([s[0] for s in samples])
    labels = np.array([s[1] for s in samples])
    sample_folds = np.array([s[2] for s in samples])

    def outcome(answers: list[str]) -> dict[str, float]:
        regrets = []
        for (_, _, _, members), answer in zip(samples, answers, strict=True):
            pick = members.get(answer, members.get("fastmath", next(iter(members.values()))))
            regrets.append(regret(true, pick, list(members.values())))
        hits = [a == s[1] for a, s in zip(answers, samples, strict=True)]
        return {"accuracy": float(np.mean(hits)), "flag_regret_mean": float(np.mean(regrets))}

    makers = {
        "decision tree (depth 3)": lambda: DecisionTreeClassifier(
            max_depth=3, min_samples_leaf=8, random_state=0
        ),
        "boosted trees": lambda: HistGradientBoostingClassifier(
            max_iter=100, learning_rate=0.05, max_leaf_nodes=7, min_samples_leaf=8, random_state=0
        ),
        "logistic regression": lambda: make_pipeline(
            StandardScaler(), LogisticRegression(C=0.3, max_iter=3000)
        ),
    }
    results: dict[str, Any] = {
        "families": len(samples),
        "winners": dict(Counter(labels.tolist())),
        "always fastmath": outcome(["fastmath"] * len(samples)),
    }
    for name, make in makers.items():
        answers = np.empty(len(samples), dtype=object)
        for fold in np.unique(sample_folds):
            train, test = sample_folds != fold, sample_folds == fold
            clf = make().fit(features[train], labels[train])
            answers[test] = clf.predict(features[test])
        results[name] = outcome([str(a) for a in answers])
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the analysis, print it and optionally write it as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="training table JSON")
    parser.add_argument("--json", dest="json_path", default=None, help="write results as JSON")
    args = parser.parse_args(argv)
    table = read_table(args.data)
    cv = cross_validate(table)
    idx = [i for i, r in enumerate(cv.rows) if r.view == "sized"]
    rows = [cv.rows[i] for i in idx]
    true, pred, folds = cv.measured[idx], cv.model[idx], cv.folds[idx]
    x = np.array([[r.features.get(n, 0.0) for n in table.feature_names] for r in rows])

    by_group: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_group[r.group].append(i)
    winners = Counter(
        flag_mode(rows[min(m, key=lambda i: true[i])].candidate_code) or "not Numba"
        for m in by_group.values()
        if len(m) >= 2
    )
    breakdown = regret_breakdown(rows, pred, true)
    breakdown.update(flag_blind_oracle(rows, true))
    classifier = flag_classifier(rows, x, true, folds)

    print("winning candidate's flags, groups with >= 2 candidates:")
    for mode, n in winners.most_common():
        print(f"  {mode:20s} {n:4d}")
    print("mean top-1 regret:")
    for name, value in breakdown.items():
        print(f"  {name:45s} {value:7.1%}")
    print(f"flag classifier, {classifier['families']} candidate families (GroupKFold by family):")
    for name, value in classifier.items():
        if isinstance(value, dict) and "accuracy" in value:
            print(
                f"  {name:28s} accuracy {value['accuracy']:6.1%}   "
                f"regret of its flags {value['flag_regret_mean']:7.1%}"
            )
    meters = sorted({f"{r.meter} ({'measured' if r.measured else 'estimated'})" for r in rows})
    print(f"energies: {', '.join(meters)}; predictions out of fold (GroupKFold by family)")
    if args.json_path:
        document = {
            "data": args.data,
            "winners": dict(winners),
            "regret": breakdown,
            "classifier": classifier,
        }
        Path(args.json_path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
