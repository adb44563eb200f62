"""`unified_diff` computes each fix's diff from the changed lines only: it must stay
byte-identical to difflib's diff of the whole texts."""

from __future__ import annotations

import difflib
import random

import pytest

from greenopt.optimizer import source
from greenopt.optimizer.source import unified_diff

VOCAB = ["\n", "    return s\n", "    s = 0.0\n", "        s += x[i]\n", "pass\n", "x = 1\n"]


def _reference(old: str, new: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), "a/m.py", "b/m.py"
        )
    )


def _line(rng: random.Random, lines: list[str]) -> str:
    roll = rng.random()
    if roll < 0.45:
        return rng.choice(VOCAB)
    if roll < 0.7 and lines:
        return rng.choice(lines)  # a copy of a line found elsewhere
    return f"line{rng.randrange(10_000)}\n"


def _case(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.3:  # many similar functions: popular lines, as in generated code
        old = _loops(rng.randint(30, 120)).splitlines(keepends=True)
    else:
        n = rng.choice([0, 1, 3, 10, 50, 150, 199, 200, 250, 400, 700])
        old = [_line(rng, []) for _ in range(n)]
    new = list(old)
    for _ in range(rng.randint(1, 4)):
        at = rng.choice(
            [0, len(new), max(0, len(new) - rng.randint(1, 8)), rng.randint(0, len(new))]
        )
        cut = min(rng.choice([0, 0, 1, 2, 5]), len(new) - at)
        new[at : at + cut] = [_line(rng, old) for _ in range(rng.choice([0, 1, 2, 3, 6]))]
    old_text, new_text = "".join(old), "".join(new)
    style = rng.random()
    if style < 0.15:
        old_text, new_text = old_text.replace("\n", "\r\n"), new_text.replace("\n", "\r\n")
    elif style < 0.25:
        new_text = new_text.replace("\n", "\r\n", 1)  # one line changes its ending only
    if rng.random() < 0.2:
        old_text = old_text.rstrip("\n")  # no newline at the end of the file
    if rng.random() < 0.2:
        new_text = new_text.rstrip("\n")
    return old_text, new_text


@pytest.mark.parametrize("seed", range(10))
def test_local_diff_is_difflibs_on_random_edits(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source, "_LOCAL_DIFF_MIN", 0)  # the local path even for tiny files
    used = 0
    real = source._local_opcodes

    def counting(*args: object) -> object:
        nonlocal used
        answer = real(*args)  # type: ignore[arg-type]
        used += answer is not None
        return answer

    monkeypatch.setattr(source, "_local_opcodes", counting)
    rng = random.Random(seed)
    for _ in range(300):
        old, new = _case(rng)
        assert unified_diff(old, new, "m.py") == _reference(old, new), (old, new)
    assert used > 100  # the local path did answer most of the time


def _loops(count: int) -> str:
    return "".join(
        f"def f{i}(x):\n    s = 0.0\n    for i in range(len(x)):\n        s += x[i]\n"
        "    return s\n\n"
        for i in range(count)
    )


@pytest.mark.parametrize("where", [0, 1, 250, 499])
def test_fix_of_a_large_file_takes_the_local_path(
    where: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fix as `check` shows it (an import at the top, one loop rewritten): difflib's
    bytes, computed without difflib looking at the whole file."""
    old = _loops(500)
    new = "import numpy as np\n\n\n" + old.replace(
        f"def f{where}(x):\n    s = 0.0\n    for i in range(len(x)):\n        s += x[i]\n",
        f"def f{where}(x):\n    s = 0.0\n    if len(x) > 0:\n        s += np.sum(x)\n",
    )
    calls: list[object] = []
    real = source._local_opcodes
    monkeypatch.setattr(source, "_local_opcodes", lambda *a: calls.append(real(*a)) or calls[-1])
    assert unified_diff(old, new, "m.py") == _reference(old, new)
    # the last function's tail (`return s`, a blank line) holds only popular lines: difflib
    # leaves such a stretch to the change before it, so that case is left to difflib
    assert calls and (calls[0] is None) == (where == 499)
    # no trailing newline, CRLF: still difflib's bytes
    for o, n in ((old.rstrip("\n"), new.rstrip("\n")), (old.replace("\n", "\r\n"), new)):
        assert unified_diff(o, n, "m.py") == _reference(o, n)


def test_the_adversarial_case_falls_back_to_difflib() -> None:
    """Trimming the common ends would align this differently from difflib."""
    old = "".join(f"u{i}\n" for i in range(300)) + "X\nY\nX\n"
    new = "".join(f"u{i}\n" for i in range(300)) + "Z\nX\n"
    assert unified_diff(old, new, "m.py") == _reference(old, new)
    assert unified_diff("X\nY\nX\n", "Z\nX\n", "m.py") == _reference("X\nY\nX\n", "Z\nX\n")


def test_equal_texts_give_no_diff() -> None:
    assert unified_diff("a\n", "a\n", "m.py") == ""
