# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
from array import array

import pytest

from bridge import protocol as P
from bridge.errors import QbdiError
from bridge.serve.reassembly import Assembler


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def flat(n: int, first: int = 0) -> array:
    return array("d", [v for i in range(first, first + n) for v in (60 + i % 12, i * 0.5, 0.5, 90)])


def test_chunks_in_any_order_with_the_header_last():
    asm = Assembler()
    key = ("127.0.0.1", 7401, 1)
    assert asm.chunk(key, 1, 7401, 2, 3, flat(10, 256)) is None
    assert asm.chunk(key, 1, 7401, 0, 3, flat(128, 0)) is None
    assert asm.chunk(key, 1, 7401, 1, 3, flat(128, 128)) is None
    part = asm.header(key, 1, 7401, 266, 3, payload="settings")
    assert part is not None and part.header == "settings" and len(asm) == 0
    assert list(part.flat_notes()) == list(flat(266))


def test_duplicates_and_stray_chunks_after_completion_are_ignored():
    asm = Assembler()
    key = ("h", 1, 2)
    assert asm.header(key, 2, 1, 5, 1) is None
    assert asm.header(key, 2, 1, 5, 1) is None          # duplicate header
    assert asm.chunk(key, 2, 1, 0, 1, flat(5)) is not None
    assert asm.chunk(key, 2, 1, 0, 1, flat(5)) is None   # late duplicate: no new request
    assert asm.header(key, 2, 1, 5, 1) is None and len(asm) == 0


def test_keys_keep_clients_apart():
    asm = Assembler()
    asm.header(("h", 1, 9), 9, 1, 1, 1)
    asm.header(("h", 2, 9), 9, 2, 1, 1)
    assert asm.chunk(("h", 2, 9), 9, 2, 0, 1, flat(1)).reply_port == 2
    assert len(asm) == 1


def test_empty_query_completes_with_the_header():
    assert Assembler().header(("h", 1, 1), 1, 1, 0, 0).n_notes == 0


@pytest.mark.parametrize("n_notes, n_chunks, code", [
    (P.MAX_NOTES + 1, P.MAX_CHUNKS, "too_large"),
    (10, P.MAX_CHUNKS + 1, "too_large"),
    (-1, 1, "bad_request"),
    (10, 0, "bad_request"),
    (1, 5, "bad_request"),
])
def test_header_caps(n_notes, n_chunks, code):
    with pytest.raises(QbdiError) as info:
        Assembler().header(("h", 1, 1), 1, 1, n_notes, n_chunks)
    assert info.value.code == code


def test_chunk_errors_drop_the_request_once():
    asm = Assembler()
    key = ("h", 1, 1)
    asm.header(key, 1, 1, 3, 2)
    with pytest.raises(QbdiError, match="disagree"):
        asm.chunk(key, 1, 1, 0, 3, flat(1))
    assert len(asm) == 0
    assert asm.chunk(key, 1, 1, 1, 2, flat(1)) is None    # the rest of that request is ignored
    with pytest.raises(QbdiError, match="outside"):
        asm.chunk(("h", 1, 2), 2, 1, 4, 2, flat(1))
    asm.header(("h", 1, 3), 3, 1, 2, 2)
    with pytest.raises(QbdiError, match="more notes"):
        asm.chunk(("h", 1, 3), 3, 1, 0, 2, flat(3))


def test_notes_must_add_up_to_the_header():
    asm = Assembler()
    asm.header(("h", 1, 1), 1, 1, 5, 2)
    asm.chunk(("h", 1, 1), 1, 1, 0, 2, flat(2))
    with pytest.raises(QbdiError, match="announced 5 notes"):
        asm.chunk(("h", 1, 1), 1, 1, 1, 2, flat(2))


def test_headerless_chunks_are_capped_too():
    asm = Assembler()
    key = ("h", 1, 1)
    for i in range(P.MAX_NOTES // P.NOTES_PER_CHUNK):
        asm.chunk(key, 1, 1, i, P.MAX_CHUNKS, flat(P.NOTES_PER_CHUNK))
    with pytest.raises(QbdiError) as info:
        asm.chunk(key, 1, 1, P.MAX_CHUNKS - 1, P.MAX_CHUNKS, flat(P.NOTES_PER_CHUNK))
    assert info.value.code == "too_large" and len(asm) == 0


def test_pending_requests_are_capped():
    asm = Assembler(max_pending=3)
    for i in range(3):
        asm.header(("h", 1, i), i, 1, 10, 1)
    with pytest.raises(QbdiError) as info:
        asm.header(("h", 1, 99), 99, 1, 10, 1)
    assert info.value.code == "busy" and len(asm) == 3
    asm.chunk(("h", 1, 0), 0, 1, 0, 1, flat(10))    # one completes: room again
    assert asm.header(("h", 1, 100), 100, 1, 10, 1) is None and len(asm) == 3


def test_one_sender_cannot_take_every_slot():
    asm = Assembler(max_pending=8, max_per_sender=2)
    asm.header(("h", 1, 0), 0, 1, 10, 1)
    asm.header(("h", 1, 1), 1, 1, 10, 1)
    with pytest.raises(QbdiError, match="this client") as info:
        asm.header(("h", 1, 2), 2, 1, 10, 1)
    assert info.value.code == "busy"
    assert asm.header(("h", 2, 0), 0, 2, 10, 1) is None and len(asm) == 3   # another device still gets in


def test_requests_expire_after_ttl_without_a_datagram():
    clock = Clock()
    asm = Assembler(ttl=5.0, clock=clock)
    asm.header(("h", 1, 1), 1, 1, 300, 3)
    clock.now += 4.0
    asm.chunk(("h", 1, 1), 1, 1, 0, 3, flat(128))       # activity keeps it alive
    clock.now += 2.0
    asm.header(("h", 1, 2), 2, 1, 300, 3)
    clock.now += 2.5
    assert asm.expire() == []
    clock.now += 1.0
    (gone,) = asm.expire()
    assert gone.request_id == 1 and "1 of 3 chunks" in gone.describe()
    clock.now += 2.0
    assert [p.request_id for p in asm.expire()] == [2] and len(asm) == 0
    clock.now += 5.0
    asm.expire()
    assert not asm.finished_recently(("h", 1, 1))       # remembered keys are forgotten too


# --- a slow loris and its variants ----------------------------------------------------------------
def test_repeats_do_not_keep_a_request_alive_and_every_request_has_a_deadline():
    clock = Clock()
    asm = Assembler(ttl=5.0, clock=clock)
    asm.header(("h", 1, 1), 1, 1, 300, 3)
    for _ in range(4):                                   # the same header and chunk, again and again
        clock.now += 1.0
        asm.header(("h", 1, 1), 1, 1, 300, 3)
        asm.chunk(("h", 1, 1), 1, 1, 0, 3, flat(128))    # only its first arrival is progress
    clock.now += 1.5
    assert asm.expire() == []
    clock.now += 0.5
    assert [p.request_id for p in asm.expire()] == [1]    # 5 s after the last progress (the first chunk)
    asm.header(("h", 1, 2), 2, 1, P.MAX_CHUNKS, P.MAX_CHUNKS)
    created = clock.now
    for index in range(P.MAX_CHUNKS - 1):                 # a new chunk every second never lets it idle...
        clock.now += 1.0
        if asm.expire():
            break
        asm.chunk(("h", 1, 2), 2, 1, index, P.MAX_CHUNKS, flat(1))
    assert len(asm) == 0 and clock.now - created == asm.deadline == 2 * asm.ttl   # ...but its deadline comes


def test_a_full_table_takes_the_oldest_slot_of_the_heaviest_sender():
    clock = Clock()
    lost = []
    asm = Assembler(max_pending=6, max_per_sender=4, clock=clock, on_evict=lost.append)
    for i in range(4):                                   # sender A: 4 requests
        clock.now += 1
        asm.header(("h", "A", 7, i), i, 7, 10, 1)
    for i in range(2):                                   # sender B: 2
        clock.now += 1
        asm.header(("h", "B", 7, i), i, 7, 10, 1)
    asm.header(("h", "C", 7, 0), 0, 7, 10, 1)           # C: A is the heaviest, its oldest goes
    assert [p.key for p in lost] == [("h", "A", 7, 0)] and asm.evicted == 1 and len(asm) == 6
    asm.header(("h", "C", 7, 1), 1, 7, 10, 1)           # A (3) is still heavier than C would be (2)
    assert lost[-1].key == ("h", "A", 7, 1)
    with pytest.raises(QbdiError) as info:               # A, B, C hold 2 each: C would be the heaviest
        asm.header(("h", "C", 7, 2), 2, 7, 10, 1)
    assert info.value.code == "busy" and len(lost) == 2
    asm.header(("h", "D", 7, 0), 0, 7, 10, 1)           # a newcomer: the oldest of the heaviest goes
    assert lost[-1].key == ("h", "A", 7, 2) and len(asm) == 6
    assert asm.chunk(("h", "A", 7, 0), 0, 7, 0, 1, flat(10)) is None     # an evicted request does not come back


def test_many_sockets_on_one_host_lose_to_a_device_on_another():
    lost = []
    asm = Assembler(max_pending=8, on_evict=lost.append)
    for port in range(8):                                # one host, 8 sockets, one request each
        asm.header(("10.0.0.9", port, 7, 1), 1, 7, 10, 1)
    asm.header(("127.0.0.1", 5, 7, 1), 1, 7, 10, 1)     # another host: the crowded host gives one up
    assert lost[0].key[0] == "10.0.0.9" and len(asm) == 8
    for port in range(8, 20):                            # the crowded host churns only its own slots
        asm.header(("10.0.0.9", port, 7, 1), 1, 7, 10, 1)
    assert all(p.key[0] == "10.0.0.9" for p in lost) and ("127.0.0.1", 5, 7, 1) in asm.pending


def test_a_new_request_outlives_a_churn_of_newer_ones():
    """Sockets that keep opening new requests on one host evict the oldest first: a device's
    request that completes before MAX_PENDING - 1 newer ones arrive is never lost."""
    clock = Clock()
    lost = []
    asm = Assembler(clock=clock, on_evict=lost.append)
    for n in range(P.MAX_PENDING):
        clock.now += 0.001
        asm.header(("127.0.0.1", 1000 + n, 7, n), n, 7, 10, 1)
    asm.header(("127.0.0.1", 5, 7, 99), 99, 7, 1, 1)    # the device's request
    for n in range(P.MAX_PENDING - 2):
        clock.now += 0.001
        asm.header(("127.0.0.1", 2000 + n, 7, n), n, 7, 10, 1)
    assert asm.chunk(("127.0.0.1", 5, 7, 99), 99, 7, 0, 1, flat(1)).request_id == 99
    assert ("127.0.0.1", 5, 7, 99) not in [p.key for p in lost]
