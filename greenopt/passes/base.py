"""The pass framework: opportunities a pass finds and the `Pass` interface.

A pass never executes or measures code (DESIGN §2): `find` reads a parsed module
and returns opportunities; `apply` returns a new module with the chosen
opportunities rewritten. Each pass lives in its own file, states its legality
conditions in its docstring, and carries `EXAMPLES` (before -> after) and
`UNCHANGED` (must-not-change sources) that run as tests, Fixit VALID/INVALID style.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from greenopt.optimizer.source import SourceModule


@dataclass(frozen=True)
class Site:
    """Where an opportunity is: 1-based line, 0-based column, as editors and SARIF expect."""

    path: str
    line: int
    col: int
    end_line: int
    end_col: int
    function: str | None = None  # qualified name of the enclosing function, if any


@dataclass(frozen=True)
class Opportunity:
    """One place a pass could rewrite (or only reports, when `fixable` is False).

    `static_safe` means legality is proven without running the code, so
    `rewrite --static` may apply it; `data` is pass-private information that
    `apply` needs to locate and rewrite the node again.
    """

    pass_name: str
    code: str
    message: str
    rationale: str
    site: Site
    fixable: bool = True
    static_safe: bool = True
    data: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Example:
    """A before -> after example of a pass; `before == after` is not allowed (use UNCHANGED)."""

    before: str
    after: str
    options: Mapping[str, Any] = field(default_factory=dict)


class Pass(abc.ABC):
    """A source-to-source transformation with a stable name and GOxxx rule codes."""

    name: ClassVar[str]
    #: rule code -> one-line description (for README, SARIF rules, `check --explain`)
    codes: ClassVar[Mapping[str, str]]
    #: True for passes whose result must be validated on a workload (dtype-reduction, jit)
    needs_workload: ClassVar[bool] = False
    EXAMPLES: ClassVar[Sequence[Example]] = ()
    UNCHANGED: ClassVar[Sequence[str]] = ()

    @abc.abstractmethod
    def find(self, module: SourceModule) -> list[Opportunity]:
        """Return the opportunities this pass sees in `module` (no side effects)."""

    @abc.abstractmethod
    def apply(self, module: SourceModule, opportunities: Sequence[Opportunity]) -> SourceModule:
        """Return a new module with `opportunities` (found by this pass) rewritten."""
