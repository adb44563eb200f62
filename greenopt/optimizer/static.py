"""`rewrite --static`: apply only the rewrites whose legality is proven without running code.

No workload, no measurement: the result is labelled "not measured". Passes that
need a workload (dtype-reduction, jit) are never applied; of the others, only
opportunities that are `fixable` and `static_safe` are. Passes run one after the
other in the registry's canonical order, each on the output of the previous one,
so positions stay valid; a second run on the output changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from greenopt.config import Config
from greenopt.optimizer.findings import available_passes, find_opportunities, is_note
from greenopt.optimizer.source import SourceModule, unified_diff
from greenopt.passes.base import Opportunity
from greenopt.passes.registry import PASSES, get_pass

#: label carried by every static result: nothing was executed or measured
NOT_MEASURED = "not measured"


@dataclass
class StaticRewrite:
    """The outcome of a static rewrite of one module."""

    path: str
    original: str
    new_code: str
    applied: list[Opportunity] = field(default_factory=list)
    skipped: list[tuple[Opportunity, str]] = field(default_factory=list)  # (opportunity, reason)
    label: str = NOT_MEASURED

    @property
    def changed(self) -> bool:
        """True when the rewrite changed the text."""
        return self.new_code != self.original

    def diff(self) -> str:
        """Unified diff of the change (empty when unchanged)."""
        return unified_diff(self.original, self.new_code, self.path)


def skip_reason(opportunity: Opportunity, needs_workload: bool) -> str | None:
    """Why `rewrite --static` does not apply `opportunity` (None: it may)."""
    if needs_workload:
        return f"the {opportunity.pass_name} pass needs a workload to validate (rewrite --call)"
    if not opportunity.fixable:
        return "report only: no automatic fix"
    if not opportunity.static_safe:
        reasons = opportunity.data.get("unsafe_reasons") or ()
        detail = "; ".join(str(r) for r in reasons) if reasons else "legality not proven"
        return f"not proven statically ({detail}); validate it with a workload"
    return None


def rewrite_static(
    module: SourceModule,
    passes: Sequence[str] | None = None,
    config: Config | None = None,
) -> StaticRewrite:
    """Apply every fixable, statically safe opportunity of the workload-free passes."""
    names = list(passes) if passes is not None else available_passes()
    path = module.path or "<string>"
    result = StaticRewrite(path=path, original=module.code, new_code=module.code)
    current = module
    for name in PASSES:  # canonical order
        if name not in names:
            continue
        instance = get_pass(name)
        if instance.needs_workload:
            # reported against the original text; never applied statically
            for opp in find_opportunities(module, [name], config):
                result.skipped.append((opp, skip_reason(opp, True) or ""))
            continue
        opportunities = find_opportunities(current, [name], config)
        chosen: list[Opportunity] = []
        for opp in opportunities:
            if is_note(opp):
                continue
            reason = skip_reason(opp, instance.needs_workload)
            if reason is None:
                chosen.append(opp)
            else:
                result.skipped.append((opp, reason))
        if chosen:
            current = instance.apply(current, chosen)
            if current.code != module.code:
                # re-parse so that the next pass sees fresh positions
                current = SourceModule.parse(current.code, module.path)
            result.applied.extend(chosen)
    new_code = current.code
    if module.code.startswith("\ufeff") and not new_code.startswith("\ufeff"):
        new_code = "\ufeff" + new_code  # libcst drops a byte-order mark; keep the file's
    result.new_code = new_code if current is not module else module.code
    return result


def rewrite_static_file(
    path: str, passes: Sequence[str] | None = None, config: Config | None = None
) -> StaticRewrite:
    """Read, parse and statically rewrite one file (bad input raises InputError)."""
    return rewrite_static(SourceModule.read(path), passes, config)
