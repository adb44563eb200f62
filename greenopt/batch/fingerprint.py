"""The fingerprint of an analysis: what must match for a cached per-file result to be reused.

It covers greenopt's version, the code that produces the results (the batch,
optimizer, passes and models packages, including the shipped model data) and
the options that change results (passes, select/ignore, screening, predictions,
model path). Per-file time limits are left out because timed-out files are
never cached.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import greenopt
from greenopt.batch.file_analysis import AnalysisOptions

#: packages whose code decides the analysis results
_CODE_DIRS = ("batch", "optimizer", "passes", "models", "config.py")


def code_fingerprint() -> str:
    """Hash of greenopt's version and of every source and data file that shapes results."""
    root = Path(greenopt.__file__).parent
    h = hashlib.sha256(greenopt.__version__.encode())
    for name in _CODE_DIRS:
        base = root / name
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for p in files:
            if "__pycache__" in p.parts or p.suffix in (".pyc", ".pyo"):
                continue
            h.update(p.relative_to(root).as_posix().encode())
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def analysis_fingerprint(options: AnalysisOptions, code: str | None = None) -> str:
    """Fingerprint of a run's analysis: code fingerprint plus result-shaping options (16 hex)."""
    config = options.config
    payload = {
        "code": code or code_fingerprint(),
        "passes": list(options.passes),
        "select": list(config.select) if config else [],
        "ignore": list(config.ignore) if config else [],
        "screen": options.screen,
        "predict": options.predict,
        "model_path": options.model_path,
        "model_sha256": _file_digest(options.model_path),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _file_digest(path: str | None) -> str | None:
    """SHA-256 of a chosen cost model's file (a retrained model re-analyses), if readable."""
    if not path:
        return None
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None
