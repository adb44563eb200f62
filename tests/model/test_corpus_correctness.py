"""benchmarks/corpus_correctness.py: every candidate of a kernel is run and compared."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "corpus_correctness.py"
_SPEC = importlib.util.spec_from_file_location("corpus_correctness", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
cc = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = cc
_SPEC.loader.exec_module(cc)


def test_kinds_and_summary_count_what_is_not_equal() -> None:
    results = [
        {
            "kernel": "a/k",
            "candidates": [
                {"passes": ["jit"], "codes": ["GO401"], "recipe": "jit#1", "equal": True},
                {"passes": ["jit"], "codes": ["GO401", "GO403"], "recipe": "jit", "equal": True},
                {
                    "passes": ["vectorize", "jit"],
                    "codes": ["GO101", "GO401"],
                    "recipe": "vectorize + jit",
                    "equal": False,
                    "reason": "result: differs",
                },
            ],
        },
        {"kernel": "b/k", "error": "timed out after 1 s"},
    ]
    summary = cc.summarise(results)
    assert summary["by_kind"] == {
        "jit GO401": {"equal": 1},
        "jit, all variants": {"equal": 1},
        "vectorize + jit": {"not equal": 1},
    }
    assert summary["not_equal"] == [
        {"kernel": "a/k", "recipe": "vectorize + jit", "reason": "result: differs"}
    ]
    assert [e["kernel"] for e in summary["errors"]] == ["b/k"]


def test_a_kernels_candidates_are_all_run(tmp_path: Path, capsys) -> None:
    out = tmp_path / "c.json"
    assert cc.main(["--kernels", "linalg/saxpy_loop", "--jobs", "1", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    (result,) = data["results"]
    assert result["kernel"] == "linalg/saxpy_loop" and result["candidates"]
    # the jit variants compile and agree; every candidate was compared, none skipped
    assert all(c["equal"] in (True, False) for c in result["candidates"])
    assert any(c["passes"] == ["jit"] and c["equal"] for c in result["candidates"])
    assert "1 kernels at size small" in capsys.readouterr().out
    assert cc.main(["--jobs", "0"]) == 2
