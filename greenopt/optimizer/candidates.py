"""Candidate variants of one function: each opportunity alone and legal pass combinations.

A candidate is described by a *recipe*, a sequence of steps `(pass, which)`, where
`which` is the k-th fixable opportunity of that pass inside the function, or all of
them. Steps are applied in order and `find()` is run again before each step, since
an earlier rewrite moves positions. A recipe, unlike a module text, can be replayed
on a module in which other functions were already rewritten: that is how the best
candidates of several functions are combined.

Generated per function (passes in canonical order: loop-fusion -> vectorize ->
dtype-reduction -> jit):

* every opportunity of every pass alone;
* for every non-empty subset of passes, each pass applied to all of its
  opportunities in the function, in canonical order.

A candidate is dropped when a pass fails, when the result equals the original or an
earlier candidate (dedup by source text), or when it changes any function other than
the target (and the target's nested functions): a rewrite must stay inside the
function that the workload exercised.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from greenopt.optimizer.findings import selected
from greenopt.optimizer.functions import count_loops, function_source, function_sources
from greenopt.optimizer.source import SourceModule
from greenopt.optimizer.suppression import parse_suppressions
from greenopt.passes.base import Opportunity, Pass

#: most candidates generated for one function (before ranking)
MAX_CANDIDATES = 32


@dataclass(frozen=True)
class Selection:
    """Which opportunities a rewrite may use, as `check` reports them.

    `select`/`ignore` are validated pass names, rule codes or code prefixes (the
    config's plus the command line's; see `greenopt.optimizer.findings.selected`);
    `# greenopt: ignore[...]` comments in the module always apply. The filter runs
    on every module a recipe step searches, so a comment that moved with an earlier
    step's rewrite still silences its line.
    """

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def keep(self, module: SourceModule, opportunities: Sequence[Opportunity]) -> list[Opportunity]:
        """The opportunities neither suppressed in `module` nor deselected."""
        suppressions = parse_suppressions(module.code)
        return [
            o
            for o in opportunities
            if not suppressions.silences(o) and selected(o, self.select, self.ignore)
        ]


@dataclass(frozen=True)
class Step:
    """One rewrite step: pass `pass_name` on its `index`-th opportunity (None = all)."""

    pass_name: str
    index: int | None = None


@dataclass
class Candidate:
    """A variant of the module in which only `function` was rewritten."""

    function: str
    steps: tuple[Step, ...]
    module: SourceModule
    function_code: str
    codes: tuple[str, ...]  # rule codes of the opportunities applied
    loops_removed: int = 0

    @property
    def passes(self) -> tuple[str, ...]:
        """Distinct passes of the recipe, in the order applied."""
        return tuple(dict.fromkeys(s.pass_name for s in self.steps))

    @property
    def source_hash(self) -> str:
        """Short SHA-256 of the candidate module's text."""
        return hashlib.sha256(self.module.code.encode()).hexdigest()[:12]


@dataclass
class CandidateSet:
    """The candidates of one function and why others were not generated."""

    function: str
    candidates: list[Candidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class RecipeError(Exception):
    """A recipe cannot be applied (its opportunity is gone, or a pass failed)."""


#: find() results by (pass name, module text), with the module object they were found
#: on (a pass may keep references into that tree, so `apply` must get the same object).
#: find has no side effects, so a cache owned by one run avoids re-parsing the same
#: module text for every recipe.
FindCache = dict[tuple[str, str], tuple[SourceModule, list[Opportunity]]]


def find_in(
    pass_: Pass,
    module: SourceModule,
    function: str,
    cache: FindCache | None = None,
    selection: Selection | None = None,
) -> tuple[SourceModule, list[Opportunity]]:
    """(module the opportunities belong to, fixable opportunities of `pass_` in `function`).

    The module returned has the same text as `module`; it is the cached object when
    the same text was searched before. Opportunities that `selection` (default:
    only the module's suppression comments) excludes are left out.
    """
    key = (pass_.name, module.code)
    if cache is not None and key in cache:
        module, found = cache[key]
    else:
        found = pass_.find(module)
        if cache is not None:
            cache[key] = (module, found)
    mine = [o for o in found if o.fixable and o.site.function == function]
    mine = (selection or Selection()).keep(module, mine)
    return module, sorted(mine, key=lambda o: (o.site.line, o.site.col))


def function_opportunities(pass_: Pass, module: SourceModule, function: str) -> list[Opportunity]:
    """The fixable opportunities of `pass_` inside `function`, in source order."""
    return find_in(pass_, module, function)[1]


def apply_recipe(
    module: SourceModule,
    function: str,
    steps: Sequence[Step],
    passes: Mapping[str, Pass],
    cache: FindCache | None = None,
    selection: Selection | None = None,
) -> tuple[SourceModule, tuple[str, ...]]:
    """Apply `steps` to `function` of `module`; return the new module and rule codes used.

    Step indices count the opportunities `selection` keeps (as `generate` does).
    """
    codes: list[str] = []
    current = module
    for step in steps:
        pass_ = passes[step.pass_name]
        try:
            current, opps = find_in(pass_, current, function, cache, selection)
        except Exception as exc:
            raise RecipeError(f"{step.pass_name}.find failed: {type(exc).__name__}: {exc}") from exc
        if step.index is None:
            chosen = opps
        elif step.index < len(opps):
            chosen = [opps[step.index]]
        else:
            chosen = []
        if not chosen:
            raise RecipeError(f"no {step.pass_name} opportunity left in {function}")
        try:
            current = pass_.apply(current, chosen)
        except Exception as exc:
            raise RecipeError(
                f"{step.pass_name}.apply failed: {type(exc).__name__}: {exc}"
            ) from exc
        current = SourceModule.parse(current.code, module.path)
        codes.extend(o.code for o in chosen)
    return current, tuple(codes)


def touches_only(
    original: SourceModule,
    variant: SourceModule,
    function: str,
    allowed: frozenset[str] = frozenset(),
) -> str | None:
    """None if `variant` differs from `original` only inside `function` (or `allowed`).

    `allowed` names helpers a pass declares it must change with the function
    (e.g. jit compiles the helpers a jitted function calls: `data["also_changes"]`).
    """
    before = function_sources(original)
    after = function_sources(variant)
    nested = f"{function}.<locals>."
    for name, code in before.items():
        if name == function or name.startswith(nested) or name in allowed:
            continue
        if after.get(name) != code:
            return name
    if function not in after:
        return function
    return None


def recipes(pass_names: Sequence[str], counts: Mapping[str, int]) -> list[tuple[Step, ...]]:
    """All recipes: each opportunity alone, then every subset of passes applied in full."""
    out: list[tuple[Step, ...]] = []
    for name in pass_names:
        out.extend((Step(name, k),) for k in range(counts.get(name, 0)))
    for size in range(1, len(pass_names) + 1):
        for subset in itertools.combinations(pass_names, size):
            out.append(tuple(Step(name) for name in subset))
    return out


def generate(
    module: SourceModule,
    function: str,
    passes: Mapping[str, Pass],
    cache: FindCache | None = None,
    selection: Selection | None = None,
) -> CandidateSet:
    """All distinct candidates for `function`, with notes on the recipes that failed.

    `passes` maps pass names to instances, in the order they are to be applied;
    `cache` (shared across the functions of one module) memoises `find()`;
    `selection` (default: the module's suppression comments only) says which
    opportunities may be used.
    """
    result = CandidateSet(function)
    original_code = function_source(module, function) or ""
    if cache is None:
        cache = {}
    counts: dict[str, int] = {}
    allowed: set[str] = set()
    for name, pass_ in passes.items():
        try:
            found = find_in(pass_, module, function, cache, selection)[1]
            counts[name] = len(found)
            for opp in found:
                allowed.update(opp.data.get("also_changes", ()))
        except Exception as exc:
            result.notes.append(f"{name}: find() failed: {type(exc).__name__}: {exc}")
    active = [n for n in passes if counts.get(n)]
    seen = {module.code}
    for steps in recipes(active, counts):
        if len(result.candidates) >= MAX_CANDIDATES:
            result.notes.append(f"stopped after {MAX_CANDIDATES} candidates")
            break
        try:
            variant, codes = apply_recipe(module, function, steps, passes, cache, selection)
        except RecipeError as exc:
            if len(steps) == 1 or steps[0].index is not None:
                result.notes.append(f"{_describe(steps)}: {exc}")
            continue
        except Exception as exc:  # e.g. the result does not parse
            result.notes.append(f"{_describe(steps)}: {type(exc).__name__}: {exc}")
            continue
        if variant.code in seen:
            continue
        seen.add(variant.code)
        culprit = touches_only(module, variant, function, frozenset(allowed))
        if culprit is not None:
            result.notes.append(f"{_describe(steps)}: also changes {culprit}; dropped")
            continue
        new_code = function_source(variant, function) or ""
        result.candidates.append(
            Candidate(
                function=function,
                steps=steps,
                module=variant,
                function_code=new_code,
                codes=codes,
                loops_removed=count_loops(original_code) - count_loops(new_code),
            )
        )
    return result


def _describe(steps: Sequence[Step]) -> str:
    return " + ".join(
        s.pass_name if s.index is None else f"{s.pass_name}#{s.index + 1}" for s in steps
    )


def describe_recipe(steps: Sequence[Step]) -> str:
    """Human form of a recipe, e.g. `vectorize#1` or `loop-fusion + vectorize`."""
    return _describe(steps)
