# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The gate every datagram passes (bridge.serve.admission), through real sockets: what a hostile or
careless client can and cannot make the server do. Peers "on another machine" are this machine
talking to a server bound on its non-loopback address (the server sees that address as the
source, as it would a LAN peer's); those tests are skipped where the machine has none."""

import logging
import os
import socket
import struct
import subprocess
import sys
import time

import pytest

import bridge
from bridge import protocol as P
from bridge.bench import realistic_query
from bridge.client import Client, ServerError
from bridge.osc import decode, encode
from bridge.serve.peers import Allowance, Cookies
from bridge.serve.server import Server

FORGED = "2026-01-01 12:00:00,000 CRITICAL bridge.serve.server: the server was compromised"
HOSTILE_TEXT = ["\n" + FORGED, "\r\x1b[2J\x1b[1;31mALERT\x1b[0m", "\u2028\u2029\u0085\u202eevil", "\t" + "x" * 240]


def quiet(peer, seconds=0.3):
    """Every reply that arrives until ``seconds`` of silence."""
    got = []
    while (msg := peer.receive(seconds)) is not None:
        got.append(msg)
    return got


def served(peer, request_id):
    peer.send(P.STATUS, request_id, peer.port)
    return peer.until(P.STATUS_REPLY, request_id)[-1][1][5]


# --- log forgery --------------------------------------------------------------------------------
def hostile_datagrams(port):
    for i, text in enumerate(HOSTILE_TEXT):
        yield encode("/qbdi/x" + text, [i, port])                       # unknown address
        yield encode("/qbdi/y" + text, [i])                             # no reply port
        yield encode(P.FREE, [100 + i, port, "model", text])            # unknown model: its message is logged
        yield encode(P.FREE, [200 + i, port, "sampling", text])         # a bad value
        yield encode(P.IMPROVISE, [300 + i, port, 1, 1, text, 1])       # an unknown setting key
        yield b"/qbdi/z" + text.encode() + b"\0" * 4 + b",iQ\0" + b"\0" * 8   # unreadable: an unknown tag


def test_nothing_from_a_datagram_reaches_the_log_unescaped(peer, server, caplog):
    with caplog.at_level(logging.DEBUG, logger="bridge"):
        for data in hostile_datagrams(peer.port):
            peer.send_raw(data)
        quiet(peer)
        peer.ping()
    messages = [r.getMessage() for r in caplog.records]
    assert any("CRITICAL bridge.serve.server: the server was compromised" in m for m in messages)   # logged, escaped
    for message in messages:
        assert message.isprintable() and len(message) < 2000, repr(message)


def test_a_forged_line_does_not_reach_the_servers_stderr(model_dir):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as notify, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        notify.bind(("127.0.0.1", 0))
        notify.settimeout(60)
        s.bind(("127.0.0.1", 0))
        proc = subprocess.Popen([sys.executable, "-m", "bridge", "--log-level", "DEBUG", "serve", "--port", "0",
                                 "--model", str(model_dir), "--notify-port", str(notify.getsockname()[1])],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            port = decode(notify.recv(4096))[1][2]
            for data in hostile_datagrams(s.getsockname()[1]):
                s.sendto(data, ("127.0.0.1", port))
            time.sleep(0.5)
            with Client(port=port) as client:
                client.quit()
            err = proc.communicate(timeout=30)[1]
        finally:
            proc.kill()
    lines = err.splitlines()
    assert proc.returncode == 0 and any("compromised" in line for line in lines)
    assert not any(line.startswith(FORGED[:30]) for line in lines), err
    assert all(line.isprintable() for line in lines), [line for line in lines if not line.isprintable()]


# --- loops and reflection ------------------------------------------------------------------------
def test_a_reply_is_never_answered(peer, server):
    before = served(peer, 1)
    for address in P.REPLIES:
        peer.send(address, 5, peer.port, 1, 2, 3)
        peer.send(address, 6, peer.port)
    assert quiet(peer) == []
    assert served(peer, 2) == before + 1
    peer.ping()


def _hosts_for(bind, lan_address):
    hosts = ["127.0.0.1"]
    if bind == "::":
        hosts.append("::1")
    if lan_address:
        hosts.append(lan_address)
    return hosts


@pytest.mark.parametrize("bind", ["0.0.0.0", "::", "127.0.0.1", "lan"])
def test_no_request_makes_the_server_answer_itself(model_dir, make_peer, lan_address, caplog, bind):
    """Whatever address it bound (the wildcards, a LAN address) and whatever address a request
    comes from (loopback, ::1, ::ffff:127.0.0.1 on a dual-stack socket, the LAN address), a reply
    port equal to the server's own gets no answer: nothing ever reaches its socket from itself."""
    if bind == "lan":
        if lan_address is None:
            pytest.skip("this machine has no non-loopback address")
        bind = lan_address
    if bind == "::" and not socket.has_ipv6:
        pytest.skip("no IPv6")
    with caplog.at_level(logging.DEBUG, logger="bridge"), Server(host=bind, port=0, model=str(model_dir)) as srv:
        hosts = [bind] if bind not in ("0.0.0.0", "::") else _hosts_for(bind, lan_address)
        control = Client(host=hosts[0], port=srv.port)
        before = control.status().served
        for host in hosts:
            p = make_peer(srv.port, host)
            own = srv.port
            for address, args in [(P.STATUS, [10, own]), (P.PING, [11, own]), ("/qbdi/nonsense", [12, own]),
                                  (P.FREE, [13, own, "bars", 1]), (P.IMPROVISE, [14, own, 1, 1]),
                                  (P.NOTES, [14, own, 0, 1, 60, 0.0, 1.0, 90]), (P.MODELS, [15, own])]:
                p.send(address, *args)
                p.send(address, *args, P.COOKIE_KEY, "q0000000000000000")
            assert srv.answers_itself(host, own) and not srv.answers_itself(host, p.port)
            assert quiet(p, 0.2) == []
        assert control.status().served == before + 1
        control.close()
    assert "no reply can go there" not in caplog.text       # no datagram from its own socket arrived


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="a raw socket needs root")
def test_a_datagram_from_source_port_0_is_not_answered(server, peer):
    payload = encode(P.STATUS, [77, peer.port])
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP) as raw:
        for source_port in (0, 23456):          # the second one shows the raw path itself works
            raw.sendto(struct.pack("!HHHH", source_port, server.port, 8 + len(payload), 0) + payload,
                       ("127.0.0.1", 0))
            got = quiet(peer)
            assert got == [] if source_port == 0 else [m[0] for m in got] == [P.STATUS_REPLY]


def test_a_flood_from_one_socket_is_dropped_unread_and_others_are_still_answered(model_dir, make_peer):
    with Server(port=0, model=str(model_dir)) as srv:
        srv.allowance = Allowance(rate=200.0, burst=50.0)
        flood, other = make_peer(srv.port), make_peer(srv.port)
        started = time.monotonic()
        for i in range(1000):
            flood.send(P.STATUS, i, flood.port)
        elapsed = time.monotonic() - started
        other.ping()                                       # another socket: its own allowance
        answered = len(quiet(flood, 0.5))
        assert 50 <= answered <= 50 + 200.0 * (time.monotonic() - started) + 5
        assert srv.allowance.dropped >= 1000 - answered and elapsed < 10


# --- peers on other machines: the handshake and amplification ------------------------------------
@pytest.fixture
def lan_server(model_dir, lan_address):
    if lan_address is None:
        pytest.skip("this machine has no non-loopback address to bind a server to")
    srv = Server(host=lan_address, port=0, model=str(model_dir), workers=1).start()
    yield srv
    srv.close()


def unverified_requests(port):
    head, chunk = (encode(P.IMPROVISE, [5, port, 1, 1, "rate", 64]),
                   encode(P.NOTES, [5, port, 0, 1, 60, 0.0, 1.0, 90]))
    return [encode(P.PING, [1, port]), encode(P.PING, [1, port, "p" * 20]), encode(P.STATUS, [2, port]),
            encode(P.MODELS, [3, port]), encode(P.MODELS, [3, port, "x" * 200]), encode(P.FREE, [4, port, "bars", 8]),
            head, chunk, encode("/qbdi/dance", [6, port]), encode("/qbdi/dance", [6, port, "x" * 100]),
            encode(P.QUIT, [7, port]), encode(P.QUIT, [7, port, "x" * 100]), encode(P.FREE, [8, port, "bars", 0]),
            encode(P.STATUS, ["x", port, "y" * 64]), encode(P.NOTES, [9, port, 0, 1, *([60, 0.0, 1.0, 90] * 300)]),
            encode(P.STATUS, [10, port, P.COOKIE_KEY, "q0123456789abcdef"])]


def test_another_machine_gets_nothing_larger_than_it_sent_before_the_handshake(lan_server, make_peer, lan_address):
    p = make_peer(lan_server.port, lan_address)
    for data in unverified_requests(p.port):
        p.send_raw(data)
        got = quiet(p, 0.2)
        assert len(got) <= 1 and all(m[0] == P.ERROR for m in got), (decode(data), got)
        if got:
            assert len(p.raw[-1]) <= len(data) and got[0][1][1] in ("cookie", "bad_request", "unknown_address")
    assert p.receive(0.2) is None
    assert not lan_server.stopping                        # the quit without a cookie did nothing
    with Client(host=lan_address, port=lan_server.port) as client:   # and it serves the next peer
        assert client.ping().protocol_version == P.PROTOCOL_VERSION


def test_the_pong_cookie_opens_the_protocol_for_that_address_only(lan_server, make_peer, lan_address):
    p, q = make_peer(lan_server.port, lan_address), make_peer(lan_server.port, lan_address)
    ping = encode(P.PING, P.padded_ping(1, p.port))
    p.send_raw(ping)
    (address, pong), = quiet(p)
    assert address == P.PONG and len(p.raw[-1]) <= len(ping) and pong[3].startswith("q")
    cookie = pong[3]
    p.send(P.MODELS, 2, p.port, P.COOKIE_KEY, cookie)
    assert p.until(P.MODELS_REPLY, 2)[-1][1][1] == "tiny"
    notes = realistic_query(4)
    head = [3, p.port, len(notes), 1, "rate", 64, P.COOKIE_KEY, cookie]
    p.send(P.IMPROVISE, *head)
    p.send(P.NOTES, 3, p.port, 0, 1, *P.flatten_notes(notes), P.COOKIE_KEY, cookie)
    assert p.until(P.RESULT, 3)
    q.send(P.MODELS, 4, q.port, P.COOKIE_KEY, cookie)         # another reply port: the cookie is not its own
    p.send(P.MODELS, 5, q.port, P.COOKIE_KEY, cookie)         # nor may p have replies sent there
    p.send(P.MODELS, 6, p.port, P.COOKIE_KEY, cookie[:-1] + ("0" if cookie[-1] != "0" else "1"))
    assert all(m[0] != P.MODELS_REPLY for m in quiet(q) + quiet(p))


def test_errors_to_another_machine_are_never_larger_than_their_request(lan_server, make_peer, lan_address):
    p = make_peer(lan_server.port, lan_address)
    p.send(P.PING, *P.padded_ping(1, p.port))
    cookie = p.until(P.PONG, 1)[-1][1][3]
    bad = [(P.FREE, [2, p.port, "bars", 0]), (P.FREE, [3, p.port, "zzz", 1]), ("/qbdi/dance", [4, p.port]),
           (P.IMPROVISE, [5, p.port, 10**6, 1]), (P.STATUS, ["x", p.port]), (P.NOTES, [6, p.port, 9, 1])]
    messages = []
    for address, args in bad:
        data = encode(address, [*args, P.COOKIE_KEY, cookie])
        p.send_raw(data)
        got = quiet(p, 0.2)
        assert [m[0] for m in got] == [P.ERROR] and len(p.raw[-1]) <= len(data), (address, got)
        messages.append(got[0][1][2])
    assert messages[0].startswith("bars must") and messages[0].endswith("...")    # cut to fit, from the end


def test_the_client_does_the_handshake_transparently(lan_server, lan_address):
    with Client(host=lan_address, port=lan_server.port) as client:
        assert client.remote
        assert client.status().model == "tiny" and client.models().default == "tiny"
        result = client.improvise(realistic_query(8), {"rate": 64, "seed": 3}, beats_per_bar=4)
        assert result.notes and client.free({"seed": 1}, bars=2).notes
        lan_server.admission.cookies = Cookies(period=0.2)    # the server's secret and period change:
        time.sleep(0.5)                                       # the client's cookie is refused, once
        again = client.improvise(realistic_query(8), {"rate": 64, "seed": 3}, beats_per_bar=4)
        assert [n.pitch for n in again.notes] == [n.pitch for n in result.notes]
        with pytest.raises(ServerError) as info:
            client.free({"model": "nope"})
        assert info.value.code == "unknown_model"


def test_a_stream_does_the_handshake_and_renews_its_cookie_without_stopping(lan_server, lan_address):
    from bridge.stream_client import Stream

    bars = [realistic_query(1, seed=s) for s in range(4)]
    with Stream({"rate": 64, "seed": 3}, host=lan_address, port=lan_server.port, beats_per_bar=4) as stream:
        assert stream.client.remote and stream.client._cookie
        assert stream.bar(0, bars[0]).bar == 1
        stream.client._cookie_at -= P.COOKIE_PERIOD_S          # half its period is long gone: renew on the next bar
        aged = stream.client._cookie_at
        answers = [stream.bar(i, bars[i]) for i in (1, 2, 3)]   # each answer still arrives, none lost to the ping
        assert [a.bar for a in answers] == [2, 3, 4]
        assert stream.client._cookie_at > aged + P.COOKIE_PERIOD_S / 2 and not stream.errors   # the pong came


def test_loopback_peers_are_unaffected(peer, server):
    with Client(port=server.port) as client:
        assert not client.remote
    peer.send(P.PING, 1, peer.port)
    assert peer.until(P.PONG, 1)[-1][1] == [1, bridge.__version__, P.PROTOCOL_VERSION]
    peer.send(P.MODELS, 2, peer.port)                        # no cookie, a reply larger than the request
    models = peer.until(P.MODELS_REPLY, 2)[-1][1]
    assert len(encode(P.MODELS_REPLY, models)) > len(encode(P.MODELS, [2, peer.port]))
