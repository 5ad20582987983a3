"""Tests of course_lib.topics.clocks.pictures (clock_diagram) and the labels/highlight options of space_time."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

from course_lib.topics.clocks import clock_diagram, format_timestamp, run_clocks  # noqa: E402
from course_lib.viz.spacetime import space_time  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(ax):
    return [t.get_text() for t in ax.texts if isinstance(t, Annotation) and t.get_text()]


def rings(ax):
    return [ln for ln in ax.lines if ln.get_marker() == "o" and ln.get_markersize() == 11]


def run():
    return run_clocks(None, seed=3, nodes=3, sends=2, local_events=1, topology="complete")


def test_space_time_writes_labels_beside_events():
    """labels={trace index: text} writes each text once."""
    r = run()
    first = r.events[0].index
    ax = space_time(r.sim, labels={first: "hello"})
    assert texts(ax) == ["hello"]


def test_space_time_without_new_options_draws_no_labels_or_rings():
    """The default diagram is unchanged: no label texts, no rings."""
    ax = space_time(run().sim)
    assert texts(ax) == [] and rings(ax) == []


def test_clock_diagram_labels_every_event_with_its_ideal_vector():
    """'vector' labels each clock event with the oracle's vector, '[a,b,c]'."""
    r = run()
    ax = clock_diagram(r, "vector")
    want = sorted(format_timestamp(r.oracle.vector(e)) for e in r.oracle)
    assert sorted(texts(ax)) == want


def test_clock_diagram_rings_the_concurrent_events():
    """concurrent=e draws one pair of rings per event concurrent with e."""
    r = run()
    e = r.oracle.events[3]
    ax = clock_diagram(r, None, concurrent=e)
    assert len(rings(ax)) == len(r.oracle.concurrent_with(e)) > 0


def test_format_timestamp():
    """Ints, vectors (dicts in node order, tuples) and hybrid pairs get compact texts."""
    assert format_timestamp(5) == "5"
    assert format_timestamp({"b": 2}, ["a", "b"]) == "[0,2]"
    assert format_timestamp((1, 0, 2)) == "[1,0,2]"
    assert format_timestamp((12.345, 1)) == "(12.35,1)"


def test_bad_timestamps_name_is_rejected():
    """An unknown timestamps name raises naming the argument."""
    with pytest.raises(ValueError, match="timestamps="):
        clock_diagram(run(), "physical")
