"""Selection logic with a scripted measurement backend: best candidate, combination, JIT costs.

The backend decides ratios from the candidate's source text, so these tests check
the pipeline's decisions (not the machine's speed) deterministically.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from greenopt.measure.workload import Workload
from greenopt.optimizer.pipeline import optimize
from greenopt.optimizer.validation import MeasureBackend

from .fakepasses import ReplaceBodyPass

CODE = """def f(x):
    return x + 1.0


def g(x):
    return x * 2.0
"""

FAST_F = "return 1.0 + x\n"  # same values, "faster" according to the script below
FAST_G = "return 2.0 * x\n"


@dataclass
class FakeMeasurement:
    energy_median_j: float
    time_median_s: float
    cold_energy_j: float | None = None


@dataclass
class FakeComparison:
    a: FakeMeasurement
    b: FakeMeasurement
    ratio: float
    ci95: tuple[float, float]


def scripted_backend(ratio_of: Any, noise: float = 0.01) -> MeasureBackend:
    """compare() returns ratio_of(candidate source) with a tight CI; A/A noise fixed."""

    def compare(a: Workload, b: Workload, meter: str, options: Any, progress: Any) -> Any:
        text = Path(b.module_path or "").read_text()
        r = ratio_of(text)
        return FakeComparison(
            FakeMeasurement(1.0, 1.0, cold_energy_j=1.1),
            FakeMeasurement(r, r, cold_energy_j=r + 0.5),
            r,
            (r * 0.95, r * 1.05),
        )

    def aa_noise(a: Workload, meter: str, options: Any) -> float:
        return noise

    return MeasureBackend(compare, aa_noise, options=None, meter="estimate")


FAST: dict[str, Any] = {"meter": "estimate", "timeout_s": 60.0, "memory_mb": 2048}


def _run(tmp_path: Path, ratio_of: Any, noise: float = 0.01, **kw: Any) -> Any:
    path = tmp_path / "fg.py"
    path.write_text(CODE)
    passes = {"replace-body": ReplaceBodyPass({"f": FAST_F, "g": FAST_G})}
    return optimize(
        path,
        [Workload("x = 3.0", ("f(x)", "g(x)"))],
        passes=passes,
        backend=scripted_backend(ratio_of, noise),
        **FAST,
        **kw,
    )


def test_both_accepted_and_combined_module_revalidated(tmp_path: Path) -> None:
    result = _run(tmp_path, lambda text: 0.5)
    assert [f.verdict for f in result.functions] == ["accepted", "accepted"]
    assert result.combined is not None and result.combined.accepted
    assert FAST_F.strip() in result.new_code and FAST_G.strip() in result.new_code


def test_failed_combination_falls_back_to_the_single_best(tmp_path: Path) -> None:
    def ratio_of(text: str) -> float:
        both = FAST_F.strip() in text and FAST_G.strip() in text
        if both:
            return 1.0  # the combination saves nothing
        return 0.4 if FAST_F.strip() in text else 0.7

    result = _run(tmp_path, ratio_of)
    verdicts = {f.name: f for f in result.functions}
    assert result.combined is not None and not result.combined.accepted
    assert verdicts["f"].verdict == "accepted"
    assert verdicts["g"].verdict == "rejected"
    assert "combined module failed re-validation" in verdicts["g"].reason
    assert FAST_F.strip() in result.new_code and FAST_G.strip() not in result.new_code


def test_noise_floor_decides_acceptance(tmp_path: Path) -> None:
    # ratio 0.93, CI upper 0.9765: accepted with 2% floor, refused with 5% A/A noise
    assert _run(tmp_path, lambda t: 0.93, noise=0.01).functions[0].verdict == "accepted"
    refused = _run(tmp_path, lambda t: 0.93, noise=0.05).functions[0]
    assert refused.verdict == "rejected"
    assert "no significant saving" in refused.reason and "0.950" in refused.reason
    # 0.93 is below 1 - ε = 0.95: a saving the interval is too wide to confirm
    assert "inconclusive" in refused.reason and "--samples" in refused.reason
    nothing = _run(tmp_path, lambda t: 0.99, noise=0.05).functions[0]
    assert nothing.verdict == "rejected" and "inconclusive" not in nothing.reason


def test_jit_candidates_report_cold_warm_and_break_even(tmp_path: Path) -> None:
    path = tmp_path / "fg.py"
    path.write_text(CODE)
    result = optimize(
        path,
        [Workload("x = 3.0", ("f(x)",))],
        passes={"jit": ReplaceBodyPass({"f": FAST_F}, name="jit")},
        backend=scripted_backend(lambda t: 0.5),
        **FAST,
    )
    (f,) = [fr for fr in result.functions if fr.name == "f"]
    assert f.verdict == "accepted"
    # cold 1.0 J, warm 0.5 J -> overhead 0.5 J minus the original's 0.1 J first-call
    # overhead = 0.4 J; saving 0.5 J per call -> pays back after 1 call
    assert f.cold_energy_j == 1.0 and f.warm_energy_j == 0.5
    assert f.break_even_calls == 1


def test_fail_on_refused_exit_code(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    import greenopt.optimizer.pipeline as pipeline
    from greenopt.cli import main

    real = pipeline.optimize

    def scripted(*args: Any, **kwargs: Any) -> Any:
        kwargs["passes"] = {"replace-body": ReplaceBodyPass({"f": FAST_F, "g": FAST_G})}
        kwargs["backend"] = scripted_backend(lambda t: 1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "optimize", scripted)
    path = tmp_path / "fg.py"
    path.write_text(CODE)
    args = ["rewrite", str(path), "--setup", "x = 3.0", "--call", "f(x)", "--no-store"]
    assert main([*args, "--meter", "estimate"]) == 0
    assert main([*args, "--meter", "estimate", "--fail-on-refused"]) == 1
    assert path.read_text() == CODE


def test_carbon_intensity_gives_co2e_saved(tmp_path: Path) -> None:
    result = _run(tmp_path, lambda text: 0.5, carbon_intensity=1000.0)
    f = result.functions[0]
    assert result.carbon_intensity_g_per_kwh == 1000.0
    # 1.0 J -> 0.5 J saves 0.5 J = 0.5 / 3.6e6 kWh, times 1000 g/kWh
    assert f.co2e_saved_g == pytest.approx(0.5 / 3.6e6 * 1000.0)


def test_write_refuses_a_file_changed_during_the_run(
    tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    import greenopt.optimizer.pipeline as pipeline
    from greenopt.cli import main

    real = pipeline.optimize
    path = tmp_path / "fg.py"
    path.write_text(CODE)
    edited = CODE + "\n# edited by the user meanwhile\n"

    def scripted(*args: Any, **kwargs: Any) -> Any:
        kwargs["passes"] = {"replace-body": ReplaceBodyPass({"f": FAST_F, "g": FAST_G})}
        kwargs["backend"] = scripted_backend(lambda t: 0.5)
        result = real(*args, **kwargs)
        path.write_text(edited)  # the user saves the file while greenopt runs
        return result

    monkeypatch.setattr(pipeline, "optimize", scripted)
    args = ["rewrite", str(path), "--setup", "x = 3.0", "--call", "f(x)", "--no-store"]
    assert main([*args, "--meter", "estimate", "--write"]) == 2
    assert "changed on disk" in capsys.readouterr().err
    assert path.read_text() == edited


@dataclass(frozen=True)
class _Pred:
    ratio: float
    lo: float
    hi: float
    source: str = "model"


class WrongFirstModel:
    """Ranks the deliberately wrong candidate first."""

    def predict_candidate(self, original, candidate, function, passes, sizes):  # type: ignore[no-untyped-def]
        return _Pred(0.1, 0.05, 0.2) if passes == ["scale-returns"] else _Pred(0.5, 0.3, 0.8)


def _ranked_run(tmp_path: Path, model: Any, **kwargs: Any) -> tuple[Any, Any]:
    """`optimize` with two fake passes (a faster body, and scaled returns that fail
    equivalence), candidates ranked by `model`, top-1: the result and `f`'s outcome."""
    from .fakepasses import ScaleReturnsPass

    path = tmp_path / "fg.py"
    path.write_text(CODE)
    result = optimize(
        path,
        [Workload("x = 3.0", ("f(x)",))],
        passes={
            "replace-body": ReplaceBodyPass({"f": FAST_F}),
            "scale-returns": ScaleReturnsPass(),
        },
        backend=scripted_backend(lambda t: 0.5),
        cost_model=model,
        top_k=1,
        **FAST,
        **kwargs,
    )
    (f,) = [fr for fr in result.functions if fr.name == "f"]
    return result, f


def test_top_k_budget_is_spent_on_measured_candidates_only(tmp_path: Path) -> None:
    result, f = _ranked_run(tmp_path, WrongFirstModel())
    by_recipe = {c.recipe: c for c in f.candidates}
    wrong = by_recipe["scale-returns#1"]
    assert wrong.predicted_ratio == 0.1 and wrong.verdict == "rejected" and not wrong.measured
    good = by_recipe["replace-body#1"]
    assert good.measured and good.verdict == "accepted"
    assert f.verdict == "accepted" and f.passes == ("replace-body",)
    # the budget (1) was used by the good candidate: the combination was not measured
    assert by_recipe["replace-body + scale-returns"].verdict == "not measured"
    assert result.model_used


def _cr(recipe: str, passes: tuple[str, ...], ratio: float, ci: tuple[float, float]) -> Any:
    from greenopt.optimizer.pipeline import CandidateResult

    return CandidateResult(
        function="f",
        recipe=recipe,
        passes=passes,
        codes=(),
        source_hash="0",
        loops_removed=1,
        predicted_ratio=None,
        predicted_interval=None,
        prediction_source="loops-removed",
        ratio=ratio,
        ci95=ci,
    )


def test_choose_best_prefers_no_jit_unless_jit_is_significantly_better() -> None:
    from greenopt.optimizer.pipeline import choose_best

    vec = (None, _cr("vectorize#1", ("vectorize",), 0.050, (0.045, 0.055)))
    jit_close = (None, _cr("jit#1", ("jit",), 0.045, (0.040, 0.050)))
    jit_far = (None, _cr("jit#1", ("jit",), 0.020, (0.018, 0.022)))
    assert choose_best([]) is None
    assert choose_best([jit_close, vec]) is vec  # CIs overlap: keep the plain rewrite
    assert choose_best([jit_far, vec]) is jit_far  # clearly better: keep the JIT
    assert choose_best([jit_far]) is jit_far


class BusyProbe:
    """A contention probe that reports `cpus` other CPUs for every comparison."""

    def __init__(self, cpus: float) -> None:
        self.cpus = cpus
        self.started = 0

    def start(self) -> None:
        self.started += 1

    def stop(self) -> Any:
        from greenopt.measure.contention import Contention

        return Contention(wall_s=1.0, foreign_cpus=self.cpus, steal_cpus=0.0)


@pytest.mark.parametrize("cpus, warned", [(1.3, True), (0.05, False)])
def test_contention_while_measuring_is_reported(tmp_path: Path, cpus: float, warned: bool) -> None:
    """Each comparison's other-process load reaches the candidate JSON; a busy one is warned."""
    from io import StringIO

    from rich.console import Console

    from greenopt.optimizer.report import render_table, result_json

    path = tmp_path / "fg.py"
    path.write_text(CODE)
    probe = BusyProbe(cpus)
    backend = replace(scripted_backend(lambda text: 0.5 if "1.0 + x" in text else 1.0), probe=probe)
    result = optimize(
        path,
        [Workload("x = 3.0", ("f(x)", "g(x)"))],
        passes={"replace-body": ReplaceBodyPass({"f": FAST_F, "g": FAST_G})},
        backend=backend,
        **FAST,
    )
    assert probe.started >= 2  # f's and g's candidates were measured under the probe
    f = {fr["name"]: fr for fr in result_json(result)["functions"]}["f"]
    measured = [c for c in f["candidates"] if c["measured"]]
    assert measured and all(c["other_cpus"] == pytest.approx(cpus) for c in measured)
    assert "other_cpus" not in f  # the function's field set is fixed (issue 4)
    out = StringIO()
    render_table(result, Console(file=out, width=200))
    assert ("other processes kept" in out.getvalue()) is warned


def test_without_a_probe_other_cpus_is_null(tmp_path: Path) -> None:
    from greenopt.optimizer.report import result_json

    result = _run(tmp_path, lambda text: 0.5)
    for fr in result_json(result)["functions"]:
        assert all(c["other_cpus"] is None for c in fr["candidates"] if c["measured"])


def test_config_ignore_keeps_a_pass_out_of_the_validated_rewrite(tmp_path: Path) -> None:
    """`[tool.greenopt] ignore` binds `rewrite` as it binds `check`: no jit candidate at all."""
    from greenopt.config import Config
    from greenopt.passes.registry import get_pass

    path = tmp_path / "loop.py"
    path.write_text(
        "def total(x):\n    s = 0.0\n    for i in range(len(x)):\n        s += x[i]\n    return s\n"
    )
    result = optimize(
        path,
        [Workload("x = [1.0, 2.0, 3.0]", ("total(x)",))],
        passes={"jit": get_pass("jit")},
        backend=scripted_backend(lambda text: 0.5),
        config=Config(ignore=("GO4",)),
        **FAST,
    )
    (fr,) = result.functions
    assert fr.verdict == "unchanged" and fr.candidates == []
    assert "no applicable rewrite" in (fr.reason or "")


class CloseCallModel:
    """Predicts the two single-pass candidates within 10% of each other, the pair far off."""

    def predict_candidate(self, original, candidate, function, passes, sizes):  # type: ignore[no-untyped-def]
        ratio = {("replace-body",): 0.10, ("scale-returns",): 0.11}.get(tuple(passes), 0.5)
        return _Pred(ratio, ratio / 2, ratio * 2)


def _close_call(tmp_path: Path, **kwargs: Any) -> Any:
    _, f = _ranked_run(tmp_path, CloseCallModel(), **kwargs)
    return {c.recipe: c for c in f.candidates}


def test_a_near_tie_of_the_best_prediction_is_measured_too(tmp_path: Path) -> None:
    by_recipe = _close_call(tmp_path)  # default near tie: 1.2
    best, close = by_recipe["replace-body#1"], by_recipe["scale-returns#1"]
    assert best.measured and not best.near_tie
    # predicted 0.11 against 0.10: within 1.2x, so validated beyond the top-1 (it then
    # fails equivalence: its outputs are scaled), and flagged as a near tie
    assert close.validated and close.near_tie and close.verdict == "rejected"
    far = by_recipe["replace-body + scale-returns"]
    assert far.verdict == "not measured" and not far.near_tie  # 0.5: no tie
    assert "1 better-ranked" in (far.reason or "")


def test_near_tie_one_measures_only_the_top_k(tmp_path: Path) -> None:
    by_recipe = _close_call(tmp_path, near_tie=1.0)
    assert by_recipe["replace-body#1"].measured
    close = by_recipe["scale-returns#1"]
    assert close.verdict == "not measured" and not close.validated and not close.near_tie


@pytest.mark.parametrize("factor", [0.9, float("nan"), float("inf")])
def test_a_near_tie_factor_below_one_is_refused(tmp_path: Path, factor: float) -> None:
    from greenopt.errors import InputError

    with pytest.raises(InputError, match="--near-tie"):
        _close_call(tmp_path, near_tie=factor)


def test_the_cli_default_near_tie_is_the_pipeline_default() -> None:
    from greenopt.commands.rewrite import rewrite
    from greenopt.optimizer.pipeline import NEAR_TIE

    (option,) = [p for p in rewrite.params if p.name == "near_tie"]
    assert option.default == NEAR_TIE
