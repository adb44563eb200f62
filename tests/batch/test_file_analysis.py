"""Per-file analysis: statuses for bad input, opportunities, features, predictions, timeouts."""

from __future__ import annotations

import textwrap

import pytest

from greenopt.batch.file_analysis import AnalysisOptions, analyze_source
from greenopt.batch.python2 import python2_evidence
from greenopt.optimizer.findings import available_passes

NO_PASSES = AnalysisOptions(passes=())
PASSES = AnalysisOptions(passes=tuple(available_passes()))

SAXPY = textwrap.dedent(
    """\
    import numpy as np


    def saxpy(a, x, y, n):
        out = np.empty(n)
        for i in range(n):
            out[i] = a * x[i] + y[i]
        return out


    class K:
        def norm(self, v):
            return np.sqrt(np.sum(v * v))
    """
)


@pytest.mark.parametrize(
    ("data", "status", "fragment"),
    [
        (b"", "empty", "empty file"),
        (b"  \n\n\t\n", "empty", "whitespace"),
        (b"\x7fELF\x02\x01\x00\x00binary", "binary", "NUL"),
        (b"x = '\xff\xfe'\n", "non-utf8", "not UTF-8 (byte 5)"),  # check's words too
        (b"# -*- coding: no-such-codec -*-\nx = 1\n", "non-utf8", "encoding"),
        (b"def f(:\n    pass\n", "syntax", "line 1"),
        (b'print "hello"\n', "python2", "print statement at line 1"),
        (b"try:\n    x = 1\nexcept ValueError, e:\n    pass\n", "python2", "except"),
        (b"x = 0777\n", "python2", "octal"),
    ],
)
def test_bad_input_becomes_a_status_with_a_message(data: bytes, status: str, fragment: str) -> None:
    r = analyze_source("bad.py", data, NO_PASSES)
    assert r.status == status
    assert fragment in r.message
    assert r.functions == ()
    assert r.sha256 is not None and r.size == len(data)


def test_a_utf8_byte_order_mark_is_not_part_of_the_text() -> None:
    r = analyze_source("bom.py", b"\xef\xbb\xbfdef f():\n    return 1\n", NO_PASSES)
    assert r.status == "ok" and [f.qualname for f in r.functions] == ["f"]


def test_declared_latin1_source_is_decoded_not_rejected() -> None:
    data = "# -*- coding: latin-1 -*-\ndef f():\n    return 'caf\xe9'\n".encode("latin-1")
    r = analyze_source("latin.py", data, NO_PASSES)
    assert r.status == "ok" and [f.qualname for f in r.functions] == ["f"]


def test_python2_detection_needs_python2_constructs() -> None:
    err = SyntaxError("invalid syntax", ("x.py", 1, 5, "x = = 1\n"))
    err.lineno = 1
    assert python2_evidence("x = = 1\n", err) is None


def test_functions_get_locations_features_and_opportunities() -> None:
    r = analyze_source("saxpy.py", SAXPY.encode(), PASSES)
    assert r.status == "ok" and r.n_lines == SAXPY.count("\n")
    by = {f.qualname: f for f in r.functions}
    assert set(by) == {"saxpy", "K.norm"}
    saxpy = by["saxpy"]
    assert (saxpy.line, saxpy.end_line, saxpy.n_loops) == (4, 8, 1)
    codes = {o.code for o in saxpy.opportunities}
    assert "GO101" in codes  # the vectorize pass sees the elementwise loop
    o = next(o for o in saxpy.opportunities if o.code == "GO101")
    assert o.pass_name == "vectorize" and o.line == 6 and o.site_function == "saxpy"
    # features: the cost model's where a prediction is made, screening counts elsewhere
    assert saxpy.features_source in ("models.features", "screening") and saxpy.features
    assert by["K.norm"].features_source == "screening"
    assert by["K.norm"].features["n_numpy_calls"] == 2.0
    # predictions are the model's or explicitly absent, never invented
    for opp in saxpy.opportunities:
        if opp.prediction_source == "none":
            assert opp.predicted_ratio is None
        else:
            assert opp.predicted_ratio is not None and opp.predicted_lo <= opp.predicted_hi
    if saxpy.predicted_saving is not None:
        best = min(o.predicted_ratio for o in saxpy.opportunities if o.predicted_ratio is not None)
        assert saxpy.predicted_saving == pytest.approx(1 - best)


def test_same_bytes_give_equal_results() -> None:
    a = analyze_source("s.py", SAXPY.encode(), PASSES)
    b = analyze_source("s.py", SAXPY.encode(), PASSES)
    assert a == b


# the limit's exception may land in a GC weakref callback, which Python reports and drops
# (the limit then fires again): expected here, not a leak
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_file_over_its_time_limit_is_a_timeout_not_a_crash() -> None:
    body = "".join(
        f"def f{i}(a, b, n):\n    for i in range(n):\n        a[i] = b[i] + {i}\n\n"
        for i in range(400)
    )
    options = AnalysisOptions(passes=tuple(available_passes()), file_timeout_s=0.05)
    r = analyze_source("slow.py", body.encode(), options)
    assert r.status == "timeout" and "0.05 s" in r.message
    # the pending timeout does not leak into later work
    assert analyze_source("ok.py", b"x = 1\n", NO_PASSES).status == "ok"


def test_shared_profile_features_equal_the_extractors() -> None:
    """analyze takes a function's features from the profile its predictions reuse; on
    every function of the corpus, the examples and greenopt itself (methods and nested
    functions included) they equal the feature extractor's, so the result is unchanged."""
    import ast
    from pathlib import Path

    from greenopt.batch.features import load_feature_extractor
    from greenopt.batch.file_analysis import function_code
    from greenopt.batch.prediction import load_predictor
    from greenopt.batch.pruning import source_lines
    from greenopt.batch.screening import screen

    root = Path(__file__).resolve().parents[2]
    extractor = load_feature_extractor()
    predictor = load_predictor()
    assert extractor.source == "models.features" and predictor.model is not None
    files = sorted(root.glob("corpus/*/*.py")) + sorted(root.glob("examples/*.py"))
    files += sorted(root.glob("greenopt/*/*.py"))
    compared = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        lines = source_lines(text)
        for sketch in screen(ast.parse(text)).functions:
            code = function_code(lines, sketch)
            own, source = extractor.features(sketch, code)
            if source != "models.features":
                continue
            assert predictor.features(code, sketch.qualname) == own, (path, sketch.qualname)
            compared += 1
    assert compared > 1000
