"""Running passes over a module and shaping what they find for people and tools.

`find_opportunities()` is the one entry point that `check`, `rewrite --static`,
`analyze` and the validated rewrite share: it runs the selected passes' `find()`,
drops what `# greenopt: ignore[...]` comments and `[tool.greenopt]` select/ignore
exclude, and sorts by position. `finding_record()` is the single place a finding
becomes a JSON-able dict (text, JSON and SARIF all start from it), so a field such
as `predicted_saving` is added in one place.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from greenopt.config import Config
from greenopt.errors import InputError
from greenopt.optimizer.predictions import NO_PREDICTION, saving_text
from greenopt.optimizer.source import SourceModule
from greenopt.optimizer.suppression import parse_suppressions
from greenopt.passes.base import Opportunity, Pass
from greenopt.passes.registry import PASSES, get_pass, pass_class, pass_for_code


def is_note(opportunity: Opportunity) -> bool:
    """True for report-only explanations (e.g. GO190 "loop left alone"), not findings."""
    return bool(opportunity.data.get("note")) or opportunity.code.endswith("90")


def quiet_note(opportunity: Opportunity) -> Opportunity:
    """The report form of an opportunity its pass marks `data["quiet"]` (a reason).

    Such an opportunity stays a candidate of the validated `rewrite` (which measures
    it), but is not worth a finding: e.g. a dtype-reduction of a function that only
    allocates or copies float64 arrays. It is reported as the pass's `GOx90` note
    ("not reported: reason"), which `check --explain` shows and findings leave out.
    """
    reason = str(opportunity.data["quiet"])
    function = opportunity.site.function or "<module>"
    return replace(
        opportunity,
        code=opportunity.code[:3] + "90",
        message=f"`{function}` not reported ({opportunity.code}): {reason}",
        fixable=False,
        data={**opportunity.data, "note": True, "quiet_code": opportunity.code},
    )


def available_passes() -> list[str]:
    """Registered passes whose module is importable (a pass still being written is skipped)."""
    names: list[str] = []
    for name, target in PASSES.items():
        module_name = target.split(":")[0]
        try:
            found = importlib.util.find_spec(module_name) is not None
        except (ImportError, ValueError):
            found = False
        if found:
            names.append(name)
    return names


def validate_selectors(selectors: Iterable[str]) -> list[str]:
    """Check that each selector is a pass name or a GOxxx code; return them normalised."""
    out: list[str] = []
    for raw in selectors:
        item = raw.strip()
        if not item:
            continue
        if item.lower() in PASSES:
            out.append(item.lower())
        elif pass_for_code(item) is not None and item[2:].isdigit():
            out.append(item.upper())
        else:
            raise InputError(
                f"unknown pass or rule code {item!r} (passes: {', '.join(PASSES)}; codes GOxxx)"
            )
    return out


def _matches(opportunity: Opportunity, selectors: Iterable[str]) -> bool:
    for sel in selectors:
        if sel == opportunity.pass_name or sel == opportunity.code:
            return True
        # a code prefix such as GO1 or GO10 selects a family
        if sel.startswith("GO") and opportunity.code.startswith(sel):
            return True
    return False


def selected(opportunity: Opportunity, select: Sequence[str], ignore: Sequence[str]) -> bool:
    """Select/ignore by pass name or code; ignore wins, empty select means everything."""
    if select and not _matches(opportunity, select):
        return False
    return not _matches(opportunity, ignore)


def passes_for(select: Sequence[str]) -> list[str]:
    """The passes that can produce something `select` asks for (all available if empty)."""
    names = available_passes()
    if not select:
        return names
    wanted = {s if s in PASSES else pass_for_code(s) for s in select}
    return [n for n in names if n in wanted]


def find_opportunities(
    module: SourceModule,
    passes: Sequence[str] | None = None,
    config: Config | None = None,
    *,
    include_notes: bool = False,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    instances: dict[str, Pass] | None = None,
    warnings: list[str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[Opportunity]:
    """Run the passes' `find()` on `module` and return the surviving opportunities.

    `passes`: pass names to run (default: every available registered pass).
    Suppression comments, `config.select/ignore` and the `select`/`ignore`
    arguments (command-line, added to the config's) filter the result; notes such
    as GO190 are dropped unless `include_notes`. Sorted by line, column, code.
    `warnings`, when given, receives one `path:line: ...` line per malformed
    `# greenopt: ignore[...]` comment or unknown name in one. `progress`, when given, is
    called as `progress(pass_name, k, n)` before the k-th of the n passes runs.
    """
    cfg = config or Config()
    select_all = validate_selectors([*cfg.select, *select])
    ignore_all = validate_selectors([*cfg.ignore, *ignore])
    names = list(passes) if passes is not None else passes_for(select_all)
    suppressions = parse_suppressions(module.code)
    if warnings is not None:
        where = module.path or "<string>"
        warnings.extend(f"{where}:{line}: {problem}" for line, problem in suppressions.problems)
    found: list[Opportunity] = []
    for k, name in enumerate(names, 1):
        if progress is not None:
            progress(name, k, len(names))
        if name not in PASSES:
            raise InputError(f"unknown pass {name!r} (known: {', '.join(PASSES)})")
        instance = instances.get(name) if instances is not None else None
        if instance is None:
            instance = get_pass(name)
            if instances is not None:
                instances[name] = instance
        for opp in instance.find(module):
            if opp.data.get("quiet"):
                opp = quiet_note(opp)
            if not include_notes and is_note(opp):
                continue
            if suppressions.silences(opp) or not selected(opp, select_all, ignore_all):
                continue
            found.append(opp)
    found.sort(key=lambda o: (o.site.line, o.site.col, o.code))
    return found


#: `fix_status` of a finding: a statically proven fix is offered (`rewrite --static`
#: applies it); a rewrite exists but only a workload can validate it (`greenopt rewrite
#: FILE --workload W`); nothing to apply (report only)
FIX_STATIC, FIX_WORKLOAD, FIX_NONE = "static", "workload", "none"


def fix_status(opportunity: Opportunity, needs_workload: bool | None = None) -> str:
    """`FIX_STATIC`, `FIX_WORKLOAD` or `FIX_NONE` for `opportunity` (see the constants).

    `needs_workload`: whether its pass needs a workload (None: asked of the registry).
    """
    if is_note(opportunity) or not opportunity.fixable:
        return FIX_NONE
    if needs_workload is None:
        needs_workload = (
            opportunity.pass_name in PASSES and pass_class(opportunity.pass_name).needs_workload
        )
    if needs_workload or not opportunity.static_safe:
        return FIX_WORKLOAD
    return FIX_STATIC


def finding_record(
    opportunity: Opportunity,
    *,
    path: str | None = None,
    fix: str | None = None,
    prediction: dict[str, Any] | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """The JSON form of one finding (1-based line and column, as editors show them).

    The single place where a finding's fields are decided: text, JSON and SARIF
    output are all built from this record. `fixable` is true exactly when a
    statically proven fix is offered (`fix_status` "static": `rewrite --static`
    applies it, and `fix` holds its diff whenever fixes were computed); `status`
    overrides the computed `fix_status` (e.g. "none" when the fix turned out to
    change nothing).
    """
    site = opportunity.site
    status = status or fix_status(opportunity)
    return {
        "path": path if path is not None else site.path,
        "line": site.line,
        "column": site.col + 1,
        "end_line": site.end_line,
        "end_column": site.end_col + 1,
        "code": opportunity.code,
        "pass": opportunity.pass_name,
        "message": opportunity.message,
        "rationale": opportunity.rationale,
        "function": site.function,
        "fixable": status == FIX_STATIC,
        "static_safe": opportunity.static_safe,
        "note": is_note(opportunity),
        "fix": fix,
        "fix_status": status,
        **(prediction if prediction is not None else NO_PREDICTION),
    }


def format_text(record: dict[str, Any], *, explain: bool = False) -> str:
    """`path:line:col: GOxxx message` (plus the rationale, indented, with `explain`)."""
    tag = " [fixable]" if record["fixable"] else ""
    predicted = saving_text(record)
    if predicted:
        tag += f" ({predicted})"
    line = f"{record['path']}:{record['line']}:{record['column']}: {record['code']} {record['message']}{tag}"
    if explain and record.get("rationale"):
        line += "\n    " + record["rationale"]
    return line


def module_level_loops(tree: ast.Module | None) -> list[tuple[int, int]]:
    """(line, 1-based column) of each outermost `for`/`while` loop outside any function.

    Passes analyse functions only, so top-level script code (and class bodies) gets no
    findings; `check` says so instead of staying silent. Loops nested in such a loop
    are not counted again; `if`/`with`/`try`/`match` blocks are looked into.
    """
    out: list[tuple[int, int]] = []
    if tree is None:
        return out
    stack: list[ast.AST] = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            out.append((node.lineno, node.col_offset + 1))
            continue
        children = [
            child
            for name in ("body", "orelse", "finalbody", "handlers", "cases")
            for child in getattr(node, name, None) or ()
            if isinstance(child, ast.AST)
        ]
        stack.extend(reversed(children))
    out.sort()
    return out
