# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Faults and load, the quick version for CI: tools/fuzz.py against a real `qbdi serve` subprocess, the
fuzzer's oracle, property tests of the decoder and the reassembly caps, and regressions for the bugs
the fuzzer found. The full counts: `python -m tools.fuzz --datagrams 100000` and
`python -m tools.fuzz --load` (docs/FAULTS.md)."""

import logging
import math
import os
import socket
import time
from array import array

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge import protocol as P
from bridge.errors import QbdiError
from bridge.osc import OscError, decode, encode
from bridge.serve.reassembly import Assembler
from tools.fuzz import ReplyPool, expectation, raw_message, run_fuzz, run_load

SEED = int(os.environ.get("QBDI_FUZZ_SEED", "20240607"))


# --- the quick runs --------------------------------------------------------------------------
def test_quick_fuzz_the_server_survives_and_answers_every_readable_request(model_dir):
    report = run_fuzz(datagrams=3000, burst=200, seed=SEED, model=str(model_dir), heavy=0)
    assert report["ok"], f"seed {SEED}: {report['problems']}"
    assert report["datagrams"] >= 3000 and report["server"]["crashes"] == 0
    assert report["server"]["exit_code"] == 0 and report["server"]["tracebacks"] == 0
    replies = report["replies"]
    assert replies["readable_requests"] > 300 and replies["lost"] == 0 and replies["crossed"] == 0
    assert replies["results"] > 20 and replies["bad_datagrams"] == 0
    assert report["pings"]["answered"] == report["pings"]["bursts"] >= 15
    assert report["caps"]["pending_at_end"] == 0 and replies["error_codes"].get("expired", 0) > 0
    assert 0 < report["memory"]["peak_rss_mb"] < 1024
    assert all(report["categories"].get(name) for name in
               ("garbage", "wrong_type_tags", "truncated", "huge_counts", "bad_numbers", "chunk_games",
                "unknown_ids", "wrong_reply_ports", "mutated_bytes", "mutated_args", "valid"))


def test_quick_amplification_fuzz_from_another_machine(model_dir, lan_address):
    """The same fuzzer, sent from this machine's non-loopback address to a server bound there: a
    peer that never did the handshake gets back fewer bytes than it sent, and no state is held."""
    if lan_address is None:
        pytest.skip("this machine has no non-loopback address")
    report = run_fuzz(datagrams=2000, burst=200, seed=SEED, model=str(model_dir), host=lan_address)
    assert report["ok"], f"seed {SEED}: {report['problems']}"
    amp = report["amplification"]
    assert report["mode"] == "amplification" and amp["ports_over"] == 0
    assert 0 < amp["reply_bytes"] < amp["request_bytes_naming_our_ports"]
    assert set(amp["reply_addresses"]) <= {P.ERROR, P.PONG} and report["caps"]["max_pending_seen"] == 0
    assert report["pings"]["answered"] == report["pings"]["bursts"] and report["server"]["exit_code"] == 0


def test_quick_load_no_reply_lost_or_crossed(real_model):
    report = run_load(clients=4, requests=50, model=real_model, verify_every=10)
    assert report["ok"], report["problems"]
    assert report["completed"] == 200 and report["lost"] == 0 and report["crossed"] == 0
    assert report["mismatched"] == 0 and report["verified_against_local_run"] == 20
    assert report["duplicates_or_late"] == 0 and report["server_exit_code"] == 0
    assert 0 < report["p50_ms"] <= report["p95_ms"] <= report["p99_ms"] <= report["max_ms"]


# --- the oracle ------------------------------------------------------------------------------
SERVER, OURS, DEAF = 7400, frozenset({7401, 7402}), 7409


@pytest.mark.parametrize("data, kind, request_id", [
    (b"garbage", "none", -1),
    (encode(P.PING, [5, 7401]), "single", 5),
    (encode(P.PING, [5.0, 7401.0]), "single", 5),
    (encode(P.IMPROVISE, [6, 7402, 1, 1]), "assembled", 6),
    (encode(P.NOTES, [6, 7402, 0, 1, 60, 0.0, 1.0, 90]), "assembled", 6),
    (encode("/qbdi/dance", [7, 7401]), "single", 7),
    (encode(P.PING, ["x", 7401]), "anon", -1),
    (encode(P.PING, [3e9, 7401]), "anon", -1),          # beyond int32: no reply could carry it
    (encode(P.PING, [-2, 7401]), "anon", -1),
    (encode(P.PING, [5, SERVER]), "none", -1),          # the server's own port: never answered
    (encode(P.PING, [5, 7401.5]), "none", -1),
    (encode(P.PONG, [5, 7401]), "none", -1),            # a reply address: never answered (no loops)
    (encode(P.ERROR, [5, 7401, "x"]), "none", -1),
    (encode(P.RESULT, [5, 9999, 1, "m"]), "none", -1),  # not answered, so it may name any port
    (encode(P.PING, [5, 7401, P.COOKIE_KEY, "qx"]), "single", 5),   # a cookie pair is not part of the request
    (encode(P.PING, [5, 0]), "none", -1),
    (encode(P.PING, [5, DEAF]), "deaf", -1),
    (encode(P.PING, [5, 9999]), "foreign", -1),         # somebody else's port: the fuzzer never sends it
    (encode(P.QUIT, [5, 7401]), "quit", -1),            # a readable quit: never sent
    (encode(P.QUIT, ["x", 7401]), "anon", -1),          # an unreadable one is fine: an error, no quit
    (raw_message(P.PING, [("T", True), ("i", 7401)]), "anon", -1),
])
def test_the_oracle_knows_what_each_datagram_deserves(data, kind, request_id):
    exp = expectation(data, SERVER, OURS, DEAF)
    assert exp.kind == kind
    if kind in ("single", "assembled"):
        assert exp.request_id == request_id


def test_the_reply_pool_flags_replies_that_break_the_wire_rules():
    pool = ReplyPool(size=1)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(raw_message(P.PONG, [("i", 1), ("d", 1.0)]), ("127.0.0.1", pool.ports[0]))
            s.sendto(encode(P.ERROR, [-1, "bad_request", "x"]), ("127.0.0.1", pool.ports[0]))
            s.sendto(encode(P.PONG, [2, "0.1.0", 1]), ("127.0.0.1", pool.ports[0]))
        for _ in range(100):
            with pool.lock:
                if pool.received == 3:
                    break
            time.sleep(0.02)
        assert any("type tags 'id'" in b for b in pool.bad)
        assert pool.anon[pool.ports[0]] == 1 and pool.by_key[pool.ports[0], 2][P.PONG] == 1
    finally:
        pool.close()


# --- properties --------------------------------------------------------------------------------
osc_ish = st.builds(
    lambda address, tags, body: raw_message(address, [], tags="," + tags) + body,
    st.sampled_from([P.PING, P.NOTES, P.FREE, "/x", "/"]),
    st.text(alphabet="ifsbhdtTFNIcrm[]xQ", max_size=8),
    st.binary(max_size=64),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=256), osc_ish))
def test_decode_raises_only_osc_error_and_never_logs(data, caplog):
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        try:
            address, args = decode(data)
        except OscError:
            return
        finally:
            assert not caplog.records, [r.getMessage() for r in caplog.records]
    assert isinstance(address, str) and isinstance(args, list)
    expectation(data, SERVER, OURS, DEAF)       # and the oracle reads whatever decodes


operations = st.lists(st.tuples(
    st.sampled_from(["header", "chunk", "tick"]),
    st.integers(0, 5),                           # which request
    st.integers(-1, P.MAX_CHUNKS + 1),           # a chunk index or count
    st.integers(0, P.NOTES_PER_CHUNK),           # notes in a chunk / announced
), max_size=60)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=operations)
def test_reassembly_caps_hold_and_every_request_ends(ops):
    """Whatever arrives, in any order: at most max_pending held, each within MAX_NOTES, and every
    request that was held ends (completed, refused or expired) once TTL passes."""
    now = [0.0]
    asm = Assembler(max_pending=3, ttl=5.0, clock=lambda: now[0])
    held: set = set()
    ended: set = set()
    for op, which, k, n in ops:
        key = ("127.0.0.1", 7401, which)
        try:
            if op == "header":
                part = asm.header(key, which, 7401, n, max(k, 0) or 1)
            elif op == "chunk":
                part = asm.chunk(key, which, 7401, k, max(k + 1, 1), array("d", [60, 0.0, 1.0, 90] * n))
            else:
                now[0] += abs(k) / 10
                ended |= {p.key for p in asm.expire()}
                continue
            if part is not None:
                ended.add(key)
        except QbdiError as exc:
            assert exc.code in P.ERROR_CODES
            ended.add(key)
        held |= set(asm.pending)
        assert len(asm) <= 3
        assert all(p.notes_held <= P.MAX_NOTES for p in asm.pending.values())
    now[0] += 5.0 + 1e-6        # past the TTL (an exact 5.0 can land a rounding error short)
    ended |= {p.key for p in asm.expire()}
    assert len(asm) == 0 and held <= ended


# --- bugs the fuzzer found -------------------------------------------------------------------
@pytest.mark.parametrize("request_id", [3e9, 2.0**31, ("h", 2**40), ("h", 2**31)])
def test_an_id_beyond_int32_gets_an_error_not_a_traceback(peer, caplog, request_id):
    """Such an id passed as readable, and every reply for it failed to encode: no answer, and two
    tracebacks in the log per datagram."""
    first = request_id if isinstance(request_id, tuple) else ("f", request_id)
    with caplog.at_level(logging.ERROR, logger="bridge"):
        for address in (P.PING, P.IMPROVISE, P.QUIT):
            peer.send_raw(raw_message(address, [first, ("i", peer.port), ("i", 1), ("i", 1)]))
            rid, code, message = peer.error()
            assert (rid, code) == (-1, "bad_request") and "request id" in message
    peer.ping()
    assert not caplog.records


@pytest.mark.parametrize("tag, value", [("c", 65), ("I", None)])
def test_type_tags_python_osc_skips_are_dropped_without_a_log_line_each(peer, caplog, tag, value):
    """python-osc logged a root warning for every such datagram, past the server's log throttle."""
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            peer.send_raw(raw_message(P.PING, [("i", 1), ("i", peer.port), (tag, value)]))
        peer.ping()
    assert not [r for r in caplog.records if r.name == "root"]
    with pytest.raises(OscError, match="unknown type tag"):
        decode(raw_message(P.PING, [("i", 1), (tag, value)]))


def test_nan_and_infinite_ids_and_ports(peer):
    for rid in (math.nan, math.inf, -math.inf):
        peer.send_raw(raw_message(P.PING, [("f", rid), ("i", peer.port)]))
        assert peer.error()[:2] == (-1, "bad_request")
    for port in (math.nan, math.inf):
        peer.send_raw(raw_message(P.PING, [("i", 1), ("f", port)]))
    assert peer.receive(timeout=0.1) is None
    peer.ping()


@pytest.mark.parametrize("first", [
    lambda p: encode(P.NOTES, [5, p, 0, 2, *([60, 0.0, 1.0, 90] * 250)]),      # 5 KB: past MAX_DATAGRAM
    lambda p: encode(P.IMPROVISE, [5, p, 251, 2, "model", "x" * (P.MAX_STRING + 1)]),
])
def test_a_request_refused_for_its_size_gets_one_error_not_a_second_expired_one(model_dir, make_peer, first):
    """The size checks ran before the handlers and did not drop the request: its other datagrams
    started a new one, which expired later with a second error for the same id."""
    from bridge.serve.server import Server

    with Server(port=0, model=str(model_dir), ttl=0.3) as srv:
        peer = make_peer(srv.port)
        peer.send_raw(first(peer.port))
        peer.send(P.IMPROVISE, 5, peer.port, 251, 2)
        peer.send(P.NOTES, 5, peer.port, 1, 2, 60, 0.0, 1.0, 90)
        assert peer.error(5)[1] == "too_large"
        assert peer.receive(timeout=0.8) is None          # past the TTL: no "expired" for request 5
        peer.ping()
