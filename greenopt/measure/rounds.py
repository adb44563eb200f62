"""The timed loop: `n` rounds of a workload's calls, with as little overhead as possible.

Whatever the loop costs per call lands inside the measured region, so it should be
small next to the calls themselves. When every call is a plain expression, the
calls are compiled together into one function whose globals are the workload's
namespace::

    def __greenopt_rounds__(__greenopt_n):
        for __greenopt_i in range(__greenopt_n):
            try:
                <call 1>
            except SystemExit as e:
                if e.code not in (None, 0): raise
            ...

which costs about 15 ns per call on CPython 3.11 (the try is free there), some 14x
less than calling one compiled callable per call
(`benchmarks/measure_loop_overhead.py`). Every node of call k gets
line number k + 2, so the traceback of an exception says which call raised.
Expressions that would behave differently inside a function (``:=`` binds a local
there, ``yield``/``await`` change the function) and statements (``x = f(x)``) use
the general loop over the per-call callables of `workload.prepare` instead.

`sys.exit(0)` (or `SystemExit(None)`) ends a call successfully in both loops, so a
script that exits 0 is a normal run.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable
from types import CodeType, TracebackType
from typing import Any

FUNCTION_NAME = "__greenopt_rounds__"

_TEMPLATE = f"""
def {FUNCTION_NAME}(__greenopt_n):
    for __greenopt_i in range(__greenopt_n):
        try:
            pass
        except SystemExit as __greenopt_exit:
            if __greenopt_exit.code not in (None, 0):
                raise
"""

_FUNCTION_SCOPED = (ast.NamedExpr, ast.Yield, ast.YieldFrom, ast.Await)


class CallFailed(Exception):
    """A call raised or exited non-zero; `index` says which, `__cause__` holds the exception."""

    def __init__(self, index: int, exc: BaseException) -> None:
        """Remember which call failed and with what."""
        super().__init__(index, exc)
        self.index = index
        self.exc = exc


def _set_line(node: ast.AST, line: int) -> None:
    """Give every node under `node` the line number `line` (column 0)."""
    for sub in ast.walk(node):
        if "lineno" in sub._attributes:
            sub.lineno = sub.end_lineno = line  # type: ignore[attr-defined]
            sub.col_offset = sub.end_col_offset = 0  # type: ignore[attr-defined]


def fused_rounds(
    exprs: tuple[str, ...], namespace: dict[str, Any]
) -> tuple[Callable[[int], None], CodeType] | None:
    """The compiled loop over `exprs` in `namespace`, or None when they need the general loop."""
    bodies: list[ast.expr] = []
    for expr in exprs:
        try:
            tree = ast.parse(expr, mode="eval")
        except SyntaxError:
            return None
        if any(isinstance(node, _FUNCTION_SCOPED) for node in ast.walk(tree)):
            return None
        bodies.append(tree.body)
    module = ast.parse(_TEMPLATE)
    func = module.body[0]
    assert isinstance(func, ast.FunctionDef)
    loop = func.body[0]
    assert isinstance(loop, ast.For)
    template_try = loop.body[0]
    loop.body = []
    for k, body in enumerate(bodies):
        block = copy.deepcopy(template_try)
        assert isinstance(block, ast.Try)
        block.body = [ast.Expr(value=body)]
        _set_line(block, k + 2)
        loop.body.append(block)
    _set_line(func.args, 1)
    func.lineno = func.end_lineno = loop.lineno = 1
    func.col_offset = func.end_col_offset = loop.col_offset = 0
    loop.end_lineno = len(bodies) + 1
    loop.end_col_offset = 0
    _set_line(loop.target, 1)
    _set_line(loop.iter, 1)
    code = compile(ast.fix_missing_locations(module), "<greenopt calls>", "exec")
    scope: dict[str, Any] = {}
    exec(code, namespace, scope)
    fn = scope[FUNCTION_NAME]
    return fn, fn.__code__


def _index_from_traceback(tb: TracebackType | None, code: CodeType) -> int:
    """Which call raised: the line number of the loop function's frame, minus 2."""
    index = 0
    while tb is not None:
        if tb.tb_frame.f_code is code:
            index = tb.tb_lineno - 2
        tb = tb.tb_next
    return index


def make_rounds(
    exprs: tuple[str, ...], calls: list[Callable[[], Any]], namespace: dict[str, Any]
) -> Callable[[int], None]:
    """A function running `n` rounds of all calls; a failing call raises `CallFailed`.

    Any exception (`MemoryError` included) and any non-zero `SystemExit` count as failing;
    `KeyboardInterrupt` passes through.
    """
    fused = fused_rounds(exprs, namespace)
    if fused is not None:
        rounds, code = fused

        def run_fused(n: int) -> None:
            """`n` rounds through the fused loop."""
            try:
                rounds(n)
            except (Exception, SystemExit) as exc:
                raise CallFailed(_index_from_traceback(exc.__traceback__, code), exc) from exc

        return run_fused

    indexed = list(enumerate(calls))

    def run_general(n: int) -> None:
        """`n` rounds through one callable per call."""
        for _ in range(n):
            for k, fn in indexed:
                try:
                    fn()
                except SystemExit as exc:
                    if exc.code in (None, 0):
                        continue
                    raise CallFailed(k, exc) from exc
                except Exception as exc:
                    raise CallFailed(k, exc) from exc

    return run_general
