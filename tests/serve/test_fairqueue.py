# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""bridge.serve.fairqueue: the least-served sender first, caps, eviction, one worker kept for short jobs."""

import threading

import pytest

from bridge.errors import QbdiError
from bridge.serve.fairqueue import FairQueue


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def drain(q, n):
    out = []
    for _ in range(n):
        item = q.get()
        out.append(item)
        q.done(item)
    return out


def test_a_short_job_from_a_quiet_sender_runs_ahead_of_a_backlog():
    q = FairQueue(64, 8, clock=Clock())
    for k in range(16):                       # 16 senders, each 2 long jobs
        q.put(f"long{k}a", ("h", k), 1025)
        q.put(f"long{k}b", ("h", k), 1025)
    q.put("short", ("h", 99), 9)
    assert q.get() == "short"


def test_senders_take_turns_and_each_sender_keeps_its_order():
    q = FairQueue(64, 8, clock=Clock())
    for i in range(3):
        q.put(f"a{i}", "A", 10)
    for i in range(3):
        q.put(f"b{i}", "B", 10)
    assert drain(q, 6) == ["a0", "b0", "a1", "b1", "a2", "b2"]


def test_usage_decays_so_a_sender_served_long_ago_counts_as_new():
    clock = Clock()
    q = FairQueue(64, 8, half_life=5.0, clock=clock)
    q.put("a0", "A", 1000)
    assert drain(q, 1) == ["a0"]
    q.put("b0", "B", 500)
    q.put("a1", "A", 10)
    assert q.get() == "b0"                   # A was just served 1000
    clock.now += 60.0                        # 12 half-lives later A's usage is near 0
    q.put("b1", "B", 500)
    q.put("a2", "A", 10)
    assert drain(q, 3) == ["a1", "a2", "b1"]


def test_caps_and_eviction_when_full():
    q = FairQueue(4, 3, clock=Clock())
    for i in range(3):
        assert q.put(f"a{i}", "A", 100) is None
    with pytest.raises(QbdiError, match="this client") as info:
        q.put("a3", "A", 100)
    assert info.value.code == "busy"
    assert q.put("b0", "B", 10) is None and len(q) == 4
    assert q.put("c0", "C", 10) == "a2"      # full: the heaviest sender's newest job gives way
    with pytest.raises(QbdiError, match="waiting already"):
        q.put("a9", "D", 500)                # not lighter than the heaviest: refused
    assert sorted(drain(q, 4)) == ["a0", "a1", "b0", "c0"]


def test_one_worker_is_kept_for_short_jobs():
    q = FairQueue(64, 8, clock=Clock(), max_long=1)
    q.put("long1", "A", 1000)
    q.put("long2", "B", 1000)
    first = q.get()
    got = []
    waiter = threading.Thread(target=lambda: got.append(q.get()))
    waiter.start()                           # the second worker must not take the other long job...
    waiter.join(0.2)
    assert waiter.is_alive() and not got
    q.put("short", "C", 9)                   # ...but takes a short one at once
    waiter.join(2)
    assert got == ["short"]
    q.done(first)                            # the long job ended: the other may start
    assert q.get() in ("long1", "long2")


def test_close_lets_the_workers_drain_then_stop():
    q = FairQueue(8, 8, clock=Clock())
    q.put("x", "A")
    q.close()
    assert q.get() == "x" and q.get() is None and q.closed


def test_threads_put_and_get_every_job_once():
    q = FairQueue(64, 64)
    seen = []
    lock = threading.Lock()

    def work():
        while (item := q.get()) is not None:
            with lock:
                seen.append(item)
            q.done(item)

    workers = [threading.Thread(target=work) for _ in range(3)]
    for w in workers:
        w.start()
    accepted, evicted = set(), set()
    for i in range(2000):
        try:
            gone = q.put(i, i % 7, 1 + i % 5)
        except QbdiError:
            continue
        accepted.add(i)
        if gone is not None:
            evicted.add(gone)
    q.close()
    for w in workers:
        w.join(5)
    assert len(seen) == len(set(seen)) and set(seen) == accepted - evicted and evicted <= accepted


def test_clear_drops_what_waits():
    q = FairQueue(8, 8, clock=Clock())
    for i in range(3):
        q.put(i, "A")
    assert q.clear() == 3 and len(q) == 0
    q.close()
    assert q.get() is None
