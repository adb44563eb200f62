"""`rewrite_static()`: only proven rewrites of workload-free passes, labelled not measured."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenopt.config import Config
from greenopt.errors import InputError
from greenopt.optimizer.findings import find_opportunities, finding_record, is_note
from greenopt.optimizer.source import SourceModule
from greenopt.optimizer.static import NOT_MEASURED, rewrite_static, rewrite_static_file

from . import kernels as K

EXAMPLE = Path(__file__).parents[2] / "examples" / "kernels.py"


def test_bundled_example_rewrites_proven_loops_only() -> None:
    """The bundled kernels take arrays of unknown type, dtype and length from the caller:
    nothing there is proven statically (each skip says why); `rewrite --call` validates."""
    result = rewrite_static(SourceModule.read(EXAMPLE))
    assert result.label == NOT_MEASURED == "not measured"
    assert result.applied == [] and not result.changed
    reasons = {o.site.function: why for o, why in result.skipped if o.pass_name == "vectorize"}
    assert "Python list" in reasons["saxpy"] and "dtype of out" in reasons["saxpy"]
    assert "dtype of v" in reasons["smooth"]
    assert "dtype" in reasons["dot"]
    for opp, why in result.skipped:
        if opp.pass_name in ("jit", "dtype-reduction"):
            assert "needs a workload" in why


def test_proven_kernels_are_rewritten() -> None:
    result = rewrite_static(
        SourceModule.parse(K.SCALE + "\n\n" + K.STENCIL_PROVEN.split("\n\n\n", 1)[1])
    )
    assert sorted(o.code for o in result.applied) == ["GO101", "GO104"]
    assert "out[:x.shape[0]] = a * x + 1.0" in result.new_code
    assert "v[1:len(u) - 1] = 0.25 * u[:len(u) - 2]" in result.new_code
    assert result.diff().startswith("--- a/")


def test_static_rewrite_is_idempotent_and_reparses() -> None:
    first = rewrite_static(
        SourceModule.parse(K.SCALE + "\n\n" + K.STENCIL_PROVEN.split("\n\n\n", 1)[1])
    )
    second = rewrite_static(SourceModule.parse(first.new_code))
    assert first.changed and not second.changed
    assert second.new_code == first.new_code


def test_passes_argument_limits_the_passes() -> None:
    result = rewrite_static(SourceModule.parse(K.SAXPY), ["loop-fusion"])
    assert not result.changed and all(o.pass_name == "loop-fusion" for o in result.applied)


def test_config_ignore_is_respected() -> None:
    result = rewrite_static(SourceModule.parse(K.SAXPY), None, Config(ignore=("GO101",)))
    assert not result.changed


def test_bad_file_raises_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f(:\n", encoding="utf-8")
    with pytest.raises(InputError, match="syntax error"):
        rewrite_static_file(str(bad))


def test_find_opportunities_drops_notes_and_suppressed() -> None:
    code = K.HEADER + K.TRAPS["print"] + "\n\n" + K.SAXPY.split("\n\n\n", 1)[1]
    module = SourceModule.parse(code, "m.py")
    found = find_opportunities(module, ["vectorize"])
    assert [o.code for o in found] == ["GO101"]
    notes = find_opportunities(module, ["vectorize"], include_notes=True)
    assert any(is_note(o) for o in notes)
    silenced = SourceModule.parse(
        code.replace(
            "range(len(x)):\n        out", "range(len(x)):  # greenopt: ignore\n        out"
        ),
        "m.py",
    )
    assert find_opportunities(silenced, ["vectorize"]) == []


def test_finding_record_is_the_single_json_shape() -> None:
    (opp,) = find_opportunities(SourceModule.parse(K.SAXPY, "k.py"), ["vectorize"])
    record = finding_record(opp)
    assert set(record) == {
        "path", "line", "column", "end_line", "end_column", "code", "pass", "message",
        "rationale", "function", "fixable", "static_safe", "note", "fix", "fix_status",
        "predicted_ratio", "predicted_saving", "predicted_interval", "prediction_source",
    }  # fmt: skip
    assert record["column"] == opp.site.col + 1
