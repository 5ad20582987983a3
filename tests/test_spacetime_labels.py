"""space_time(annotate=...) labels a person can read: horizontal, 9 pt, inside the axes, never over another
label or the title; a label with no free place is left out and a note says how many were."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from matplotlib.text import Text  # noqa: E402

from course_lib.sim import Node, Simulation  # noqa: E402
from course_lib.viz import space_time  # noqa: E402
from course_lib.viz.spacetime import LABEL_CHARS, LABEL_SIZE  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


class Decider(Node):
    def on_start(self):
        for k in range(self.count):
            self.set_timer(1.0 + k * self.spacing, self.decide, k)

    def decide(self, k):
        self.record("decide", txid=f"t{k}", outcome="commit")


def run(count, spacing):
    sim = Simulation(seed=1)
    for name in ("a", "b", "c"):
        node = sim.add_node(Decider, name)
        node.count, node.spacing = count, spacing
    sim.run(until=1.0 + count * spacing)
    return sim


def drawn(sim, **options):
    ax = space_time(sim, annotate=["decide"], title="a title long enough to reach over the lanes " * 2,
                    **options)
    ax.figure.tight_layout()
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    labels = [t for t in ax.texts if t.get_text().startswith("decide") and t.get_visible()]
    return ax, labels, renderer


@pytest.mark.parametrize("count, spacing", [(4, 5.0), (12, 0.4)], ids=["sparse", "bunched"])
def test_labels_are_horizontal_readable_inside_and_apart(count, spacing):
    """Every drawn label is horizontal, 9 pt, inside the axes, and overlaps no other label and not the title."""
    ax, labels, renderer = drawn(run(count, spacing))
    assert labels
    frame = ax.get_window_extent(renderer)
    title = ax.title.get_window_extent(renderer)
    boxes = []
    for label in labels:
        assert label.get_rotation() == 0 and label.get_fontsize() == LABEL_SIZE
        box = Text.get_window_extent(label, renderer)   # the text, without its leader line
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
        assert not box.overlaps(title)
        boxes.append(box)
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)


def test_labels_with_no_room_are_left_out_and_counted():
    """When the labels cannot all fit, those drawn still keep apart, and a note says how many were left out."""
    sim = run(12, 0.05)
    ax, labels, _ = drawn(sim)
    notes = [t.get_text() for t in ax.texts if "left out" in t.get_text()]
    assert len(notes) == 1 and int(notes[0].split()[0]) == 36 - len(labels) > 0
    zoomed, all_labels, _ = drawn(sim, start=0.98, end=1.12)    # three decisions a lane: all fit
    assert len(all_labels) == 9 and not [t for t in zoomed.texts if "left out" in t.get_text()]


def test_labels_are_short():
    """A custom event's label is its name and values ('decide t0 commit'), cut to LABEL_CHARS characters."""
    ax, labels, _ = drawn(run(1, 1.0))
    assert {t.get_text() for t in labels} == {"decide t0 commit"}
    assert all(len(t.get_text()) <= LABEL_CHARS for t in labels)
