"""Tests of course_lib.history: recording, pairing, validating and loading histories."""

import math
from pathlib import Path

import pytest

from course_lib.history import jepsen as history_module
from course_lib.checkers import linearizable
from course_lib.history import Event, History, bundled_history_path, load_jepsen

DATA = Path(__file__).parent / "data"


def test_invoke_and_ok_pair_into_one_operation():
    """An invoke and the next completion of its process form one operation."""
    h = History()
    h.invoke(0, "write", value=3, time=1.0)
    h.invoke(1, "read", time=2.0)
    h.ok(1, value=3, time=4.0)
    h.ok(0, time=5.0)
    write, read = h.operations()
    assert (write.process, write.f, write.value, write.status) == (0, "write", 3, "ok")
    assert (write.call_time, write.return_time) == (1.0, 5.0)
    assert (read.process, read.f, read.output, read.status) == (1, "read", 3, "ok")
    assert (read.call_index, read.return_index) == (1, 2)
    assert len(h) == 4 and [e.type for e in h] == ["invoke", "invoke", "ok", "ok"]


def test_completion_inherits_f_and_key_of_its_invoke():
    """A completion given only the process takes f and key from the open invoke."""
    h = History()
    h.invoke("c", "put", key="x", value="1")
    event = h.ok("c")
    assert (event.f, event.key) == ("put", "x")


def test_default_times_count_up_from_zero():
    """Events without a time get 0, 1, 2, ... after the previous event."""
    h = History()
    h.invoke(0, "read")
    h.ok(0, value=None)
    h.invoke(0, "read", time=10.0)
    h.ok(0)
    assert [e.time for e in h] == [0.0, 1.0, 10.0, 11.0]


def test_fail_info_and_pending_statuses():
    """fail is determinate; info and never-completed ops are indeterminate with deadline inf."""
    h = History()
    h.invoke(0, "write", value=1)
    h.fail(0)
    h.invoke(1, "write", value=2)
    h.info(1, value="timed-out")
    h.invoke(2, "write", value=3)
    failed, unknown, pending = h.operations()
    assert failed.status == "fail" and not failed.indeterminate
    assert failed.deadline == failed.return_time
    assert unknown.status == "info" and unknown.indeterminate
    assert unknown.deadline == math.inf and unknown.return_time == 3.0
    assert pending.status is None and pending.return_time is None
    assert pending.indeterminate and pending.deadline == math.inf


def test_second_invoke_of_an_open_process_is_an_error_naming_it():
    """A process has at most one operation open at a time."""
    h = History()
    h.invoke(7, "read")
    with pytest.raises(ValueError, match="process=7 invokes 'write'"):
        h.invoke(7, "write", value=1)


def test_completion_without_invoke_is_an_error_naming_the_process():
    """Every completion needs an earlier invoke of the same process."""
    h = History()
    with pytest.raises(ValueError, match="process=3 has no open operation"):
        h.ok(3, "read", value=1)


def test_unknown_event_type_is_an_error_naming_it():
    """Only invoke, ok, fail and info are event types."""
    with pytest.raises(ValueError, match="type='done' is not one of"):
        History([Event(0, "done", "read")])


def test_time_must_not_go_backwards():
    """Events are appended in time order."""
    h = History()
    h.invoke(0, "read", time=5.0)
    with pytest.raises(ValueError, match="time=4.0 is before"):
        h.ok(0, time=4.0)


def test_completion_must_match_the_invoke():
    """A completion's f and key are those of the operation it completes."""
    h = History()
    h.invoke(0, "read", key="a")
    with pytest.raises(ValueError, match="f='write'"):
        h.ok(0, "write")
    with pytest.raises(ValueError, match="key='b'"):
        h.ok(0, key="b")


def test_bad_f_and_unhashable_key_are_rejected():
    """f must be a non-empty string and keys must be hashable."""
    with pytest.raises(ValueError, match="f=''"):
        History().invoke(0, "")
    with pytest.raises(ValueError, match=r"key=\['k'\]"):
        History().invoke(0, "get", key=["k"])


def test_process_may_invoke_again_after_info():
    """An info completion closes the process's operation."""
    h = History()
    h.invoke(0, "write", value=1)
    h.info(0)
    h.invoke(0, "read")
    assert len(h.operations()) == 2


def test_load_edn_map_lines_of_a_bundled_history():
    """load_jepsen reads EDN map lines with keywords, strings and nil."""
    h = load_jepsen(bundled_history_path("c01-ok"))
    assert len(h) == 116 and len(h.operations()) == 58
    first = h[0]
    assert first.type == "invoke" and isinstance(first.process, int)
    assert first.f in ("get", "put", "append") and isinstance(first.key, str)
    assert [e.time for e in list(h)[:3]] == [0.0, 1.0, 2.0]


def test_edn_parser_handles_escapes_vectors_and_numbers(tmp_path):
    """The EDN line parser reads escaped strings, vectors, negative ints, nil and floats."""
    path = tmp_path / "h.edn"
    path.write_text(
        '{:process 0, :type :invoke, :f :write, :key "a\\"b\\\\c\\n", :value [1 -2 "x y"]}\n'
        "\n"
        "{:process 0 :type :ok :f :write :key \"a\\\"b\\\\c\\n\" :value 2.5}\n"
        "{:process :nemesis, :type :info, :f :start, :value nil}\n"
        "{:process 1, :type :invoke, :f :read, :value nil}\n"
        "{:process 1, :type :fail, :f :read, :value :timed-out}\n"
    )
    h = load_jepsen(path)
    write, read = h.operations()
    assert write.key == 'a"b\\c\n'
    assert write.value == (1, -2, "x y") and write.output == 2.5
    assert read.status == "info" and read.output == "timed-out"
    assert read.call_time == 4.0  # line numbers, counting the blank line


def test_load_jepsen_util_register_log():
    """load_jepsen reads jepsen.util log lines, skipping nemesis and other lines."""
    h = load_jepsen(DATA / "register-ok.log")
    ops = h.operations()
    assert all(op.key is None for op in ops)
    assert {op.process for op in ops} == {0, 1, 2, 3, 4}
    cas_ok = next(op for op in ops if op.f == "cas" and op.status == "ok")
    assert cas_ok.value == (4, 2) and cas_ok.output == (4, 2)
    cas_failed = next(op for op in ops if op.f == "cas" and op.process == 0)
    assert cas_failed.status == "fail"
    timed_out_write = next(op for op in ops if op.f == "write" and op.value == 3)
    assert timed_out_write.status == "info"
    timed_out_read = next(op for op in ops if op.process == 3)
    assert timed_out_read.status == "info"  # ":fail ... :timed-out" means unknown
    assert ops[-1].status is None  # process 4 never completes


def test_unparseable_line_names_file_and_line(tmp_path):
    """A malformed line is reported with its file and line number."""
    path = tmp_path / "broken.txt"
    path.write_text('{:process 0, :type :invoke, :f :read, :value nil}\n{:process 0, :type :ok\n')
    with pytest.raises(ValueError, match=r"broken.txt:2"):
        load_jepsen(path)


def test_history_rule_breaks_in_a_file_name_the_line(tmp_path):
    """A completion without invoke in a file is reported with its line."""
    path = tmp_path / "h.txt"
    path.write_text("{:process 0, :type :ok, :f :read, :value 1}\n")
    with pytest.raises(ValueError, match=r"h.txt:1: process=0 has no open operation"):
        load_jepsen(path)


def test_bundled_history_path_accepts_stem_and_file_name():
    """Bundled histories are found by stem or file name; unknown names are listed."""
    assert bundled_history_path("c10-ok") == bundled_history_path("c10-ok.txt")
    assert bundled_history_path("c10-ok").is_file()
    with pytest.raises(ValueError, match=r"name='c99'.*c01-bad"):
        bundled_history_path("c99")


def test_bundled_history_path_without_repository_data_is_a_clear_error(monkeypatch):
    """Outside a clone of the course repository the data directory is reported missing."""
    monkeypatch.setattr(history_module, "_BUNDLED_DIR", Path("no-such-dir"))
    with pytest.raises(FileNotFoundError, match="no-such-dir"):
        bundled_history_path("c01-ok")


def test_load_porcupine_etcd_log_with_spaces_between_fields():
    """Log fields may be separated by any whitespace, as in porcupine's etcd_101/102 logs."""
    h = load_jepsen(DATA / "etcd_102.log")  # spaces, not tabs, between fields
    ops = h.operations()
    assert len(h) == 146 and len(ops) == 73
    first = ops[0]
    assert (first.process, first.f, first.value, first.output, first.status) == \
        (0, "read", None, None, "ok")
    cas = next(op for op in ops if op.f == "cas" and op.status == "ok")
    assert cas.value == (1, 4)
    assert sum(op.status == "info" for op in ops) > 0  # ':fail :read :timed-out' and ':info'
    assert linearizable(h, "register").valid is True  # porcupine's verdict for etcd_102


def test_tab_and_space_separated_logs_load_the_same(tmp_path):
    """Replacing the tabs of a log by runs of spaces changes nothing in the history."""
    spaced = tmp_path / "register-ok-spaces.log"
    spaced.write_text((DATA / "register-ok.log").read_text().replace("\t", "   "))
    tabbed = load_jepsen(DATA / "register-ok.log")
    assert list(load_jepsen(spaced)) == list(tabbed)


def test_empty_or_blank_file_is_an_error_naming_it(tmp_path):
    """An empty or blank file is not an empty history: it is an error naming the file."""
    for text in ("", "\n \n\t\n"):
        path = tmp_path / "empty.edn"
        path.write_text(text)
        with pytest.raises(ValueError, match=r"empty.edn is empty"):
            load_jepsen(path)


def test_edn_sets_unicode_escapes_and_errors_name_file_and_line(tmp_path):
    """The EDN reader reads #{...} sets and \\u escapes; a bad escape names file and line."""
    path = tmp_path / "h.edn"
    path.write_text('{:process 0, :type :invoke, :f :add, :key "caf\\u00e9", :value #{1 [2 3]}}\n')
    event, = load_jepsen(path)
    assert event.key == "café" and event.value == frozenset({1, (2, 3)})
    path.write_text('{:process 0, :type :invoke, :f :read}\n'
                    '{:process 0, :type :ok, :f :read, :value "\\u00g9"}\n')
    with pytest.raises(ValueError, match=r"h.edn:2: .*four hex digits"):
        load_jepsen(path)


def test_deep_nesting_is_a_named_error_not_a_recursion_error(tmp_path):
    """10,000 nested vectors give an error naming file, line and the depth limit; 50 levels load."""
    path = tmp_path / "deep.edn"
    path.write_text("{:process 0, :type :invoke, :f :write, :value "
                    + "[" * 10_000 + "]" * 10_000 + "}\n")
    with pytest.raises(ValueError, match=r"deep.edn:1: .*more than 100 levels deep"):
        load_jepsen(path)
    path.write_text("{:process 0, :type :invoke, :f :write, :value " + "[" * 50 + "]" * 50 + "}\n")
    value = load_jepsen(path)[0].value
    for _ in range(49):
        value, = value
    assert value == ()


def test_long_history_loads(tmp_path):
    """A history of 40,000 events loads, one operation per invoke/ok pair."""
    path = tmp_path / "long.edn"
    with path.open("w") as out:
        for i in range(20_000):
            out.write(f'{{:process {i % 7}, :type :invoke, :f :append, :key "k", :value "{i}"}}\n')
            out.write(f'{{:process {i % 7}, :type :ok, :f :append, :key "k", :value "{i}"}}\n')
    h = load_jepsen(path)
    assert len(h) == 40_000 and len(h.operations()) == 20_000


def test_invocation_without_completion_loads_as_indeterminate(tmp_path):
    """A process that invokes and never completes leaves an indeterminate operation."""
    path = tmp_path / "h.edn"
    path.write_text("{:process 0, :type :invoke, :f :write, :value 1}\n"
                    "{:process 1, :type :invoke, :f :read, :value nil}\n"
                    "{:process 1, :type :ok, :f :read, :value 1}\n")
    write, read = load_jepsen(path).operations()
    assert write.status is None and write.indeterminate and write.deadline == math.inf
    assert read.status == "ok" and read.output == 1
