"""Does Numba compile this function in nopython mode? Checked in a child process.

The jit pass proposes `@numba.njit`; whether Numba can actually type the function
depends on the argument types, which only a workload knows. `check_compiles` writes
the candidate module to a temporary directory and asks a fresh Python process
(`python -m greenopt.passes.numba_check`) to import it and compile the function:

- with a `Workload`: the child runs the workload's setup (seeded, as the runner does),
  replaces the function by a shim, and when a call reaches the shim compiles the
  function for the types of the real arguments (and, with `run=True`, runs it);
- with `arg_types`: Numba type strings such as `("float64[::1]", "float64")`;
- with `args`: example argument values (pickled to the child).

The child never shares state with the caller: a segfault, a hang (timeout) or a
memory blow-up in the compiled code is a failed check with a reason, not a crash of
greenopt. On success the result carries statistics of the optimised LLVM IR
(instruction mix, memory operations, SIMD width), the evidence the cost model uses
for jit candidates; `inspect_llvm` computes them for a dispatcher in this process.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from greenopt.measure.workload import Workload

#: the child prints its JSON answer on a line starting with this marker
RESULT_MARKER = "GREENOPT_NUMBA_CHECK "
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class CompileResult:
    """Outcome of a child-process compile check.

    `reason` is "" on success; on failure it is "<ErrorClass>: <first informative
    line>" (e.g. "TypingError: Untyped global name 'foo'") or a description of a
    timeout or crash. `llvm_ir_stats` is empty on failure; `signatures` are the
    Numba signatures compiled; `compile_s` is the child's compile time in seconds.
    """

    ok: bool
    reason: str = ""
    error_class: str = ""
    signatures: tuple[str, ...] = ()
    llvm_ir_stats: Mapping[str, float] = field(default_factory=dict)
    compile_s: float | None = None


# --- LLVM IR statistics ---------------------------------------------------------------------

_INSTRUCTION = re.compile(r"^\s+(?:%[\w.\"$-]+\s*=\s*)?([a-z][a-z_]*)\b")
_DEFINE = re.compile(r"^define\b[^@]*@\"?([^\"(\s]+)\"?\(")
_VECTOR = re.compile(r"<(\d+)\s+x\s+(double|float|i\d+|half)>")
_INTRINSIC = re.compile(r"call[^@]*@llvm\.([a-z]+)")
_OPCODES = (
    "load",
    "store",
    "fadd",
    "fsub",
    "fmul",
    "fdiv",
    "frem",
    "fneg",
    "fcmp",
    "add",
    "sub",
    "mul",
    "sdiv",
    "udiv",
    "srem",
    "urem",
    "icmp",
    "and",
    "or",
    "xor",
    "shl",
    "lshr",
    "ashr",
    "getelementptr",
    "br",
    "switch",
    "phi",
    "select",
    "call",
    "alloca",
    "ret",
    "sitofp",
    "fptosi",
    "fpext",
    "fptrunc",
    "extractelement",
    "insertelement",
    "shufflevector",
)


def llvm_ir_stats(ir: str) -> dict[str, float]:
    """Instruction mix of the optimised LLVM IR of one Numba-compiled function.

    Only the function bodies proper are counted; the CPython and cfunc wrappers Numba
    adds around every function are skipped. Keys: `n_instructions`, `n_<opcode>` for
    common opcodes, `n_vector_instructions`, `max_vector_width` (lanes of the widest
    `<N x T>` used, 1 when scalar), `vector_bits` (widest vector in bits),
    `n_llvm_intrinsics`, `n_nrt_calls` (Numba runtime: allocation, refcounts),
    `n_functions`, `n_basic_blocks`.
    """
    counts: dict[str, float] = {f"n_{op}": 0.0 for op in _OPCODES}
    counts.update(
        n_instructions=0.0,
        n_vector_instructions=0.0,
        max_vector_width=1.0,
        vector_bits=0.0,
        n_llvm_intrinsics=0.0,
        n_nrt_calls=0.0,
        n_functions=0.0,
        n_basic_blocks=0.0,
    )
    bits = {"double": 64, "float": 32, "half": 16}
    inside = False
    for line in ir.splitlines():
        if not inside:
            match = _DEFINE.match(line)
            if match:
                name = match.group(1)
                if name.startswith(("cpython.", "cfunc.", "_ZN7cpython")) or "cpython" in name[:40]:
                    continue
                inside = True
                counts["n_functions"] += 1
                counts["n_basic_blocks"] += 1
            continue
        if line.startswith("}"):
            inside = False
            continue
        if line and not line.startswith((" ", "\t", ";")) and line.rstrip().endswith(":"):
            counts["n_basic_blocks"] += 1
            continue
        if re.match(r"^[\w.\"$-]+:", line):
            counts["n_basic_blocks"] += 1
            continue
        match = _INSTRUCTION.match(line)
        if not match:
            continue
        opcode = match.group(1)
        if opcode in ("tail", "musttail", "notail"):
            opcode = "call"
        counts["n_instructions"] += 1
        key = f"n_{opcode}"
        if key in counts:
            counts[key] += 1
        vectors = _VECTOR.findall(line)
        if vectors:
            counts["n_vector_instructions"] += 1
            for lanes, elem in vectors:
                width = int(lanes)
                elem_bits = bits.get(elem, int(elem[1:]) if elem.startswith("i") else 0)
                if elem_bits >= 16:  # <N x i1> masks are not data vectors
                    counts["max_vector_width"] = max(counts["max_vector_width"], float(width))
                    counts["vector_bits"] = max(counts["vector_bits"], float(width * elem_bits))
        if opcode == "call":
            if _INTRINSIC.search(line):
                counts["n_llvm_intrinsics"] += 1
            if "@NRT_" in line:
                counts["n_nrt_calls"] += 1
    return counts


def inspect_llvm(dispatcher: Any, signature: Any = None) -> dict[str, float]:
    """IR statistics (see `llvm_ir_stats`) of a compiled Numba dispatcher.

    Uses `dispatcher.inspect_llvm()` (Numba's final, optimised module for each compiled
    signature); with several signatures and none given, the first one compiled.
    Raises ValueError if nothing has been compiled yet.
    """
    listing = dispatcher.inspect_llvm()
    if not listing:
        raise ValueError("the dispatcher has not compiled any signature yet")
    if signature is None:
        signature = next(iter(listing))
    return llvm_ir_stats(listing[signature])


# --- parent side ------------------------------------------------------------------------------


def check_compiles(
    module_source: str,
    module_name: str,
    function: str,
    *,
    workload: Workload | None = None,
    arg_types: Sequence[str] | None = None,
    args: Sequence[Any] | None = None,
    helpers: Sequence[str] = (),
    options: Mapping[str, bool] | None = None,
    run: bool = False,
    extra_sys_path: Sequence[str] = (),
    timeout_s: float = 120.0,
) -> CompileResult:
    """Compile `module_name.function` with Numba in nopython mode in a child process.

    `module_source` may already carry the `@numba.njit` decorators (a jit candidate):
    then they are used as written. Functions in `[function, *helpers]` that are not
    Numba dispatchers are wrapped with `numba.njit(**options)` first (default options:
    `cache=False`). Exactly one of `workload` (its setup and calls supply the real
    arguments; its `module_path` is ignored), `arg_types` or `args` must be given.
    `run=True` also executes the compiled function (workload or args), which catches
    crashes in compiled code. Never raises for a failed compile: the reason is in the
    result.
    """
    given = sum(x is not None for x in (workload, arg_types, args))
    if given != 1:
        raise ValueError("give exactly one of workload, arg_types or args")
    request: dict[str, Any] = {
        "module_name": module_name,
        "function": function,
        "helpers": list(helpers),
        "options": dict(options or {}),
        "run": run,
        "extra_sys_path": list(extra_sys_path),
    }
    if workload is not None:
        request["mode"] = "workload"
        request["setup"] = workload.setup
        request["calls"] = list(workload.calls)
        request["seed"] = workload.seed
        request["extra_sys_path"] = list(extra_sys_path) + list(workload.extra_sys_path)
    elif arg_types is not None:
        request["mode"] = "types"
        request["arg_types"] = list(arg_types)
    else:
        request["mode"] = "args"
        request["args_pickle"] = base64.b64encode(pickle.dumps(tuple(args or ()))).decode()
    with tempfile.TemporaryDirectory(prefix="greenopt-numba-") as tmp:
        module_path = Path(tmp) / f"{module_name}.py"
        module_path.write_text(module_source, encoding="utf-8")
        request["module_path"] = str(module_path)
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (package_root, env.get("PYTHONPATH", "")) if p
        )
        env["NUMBA_CACHE_DIR"] = str(Path(tmp) / "numba-cache")
        env["NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING"] = "1"
        env["NUMBA_COLOR_SCHEME"] = "no_color"
        env.setdefault("PYTHONHASHSEED", "0")
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "greenopt.passes.numba_check"],
                input=json.dumps(request),
                capture_output=True,
                text=True,
                timeout=timeout_s,
                cwd=tmp,
                env=env,
            )
        except subprocess.TimeoutExpired:
            return CompileResult(False, f"timed out after {timeout_s:g} s", "Timeout")
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            data = json.loads(line[len(RESULT_MARKER) :])
            return CompileResult(
                ok=bool(data["ok"]),
                reason=data.get("reason", ""),
                error_class=data.get("error_class", ""),
                signatures=tuple(data.get("signatures", ())),
                llvm_ir_stats=data.get("llvm_ir_stats", {}),
                compile_s=data.get("compile_s"),
            )
    if proc.returncode < 0:
        return CompileResult(False, f"child crashed with signal {-proc.returncode}", "Crash")
    tail = _first_informative_line(proc.stderr) or f"exit code {proc.returncode}"
    return CompileResult(False, f"child failed: {tail}", "ChildError")


def _first_informative_line(message: str) -> str:
    """The first line of a (Numba) error message that says what went wrong."""
    lines = [_ANSI.sub("", ln).strip() for ln in message.splitlines()]
    skip = ("Failed in nopython mode pipeline", "Failed in object mode pipeline", "Traceback")
    for line in lines:
        if line and not line.startswith(skip) and not line.startswith("File ") and line != "^":
            return line[:300]
    return ""


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(error class, reason) for an exception raised while compiling or calling."""
    name = type(exc).__name__
    text = _first_informative_line(str(exc))
    location = ""
    match = re.search(r'File "([^"]+)", line (\d+)', _ANSI.sub("", str(exc)))
    if match:
        location = f" ({Path(match.group(1)).name}:{match.group(2)})"
    return name, f"{name}: {text}{location}" if text else name


# --- child side -------------------------------------------------------------------------------


class _CompiledEnough(Exception):
    """Raised by the shim to stop the workload once the function has been compiled."""


def _child(request: dict[str, Any]) -> dict[str, Any]:
    """Import the module, obtain argument types, compile; return a JSON-able answer."""
    import numba
    from numba.core.dispatcher import Dispatcher

    from greenopt.measure.workload import import_module_file, prepare

    name = request["module_name"]
    targets = [request["function"], *request["helpers"]]
    options = {"cache": False, **request["options"]}
    namespace: dict[str, Any] = {}
    if request["mode"] == "workload":
        wl = Workload(
            setup=request["setup"],
            calls=tuple(request["calls"]),
            module_path=request["module_path"],
            module_name=name,
            extra_sys_path=tuple(request["extra_sys_path"]),
            seed=int(request["seed"]),
        )
        prepared = prepare(wl)
        module = prepared.module
        namespace = prepared.namespace
        calls = prepared.calls
    else:
        module = import_module_file(request["module_path"], name, tuple(request["extra_sys_path"]))
        calls = []
    assert module is not None
    dispatchers: dict[str, Any] = {}
    for target in targets:
        obj = getattr(module, target, None)
        if obj is None:
            return {
                "ok": False,
                "error_class": "NameError",
                "reason": f"NameError: module {name} has no function {target!r}",
            }
        if not isinstance(obj, Dispatcher):
            try:
                obj = numba.njit(**options)(obj)
            except Exception as exc:  # noqa: BLE001 - bad options or not a function
                cls, reason = describe_error(exc)
                return {"ok": False, "error_class": cls, "reason": reason}
            setattr(module, target, obj)
            if target in namespace:
                namespace[target] = obj
        dispatchers[target] = obj
    main = dispatchers[request["function"]]
    state: dict[str, Any] = {"called": False, "compile_s": None}

    def compile_for(call_args: tuple[Any, ...], call_kwargs: dict[str, Any]) -> Any:
        start = time.perf_counter()
        if call_kwargs or request["run"]:
            result = main(*call_args, **call_kwargs)
        else:
            main.compile(tuple(numba.typeof(a) for a in call_args))
            result = None
        state["compile_s"] = time.perf_counter() - start
        state["called"] = True
        return result

    try:
        if request["mode"] == "workload":

            def shim(*call_args: Any, **call_kwargs: Any) -> Any:
                result = compile_for(call_args, call_kwargs)
                if not request["run"]:
                    raise _CompiledEnough
                return result

            setattr(module, request["function"], shim)
            if request["function"] in namespace:
                namespace[request["function"]] = shim
            try:
                for call in calls:
                    call()
            except _CompiledEnough:
                pass
            if not state["called"]:
                return {
                    "ok": False,
                    "error_class": "NotCalled",
                    "reason": f"the workload never calls {request['function']}",
                }
        elif request["mode"] == "types":
            signature = numba.core.sigutils.normalize_signature(
                f"({', '.join(request['arg_types'])}{',' if len(request['arg_types']) == 1 else ''})"
            )[0]
            start = time.perf_counter()
            main.compile(signature)
            state["compile_s"] = time.perf_counter() - start
        else:
            call_args = pickle.loads(base64.b64decode(request["args_pickle"]))
            compile_for(tuple(call_args), {})
    except _CompiledEnough:
        pass
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        cls, reason = describe_error(exc)
        return {"ok": False, "error_class": cls, "reason": reason}
    stats: dict[str, float] = {}
    if main.signatures:
        try:
            stats = inspect_llvm(main)
        except Exception:  # noqa: BLE001 - statistics are optional evidence
            stats = {}
    return {
        "ok": True,
        "reason": "",
        "signatures": [str(s) for s in main.signatures],
        "llvm_ir_stats": stats,
        "compile_s": state["compile_s"],
    }


def main() -> None:
    """Child entry point: read the JSON request on stdin, print the JSON answer."""
    request = json.loads(sys.stdin.read())
    try:
        answer = _child(request)
    except BaseException as exc:  # noqa: BLE001 - report, never traceback
        cls, reason = describe_error(exc)
        answer = {"ok": False, "error_class": cls, "reason": reason}
    sys.stdout.flush()
    print(RESULT_MARKER + json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
