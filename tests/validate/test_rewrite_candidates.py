"""Candidate generation: per-function restriction, combinations, dedup, containment."""

from __future__ import annotations

from greenopt.optimizer.candidates import Step, apply_recipe, generate, recipes
from greenopt.optimizer.functions import count_loops, function_source, function_sources
from greenopt.optimizer.source import SourceModule

from .fakepasses import ReplaceBodyPass, ScaleReturnsPass

CODE = '''import numpy as np


def f(x):
    """Doc."""
    s = 0.0
    for i in range(len(x)):
        s += x[i]
    return s


class K:
    def g(self, x):
        def inner(y):
            return y + 1
        return inner(x)
'''


def test_function_names_are_qualified_like_python() -> None:
    module = SourceModule.parse(CODE)
    assert list(function_sources(module)) == ["f", "K.g", "K.g.<locals>.inner"]
    assert count_loops(function_source(module, "f") or "") == 1


def test_recipes_are_singles_then_all_pass_subsets_in_canonical_order() -> None:
    rs = recipes(["a", "b"], {"a": 2, "b": 1})
    assert rs == [
        (Step("a", 0),),
        (Step("a", 1),),
        (Step("b", 0),),
        (Step("a"),),
        (Step("b"),),
        (Step("a"), Step("b")),
    ]


def test_candidates_only_touch_their_function_and_are_deduplicated() -> None:
    module = SourceModule.parse(CODE)
    good = ReplaceBodyPass({"f": "return float(np.sum(x))\n"})
    passes = {"replace-body": good, "scale-returns": ScaleReturnsPass()}
    cs = generate(module, "f", passes)
    texts = [c.module.code for c in cs.candidates]
    assert len(texts) == len(set(texts)) and module.code not in texts
    # replace alone, scale alone, and both (replace then scale)
    assert [c.passes for c in cs.candidates] == [
        ("replace-body",),
        ("scale-returns",),
        ("replace-body", "scale-returns"),
    ]
    for c in cs.candidates:
        assert c.function == "f"
        assert function_source(c.module, "K.g") == function_source(module, "K.g")
    assert cs.candidates[0].loops_removed == 1
    assert "1.000001 * (float(np.sum(x)))" in cs.candidates[2].function_code


def test_a_pass_that_edits_another_function_is_dropped() -> None:
    class Leaky(ScaleReturnsPass):
        """Claims an opportunity in f but rewrites every function."""

        name = "leaky"

        def find(self, module):  # type: ignore[no-untyped-def]
            return [o for o in super().find(module) if o.site.function == "f"]

        def apply(self, module, opportunities):  # type: ignore[no-untyped-def]
            return super().apply(module, super().find(module))

    cs = generate(SourceModule.parse(CODE), "f", {"leaky": Leaky()})
    assert cs.candidates == []
    assert any("also changes K.g" in n for n in cs.notes)


def test_a_failing_pass_is_a_note_not_a_crash() -> None:
    class Broken(ScaleReturnsPass):
        name = "broken"

        def apply(self, module, opportunities):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    cs = generate(SourceModule.parse(CODE), "f", {"broken": Broken()})
    assert cs.candidates == [] and any("boom" in n for n in cs.notes)


def test_recipes_replay_on_a_module_where_another_function_changed() -> None:
    module = SourceModule.parse(CODE)
    passes = {"scale-returns": ScaleReturnsPass()}
    first, _ = apply_recipe(module, "K.g.<locals>.inner", (Step("scale-returns", 0),), passes)
    both, codes = apply_recipe(first, "f", (Step("scale-returns", 0),), passes)
    assert codes == ("GO999",)
    assert "1.000001 * (s)" in (function_source(both, "f") or "")
    assert "1.000001 * (y + 1)" in (function_source(both, "K.g.<locals>.inner") or "")


HELPER_CODE = """import numpy as np


def sq(v):
    return v * v


def total(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += sq(x[i])
    return s


def other(x):
    return sq(x[0])
"""


def test_jit_candidate_compiles_its_helper_only_when_nothing_else_uses_it() -> None:
    """Jitting `sq` with `total` would change `other` too, unchecked by any workload:
    no candidate then. Without `other`, the helper is compiled with the function."""
    from greenopt.passes.jit import JitPass

    module = SourceModule.parse(HELPER_CODE)
    result = generate(module, "total", {"jit": JitPass(variants=("plain",))})
    assert not result.candidates
    alone = SourceModule.parse(HELPER_CODE.split("\n\n\ndef other")[0] + "\n")
    result = generate(alone, "total", {"jit": JitPass(variants=("plain",))})
    assert result.candidates, result.notes
    variant = result.candidates[0].module.code
    assert variant.count("@numba.njit") == 2  # total and its helper sq


SUPPRESSED = """import numpy as np


def saxpy(a, x, y):
    out = np.empty_like(x)
    for i in range(len(x)):  # greenopt: ignore[vectorize]
        out[i] = a * x[i] + y[i]
    return out


def twice(x):  # greenopt: ignore[jit]
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = 2.0 * x[i]
    return out
"""


def _real_passes() -> dict:
    from greenopt.passes.registry import get_pass

    return {name: get_pass(name) for name in ("vectorize", "jit")}


def _codes(module: SourceModule, function: str, selection=None) -> set[str]:
    cs = generate(module, function, _real_passes(), selection=selection)
    return {code for c in cs.candidates for code in c.codes}


def test_suppression_comments_bind_the_validated_rewrite_as_they_bind_check() -> None:
    """`# greenopt: ignore[...]` keeps a pass out of rewrite's candidates, not only check's."""
    module = SourceModule.parse(SUPPRESSED)
    saxpy, twice = _codes(module, "saxpy"), _codes(module, "twice")
    assert "GO101" not in saxpy and {"GO401", "GO402", "GO403"} <= saxpy
    assert "GO101" in twice and not any(code.startswith("GO4") for code in twice)
    unsuppressed = SourceModule.parse(SUPPRESSED.replace("# greenopt: ignore[jit]", ""))
    assert {"GO401", "GO101"} <= _codes(unsuppressed, "twice")


def test_selection_filters_codes_and_passes() -> None:
    from greenopt.optimizer.candidates import Selection

    module = SourceModule.parse(SUPPRESSED.replace("  # greenopt: ignore[vectorize]", ""))
    no_parallel = _codes(module, "saxpy", Selection(ignore=("GO402",)))
    assert "GO402" not in no_parallel and {"GO401", "GO403", "GO101"} <= no_parallel
    only_vectorize = _codes(module, "saxpy", Selection(select=("vectorize",)))
    assert only_vectorize == {"GO101"}


def test_replayed_recipe_counts_the_same_selected_opportunities() -> None:
    """A recipe's step index refers to the kept opportunities, so replay must filter alike."""
    from greenopt.optimizer.candidates import Selection

    module = SourceModule.parse(SUPPRESSED.replace("  # greenopt: ignore[vectorize]", ""))
    selection = Selection(ignore=("GO401",))
    cs = generate(module, "saxpy", _real_passes(), selection=selection)
    first_jit = next(c for c in cs.candidates if c.steps == (Step("jit", 0),))
    replayed, codes = apply_recipe(
        module, "saxpy", first_jit.steps, _real_passes(), None, selection
    )
    assert replayed.code == first_jit.module.code and codes == first_jit.codes != ("GO401",)


def test_a_helper_changed_by_its_callers_rewrite_is_not_reported_unchanged() -> None:
    """The jit pass compiles `sq` with `total`: the report must not call `sq` unchanged."""
    from greenopt.optimizer.pipeline import (
        ACCEPTED,
        HELPER,
        UNCHANGED,
        FunctionResult,
        _mark_helpers,
    )

    original = SourceModule.parse(HELPER_CODE.split("\n\n\ndef other")[0] + "\n")
    new_code = original.code.replace("def sq", "@numba.njit(cache=True)\ndef sq").replace(
        "def total", "@numba.njit(cache=True)\ndef total"
    )
    results = [
        FunctionResult(name="total", verdict=ACCEPTED),
        FunctionResult(name="sq", verdict=UNCHANGED, reason="no applicable rewrite"),
    ]
    _mark_helpers(results, function_sources(original), "import numba\n" + new_code)
    assert results[1].verdict == HELPER and "`total`" in (results[1].reason or "")
    # nothing accepted, or the helper untouched: verdicts stay
    untouched = [FunctionResult(name="total", verdict=ACCEPTED), FunctionResult("sq", UNCHANGED)]
    _mark_helpers(untouched, function_sources(original), original.code)
    assert untouched[1].verdict == UNCHANGED
