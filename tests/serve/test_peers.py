# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""bridge.serve.peers: loopback or not, this machine or not, the handshake cookie, log-safe text."""

import logging
import socket

import pytest

from bridge import protocol as P
from bridge.osc import encode
from bridge.serve.peers import (
    Allowance,
    Cookies,
    Peer,
    is_loopback,
    is_this_machine,
    plain_host,
    printable,
    shown,
    take_cookie,
)


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.3.4.5", True), ("::1", True), ("::ffff:127.0.0.1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.0.2.2", False), ("::ffff:192.0.2.2", False), ("fd00::2", False),
    ("fe80::1%eth0", False), ("10.0.0.1", False), ("not an address", False),
])
def test_only_loopback_addresses_are_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_ipv4_mapped_addresses_read_as_ipv4():
    assert plain_host("::ffff:127.0.0.1") == "127.0.0.1" and plain_host("::ffff:10.1.2.3") == "10.1.2.3"
    assert plain_host("fd00::2") == "fd00::2" and plain_host("name") == "name"


def test_this_machine_is_every_address_it_can_bind(lan_address):
    assert is_this_machine("127.0.0.1") and is_this_machine("::ffff:127.0.0.1")
    assert not is_this_machine("192.0.2.250") and not is_this_machine("203.0.113.7")
    if lan_address:
        assert is_this_machine(lan_address) and is_this_machine(f"::ffff:{lan_address}")


def test_cookies_bind_host_and_port_and_rotate():
    now = [1000.0]
    cookies = Cookies(period=60.0, secret=b"k" * 32, clock=lambda: now[0])
    c = cookies.issue("192.0.2.2", 7401)
    assert c.startswith("q") and len(c) == 17 and c == cookies.issue("::ffff:192.0.2.2", 7401)
    assert cookies.valid(c, "192.0.2.2", 7401)
    assert not cookies.valid(c, "192.0.2.3", 7401) and not cookies.valid(c, "192.0.2.2", 7402)
    assert not cookies.valid(c.upper(), "192.0.2.2", 7401) and not cookies.valid(None, "192.0.2.2", 7401)
    assert not cookies.valid(7, "192.0.2.2", 7401) and not cookies.valid(c + "0", "192.0.2.2", 7401)
    now[0] += 60.0                      # the next period: still accepted
    assert cookies.valid(c, "192.0.2.2", 7401) and cookies.issue("192.0.2.2", 7401) != c
    now[0] += 60.0                      # two periods on: refused
    assert not cookies.valid(c, "192.0.2.2", 7401)
    other = Cookies(period=60.0, clock=lambda: now[0])   # another process: another secret
    assert not other.valid(cookies.issue("192.0.2.2", 7401), "192.0.2.2", 7401)


def test_the_cookie_pair_ends_any_request():
    assert take_cookie([1, 7401, "cookie", "qabc"]) == ([1, 7401], "qabc")
    assert take_cookie([1, 7401, 0, 1, 60, 0.0, 1.0, 90, "cookie", "qabc"]) == ([1, 7401, 0, 1, 60, 0.0, 1.0, 90],
                                                                              "qabc")
    assert take_cookie([1, "cookie", "qabc"]) == ([1, "cookie", "qabc"], None)    # not before id and port
    assert take_cookie([1, 7401, "rate", 64]) == ([1, 7401, "rate", 64], None)


def test_peer_limits():
    remote = Peer("192.0.2.2", 5000, 60, local=False, trusted=False)
    assert (remote.reply_limit, remote.error_limit, remote.sender) == (60, 60, ("192.0.2.2", 5000))
    assert Peer("192.0.2.2", 5000, 60, local=False, trusted=True).reply_limit is None
    assert Peer("127.0.0.1", 5000, 60, local=True, trusted=True).error_limit is None


@pytest.mark.parametrize("text", ["/qbdi/x\n2026-01-01 CRITICAL bridge.serve.server: forged", "\x1b[2J\x1b[31mred",
                                  "a\rb", "\u2028line", "\u202eevil", "tab\there", "nul\x00", "\\n literal"])
def test_printable_text_cannot_forge_or_hide_log_lines(text):
    out = printable(text)
    assert out.isprintable() and "\n" not in out and "\x1b" not in out
    assert printable("\\n") == "\\\\n"          # an escaped newline cannot pass for a real one's escape


def test_printable_cuts_long_text_and_shown_is_lazy(caplog):
    assert printable("x" * 1000).endswith("...(880 more characters)")
    log = logging.getLogger("bridge.test_peers")
    with caplog.at_level(logging.WARNING, logger="bridge.test_peers"):
        log.debug("not written %s", shown("\n" * 10))
        log.warning("written %s", shown("a\nb"))
    assert [r.getMessage() for r in caplog.records] == ["written a\\nb"]


def test_the_pong_and_its_cookie_fit_in_a_padded_ping():
    import bridge

    ping = encode(P.PING, P.padded_ping(2**31 - 1, 65535))
    pong = encode(P.PONG, [2**31 - 1, bridge.__version__, P.PROTOCOL_VERSION, Cookies().issue("192.0.2.2", 1)])
    assert len(ping) == P.HANDSHAKE_BYTES and len(pong) <= len(ping)


def test_lan_address_fixture_is_not_loopback(lan_address):
    if lan_address is None:
        pytest.skip("this machine has no non-loopback address")
    assert not is_loopback(lan_address)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((lan_address, 0))


def test_the_allowance_drops_a_flood_and_refills():
    now = [0.0]
    allowance = Allowance(rate=100.0, burst=10.0, host_rate=150.0, host_burst=15.0, clock=lambda: now[0])
    assert all(allowance.allow("127.0.0.1", 5000) for _ in range(10))      # a burst
    assert not allowance.allow("127.0.0.1", 5000) and allowance.dropped == 1
    assert allowance.allow("127.0.0.1", 5001)                               # another socket: its own
    now[0] += 0.05                                                          # 5 more after 50 ms at 100/s
    assert sum(allowance.allow("127.0.0.1", 5000) for _ in range(10)) == 5
    # on the loopback every device is one host, so only sockets count; elsewhere the host counts too
    assert sum(allowance.allow("127.0.0.1", 6000 + k) for k in range(40)) == 40
    assert sum(allowance.allow("192.0.2.9", 7000 + k) for k in range(40)) == 15
