"""Every vectorize rewrite of the bundled corpus computes what the original computes.

The corpus kernels (corpus/<family>/<kernel>.py, see corpus/README.md) come with
deterministic workloads; each file with at least one vectorize opportunity is
rewritten (all fixable opportunities, proven or not) and both versions are run on
the `small` workload: the call's result and every array of the namespace
(in-place writes) must agree within rtol 1e-9, NaN-aware.
"""

from __future__ import annotations

import ast
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from greenopt.optimizer.source import SourceModule
from greenopt.passes.vectorize import VectorizePass

CORPUS = Path(__file__).parents[2] / "corpus"
FILES = sorted(CORPUS.glob("*/*.py")) if CORPUS.is_dir() else []


def _constants(code: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id.isupper():
                try:
                    out[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    pass
    return out


def _run(code: str, consts: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    namespace: dict[str, Any] = {"__name__": "corpus_kernel"}
    exec(compile(code, "<kernel>", "exec"), namespace)
    sizes = consts["SIZES"]["small"]
    env = dict(namespace)
    exec(consts["SETUP"].format(**sizes), env)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        result = eval(consts["CALL"].format(**sizes), env)
    arrays = {k: v for k, v in env.items() if isinstance(v, np.ndarray)}
    return result, arrays


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    try:
        x, y = np.asarray(a), np.asarray(b)
    except Exception:
        return a == b
    if x.shape != y.shape:
        return False
    if x.dtype.kind in "fc" or y.dtype.kind in "fc":
        return bool(np.allclose(x, y, rtol=1e-9, atol=1e-12, equal_nan=True))
    return bool(np.array_equal(x, y))


@pytest.mark.skipif(not FILES, reason="no corpus in this checkout")
@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_corpus_rewrite_preserves_results(path: Path) -> None:
    code = path.read_text(encoding="utf-8")
    module = SourceModule.parse(code, str(path))
    p = VectorizePass()
    chosen = [o for o in p.find(module) if o.fixable]
    if not chosen:
        pytest.skip("nothing to vectorize")
    new = p.apply(module, chosen).code
    assert new != code
    # a second run finds nothing more to do
    again = SourceModule.parse(new, str(path))
    assert not [o for o in p.find(again) if o.fixable]
    consts = _constants(code)
    result_a, arrays_a = _run(code, consts)
    result_b, arrays_b = _run(new, consts)
    assert _same(result_a, result_b), f"{path.name}: results differ\n{new}"
    assert arrays_a.keys() == arrays_b.keys()
    for name in arrays_a:
        assert _same(arrays_a[name], arrays_b[name]), f"{path.name}: {name} differs"
