# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The OSC server through real loopback UDP: in-process servers (threads) and `qbdi serve` subprocesses."""

import logging
import math
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

import bridge.serve.workers
from bridge import protocol as P
from bridge.bench import realistic_query
from bridge.client import Client, ServerError
from bridge.config import Settings
from bridge.improvise import improvise
from bridge.midifile import read_midi, write_midi
from bridge.models import load_model
from bridge.osc import decode, encode
from bridge.pianoroll import Note
from bridge.serve.server import Server

PY = [sys.executable, "-m", "bridge"]


def as_tuples(notes):
    return [(n.pitch, n.start, n.duration, n.velocity) for n in notes]


def expected_notes(model_dir, notes, **settings):
    return as_tuples(improvise(load_model(model_dir), notes, Settings(**settings)).notes)


def request_messages(request_id, reply_port, notes, settings=()):
    chunks = P.chunk_args(P.flatten_notes(notes))
    head = (P.IMPROVISE, [request_id, reply_port, len(notes), len(chunks), *settings])
    return head, [(P.NOTES, [request_id, reply_port, i, len(chunks), *c]) for i, c in enumerate(chunks)]


def collect_result(peer, request_id, timeout=10.0):
    """(header args, notes, warnings) of one result, read from a raw peer."""
    header, chunks, warnings = None, {}, []
    deadline = time.monotonic() + timeout
    while header is None or len(chunks) < header[2]:
        msg = peer.receive(max(0.01, deadline - time.monotonic()))
        assert msg is not None, f"result {request_id} incomplete: header {header}, {len(chunks)} chunks"
        address, args = msg
        assert args[0] == request_id, (address, args)
        assert address != P.ERROR, args
        if address == P.WARNING:
            warnings.append(args[1])
        elif address == P.RESULT:
            header = args
        elif address == P.RESULT_NOTES:
            chunks[args[1]] = args[3:]
    flat = [v for i in sorted(chunks) for v in chunks[i]]
    return header, [tuple(flat[i:i + 4]) for i in range(0, len(flat), 4)], warnings


# --- replies ----------------------------------------------------------------------------------
def test_ping_status_and_models(peer, server):
    peer.send(P.PING, 1, peer.port)
    assert peer.until(P.PONG, 1)[-1][1] == [1, bridge.__version__, P.PROTOCOL_VERSION]
    peer.send(P.STATUS, 2, peer.port)
    _, (rid, ready, model, n_models, uptime, served, pending) = peer.until(P.STATUS_REPLY, 2)[-1]
    assert (rid, ready, model, pending) == (2, 1, "tiny", 0) and n_models >= 1 and uptime > 0 and served >= 1
    peer.send(P.MODELS, 3, peer.port)
    _, args = peer.until(P.MODELS_REPLY, 3)[-1]
    assert args[1] == "tiny" and args[2] == (len(args) - 3) // 3
    entries = {args[i]: (args[i + 1], args[i + 2]) for i in range(3, len(args), 3)}
    assert entries["tiny"] == (16, 512)


def test_replies_go_to_the_reply_port_on_the_senders_host(server, make_peer):
    sender, receiver = make_peer(server.port), make_peer(server.port)
    sender.send(P.PING, 77, receiver.port)
    assert receiver.until(P.PONG, 77)
    assert sender.receive(timeout=0.2) is None


def test_result_states_the_model_and_effective_settings(peer, server, model_dir):
    query = realistic_query(2)
    head, chunks = request_messages(5, peer.port, query, ["rate", 64, "seed", 9, "threshold", 0.3])
    for address, args in [head, *chunks]:
        peer.send(address, *args)
    header, notes, _ = collect_result(peer, 5)
    assert header[3] == "tiny"
    echoed = dict(zip(header[4::2], header[5::2]))
    assert echoed["model"] == "tiny" and echoed["rate"] == 64 and echoed["seed"] == 9
    assert echoed["beats_per_bar"] == 4.0 and set(echoed) <= set(P.SETTING_KEYS) | set(P.RESULT_MEASURES)
    assert list(echoed)[-2:] == list(P.RESULT_MEASURES), "what it kept comes last, after the settings"
    assert notes == expected_notes(model_dir, query, rate=64, seed=9, threshold=0.3)


def test_every_reply_datagram_is_small_and_flat(peer, server):
    query = realistic_query(64)
    head, chunks = request_messages(6, peer.port, query)
    for address, args in [head, *chunks]:
        peer.send(address, *args)
    header, notes, _ = collect_result(peer, 6)
    assert header[2] > 1 and len(notes) > P.NOTES_PER_CHUNK
    for data in peer.raw:
        assert len(data) <= P.MAX_DATAGRAM
        tags = data[data.index(b",") : data.index(b"\0", data.index(b","))].decode()
        assert set(tags[1:]) <= set("ifs")


def test_chunks_out_of_order_duplicated_and_header_last(peer, server, model_dir):
    query = realistic_query(32)            # ~380 notes: 3 chunks
    head, chunks = request_messages(8, peer.port, query, ["seed", 4])
    assert len(chunks) >= 3
    for address, args in [chunks[2], chunks[0], chunks[2], chunks[1], *chunks[3:], head, chunks[0]]:
        peer.send(address, *args)
    _, notes, _ = collect_result(peer, 8)
    assert notes == expected_notes(model_dir, query, seed=4)
    assert peer.receive(timeout=0.3) is None          # one result only: duplicates were ignored


def test_256_bar_10000_note_query_round_trips_intact(any_server, monkeypatch):
    server, model = any_server
    query = [Note(24 + (i * 7) % 78, (i * 256 // 10_000) * 4.0 + (i % 16) * 0.25, 0.25, 40 + i % 80)
             for i in range(10_000)]
    received = []
    real = bridge.serve.workers.improvise

    def spy(model, notes, settings, **kw):
        received.append(list(notes))
        return real(model, notes, settings, **kw)

    monkeypatch.setattr(bridge.serve.workers, "improvise", spy)
    with Client(port=server.port, timeout=20) as client:
        result = client.improvise(query, {"rate": 64, "seed": 3})
    assert as_tuples(received[0]) == as_tuples(query)             # 79 chunks in, nothing lost or changed
    assert P.n_chunks(len(query)) == 79
    assert len(result.notes) > 2 * P.NOTES_PER_CHUNK                # several chunks back as well
    assert as_tuples(result.notes) == expected_notes(model, query, rate=64, seed=3)
    assert result.settings.rate == 64 and math.ceil(max(n.end for n in result.notes) / 4) <= 256


def test_concurrent_clients_each_get_exactly_their_own_replies(any_server):
    server, model = any_server
    n_clients, n_requests = 8, 5
    queries = [[Note(n.pitch + k - 4, n.start, n.duration, n.velocity) for n in realistic_query(2 + k % 3, seed=k)]
               for k in range(n_clients)]
    got = {}
    errors = []

    def run(k):
        try:
            with Client(port=server.port, timeout=20) as client:
                for i in range(n_requests):
                    result = client.improvise(queries[k], {"rate": 32 * (i + 1), "seed": 100 * k + i})
                    got[k, i] = (as_tuples(result.notes), result.settings.seed, result.settings.rate)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k in range(n_clients):
        for i in range(n_requests):
            notes, seed, rate = got[k, i]
            assert (seed, rate) == (100 * k + i, 32 * (i + 1))
            assert notes == expected_notes(model, queries[k], rate=32 * (i + 1), seed=100 * k + i)


def test_free_improvisation(server):
    with Client(port=server.port) as client:
        result = client.free({"bars": 2, "seed": 1, "beats_per_bar": 3})
    assert result.notes and max(n.end for n in result.notes) <= 6.0
    assert result.settings.bars == 2 and result.settings.beats_per_bar == 3.0


def test_warnings_reach_the_client(server):
    with Client(port=server.port) as client:
        result = client.improvise([Note(10, 0.0, 1.0, 80), *realistic_query(1)], {})
    assert any("outside the model's pitch range" in w for w in result.warnings)


# --- errors -----------------------------------------------------------------------------------
def tagged(address, *typed):
    builder = OscMessageBuilder(address)
    for value, tag in typed:
        builder.add_arg(value, tag)
    return builder.build().dgram


MALFORMED = [
    # (datagram maker taking the reply port, expected id, expected code, words in the message)
    (lambda p: encode(P.PING, ["x", p]), -1, "bad_request", "request id"),
    (lambda p: tagged(P.PING, (True, "T"), (p, "i")), -1, "bad_request", "request id"),
    (lambda p: encode(P.FREE, [-3, p]), -1, "bad_request", "request id"),
    (lambda p: encode(P.IMPROVISE, [5, p]), 5, "bad_request", "n_notes"),
    (lambda p: encode(P.IMPROVISE, [6, p, 1, 1, "threshold", 2.0]), 6, "bad_request", "threshold"),
    (lambda p: encode(P.IMPROVISE, [7, p, 1, 1, "colour", "red"]), 7, "bad_request", "unknown setting"),
    (lambda p: encode(P.IMPROVISE, [8, p, 99_999, 1]), 8, "too_large", "99999"),
    (lambda p: encode(P.IMPROVISE, [9, p, 1, 1, "rate", "lots"]), 9, "bad_request", "rate"),
    (lambda p: encode(P.IMPROVISE, [10, p, "one", 1]), 10, "bad_request", "n_notes"),
    (lambda p: encode(P.NOTES, [11, p, 0, 1, 200, 0.0, 1.0, 90]), 11, "bad_request", "pitch 200"),
    (lambda p: encode(P.NOTES, [12, p, 0, 1, 60, math.nan, 1.0, 90]), 12, "bad_request", "start"),
    (lambda p: encode(P.NOTES, [13, p, 0, 1, 60, 0.0, -1.0, 90]), 13, "bad_request", "duration"),
    (lambda p: encode(P.NOTES, [14, p, 0, 1, 60, 0.0]), 14, "bad_request", "4 numbers"),
    (lambda p: encode(P.NOTES, [15, p, 3, 2, 60, 0.0, 1.0, 90]), 15, "bad_request", "chunk index"),
    (lambda p: encode(P.NOTES, [16, p, 0, 1, *([60, 0.0, 1.0, 90] * 300)]), 16, "too_large", "4096"),
    (lambda p: encode(P.FREE, [17, p, "bars", 0]), 17, "bad_request", "bars"),
    (lambda p: encode(P.FREE, [18, p, "model", "nope"]), 18, "unknown_model", "nope"),
    (lambda p: encode(P.FREE, [19, p, "model", "x" * 300]), 19, "too_large", "string"),
    (lambda p: encode(P.FREE, [20, p, "seed"]), 20, "bad_request", "pairs"),
    (lambda p: encode(P.FREE, [21, p, "seed", 2**31 - 1, "bars", 9999]), 21, "bad_request", "bars"),
    (lambda p: encode(P.IMPROVISE, [22, p, 0, 0]), 22, "bad_request", "no notes"),
    (lambda p: tagged(P.NOTES, (23, "i"), (p, "i"), (0, "i"), (1, "i"), (b"xx", "b")), 23, "bad_request", "4 numbers"),
    (lambda p: encode("/qbdi/dance", [24, p]), 24, "unknown_address", "/qbdi/dance"),
]


@pytest.mark.parametrize("make, request_id, code, words", MALFORMED)
def test_malformed_requests_get_an_error_and_the_server_keeps_answering(peer, make, request_id, code, words):
    peer.send_raw(make(peer.port))
    got_id, got_code, message = peer.error()
    assert (got_id, got_code) == (request_id, code)
    assert words in message
    peer.ping()


@pytest.mark.parametrize("data", [b"", b"\x00" * 64, b"garbage", b"#bundle\0" + b"\0" * 16, bytes(range(256)),
                                  encode("/qbdi/ping", []), encode("/qbdi/ping", [1]), encode("/qbdi/ping", [1, 0])])
def test_unanswerable_datagrams_are_dropped_and_the_server_keeps_answering(peer, data):
    peer.send_raw(data)
    assert peer.receive(timeout=0.1) is None
    peer.ping()


def test_the_server_never_answers_its_own_port(server, peer):
    peer.send(P.STATUS, 1, peer.port)
    served = peer.until(P.STATUS_REPLY, 1)[-1][1][5]
    peer.send(P.STATUS, 2, server.port)          # a forged reply port: the server's own
    peer.send("/qbdi/nonsense", 3, server.port)
    assert peer.receive(timeout=0.2) is None
    peer.send(P.STATUS, 4, peer.port)
    assert peer.until(P.STATUS_REPLY, 4)[-1][1][5] == served + 1     # only reply 1 was sent since


def test_a_failing_handler_does_not_stop_the_server(server, monkeypatch):
    def broken(*args, **kw):
        raise RuntimeError("boom")

    monkeypatch.setattr(bridge.serve.workers, "improvise", broken)
    with Client(port=server.port) as client:
        with pytest.raises(ServerError) as info:
            client.improvise(realistic_query(1))
        assert info.value.code == "internal" and "boom" in str(info.value)
        assert client.ping().protocol_version == P.PROTOCOL_VERSION


def test_a_request_may_name_an_installed_model(server, other_model_dir, monkeypatch):
    loads = []
    real = bridge.serve.workers.load_model

    def load(name=None):
        loads.append(name)
        return real(other_model_dir if name == "other" else name)

    monkeypatch.setattr(bridge.serve.workers, "installed_names", lambda: ["other"])
    monkeypatch.setattr(bridge.serve.workers, "load_model", load)
    with Client(port=server.port) as client:
        for _ in range(2):
            result = client.improvise(realistic_query(2), {"model": "other"})
            assert result.model == "other" and result.settings.model == "other"
        assert client.improvise(realistic_query(1)).model == "tiny"
        with pytest.raises(ServerError) as info:
            client.improvise(realistic_query(1), {"model": "/etc/passwd"})
    assert loads == ["other"]                  # loaded once, then cached
    assert info.value.code == "unknown_model" and "other" in str(info.value)


def test_incomplete_requests_expire(model_dir, make_peer):
    with Server(port=0, model=str(model_dir), ttl=0.3) as srv:
        peer = make_peer(srv.port)
        head, chunks = request_messages(31, peer.port, realistic_query(32))
        peer.send(head[0], *head[1])
        peer.send(chunks[1][0], *chunks[1][1])
        rid, code, message = peer.error(31)
        assert (rid, code) == (31, "expired") and "1 of 3 chunks" in message
        peer.send(chunks[0][0], *chunks[0][1])  # a late chunk of the expired request is ignored
        assert peer.receive(timeout=0.2) is None
        peer.ping()


def test_a_full_server_gives_a_newcomer_the_oldest_slot_of_the_heaviest_sender(model_dir, make_peer):
    from bridge.serve.reassembly import MAX_PENDING_PER_SENDER

    with Server(port=0, model=str(model_dir)) as srv:
        peers = [make_peer(srv.port) for _ in range(-(-P.MAX_PENDING // MAX_PENDING_PER_SENDER))]
        rid = 0
        for peer in peers:                       # every device fills its own share of the slots
            for _ in range(MAX_PENDING_PER_SENDER):
                peer.send(P.IMPROVISE, rid, peer.port, 1, 1)
                rid += 1
        first = peers[0]
        first.send(P.IMPROVISE, 999, first.port, 1, 1)
        assert first.error(999)[1] == "busy"    # its own cap
        other = make_peer(srv.port)
        other.send(P.STATUS, 1000, other.port)
        assert other.until(P.STATUS_REPLY, 1000)[-1][1][6] == P.MAX_PENDING
        other.send(P.IMPROVISE, 998, other.port, 1, 1)      # every slot taken: the oldest one goes
        rid0, code, message = first.error(0)
        assert (rid0, code) == (0, "busy") and "lost its place" in message
        other.send(P.NOTES, 998, other.port, 0, 1, 60, 0.0, 1.0, 90)
        assert other.until(P.RESULT, 998)
        first.send(P.NOTES, 0, first.port, 0, 1, 60, 0.0, 1.0, 90)     # the evicted request is gone for good
        first.send(P.NOTES, 1, first.port, 0, 1, 60, 0.0, 1.0, 90)     # the next one still completes
        assert first.until(P.RESULT, 1)[-1][1][0] == 1
        assert all(args[0] != 0 for _, args in first.until(P.RESULT_NOTES, 1))


def test_one_device_cannot_make_the_server_busy_for_the_others(model_dir, make_peer):
    from bridge.serve.reassembly import MAX_PENDING_PER_SENDER

    with Server(port=0, model=str(model_dir)) as srv:
        greedy, polite = make_peer(srv.port), make_peer(srv.port)
        for rid in range(MAX_PENDING_PER_SENDER):
            greedy.send(P.IMPROVISE, rid, greedy.port, 1, 1)
        greedy.send(P.IMPROVISE, 500, greedy.port, 1, 1)
        code, message = greedy.error(500)[1:]
        assert code == "busy" and "this client" in message
        polite.send(P.IMPROVISE, 7, polite.port, 1, 1)
        polite.send(P.NOTES, 7, polite.port, 0, 1, 60, 0.0, 1.0, 90)
        assert polite.until(P.RESULT, 7)


def test_binding_beyond_loopback_warns(model_dir, caplog):
    srv = Server(host="0.0.0.0", port=0, model=str(model_dir))
    with caplog.at_level(logging.WARNING, logger="bridge.serve.server"):
        srv.bind()
    srv.sock.close()
    assert "reachable from other machines" in caplog.text


# --- the same notes as `qbdi improvise` ---------------------------------------------------------
def assert_same_as_cli(port, model_arg, tmp_path):
    query = realistic_query(4, seed=3)
    write_midi(tmp_path / "q.mid", [("piano", query)], tempo_bpm=100.0, time_signature=(4, 4))
    cli = subprocess.run([*PY, "improvise", str(tmp_path / "q.mid"), "-o", str(tmp_path / "out.mid"),
                          "--model", model_arg, "--rate", "64", "--seed", "5", "--sample", "--temperature", "0.8",
                          "--z", "sample", "--allocation", "frame", "--source", "posterior", "--structure", "free",
                          "--threshold", "0.5"], capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stderr
    settings = {"rate": 64, "seed": 5, "sampling": "sample", "temperature": 0.8, "z": "sample",
                "allocation": "frame", "source": "posterior", "structure": "free", "threshold": 0.5}
    with Client(port=port, timeout=20) as client:
        result = client.improvise(query, settings, beats_per_bar=4)
    from_file = sorted(as_tuples(read_midi(tmp_path / "out.mid").notes))
    assert from_file and sorted(as_tuples(result.notes)) == from_file


def test_same_notes_as_qbdi_improvise_on_the_same_midi_file(any_server, tmp_path):
    server, model = any_server
    assert_same_as_cli(server.port, model, tmp_path)


def test_the_real_model_is_the_default_and_listed(real_model):
    with Server(port=0) as srv, Client(port=srv.port, timeout=30) as client:
        assert client.status().model == real_model
        models = client.models()
        result = client.free({"bars": 4, "seed": 2})
    assert models.default == real_model
    info = {m.name: m for m in models.models}[real_model]
    assert info.latent_size == load_model(real_model).architecture.latent_size
    assert info.max_rate == load_model(real_model).max_rate
    assert result.model == real_model and result.notes and max(n.end for n in result.notes) <= 16


# --- `qbdi serve` as a process --------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(model_dir, *extra):
    notify = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    notify.bind(("127.0.0.1", 0))
    notify.settimeout(60)
    proc = subprocess.Popen([*PY, "serve", "--port", "0", "--model", str(model_dir),
                             "--notify-port", str(notify.getsockname()[1]), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        address, args = decode(notify.recv(4096))
    finally:
        notify.close()
    assert address == P.READY
    return proc, args


def test_port_in_use_gives_one_line_and_exit_2(model_dir):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        proc = subprocess.run([*PY, "serve", "--port", str(port), "--model", str(model_dir)],
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(port) in lines[0] and "--port" in lines[0], proc.stderr


def test_serve_announces_ready_after_loading_and_sigterm_exits_cleanly(model_dir):
    proc, ready = start_serve(model_dir)
    version, protocol, port, model = ready
    assert (version, protocol, model) == (bridge.__version__, P.PROTOCOL_VERSION, "tiny") and port > 0
    with Client(port=port) as client:
        assert client.improvise(realistic_query(2)).notes
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f"qbdi serve: ready: listening on 127.0.0.1:{port}, model tiny" in err
    assert "INFO" not in err and "Traceback" not in err        # the default level is WARNING


def test_quit_message_stops_serve_and_log_level_applies(model_dir):
    proc, (_, _, port, _) = start_serve(model_dir, "--log-level", "INFO")
    with Client(port=port) as client:
        client.improvise(realistic_query(1))
        client.quit()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "improvise" in err and "quit requested by 127.0.0.1" in err and "Traceback" not in err


def test_ctrl_c_exits_cleanly(model_dir):
    proc, (_, _, port, _) = start_serve(model_dir)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err


def test_the_serving_path_never_imports_torch(model_dir):
    script = f"""
import sys
from bridge.serve.server import Server
from bridge.client import Client
from bridge.bench import realistic_query
with Server(port=0, model={str(model_dir)!r}) as srv, Client(port=srv.port) as client:
    client.improvise(realistic_query(2), {{"rate": 16}})
    client.free({{"bars": 1}})
    client.status(); client.models()
print("torch" in sys.modules)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_the_server_itself_runs_blas_on_one_thread_while_it_serves(model_dir):
    """API users get the same latency as `qbdi serve`: the Server pins BLAS, not only the CLI."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    blas = [lib for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
    if not blas:
        pytest.skip("numpy has no BLAS library threadpoolctl can control")
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        with Server(port=0, model=str(model_dir)) as srv, Client(port=srv.port) as client:
            client.ping()
            during = {lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"}
        after = {lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"}
    assert during == {1}
    assert after == {2}     # restored once serving ends
