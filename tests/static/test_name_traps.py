"""Name-resolution traps: a call that reads like numpy's or a builtin but is not.

Each module shadows a name a vectorised loop would translate (`abs`, `sum`, `max`,
`np`) by a module-level function without loops, a star import, a class attribute
read through the class, or a later local rebinding. The statically rewritten module
must compute exactly what the original computes (or leave the loop alone). The first
case was a real miscompilation of the resolver this project used before
`optimizer/scopes.py`: a module-level `def abs` without loops was dropped from the
module it resolved names in, so `abs(x[i])` became `np.abs(x)`.
"""

from __future__ import annotations

import numpy as np
import pytest

from greenopt.optimizer.source import SourceModule
from greenopt.optimizer.static import rewrite_static

from .modules import exec_module

TRAPS: dict[str, str] = {
    "module_function_named_abs": """
import numpy as np

def abs(v):
    return v * 2.0

def f(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(len(x))
    for i in range(len(x)):
        out[i] = abs(x[i])
    return out
""",
    "module_function_named_max": """
import numpy as np

def max(a, b):
    return a - b

def f(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(len(x))
    for i in range(len(x)):
        out[i] = max(x[i], 0.5)
    return out
""",
    "star_import_rebinds_abs": """
from numpy import *
import numpy as np

def f(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(len(x))
    for i in range(len(x)):
        out[i] = abs(x[i]) + 1.0
    return out
""",
    "np_rebound_in_the_function_later": """
import numpy as np

class _Fake:
    @staticmethod
    def sqrt(v):
        return -v

def f(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(len(x))
    g = np
    for i in range(len(x)):
        out[i] = g.sqrt(x[i])
    np = _Fake
    return out
""",
    "global_rebinds_abs": """
import numpy as np

def setup():
    global abs
    abs = lambda v: v * 3.0

setup()

def f(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(len(x))
    for i in range(len(x)):
        out[i] = abs(x[i])
    return out
""",
}


@pytest.mark.parametrize("trap", sorted(TRAPS))
def test_shadowed_names_keep_results(trap: str) -> None:
    code = TRAPS[trap].lstrip("\n")
    rewritten = rewrite_static(SourceModule.parse(code, "m.py"), passes=["vectorize"]).new_code
    x = np.array([-1.5, 0.0, 2.0, np.nan, 4.0])
    try:
        expected = exec_module(code, f"orig_{trap}").f(x)
    except UnboundLocalError:  # the original fails: so must the rewrite (or be unchanged)
        assert rewritten == code
        return
    got = exec_module(rewritten, f"new_{trap}").f(x)
    assert np.array_equal(np.asarray(expected), np.asarray(got), equal_nan=True)


def test_the_abs_case_is_left_alone() -> None:
    code = TRAPS["module_function_named_abs"].lstrip("\n")
    assert not rewrite_static(SourceModule.parse(code, "m.py"), passes=["vectorize"]).changed
