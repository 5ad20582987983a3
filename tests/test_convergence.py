"""Tests of course_lib.checkers.convergence: do replicas hold equal states?"""

import pytest

from course_lib.checkers import converged


def test_equal_replicas_have_converged():
    """Replicas holding equal states converge, and the result is truthy."""
    result = converged({"a": {"x": 1}, "b": {"x": 1}, "c": {"x": 1}})
    assert result.valid is True and result
    assert result.groups == [["a", "b", "c"]] and result.differing == []
    assert "all 3 replicas" in result.explain()


def test_a_differing_replica_is_named_with_its_differences():
    """The minority replica is named, with each key that differs from the majority."""
    result = converged({"a": {"x": 1, "y": 2}, "b": {"x": 1, "y": 2},
                        "c": {"x": 1, "y": 3, "z": 0}})
    assert result.valid is False and not result
    assert result.differing == ["c"]
    assert "'y'=3 (majority has 2)" in result.differences["c"]
    assert "'z'=0 extra" in result.differences["c"]
    assert "c:" in result.explain()


def test_missing_keys_are_explained():
    """A key the majority has and a replica lacks is reported as missing."""
    result = converged([{"x": 1}, {"x": 1}, {}])
    assert result.differing == [2]
    assert "'x' missing" in result.differences[2]


def test_sequences_are_named_by_index_and_states_need_not_be_hashable():
    """States are compared with ==, so lists work, and replicas are named by index."""
    result = converged([[1, 2], [1, 2], [2, 1]])
    assert result.groups == [[0, 1], [2]] and result.states == [[1, 2], [2, 1]]
    assert result.differences[2] == "holds [2, 1]"


def test_ties_keep_the_first_state_as_majority():
    """With equal-sized groups the first replica's state is the reference."""
    result = converged({"a": 1, "b": 2})
    assert result.groups == [["a"], ["b"]] and result.differing == ["b"]


def test_no_replicas_or_a_bad_argument_is_a_clear_error():
    """An empty collection or a non-collection is rejected with its value."""
    with pytest.raises(ValueError, match="replica_states is empty"):
        converged({})
    with pytest.raises(TypeError, match="replica_states=42"):
        converged(42)


def test_nan_equals_nan_at_any_depth():
    """Replicas all holding NaN (alone, in a dict or a list) have converged; NaN is not 2."""
    nan = float("nan")
    assert converged([nan, float("nan")]).valid is True
    assert converged({"a": {"x": nan, "y": [1, nan]}, "b": {"x": float("nan"), "y": [1, nan]}})
    result = converged({"a": {"x": nan}, "b": {"x": nan}, "c": {"x": 2.0}})
    assert result.differing == ["c"] and "'x'=2.0 (majority has nan)" in result.differences["c"]


def test_states_that_cannot_be_compared_name_the_replicas():
    """A state whose == raises (a numpy array) is an error naming both replicas."""
    np = pytest.importorskip("numpy")
    with pytest.raises(TypeError, match=r"replica_states\['b'\]=array\(\[1, 2\]\) cannot be "
                                        r"compared with replica_states\['a'\]"):
        converged({"a": np.array([1, 2]), "b": np.array([1, 2])})


def test_a_generator_is_refused_with_a_hint():
    """A generator has no stable replica names: the error says to wrap it in list(...)."""
    with pytest.raises(TypeError, match=r"wrap it in list\(\.\.\.\)"):
        converged(state for state in [1, 1])
