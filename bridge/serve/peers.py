# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Who is on the other end of a datagram, and what the server may say to them.

* :func:`is_loopback` (from :mod:`bridge.protocol`, which the clients share): a peer on this
  machine's loopback (127.0.0.0/8, ``::1``, and their IPv4-mapped forms such as ``::ffff:127.0.0.1``
  that a dual-stack ``--host ::`` socket reports). Loopback peers, the device and local scripts, are
  trusted with replies of any size.
* :class:`Cookies`: the stateless handshake for every other peer. A source address can be forged
  over UDP, so a reply larger than its request could be reflected at a victim. A pong to a
  non-loopback peer carries a cookie, an HMAC of the peer's host and reply port with a per-process
  secret that rotates every COOKIE_PERIOD_S (the current and the previous period's are accepted).
  Only a peer that receives at that address can learn it; with it, replies may be as large as
  the protocol allows. Nothing is stored per peer.
* :class:`Allowance`: how many datagrams a source may send: a token bucket per source address
  (and one per host, for hosts other than the loopback). Past it, datagrams are dropped unread, so
  a flood from one socket costs the server a lookup per datagram instead of a decode, and the other
  clients' datagrams do not wait behind it in the socket's queue.
* :func:`is_this_machine`: an address of this host (any interface), so that no request can make
  the server answer its own socket, whatever ``--host`` it bound (``::``, ``0.0.0.0``, a LAN address).
* :func:`printable` (and its lazy form :class:`shown`, for log calls): any received value as one
  printable line, so that a newline, an ANSI escape or a bidirectional override in an address or
  string cannot forge or hide log lines. Every log call that carries datagram content passes it
  through here.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from ..protocol import COOKIE_KEY, COOKIE_PERIOD_S, is_loopback, plain_host

MAX_SHOWN = 120          # characters of a received value in a log line
SENDER_RATE = 3000.0     # datagrams a second one source address may send, sustained...
SENDER_BURST = 1000.0    # ...and at once (a 20,000-note query is 158 datagrams)
HOST_RATE = 6000.0       # all the sockets of one host other than the loopback, together
HOST_BURST = 2000.0
MAX_BUCKETS = 4096       # sources remembered (the least recently seen are forgotten first)
COOKIE_BYTES = 8         # HMAC bytes in a cookie: 64 bits, sent as "q" + 16 hex digits
_LOCAL_CACHE = 256       # addresses remembered by is_this_machine


@dataclass(frozen=True)
class Peer:
    """The source of one datagram, and how large the answers to it may be."""

    host: str
    port: int              # the source port (the reply port is the request's own business)
    size: int              # the datagram's bytes
    local: bool            # on the loopback: the device, a local script
    trusted: bool          # local, or it sent a valid cookie for the reply address

    @property
    def sender(self) -> tuple[str, int]:
        """The source address: what fairness counts by."""
        return self.host, self.port

    @property
    def reply_limit(self) -> int | None:
        """Bytes an answer may take: no more than the datagram itself until the peer is trusted."""
        return None if self.trusted else self.size

    @property
    def error_limit(self) -> int | None:
        """Bytes an error may take: for a peer on another machine never more than what caused it."""
        return None if self.local else self.size


def printable(value: Any, limit: int = MAX_SHOWN) -> str:
    """``value`` (usually a str from a datagram) as one printable line of at most about ``limit``
    characters: control, format and separator characters are escaped as ``repr`` escapes them
    (``\\n``, ``\\x1b``, ``\\u2028``, ``\\u202e``), backslashes doubled, the rest cut with a count."""
    text = value if isinstance(value, str) else repr(value)
    cut = len(text) - limit
    if cut > 0:
        text = text[:limit]
    return "".join(map(_escape, text)) + (f"...({cut} more characters)" if cut > 0 else "")


def _escape(char: str) -> str:
    if char == "\\":
        return "\\\\"
    return char if char.isprintable() else repr(char)[1:-1]


class shown:  # noqa: N801 (used like a function, in log calls)
    """``log.warning("... %s", shown(address))``: :func:`printable` of a received value, computed
    only if the line is written (a suppressed or disabled log line costs nothing)."""

    __slots__ = ("value", "limit")

    def __init__(self, value: Any, limit: int = MAX_SHOWN) -> None:
        self.value, self.limit = value, limit

    def __str__(self) -> str:
        return printable(self.value, self.limit)

    __repr__ = __str__


_local: dict[str, bool] = {}


def is_this_machine(host: str) -> bool:
    """True if ``host`` is an address of this machine: it can be bound here (cached; the cache
    is cleared when full, so a stream of forged sources costs one bind each, not memory)."""
    host = plain_host(host)
    if is_loopback(host):
        return True
    known = _local.get(host)
    if known is not None:
        return known
    if len(_local) >= _LOCAL_CACHE:
        _local.clear()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((host, 0))
        _local[host] = True
    except OSError:
        _local[host] = False
    return _local[host]


class Allowance:
    """Token buckets per source address, and per host for hosts other than the loopback (where
    every device shares one host); ``clock`` is injectable for tests. Not thread-safe: the
    receive thread owns it."""

    def __init__(self, rate: float = SENDER_RATE, burst: float = SENDER_BURST, host_rate: float = HOST_RATE,
                 host_burst: float = HOST_BURST, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.host_rate, self.host_burst = rate, burst, host_rate, host_burst
        self.clock = clock
        self.dropped = 0
        self._buckets: OrderedDict[Hashable, list[float]] = OrderedDict()   # key -> [tokens, when]

    def allow(self, host: str, port: int) -> bool:
        """Take one datagram from ``(host, port)``'s allowance; False (and counted) when it has none."""
        now = self.clock()
        ok = self._take((host, port), self.rate, self.burst, now)
        if ok and not is_loopback(host):
            ok = self._take(plain_host(host), self.host_rate, self.host_burst, now)
        if not ok:
            self.dropped += 1
        return ok

    def _take(self, key: Hashable, rate: float, burst: float, now: float) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = [burst, now]
            if len(self._buckets) > MAX_BUCKETS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket[0] = min(burst, bucket[0] + (now - bucket[1]) * rate)
            bucket[1] = now
        if bucket[0] < 1.0:
            return False
        bucket[0] -= 1.0
        return True


class Cookies:
    """Issue and check handshake cookies; ``clock`` (seconds) and ``secret`` are injectable for tests."""

    def __init__(self, period: float = COOKIE_PERIOD_S, secret: bytes | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.period = float(period)
        self.secret = os.urandom(32) if secret is None else secret
        self.clock = clock

    def _mac(self, epoch: int, host: str, port: int) -> str:
        message = f"{epoch}|{plain_host(host)}|{int(port)}".encode()
        return "q" + hmac.new(self.secret, message, hashlib.sha256).digest()[:COOKIE_BYTES].hex()

    def _epoch(self) -> int:
        return int(self.clock() // self.period)

    def issue(self, host: str, port: int) -> str:
        """The cookie for replies to ``(host, port)`` in the current period."""
        return self._mac(self._epoch(), host, port)

    def valid(self, cookie: Any, host: str, port: int) -> bool:
        """True if ``cookie`` was issued for ``(host, port)`` in this period or the previous one."""
        if not isinstance(cookie, str) or len(cookie) != 1 + 2 * COOKIE_BYTES:
            return False
        epoch = self._epoch()
        return any(hmac.compare_digest(cookie, self._mac(e, host, port)) for e in (epoch, epoch - 1))


def take_cookie(args: Sequence) -> tuple[list, Any]:
    """A request's arguments without their trailing ``"cookie" <cookie>`` pair, and the cookie
    (None when absent). The pair may end any request, after its id and reply port."""
    if len(args) >= 4 and args[-2] == COOKIE_KEY:
        return list(args[:-2]), args[-1]
    return list(args), None
