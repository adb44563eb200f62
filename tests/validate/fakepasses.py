"""Test-only passes, injected into `optimize(passes={...})` without touching the registry.

`ReplaceBodyPass` swaps the body of named functions for given code: with a correct
body it stands for a good rewrite, with a wrong, crashing, hanging or memory-hungry
body it stands for a buggy pass that static analysis did not catch. `ScaleReturnsPass`
is the "deliberately wrong" pass of issue 4: it multiplies every returned value by
1 + 1e-6, a change only running the code can reveal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import libcst as cst
from libcst.metadata import PositionProvider

from greenopt.optimizer.functions import function_nodes
from greenopt.optimizer.source import SourceModule
from greenopt.passes.base import Opportunity, Pass, Site


def _site(module: SourceModule, node: cst.CSTNode, function: str) -> Site:
    pos = module.metadata().resolve(PositionProvider)[node]
    return Site(
        path=module.path or "<string>",
        line=pos.start.line,
        col=pos.start.column,
        end_line=pos.end.line,
        end_col=pos.end.column,
        function=function,
    )


class ReplaceBodyPass(Pass):
    """Replaces the body of each function named in `bodies` with the given source."""

    name = "replace-body"
    codes = {"GO901": "replace a function body (test only)"}

    def __init__(self, bodies: Mapping[str, str], name: str = "replace-body") -> None:
        self.bodies = dict(bodies)
        self.name = name  # type: ignore[misc]

    def find(self, module: SourceModule) -> list[Opportunity]:
        out = []
        for qual, node in function_nodes(module).items():
            if qual in self.bodies and module.tree.code_for_node(node.body).strip() != (
                self.bodies[qual].strip()
            ):
                out.append(
                    Opportunity(
                        self.name, "GO901", f"replace {qual}", "test", _site(module, node, qual)
                    )
                )
        return out

    def apply(self, module: SourceModule, opportunities: Sequence[Opportunity]) -> SourceModule:
        wanted = {o.site.function for o in opportunities}
        nodes = function_nodes(module)
        replacements = {}
        for qual in wanted:
            node = nodes[qual]
            body = cst.parse_module(self.bodies[qual]).body
            replacements[node] = node.with_changes(body=cst.IndentedBlock(body=body))

        class _Swap(cst.CSTTransformer):
            def on_leave(self, original_node, updated_node):  # type: ignore[no-untyped-def]
                return replacements.get(original_node, updated_node)

        return module.with_tree(module.tree.visit(_Swap()))


class _ScaleReturns(cst.CSTTransformer):
    def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return:
        if updated_node.value is None:
            return updated_node
        scaled = cst.BinaryOperation(
            left=cst.Float("1.000001"),
            operator=cst.Multiply(),
            right=updated_node.value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]),
        )
        return updated_node.with_changes(value=scaled)


class ScaleReturnsPass(Pass):
    """Deliberately wrong: `return x` -> `return 1.000001 * (x)` in every function."""

    name = "scale-returns"
    codes = {"GO999": "scale returned values (deliberately wrong, test only)"}

    def find(self, module: SourceModule) -> list[Opportunity]:
        out = []
        for qual, node in function_nodes(module).items():
            if "return " in module.tree.code_for_node(node) and "1.000001" not in (
                module.tree.code_for_node(node)
            ):
                out.append(
                    Opportunity(self.name, "GO999", "scale", "wrong", _site(module, node, qual))
                )
        return out

    def apply(self, module: SourceModule, opportunities: Sequence[Opportunity]) -> SourceModule:
        wanted = {o.site.function for o in opportunities}
        nodes = function_nodes(module)
        replacements = {nodes[q]: nodes[q].visit(_ScaleReturns()) for q in wanted}

        class _Swap(cst.CSTTransformer):
            def on_leave(self, original_node, updated_node):  # type: ignore[no-untyped-def]
                return replacements.get(original_node, updated_node)

        return module.with_tree(module.tree.visit(_Swap()))
