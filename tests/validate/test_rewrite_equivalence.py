"""Unit tests of the equivalence check (DESIGN §4): shapes, dtypes, NaN, tolerance, exceptions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from greenopt.optimizer.equivalence import Tolerance, compare_outputs
from greenopt.optimizer.snapshot import Opaque, Raised, snapshot


def outputs(*results: Any, module_names: tuple[str, ...] = (), **namespace: Any) -> dict[str, Any]:
    return {
        "results": [snapshot(r) if not isinstance(r, Raised) else r for r in results],
        "namespace": {k: snapshot(v) for k, v in namespace.items()},
        "module_names": list(module_names),
    }


TIGHT = Tolerance()


def test_identical_outputs_are_equal_with_zero_error() -> None:
    a = np.linspace(0, 1, 11)
    eq = compare_outputs(outputs(a, 3, x=a), outputs(a.copy(), 3, x=a.copy()), TIGHT)
    assert eq.equal and eq.reason is None
    assert eq.max_abs_error == 0.0 and eq.max_rel_error == 0.0
    assert eq.compared == 11 + 1 + 11


def test_reassociated_sum_passes_float64_tight_tolerance() -> None:
    x = np.random.default_rng(1).random(10_000)
    naive = 0.0
    for v in x:
        naive += v
    eq = compare_outputs(outputs(naive), outputs(float(np.sum(x))), TIGHT)
    assert eq.equal
    assert 0 < eq.max_rel_error < 1e-12


def test_small_relative_error_is_rejected_at_default_and_accepted_when_loosened() -> None:
    a = np.ones(5)
    b = a * (1 + 1e-6)
    tight = compare_outputs(outputs(a), outputs(b), TIGHT)
    assert not tight.equal
    assert "call 1" in tight.reason and "outside tolerance" in tight.reason
    assert tight.max_rel_error == pytest.approx(1e-6)
    assert compare_outputs(outputs(a), outputs(b), Tolerance(rtol=1e-5)).equal
    assert compare_outputs(outputs(a), outputs(b), Tolerance(rtol=0, atol=1e-5)).equal


def test_dtype_change_is_a_difference_even_with_equal_values() -> None:
    a = np.arange(4, dtype=np.float64)
    eq = compare_outputs(outputs(a), outputs(a.astype(np.float32)), Tolerance(rtol=1e-3))
    assert not eq.equal and "dtype float32 instead of float64" in eq.reason


def test_shape_must_match_exactly() -> None:
    a = np.zeros((2, 3))
    eq = compare_outputs(outputs(a), outputs(a.reshape(3, 2)), TIGHT)
    assert not eq.equal and "shape (3, 2) instead of (2, 3)" in eq.reason
    eq = compare_outputs(outputs(a), outputs(a.ravel()), TIGHT)
    assert not eq.equal


def test_nan_is_equal_to_nan_in_the_same_place_only() -> None:
    a = np.array([1.0, np.nan, 3.0])
    assert compare_outputs(outputs(a), outputs(a.copy()), TIGHT).equal
    moved = np.array([np.nan, 2.0, 3.0])
    eq = compare_outputs(outputs(a), outputs(moved), TIGHT)
    assert not eq.equal and "NaN" in eq.reason


def test_infinities_must_match_exactly() -> None:
    a = np.array([np.inf, 1.0])
    assert compare_outputs(outputs(a), outputs(a.copy()), TIGHT).equal
    eq = compare_outputs(outputs(a), outputs(np.array([-np.inf, 1.0])), Tolerance(rtol=1.0))
    assert not eq.equal and "infinities" in eq.reason


def test_python_float_and_numpy_float64_are_the_same_dtype_but_int_is_not() -> None:
    assert compare_outputs(outputs(2.5), outputs(np.float64(2.5)), TIGHT).equal
    assert compare_outputs(outputs(3), outputs(np.int64(3)), TIGHT).equal
    eq = compare_outputs(outputs(3), outputs(3.0), TIGHT)
    assert not eq.equal and "dtype" in eq.reason
    eq = compare_outputs(outputs(2.5), outputs(np.float32(2.5)), Tolerance(rtol=1e-3))
    assert not eq.equal and "float32" in eq.reason


def test_integer_arrays_compare_exactly() -> None:
    a = np.arange(10)
    b = a.copy()
    b[3] += 1
    eq = compare_outputs(outputs(a), outputs(b), Tolerance(rtol=0.5))
    assert not eq.equal and "1 of 10 elements differ" in eq.reason


def test_exception_versus_return_and_exception_types() -> None:
    boom = Raised("builtins.ValueError", "bad")
    eq = compare_outputs(outputs(1.0), outputs(boom), TIGHT)
    assert not eq.equal and "candidate raised builtins.ValueError" in eq.reason
    eq = compare_outputs(outputs(boom), outputs(1.0), TIGHT)
    assert not eq.equal and "original raised" in eq.reason
    other = Raised("builtins.IndexError", "bad")
    eq = compare_outputs(outputs(boom), outputs(other), TIGHT)
    assert not eq.equal and "IndexError instead of builtins.ValueError" in eq.reason
    assert compare_outputs(outputs(boom), outputs(Raised("builtins.ValueError", "x")), TIGHT).equal


def test_in_place_mutation_of_a_setup_variable_is_caught() -> None:
    before = np.zeros(3)
    after = np.array([0.0, 1.0, 0.0])
    eq = compare_outputs(outputs(None, a=before), outputs(None, a=after), TIGHT)
    assert not eq.equal and "variable 'a'" in eq.reason


def test_setup_variable_missing_in_one_variant_differs_but_module_globals_may() -> None:
    eq = compare_outputs(outputs(1, x=1.0), outputs(1), TIGHT)
    assert not eq.equal and "only the original defines it" in eq.reason
    eq = compare_outputs(outputs(1, module_names=("CONST",), CONST=2.0), outputs(1), TIGHT)
    assert eq.equal


def test_containers_lists_tuples_dicts_recursively() -> None:
    a = {"u": [np.ones(2), (1, 2.0)], "v": "s"}
    assert compare_outputs(
        outputs(a), outputs({"u": [np.ones(2), (1, 2.0)], "v": "s"}), TIGHT
    ).equal
    eq = compare_outputs(outputs(a), outputs({"u": [np.ones(2), [1, 2.0]], "v": "s"}), TIGHT)
    assert not eq.equal and "type list instead of tuple" in eq.reason
    eq = compare_outputs(outputs([1, 2]), outputs([1, 2, 3]), TIGHT)
    assert not eq.equal and "length" in eq.reason
    eq = compare_outputs(outputs({"a": 1}), outputs({"b": 1}), TIGHT)
    assert not eq.equal and "keys" in eq.reason


class Point:
    def __init__(self, x: float) -> None:
        self.x = x


def test_user_objects_are_snapshotted_and_compared_by_attributes() -> None:
    s = snapshot(Point(1.0))
    assert isinstance(s, Opaque) and s.type_name.endswith("Point")
    assert compare_outputs(outputs(Point(1.0)), outputs(Point(1.0)), TIGHT).equal
    eq = compare_outputs(outputs(Point(1.0)), outputs(Point(1.5)), TIGHT)
    assert not eq.equal and "['x']" in eq.reason


def test_merge_keeps_the_worst_errors_and_the_first_reason() -> None:
    a = compare_outputs(outputs(1.0), outputs(1.0 + 1e-12), TIGHT)
    b = compare_outputs(outputs(1.0), outputs(2.0), TIGHT)
    m = a.merge(b)
    assert not m.equal and m.reason == b.reason
    assert m.max_abs_error == pytest.approx(1.0)


def test_loosened_tolerance_flag() -> None:
    assert not Tolerance().loosened
    assert Tolerance(rtol=1e-6).loosened and Tolerance(atol=1e-12).loosened


class ArrayLike:
    """Anything with __array__ (pandas, xarray) is compared by its values."""

    def __init__(self, values: np.ndarray) -> None:
        self._values = values

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self._values


def test_array_likes_compare_by_values() -> None:
    a = ArrayLike(np.array([1.0, 2.0]))
    assert compare_outputs(outputs(a), outputs(ArrayLike(np.array([1.0, 2.0]))), TIGHT).equal
    eq = compare_outputs(outputs(a), outputs(ArrayLike(np.array([1.0, 2.5]))), TIGHT)
    assert not eq.equal and "outside tolerance" in eq.reason


def test_python_ints_beyond_int64_compare_exactly_without_overflow() -> None:
    big = 2**80 + 1
    same = compare_outputs(outputs(big), outputs(2**80 + 1), Tolerance())
    assert same.equal
    differ = compare_outputs(outputs(big), outputs(big - 1), Tolerance())
    assert not differ.equal
    wrapped = compare_outputs(outputs(big), outputs(np.int64(1)), Tolerance())
    assert not wrapped.equal


def test_random_generators_compare_by_state_not_by_address() -> None:
    one = snapshot(np.random.default_rng(1))
    two = snapshot(np.random.default_rng(1))
    assert compare_outputs(outputs(rng=one), outputs(rng=two), Tolerance()).equal
    advanced = np.random.default_rng(1)
    advanced.random()
    assert not compare_outputs(outputs(rng=one), outputs(rng=snapshot(advanced)), Tolerance()).equal
    legacy = [snapshot(np.random.RandomState(3)) for _ in range(2)]
    assert compare_outputs(outputs(rng=legacy[0]), outputs(rng=legacy[1]), Tolerance()).equal


def test_object_reprs_are_compared_without_memory_addresses() -> None:
    class Slotted:
        __slots__ = ()

    a, b = snapshot(Slotted()), snapshot(Slotted())
    assert isinstance(a, Opaque) and a.text == b.text
