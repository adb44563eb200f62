"""dtype-reduction findings only where narrowing has float64 work to speed up.

A function whose only float64 operations are allocations, conversions, copies,
indexing or returns (a `getf`/`setf` copy helper, an `__init__` that allocates
weights), or whose few whole-array operations outside loops are outweighed by the
conversions narrowing adds at its boundary (a one-line ReLU), is not a GO301/GO302
finding of `check`/`analyze`/`rewrite --static`: it is a GO390 note (`--explain`).
The pass still offers it to the validated `rewrite`, which measures it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from greenopt.batch.file_analysis import AnalysisOptions, analyze_source
from greenopt.cli import main
from greenopt.optimizer.candidates import function_opportunities
from greenopt.optimizer.findings import find_opportunities
from greenopt.optimizer.source import SourceModule
from greenopt.passes.dtype_reduction import DtypeReductionPass, FloatWork

#: copy-only helpers (d2q9-style lattice Boltzmann code): indexing, no arithmetic
COPY_HELPERS = """\
import numpy as np


def getf(f, floc, i, j):
    floc[0] = f[i, j, 0]
    floc[1] = f[i - 1, j, 1]
    floc[2] = f[i, j - 1, 2]


def setf(f, floc, i, j):
    f[j, i, 0] = floc[0]
    f[j, i, 1] = floc[1]
"""

#: an `__init__` that only allocates, and a function that only allocates and fills
ALLOCATORS = """\
import numpy as np


class Layer:
    def __init__(self, n_in, n_out):
        self.weights = np.random.randn(n_out, n_in)
        self.grad = np.zeros((n_out, n_in))


def one_hot(labels, k):
    out = np.zeros((len(labels), k))
    out[np.arange(len(labels)), labels] = 1.0
    return out


def fill(n):
    y = np.zeros(n)
    for i in range(n):
        y[i] = 2.0 * float(i) + 1.0
    return y
"""

#: one whole-array operation, one input converted and one result cast back
RELU = """\
import numpy as np


def relu(x):
    return np.maximum(x, 0.0)
"""

#: float arithmetic in a loop, and enough whole-array work outside loops
WORTH = """\
import numpy as np


def saxpy(a, x, y):
    out = np.empty(len(x))
    for i in range(len(x)):
        out[i] = a * x[i] + y[i]
    return out


def softmax(x):
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name, text in (
        ("copy_helpers.py", COPY_HELPERS),
        ("allocators.py", ALLOCATORS),
        ("relu.py", RELU),
        ("worth.py", WORTH),
    ):
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def check(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["check", "--no-predict", *args])
    return code, capsys.readouterr().out


def go3(out: str) -> list[tuple[str, str]]:
    """(code, function name in backticks) of each GO3xx line."""
    found = []
    for line in out.splitlines():
        parts = line.split(": ", 1)
        if len(parts) == 2 and parts[1].startswith("GO3"):
            found.append((parts[1].split()[0], parts[1].split("`")[1]))
    return found


@pytest.mark.parametrize("name", ["copy_helpers.py", "allocators.py", "relu.py"])
def test_no_work_functions_are_not_findings(
    project: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = check(["--select", "dtype-reduction", name], capsys)
    assert (code, go3(out)) == (0, [])


def test_functions_with_float_work_are_still_findings(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = check(["--select", "GO3", "worth.py"], capsys)
    assert code == 1
    assert go3(out) == [("GO302", "saxpy"), ("GO301", "softmax")]


def test_explain_shows_them_as_go390_notes_with_the_reason(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = check(["--select", "GO3", "--explain", "copy_helpers.py", "relu.py"], capsys)
    assert code == 0  # notes never make findings
    notes = [line for line in out.splitlines() if " GO390 " in line]
    assert [n.split("`")[1] for n in notes] == ["getf", "setf", "relu"]
    assert "not reported (GO301): no float64 arithmetic to speed up" in notes[0]
    assert "too little float64 work: 1 whole-array operation(s), no loop" in notes[2]
    assert "against 2 conversion(s)" in notes[2]


def test_json_and_the_summary_count_only_reported_findings(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = check(["--select", "GO3", "--format", "json", "."], capsys)
    report = json.loads(out)
    assert code == 1
    assert sorted(f["function"] for f in report["findings"]) == ["saxpy", "softmax"]
    assert report["summary"]["findings"] == 2


def test_the_validated_rewrite_still_gets_the_candidates(project: Path) -> None:
    """Only what is reported changes: `find()` (what `rewrite` and the training corpus
    build candidates from) still offers every function, marked with the reason."""
    module = SourceModule.parse(COPY_HELPERS, "copy_helpers.py")
    found = DtypeReductionPass().find(module)
    assert [(o.code, o.site.function, o.fixable) for o in found] == [
        ("GO301", "getf", True),
        ("GO301", "setf", True),
    ]
    assert all("no float64 arithmetic" in o.data["quiet"] for o in found)
    assert len(function_opportunities(DtypeReductionPass(), module, "getf")) == 1
    new = DtypeReductionPass().apply(module, found[:1]).code
    assert "np.float32" in new


def test_find_opportunities_turns_them_into_notes() -> None:
    module = SourceModule.parse(ALLOCATORS, "allocators.py")
    assert find_opportunities(module, ["dtype-reduction"]) == []
    notes = find_opportunities(module, ["dtype-reduction"], include_notes=True)
    assert [(o.code, o.site.function, o.fixable) for o in notes] == [
        ("GO390", "Layer.__init__", False),
        ("GO390", "one_hot", False),
        ("GO390", "fill", False),
    ]
    assert [o.data["quiet_code"] for o in notes] == ["GO301", "GO301", "GO302"]


def test_ignore_and_suppression_still_apply_to_the_notes() -> None:
    module = SourceModule.parse(RELU.replace("def relu(x):", "def relu(x):  # greenopt: ignore"))
    assert find_opportunities(module, ["dtype-reduction"], include_notes=True) == []
    module = SourceModule.parse(RELU)
    assert (
        find_opportunities(module, ["dtype-reduction"], include_notes=True, ignore=["GO390"]) == []
    )


def test_analyze_reports_the_same() -> None:
    options = AnalysisOptions(passes=("dtype-reduction",), predict=False)
    text = COPY_HELPERS + "\n\n" + WORTH.split("\n", 2)[2]
    result = analyze_source("mixed.py", text.encode(), options)
    codes = {(f.qualname, o.code) for f in result.functions for o in f.opportunities}
    assert codes == {("saxpy", "GO302"), ("softmax", "GO301")}


def test_each_returned_array_is_one_cast_back() -> None:
    """Two matmuls against one input converted and two results cast back (a layer's
    backward pass whose weights come from `self`): not worth it."""
    text = (
        "import numpy as np\n\n\nclass Matmul:\n    def backward(self, grad_y):\n"
        "        x, w = self.x, self.w\n        grad_x = np.matmul(grad_y, w.T)\n"
        "        grad_w = np.matmul(x.T, grad_y)\n        return grad_x, grad_w\n"
    )
    (opp,) = DtypeReductionPass().find(SourceModule.parse(text))
    assert "2 whole-array operation(s), no loop, against 3 conversion(s)" in opp.data["quiet"]


@pytest.mark.parametrize(
    ("work", "worth"),
    [
        (FloatWork(in_loops=0, outside=0, conversions=0), False),
        (FloatWork(in_loops=1, outside=0, conversions=3), True),
        (FloatWork(in_loops=0, outside=2, conversions=2), False),
        (FloatWork(in_loops=0, outside=3, conversions=2), True),
        (FloatWork(in_loops=0, outside=1, conversions=0), True),
    ],
)
def test_the_rule(work: FloatWork, worth: bool) -> None:
    assert work.worth_reporting is worth


def test_rewrite_static_does_not_list_them(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["rewrite", "--static", "copy_helpers.py"])
    captured = capsys.readouterr()
    assert "getf" not in captured.out + captured.err
