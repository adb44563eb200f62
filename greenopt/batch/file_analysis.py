"""The per-file analysis: bytes in, `FileResult` out; the unit of work of every executor.

`analyze_source` is a pure function of (path label, file bytes, options): it runs
unchanged in-process, in a local process pool or on a Dask worker, so all three
give identical results. It never imports or executes the analysed code. Every
failure becomes a per-file status (binary, non-utf8, empty, syntax, python2,
too-complex, timeout, internal-error) with a one-line message; the batch goes on.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from greenopt.batch.features import FeatureExtractor, load_feature_extractor, screening_features
from greenopt.batch.prediction import NO_PREDICTION, PredictedRatio, Predictor, load_predictor
from greenopt.batch.pruning import prune_to_candidates, source_lines
from greenopt.batch.python2 import python2_evidence
from greenopt.batch.records import FileResult, FunctionRecord, OpportunityRecord
from greenopt.batch.screening import MODULE_SCOPE, FunctionSketch, Screening, screen
from greenopt.batch.time_limit import Deadline, FileTimeout, time_limit
from greenopt.config import Config
from greenopt.errors import InputError
from greenopt.optimizer.source import SourceModule, decode_source_bytes
from greenopt.passes.base import Opportunity


@dataclass(frozen=True)
class AnalysisOptions:
    """What to run on each file; identical for every file of a run (and part of its cache key)."""

    passes: tuple[str, ...]
    config: Config | None = None
    file_timeout_s: float | None = 30.0
    screen: bool = True  # False: give the whole module to the passes (for benchmarks and checks)
    predict: bool = True
    model_path: str | None = None


def sha256_hex(data: bytes) -> str:
    """The content hash that keys cached results."""
    return hashlib.sha256(data).hexdigest()


def analyze_source(path: str, data: bytes, options: AnalysisOptions) -> FileResult:
    """Analyse one file's bytes; never raises for bad input, a slow file or a failing pass."""
    started = time.perf_counter()
    digest = sha256_hex(data)
    deadline = Deadline()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings of the corpus are not ours to print
            with time_limit(options.file_timeout_s) as deadline:
                status, message, n_lines, functions = _analyze(path, data, options)
    except FileTimeout:
        status, message, n_lines, functions = _timed_out(options)
    except (RecursionError, MemoryError) as exc:
        status, message, n_lines, functions = (
            "too-complex",
            f"too deeply nested or too large to analyse ({type(exc).__name__})",
            0,
            (),
        )
    except Exception as exc:  # a bug in a pass must cost one file, not the batch
        status, message, n_lines, functions = (
            "internal-error",
            f"{type(exc).__name__}: {exc}".splitlines()[0][:500],
            0,
            (),
        )
    if deadline.expired:
        # over the limit, however the timeout surfaced: as FileTimeout, as another
        # exception, or not at all (dropped in a GC callback; see time_limit)
        status, message, n_lines, functions = _timed_out(options)
    return FileResult(
        path=path,
        sha256=digest,
        size=len(data),
        status=status,
        message=message,
        n_lines=n_lines,
        functions=tuple(functions),
        elapsed_s=time.perf_counter() - started,
    )


def _timed_out(options: AnalysisOptions) -> tuple[str, str, int, tuple[FunctionRecord, ...]]:
    """The outcome of a file whose analysis exceeded `options.file_timeout_s`."""
    return "timeout", f"analysis took longer than {options.file_timeout_s:g} s", 0, ()


def decode_source(data: bytes) -> tuple[str | None, str, str]:
    """(text, status, message): text is None when the bytes are not Python source text."""
    if not data.strip():
        return None, "empty", "empty file" if not data else "only whitespace"
    if b"\x00" in data:
        return None, "binary", "binary file (contains NUL bytes), not Python source"
    try:
        # the decoder `check` and `rewrite` use, so that a file fails with the same words
        text = decode_source_bytes(data, "")
    except InputError as exc:
        return None, "non-utf8", str(exc).removeprefix(": ")
    return text.removeprefix("\ufeff"), "ok", ""


def _analyze(
    path: str, data: bytes, options: AnalysisOptions
) -> tuple[str, str, int, tuple[FunctionRecord, ...]]:
    text, status, message = decode_source(data)
    if text is None:
        return status, message, 0, ()
    n_lines = len(source_lines(text))
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        evidence = python2_evidence(text, exc)
        if evidence is not None:
            return (
                "python2",
                f"Python 2 source ({evidence}); greenopt analyses Python 3",
                n_lines,
                (),
            )
        return "syntax", f"line {exc.lineno}: {exc.msg}", n_lines, ()
    screening = screen(tree)
    try:
        opportunities = _opportunities(path, text, tree, screening, options)
    except InputError as exc:  # the stdlib parser accepted it but libcst does not
        return "syntax", f"libcst cannot parse it: {exc}", n_lines, ()
    extractor = load_feature_extractor()
    predictor = load_predictor(options.model_path, options.predict)
    functions = _function_records(text, screening, opportunities, extractor, predictor)
    return "ok", "", n_lines, functions


def _opportunities(
    path: str, text: str, tree: ast.Module, screening: Screening, options: AnalysisOptions
) -> list[Opportunity]:
    """Run the passes on the text of the functions they could report on (see screening).

    A pass with no candidate function (and no module-level loop to look at) is not run.
    The others share one libcst parse: the text keeps the union of their screened
    functions. A pass handed a function outside its own screen finds nothing there
    (that is what a screen guarantees; the screening-equivalence tests check it), so
    this gives the per-pass results for one parse instead of up to four, libcst
    parsing being the largest cost of analysis. Without screening every pass sees
    the whole module.
    """
    if not options.passes:
        return []
    if not options.screen:
        module = SourceModule.parse(text, path)
        return find_opportunities_compat(module, options.passes, options.config)
    names, pruned = screened_text(text, tree, screening, options.passes)
    if pruned is None:
        return []
    try:
        module = SourceModule.parse(pruned, path)
    except InputError:  # pruning must never lose a file: fall back to the whole module
        module = SourceModule.parse(text, path)
    found = find_opportunities_compat(module, names, options.config)
    found.sort(key=lambda o: (o.site.line, o.site.col, o.code))
    return found


def screened_text(
    text: str, tree: ast.Module, screening: Screening, passes: Sequence[str]
) -> tuple[list[str], str | None]:
    """The passes worth running on a module and the text they share (see `_opportunities`).

    A pass runs when it has a candidate function or the module has a loop outside
    every function; the text keeps the union of the running passes' screened
    functions (`prune_to_candidates`). The text is None when no pass runs.
    """
    names: list[str] = []
    chosen: dict[int, FunctionSketch] = {}
    for name in passes:
        candidates = screening.candidates_for(name)
        if candidates or screening.module_has_loops:
            names.append(name)
            chosen.update((f.line, f) for f in candidates)
    if not names:
        return [], None
    return names, prune_to_candidates(text, tree, chosen.values())


def find_opportunities_compat(
    module: SourceModule, passes: Sequence[str], config: Config | None
) -> list[Opportunity]:
    """`greenopt.optimizer.findings.find_opportunities`, or the passes' own `find` before it exists."""
    try:
        findings = importlib.import_module("greenopt.optimizer.findings")
    except ImportError:
        findings = None
    if findings is not None:
        return list(findings.find_opportunities(module, list(passes), config))
    from greenopt.passes.registry import get_pass

    found: list[Opportunity] = []
    for name in passes:
        found.extend(get_pass(name).find(module))
    return sorted(found, key=lambda o: (o.site.line, o.site.col, o.pass_name, o.code))


def function_code(lines: list[str], sketch: FunctionSketch) -> str:
    """The text of a function (decorators included) with its `def` indentation removed."""
    body = lines[sketch.start_line - 1 : sketch.end_line]
    first = body[0] if body else ""
    indent = first[: len(first) - len(first.lstrip(" \t"))]
    if indent:
        body = [ln[len(indent) :] if ln.startswith(indent) else ln for ln in body]
    return "".join(body)


def _innermost(sketches: Sequence[FunctionSketch], line: int) -> FunctionSketch | None:
    best: FunctionSketch | None = None
    for s in sketches:
        if s.start_line <= line <= s.end_line and (best is None or s.start_line >= best.start_line):
            best = s
    return best


def _function_records(
    text: str,
    screening: Screening,
    opportunities: list[Opportunity],
    extractor: FeatureExtractor,
    predictor: Predictor,
) -> tuple[FunctionRecord, ...]:
    lines = source_lines(text)
    by_function: dict[str, list[Opportunity]] = {}
    for opp in opportunities:
        owner = _innermost(screening.functions, opp.site.line)
        by_function.setdefault(owner.qualname if owner else MODULE_SCOPE, []).append(opp)

    records: list[FunctionRecord] = []
    module_opps = by_function.get(MODULE_SCOPE, [])
    if module_opps:
        records.append(_module_record(module_opps))
    for sketch in screening.functions:
        opps = by_function.get(sketch.qualname, [])
        code = function_code(lines, sketch)
        if opps:  # the model's features are costly (~1 ms): only where a prediction is made
            shared = (
                predictor.features(code, sketch.qualname)
                if extractor.source == "models.features"
                else None
            )
            if shared is not None:  # the same profile the predictions below reuse
                features, features_source = shared, extractor.source
            else:
                features, features_source = extractor.features(sketch, code)
        else:
            features, features_source = screening_features(sketch), "screening"
        opp_records = tuple(_opportunity_record(o, predictor.predict(code, o)) for o in opps)
        records.append(_function_record(sketch, features, features_source, opp_records))
    return tuple(records)


def _opportunity_record(opp: Opportunity, p: PredictedRatio) -> OpportunityRecord:
    return OpportunityRecord(
        pass_name=opp.pass_name,
        code=opp.code,
        message=opp.message,
        line=opp.site.line,
        col=opp.site.col,
        end_line=opp.site.end_line,
        end_col=opp.site.end_col,
        site_function=opp.site.function,
        fixable=bool(opp.fixable),
        static_safe=bool(opp.static_safe),
        predicted_ratio=p.ratio,
        predicted_lo=p.lo,
        predicted_hi=p.hi,
        prediction_source=p.source,
    )


def _best_saving(opps: Sequence[OpportunityRecord]) -> tuple[float | None, str]:
    """1 - the lowest predicted ratio among `opps`, with that prediction's source."""
    best: OpportunityRecord | None = None
    for o in opps:
        if o.predicted_ratio is not None and (
            best is None or best.predicted_ratio is None or o.predicted_ratio < best.predicted_ratio
        ):
            best = o
    if best is None or best.predicted_ratio is None:
        return None, "none"
    return 1.0 - best.predicted_ratio, best.prediction_source


def _function_record(
    sketch: FunctionSketch,
    features: dict[str, float],
    features_source: str,
    opps: tuple[OpportunityRecord, ...],
) -> FunctionRecord:
    saving, source = _best_saving(opps)
    return FunctionRecord(
        qualname=sketch.qualname,
        line=sketch.line,
        end_line=sketch.end_line,
        col=sketch.col,
        n_lines=sketch.n_lines,
        n_statements=sketch.n_statements,
        n_loops=sketch.n_loops,
        max_loop_depth=sketch.max_loop_depth,
        n_comprehensions=sketch.n_comprehensions,
        n_calls=sketch.n_calls,
        n_numpy_calls=sketch.n_numpy_calls,
        is_method=sketch.is_method,
        is_async=sketch.is_async,
        candidate=sketch.candidate,
        features=features,
        features_source=features_source,
        opportunities=opps,
        predicted_saving=saving,
        prediction_source=source,
    )


def _module_record(opps: list[Opportunity]) -> FunctionRecord:
    """A pseudo-function for opportunities found outside every function (no prediction)."""
    records = tuple(_opportunity_record(o, NO_PREDICTION) for o in opps)
    first = min(o.site.line for o in opps)
    last = max(o.site.end_line for o in opps)
    return FunctionRecord(
        qualname=MODULE_SCOPE,
        line=first,
        end_line=last,
        col=0,
        n_lines=last - first + 1,
        n_statements=0,
        n_loops=0,
        max_loop_depth=0,
        n_comprehensions=0,
        n_calls=0,
        n_numpy_calls=0,
        is_method=False,
        is_async=False,
        candidate=True,
        features={},
        features_source="none",
        opportunities=records,
        predicted_saving=None,
        prediction_source="none",
    )
