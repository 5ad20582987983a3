"""Tests of 03a's scripted-peer scenarios (commit.scripted) and the lock server's contract check (election.lock_server).

Each scenario passes the reference classes and names the rule a small wrong variant breaks; the
kept learner mistakes in tests/wrong/03a_agreement/ run them through the grader.
"""

from __future__ import annotations

import math

import pytest

from bad_input_support import assert_named_error
from course_lib.grading import ScenarioFailed
from course_lib.topics.agreement.commit import (COORDINATOR_CASES, PARTICIPANT_CASES, coordinator_scenario,
                                                participant_scenario)
from course_lib.topics.agreement.election import lock_server_scenario
from tools.reference import load_reference

REF = load_reference("03a_agreement", cells=("setup", "tpc_coordinator", "tpc_participant", "lease_server"))
Coordinator, Participant, LockServer = REF["Coordinator"], REF["Participant"], REF["LockServer"]


@pytest.mark.parametrize("case", PARTICIPANT_CASES)
def test_reference_participant_passes(case):
    participant_scenario(Participant, 0, case=case)


@pytest.mark.parametrize("case", COORDINATOR_CASES)
def test_reference_coordinator_passes(case):
    coordinator_scenario(Coordinator, 0, case=case)


@pytest.mark.parametrize("crashes", [False, True])
def test_reference_lock_server_passes(crashes):
    for seed in range(4):
        lock_server_scenario(LockServer, seed, crashes=crashes)


class ForgetsToAck(Participant):
    def on_decision(self, msg):
        if self.log.get(msg.txid, {}).get("outcome") is None:
            super().on_decision(msg)


class AsksNever(Participant):
    def ask_about_doubtful(self):
        pass


class SilentCoordinator(Coordinator):
    def on_query(self, msg):
        pass


class TimeoutDecidesAgain(Coordinator):
    def vote_timeout(self, txid):
        if len(self.votes.get(txid, {})) < len(self.log[txid]["participants"]):
            self.finish(txid, "abort")


class RevivingServer(LockServer):
    def on_renew(self, msg):
        if msg.src == self.holder and msg.token == self.token:
            self.expires_at = math.inf
        super().on_renew(msg)


class ForgetfulServer(LockServer):
    durable = ("holder", "expires_at")


@pytest.mark.parametrize("call, pattern", [
    (lambda: participant_scenario(ForgetsToAck, 0, case="repeats"), r"acknowledged it 1 time"),
    (lambda: participant_scenario(AsksNever, 0, case="in_doubt"), r"asked 0 time"),
    (lambda: coordinator_scenario(SilentCoordinator, 0, case="queries"), r"asked about 't1' at 12"),
    (lambda: coordinator_scenario(TimeoutDecidesAgain, 0, case="votes"), r"decided 't4' 2 times"),
    (lambda: lock_server_scenario(RevivingServer, 0), r"due: refused"),
    (lambda: lock_server_scenario(ForgetfulServer, 0, crashes=True), r"higher than every token"),
], ids=["ack", "asks", "query", "decide once", "revive", "token after crash"])
def test_a_broken_rule_is_named(call, pattern):
    with pytest.raises(ScenarioFailed, match=pattern):
        call()


def test_the_lock_server_requests_cover_every_rule():
    """The graded seeds send every kind of request the contract has a rule for, crashes included."""
    from course_lib.sim import Node

    seen = set()

    class Watching(LockServer):
        def on_acquire(self, msg):
            now = self.clock.now()
            seen.add(("acquire", "held by another" if self.holder != msg.src and now < self.expires_at
                      else "own, valid" if now < self.expires_at else "free or expired"))
            super().on_acquire(msg)

        def on_renew(self, msg):
            now = self.clock.now()
            seen.add(("renew", "valid" if now < self.expires_at else "expired",
                      "holder" if msg.src == self.holder else "other",
                      "token" if msg.token == self.token else "wrong token"))
            super().on_renew(msg)

    assert issubclass(Watching, Node)
    for seed in range(4):
        lock_server_scenario(Watching, seed)
        lock_server_scenario(Watching, seed, crashes=True)
    assert {("acquire", "held by another"), ("acquire", "own, valid"), ("acquire", "free or expired"),
            ("renew", "valid", "holder", "token"), ("renew", "expired", "holder", "token"),
            ("renew", "valid", "holder", "wrong token"), ("renew", "valid", "other", "token")} <= seen, seen


def test_scenarios_are_deterministic():
    a = coordinator_scenario(Coordinator, 3, case="queries").trace
    b = coordinator_scenario(Coordinator, 3, case="queries").trace
    assert len(a) == len(b) and [e.time for e in a] == [e.time for e in b]


ERRORS = [
    ("participant_scenario class", lambda: participant_scenario("P", 0, case="repeats"), TypeError,
     r"participant_cls='P'"),
    ("participant_scenario case", lambda: participant_scenario(Participant, 0, case="late"), ValueError,
     r"case='late'"),
    ("participant_scenario seed", lambda: participant_scenario(Participant, 1.5, case="repeats"), TypeError,
     r"seed=1.5"),
    ("coordinator_scenario class", lambda: coordinator_scenario(3, 0, case="votes"), TypeError,
     r"coordinator_cls=3"),
    ("coordinator_scenario case", lambda: coordinator_scenario(Coordinator, 0, case=None), ValueError,
     r"case=None"),
    ("lock_server_scenario class", lambda: lock_server_scenario(None), TypeError, r"server_cls=None"),
    ("lock_server_scenario requests", lambda: lock_server_scenario(LockServer, requests=0), ValueError,
     r"requests=0"),
    ("lock_server_scenario ttl", lambda: lock_server_scenario(LockServer, ttl=-1), ValueError, r"ttl=-1"),
    ("lock_server_scenario crashes", lambda: lock_server_scenario(LockServer, crashes="yes"), TypeError,
     r"crashes='yes'"),
    ("lock_server_scenario seed", lambda: lock_server_scenario(LockServer, seed=[1]), TypeError, r"seed=\[1\]"),
]


@pytest.mark.parametrize("label, call, error, pattern", ERRORS, ids=[row[0] for row in ERRORS])
def test_bad_input_is_a_named_error(label, call, error, pattern):
    """A bad argument raises the course's bad-argument error naming the parameter and its value."""
    assert_named_error(call, error, pattern)
