"""The corpus is well-formed: enough kernels and families, three sizes each, all parse."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

from greenopt.errors import InputError
from greenopt.models.corpus import default_corpus_dir, load_corpus, load_kernel, round_robin


@pytest.fixture(scope="module")
def kernels():
    return load_corpus(default_corpus_dir())


def test_corpus_size_and_families(kernels) -> None:
    assert len(kernels) >= 60
    families = Counter(k.family for k in kernels)
    assert len(families) >= 6
    assert {"ai", "fluid", "image", "linalg", "signal", "montecarlo"} <= set(families)
    # some kernels are already vectorised (no loop in the entry function)
    assert sum(k.stem.endswith("_vec") for k in kernels) >= 6


def test_every_kernel_has_three_sizes_and_parses(kernels) -> None:
    for k in kernels:
        assert {w.size for w in k.workloads} >= {"small", "medium", "large"}, k.key
        assert Path(k.path).parent.name == k.family, k.key
        ast.parse(k.code)
        for w in k.workloads:
            ast.parse(w.setup)
            call = ast.parse(w.call, mode="eval").body
            assert isinstance(call, ast.Call) and call.func.id == k.kernel, k.key
            assert w.sizes, f"{k.key}@{w.size}: no sizes bound"
            assert "del rng" in w.setup or "rng" not in w.setup, k.key


def test_sizes_grow_with_the_size_label(kernels) -> None:
    for k in kernels:
        totals = [
            sum(v for key, v in w.sizes.items() if key.endswith(".size")) for w in k.workloads
        ]
        assert totals == sorted(totals), k.key


def test_sizes_are_bound_through_the_call(tmp_path) -> None:
    path = tmp_path / "fam" / "kern.py"
    path.parent.mkdir()
    path.write_text(
        'FAMILY = "fam"\nKERNEL = "f"\n'
        'SETUP = "import numpy as np\\nx = np.ones(({n}, 3))"\nCALL = "f(x, {n})"\n'
        'SIZES = {"small": {"n": 2}, "medium": {"n": 4}, "large": {"n": 8}}\n'
        'SHAPES = {"x": ["n", 3]}\n\ndef f(a, m):\n    return a.sum() * m\n'
    )
    k = load_kernel(path)
    assert k.workloads[2].sizes == {"a": 8, "a.shape[0]": 8, "a.shape[1]": 3, "a.size": 24, "m": 8}
    assert k.workloads[0].setup.endswith("np.ones((2, 3))")


@pytest.mark.parametrize(
    "body, message",
    [
        ('FAMILY = "f"\n', "missing"),
        (
            'FAMILY = "f"\nKERNEL = "g"\nSETUP = ""\nCALL = "g()"\nSIZES = {"small": {}}\n',
            "not a top-level",
        ),
        (
            'FAMILY = "f"\nKERNEL = "g"\nSETUP = ""\nCALL = "g()"\nSIZES = {"small": {}}\ndef g():\n    pass\n',
            "SIZES lacks",
        ),
        ("def (:\n", "syntax error"),
        ('FAMILY = "f" + "g"\n', "must be a literal"),
    ],
)
def test_malformed_kernels_are_input_errors(tmp_path, body: str, message: str) -> None:
    path = tmp_path / "bad.py"
    path.write_text(body)
    with pytest.raises(InputError, match=message):
        load_kernel(path)


def test_missing_corpus_dir_is_an_input_error(tmp_path) -> None:
    with pytest.raises(InputError):
        load_corpus(tmp_path / "nope")


def test_filters_and_round_robin(kernels) -> None:
    two = load_corpus(default_corpus_dir(), families=["ai", "signal"], limit=2)
    assert [k.family for k in two] == ["ai", "ai", "signal", "signal"]
    mixed = round_robin(kernels)
    assert sorted(k.key for k in mixed) == sorted(k.key for k in kernels)
    first = [k.family for k in mixed[:6]]
    assert len(set(first)) == 6
