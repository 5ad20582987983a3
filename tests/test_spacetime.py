"""Tests of course_lib.viz.spacetime: the space-time diagram of a run."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

from course_lib.sim import Node, Simulation, Trace  # noqa: E402
from course_lib.viz import space_time  # noqa: E402


class Talker(Node):
    def on_ping(self, msg) -> None:
        self.record("got", n=msg.n)

    def on_other(self, msg) -> None:
        pass


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def run(**net):
    sim = Simulation(seed=1, latency=1.0, **net)
    sim.add_nodes(Talker, ["a", "b", "c"])
    return sim


def ping(sim, t, src, dst, n=0):
    sim.at(t, lambda: sim[src].send(dst, "ping", n=n))


def arrows(ax):
    """Message arrows: annotations without text."""
    return [t for t in ax.texts if isinstance(t, Annotation) and t.get_text() == ""]


def crosses(ax):
    return [ln for ln in ax.lines if ln.get_marker() == "x"]


def lanes(ax):
    return [t.get_text() for t in ax.get_yticklabels()]


def hatched(ax):
    return [c for c in ax.collections if c.get_hatch() == "///"]


def shaded(ax):
    return [p for p in ax.patches if to_hex(p.get_facecolor()) == "#f4cccc"]


def test_one_lane_per_node_in_the_order_added():
    """Each node gets a lane, top to bottom in the order the nodes were added."""
    sim = run()
    sim.run(until=2)
    ax = space_time(sim)
    assert lanes(ax) == ["a", "b", "c"]
    assert ax.get_xlabel() == "simulated time"
    assert ax.get_ylim() == (2.5, -0.5)


def test_lanes_can_be_chosen_and_ordered():
    """nodes= picks the lanes and their order; messages to other nodes are left out."""
    sim = run()
    ping(sim, 0, "a", "b")
    ping(sim, 0, "a", "c")
    sim.run(until=2)
    ax = space_time(sim, nodes=["c", "a"])
    assert lanes(ax) == ["c", "a"] and len(arrows(ax)) == 1


def test_one_arrow_per_delivered_message_from_send_to_delivery():
    """Every delivered message is one arrow from (send time, sender lane) to (delivery time, receiver lane)."""
    sim = run()
    ping(sim, 0.5, "a", "b")
    ping(sim, 1.0, "b", "c")
    ping(sim, 2.0, "c", "a")
    sim.run(until=5)
    ax = space_time(sim)
    ends = sorted((a.xyann, a.xy) for a in arrows(ax))
    assert ends == [((0.5, 0), (1.5, 1)), ((1.0, 1), (2.0, 2)), ((2.0, 2), (3.0, 0))]


def test_duplicates_are_drawn_as_two_arrows():
    """A duplicated message is delivered twice and drawn twice."""
    sim = run(duplicate=1.0)
    ping(sim, 0, "a", "b")
    sim.run(until=3)
    assert len(arrows(space_time(sim))) == 2


def test_window_keeps_only_messages_inside_it():
    """start/end keep the messages overlapping the window and set the x limits."""
    sim = run()
    for t in range(10):
        ping(sim, t, "a", "b", n=t)
    sim.run(until=12)
    ax = space_time(sim, start=3.5, end=6.5)
    # sends at 3..6 deliver at 4..7; of those, sends <= 6.5 and deliveries >= 3.5 are kept
    assert sorted(a.xyann[0] for a in arrows(ax)) == [3, 4, 5, 6]
    assert ax.get_xlim() == (3.5, 6.5)


@pytest.mark.parametrize("window", [dict(start=5, end=5), dict(start=6, end=2), dict(end=0), dict(end=-1)])
def test_empty_or_backwards_window_raises(window):
    """A window whose end is not after its start is a ValueError naming end and start."""
    sim = run()
    ping(sim, 0, "a", "b")
    sim.run(until=3)
    with pytest.raises(ValueError, match=r"end=.* must be after start="):
        space_time(sim, **window)


def test_red_cross_per_dropped_message():
    """Each lost message ends in a red x: on the wire (loss) or at the receiver (crash, partition)."""
    sim = run()
    sim.network.set_link("a", "b", loss=1.0)
    ping(sim, 0, "a", "b")          # lost on the wire
    sim.at(0.1, sim.crash, "c")
    ping(sim, 0.2, "a", "c")        # reaches a crashed node
    ping(sim, 0.3, "b", "a")        # delivered
    sim.run(until=3)
    ax = space_time(sim)
    xs = crosses(ax)
    assert len(xs) == 2 and len(arrows(ax)) == 1
    assert {to_hex(x.get_color()) for x in xs} == {"#d62728"}
    at = sorted(float(x.get_xdata()[0]) for x in xs)
    assert 0 < at[0] < 1.2 and at[1] == 1.2  # a stub after the send; the crash drop on arrival


def test_crash_is_hatched_on_the_lane():
    """A crashed interval is a hatched band on that node's lane, to the restart or the end."""
    sim = run()
    sim.nemesis.crash("b", at=1, restart_at=2)
    sim.nemesis.crash("c", at=3)
    ping(sim, 3, "b", "a")  # the last event is at 4; the run goes on until 5
    sim.run(until=5)
    ax = space_time(sim)
    bands = hatched(ax)
    assert len(bands) == 2
    spans = sorted((round(b.get_paths()[0].vertices[:, 0].min(), 6),
                    round(b.get_paths()[0].vertices[:, 0].max(), 6),
                    round(b.get_paths()[0].vertices[:, 1].mean())) for b in bands)
    assert spans == [(1, 2, 1), (3, 5, 2)]  # an open crash is hatched to sim.now


def test_partition_shades_the_background_until_heal():
    """Each partition shades the background from its start to the heal (or the end)."""
    sim = run()
    sim.nemesis.partition([["a"]], at=1, heal_at=2)
    sim.nemesis.partition([["b"]], at=3)
    ping(sim, 4, "b", "c")
    sim.run(until=6)
    ax = space_time(sim)
    spans = sorted((min(p.get_x(), p.get_x() + p.get_width()),) for p in shaded(ax))
    assert len(shaded(ax)) == 2 and spans == [(1,), (3,)]


def test_no_faults_no_shading_no_hatching_no_crosses():
    """A fault-free run draws arrows only: no crosses, hatching or shading."""
    sim = run()
    ping(sim, 0, "a", "b")
    sim.run(until=3)
    ax = space_time(sim)
    assert (len(arrows(ax)), crosses(ax), hatched(ax), shaded(ax)) == (1, [], [], [])


def test_accepts_a_trace_as_well_as_a_simulation():
    """Given the Trace alone, the same arrows are drawn, with lanes from the nodes seen in it."""
    sim = run()
    ping(sim, 0, "a", "c")
    ping(sim, 1, "c", "a")
    sim.run(until=3)
    from_sim, from_trace = space_time(sim), space_time(sim.trace)
    assert len(arrows(from_sim)) == len(arrows(from_trace)) == 2
    assert lanes(from_sim) == ["a", "b", "c"]
    assert lanes(from_trace) == ["a", "c"]  # b never appears in the trace


def test_rejects_something_that_is_not_a_trace():
    """A source that is neither a Simulation nor a Trace is a TypeError naming source."""
    with pytest.raises(TypeError, match="source="):
        space_time([("send", 1)])


def test_annotate_marks_custom_events_and_types_filters_messages():
    """annotate= puts a labelled dot at each named custom event; types= keeps only those messages."""
    sim = run()
    ping(sim, 0, "a", "b", n=7)
    sim.at(0, lambda: sim["a"].send("c", "other"))
    sim.run(until=2)
    ax = space_time(sim, annotate=["got"], types=["ping"])
    labels = [t.get_text() for t in ax.texts if t.get_text()]
    assert len(labels) == 1 and "got" in labels[0] and "7" in labels[0]
    assert len(arrows(ax)) == 1
    assert len(arrows(space_time(sim))) == 2


def test_draws_into_a_given_axes_with_title_and_legend():
    """ax= draws into that Axes; title= sets its title; the legend lists message types and faults."""
    sim = run()
    sim.network.set_link("a", "c", loss=1.0)
    ping(sim, 0, "a", "b")
    ping(sim, 0, "a", "c")
    sim.nemesis.crash("b", at=2, restart_at=3)
    sim.run(until=4)
    fig, given = plt.subplots()
    ax = space_time(sim, ax=given, title="run 1")
    assert ax is given and ax.get_title() == "run 1"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["ping", "lost", "crashed"]
    assert space_time(sim, legend=False).get_legend() is None


@pytest.mark.filterwarnings("ignore:Attempting to set identical low and high ylims")
def test_empty_trace_draws_an_empty_diagram():
    """An empty Trace draws without error and without lanes."""
    ax = space_time(Trace())
    assert lanes(ax) == [] and arrows(ax) == []
