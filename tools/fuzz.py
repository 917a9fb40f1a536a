# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``python -m tools.fuzz``: bad input and load against a real ``qbdi serve`` on loopback, with figures.

Two modes of one runner (docs/FAULTS.md has the commands and the figures measured):

- **fuzz** (default): start ``qbdi serve`` as a subprocess (:class:`bridge.bench.ServerProcess`)
  and send it ``--datagrams`` random and mutated datagrams in bursts of ``--burst``: garbage
  bytes, wrong type tags, truncated packets, huge counts, NaN and infinities, negative durations,
  out-of-range pitches, chunks duplicated, missing or out of order, unknown request ids, wrong
  reply ports, byte- and argument-level mutations of valid requests, and valid requests. After
  each burst a ping must be answered (and a status request shows what the server holds).
  Checks: the server never dies and never logs a traceback; every *readable* request gets a reply
  or an ``/qbdi/error`` (see :func:`expectation`); no reply reaches a port or id that did not ask;
  every reply datagram is flat (``i``/``f``/``s``) and at most MAX_DATAGRAM bytes; memory stays
  bounded (peak RSS from ``/proc/PID/status``, and RSS after the run against RSS after the first
  bursts); incomplete requests expire (nothing pending at the end); the server's log stays short
  (its complaints are throttled); ``/qbdi/quit`` at the end stops it with exit code 0.
- **amplification** (``--host ADDRESS``, this machine's non-loopback address): the same fuzzer
  against a server bound there, sending from that address: to the server a peer on another
  machine that never did the handshake. Checks: nothing it sends back to a port adds up to more
  bytes, or more datagrams, than the requests that named that port; no reply that needs the
  handshake (results, status, models) at all; no state held for such a peer (nothing pending).
- **load** (``--load``): ``--clients`` threads, each its own :class:`bridge.client.Client`, send
  ``--requests`` improvisations each on an 8-bar query (bridge.bench's query builder); every
  datagram each client receives is tapped: a reply lost (no answer in time), crossed (a datagram
  for another request, or notes that differ from a local run of the same request) or duplicated
  is counted; latency percentiles and throughput are reported.

Safety: every datagram goes to 127.0.0.1 at the server's port, nowhere else. The reply ports that
requests name are this runner's own listening sockets, one bound socket it never reads, the
server's own port (which the server must refuse), or values that are not ports at all; a mutated
datagram that would name any other port is not sent, so no other program on this machine is
written to. No readable ``/qbdi/quit`` is ever sent by the fuzzer (the clean stop at the end
goes through :meth:`bridge.bench.ServerProcess.stop`). The runner is seeded (``--seed``).

Exit code: 0 when every check held, 1 when one failed (the report lists ``problems``), 2 for a
usage error or a server that would not start.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import selectors
import socket
import struct
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bridge import protocol as P
from bridge.bench import BENCH_SETTINGS, ServerProcess, _percentiles, realistic_query
from bridge.client import Client, NoReply, ServerError
from bridge.config import INT32_MAX
from bridge.errors import QbdiError
from bridge.osc import OscError, decode, encode
from bridge.serve.peers import is_loopback, take_cookie

RCVBUF = 4 << 20
POOL_SIZE = 8                 # reply ports the fuzzer listens on
PING_TIMEOUT_S = 10.0         # a ping must be answered this soon after each burst
SETTLE_S = P.REQUEST_TTL_S + 3.0   # after the last datagram: incomplete requests expire within TTL + poll
MAX_WAIT_S = 120.0            # at most this long for the last replies (heavy improvisations included)
RSS_GROWTH_LIMIT_MB = 200.0   # RSS at the end minus RSS after the first bursts
PEAK_RSS_LIMIT_MB = 3072.0    # caps x workers: the largest legal improvisation peaks near 650 MB per worker
STORM_EVERY = 200             # bursts; see run_fuzz
LOG_LINES_PER_S = 10.0        # complaints are throttled to about one a second per kind

ADDRESSES = (P.PING, P.STATUS, P.MODELS, P.IMPROVISE, P.NOTES, P.FREE)
ALL_TAGS = "ifsbhdtTFNIcrm[]"
INTERESTING_INTS = (0, 1, -1, 2, 127, 128, 129, P.NOTES_PER_CHUNK, P.MAX_CHUNKS, P.MAX_CHUNKS + 1,
                    P.MAX_NOTES, P.MAX_NOTES + 1, 65535, 65536, 2**15, 2**16, INT32_MAX, -(2**31), 10**9)
INTERESTING_FLOATS = (0.0, -0.0, -1.0, 0.5, 1.0, 1e-45, 1e-7, 1e30, 3.4e38, -3.4e38, 2.0**31, 2.0**32, 65535.0,
                      7400.5, math.nan, -math.nan, math.inf, -math.inf)
INTERESTING_STRINGS = ("", "full", "x" * (P.MAX_STRING + 1), "rate", "seed", "model", "pop", "\u00df\u2202\u0192",
                       "\x7f\x01", "a" * 2000, "../../etc/passwd", "/qbdi/quit", "%s%n", "nan", "-1", "1e400")


# --- OSC bytes, written by hand so that anything can be written ----------------------------------
def _pad(raw: bytes) -> bytes:
    return raw + b"\0" * (4 - len(raw) % 4)


def raw_message(address: str | bytes, items: Sequence[tuple[str, Any]], tags: str | None = None) -> bytes:
    """An OSC message from ``(tag, value)`` pairs for any tag python-osc knows, values packed as
    given (ints wrap, floats may be NaN or overflow to infinity); ``tags`` overrides the type tag
    string (so it may disagree with the body)."""
    body = bytearray()
    tag = ","
    for t, v in items:
        tag += t
        if t in "ic":
            body += struct.pack(">I", int(v) & 0xFFFFFFFF)
        elif t == "f":
            try:
                body += struct.pack(">f", float(v))
            except OverflowError:
                body += struct.pack(">f", math.copysign(math.inf, float(v)))
        elif t == "s":
            body += _pad(str(v).replace("\0", "").encode("utf-8", "replace"))
        elif t == "b":
            blob = bytes(v)
            body += struct.pack(">i", len(blob)) + blob + b"\0" * (-len(blob) % 4)
        elif t == "h":
            body += struct.pack(">Q", int(v) & 0xFFFFFFFFFFFFFFFF)
        elif t == "d":
            body += struct.pack(">d", float(v))
        elif t == "t":
            body += struct.pack(">Q", int(v) & 0xFFFFFFFFFFFFFFFF)
        elif t in "rm":
            body += struct.pack(">I", int(v) & 0xFFFFFFFF)
        # T F N I [ ]: no bytes
    address = address if isinstance(address, bytes) else address.encode("utf-8", "replace")
    return _pad(address) + _pad((tags if tags is not None else tag).encode("latin-1", "replace")) + bytes(body)


def _typed(values: Sequence[Any]) -> list[tuple[str, Any]]:
    """Plain Python values -> ``(tag, value)`` the way Max and bridge.osc send them."""
    out = []
    for v in values:
        if isinstance(v, bool):
            out.append(("T" if v else "F", v))
        elif isinstance(v, int):
            out.append(("i", v))
        elif isinstance(v, float):
            out.append(("f", v))
        elif isinstance(v, bytes):
            out.append(("b", v))
        else:
            out.append(("s", str(v)))
    return out


# --- what the server owes each datagram -----------------------------------------------------------
def _whole(value: Any, lo: int, hi: int) -> int | None:
    """A whole number in lo..hi, read the way docs/PROTOCOL.md says (ints, or whole finite floats)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            return None
        value = int(value)
    if not isinstance(value, int):
        return None
    return value if lo <= value <= hi else None


@dataclass(frozen=True)
class Expect:
    """What a datagram deserves. ``kind``: ``none`` (unanswerable: not OSC, or no usable reply port),
    ``deaf`` (answered to the port nobody reads), ``anon`` (an error with id -1 to ``port``),
    ``single`` (one reply for ``(port, id)``), ``assembled`` (part of an improvisation: a result or
    an error for ``(port, id)`` eventually), ``foreign`` (would name a port that is not ours: not
    sent), ``quit`` (a readable quit: not sent)."""

    kind: str
    port: int = 0
    request_id: int = -1
    address: str = ""


def expectation(data: bytes, server_port: int, ours: frozenset[int], deaf: int) -> Expect:
    """The oracle, from docs/PROTOCOL.md: a datagram that is one readable OSC message (the subset
    bridge.osc reads) with a request address (a reply address is never answered) and whose second
    argument is a usable UDP port gets an answer at that port: ``/qbdi/error -1`` when its first
    argument is not a request id (a whole number 0..2^31-1), else a reply or an error for that id.
    Improvise headers and note chunks are answered per request (a result, or one error, possibly
    ``expired`` TTL seconds later, or ``busy`` when a newer request took its slot). A trailing
    ``"cookie" <cookie>`` pair is not part of the request. The fuzzer sends from loopback, where
    no cookie is needed (the amplification run checks the other side)."""
    try:
        address, args = decode(data)
    except OscError:
        return Expect("none")
    if address in P.REPLIES:
        return Expect("none")
    args, _ = take_cookie(args)
    port = _whole(args[1], 1, 65535) if len(args) > 1 else None
    server_reads_port = P.read_reply_port(args)
    if address == P.QUIT and server_reads_port is not None and P.read_id(args) >= 0:
        return Expect("quit")
    if port is None or port == server_port:
        if server_reads_port is not None and server_reads_port not in ours | {deaf, server_port}:
            return Expect("foreign", server_reads_port)
        return Expect("none")
    if port == deaf:
        return Expect("deaf", port)
    if port not in ours:
        return Expect("foreign", port)
    request_id = _whole(args[0], 0, INT32_MAX) if args else None
    if request_id is None:
        return Expect("anon", port, -1, address)
    return Expect("assembled" if address in (P.IMPROVISE, P.NOTES) else "single", port, request_id, address)


# --- the reply side -------------------------------------------------------------------------------
def _flat_tags(data: bytes) -> str | None:
    """The type tags of a raw message, or None if it has no readable tag string."""
    try:
        start = data.index(b"\0")
        start = (start // 4 + 1) * 4
        end = data.index(b"\0", start)
    except ValueError:
        return None
    tags = data[start:end]
    return tags[1:].decode("ascii", "replace") if tags.startswith(b",") else None


class ReplyPool:
    """``size`` listening sockets (the reply ports fuzzed requests name), a deaf socket (bound,
    never read), and a thread that reads and checks every reply."""

    def __init__(self, size: int = POOL_SIZE, watch: Sequence[socket.socket] = (), host: str = "127.0.0.1") -> None:
        self.socks = [_udp_socket(host=host) for _ in range(size)]
        self.ports = [s.getsockname()[1] for s in self.socks]
        self.deaf_sock = _udp_socket(rcvbuf=4096, host=host)
        self.deaf = self.deaf_sock.getsockname()[1]
        self.watch = list(watch)               # sockets that must receive nothing (the sender)
        self.lock = threading.Lock()
        self.by_key: dict[tuple[int, int], Counter] = defaultdict(Counter)
        self.anon: Counter = Counter()         # port -> /qbdi/error -1 received
        self.codes: Counter = Counter()
        self.results: dict[tuple[int, int], list] = {}   # key -> [n_chunks, set of chunk indexes]
        self.bad: list[str] = []               # replies that break the wire rules
        self.unexpected_on_watch = 0
        self.received = 0
        self.bytes_to: Counter = Counter()     # port -> bytes of replies received there
        self.replies_to: Counter = Counter()   # port -> replies received there
        self.addresses: Counter = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fuzz-replies", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        sel = selectors.DefaultSelector()
        for s in self.socks:
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, s.getsockname()[1])
        for s in self.watch:
            sel.register(s, selectors.EVENT_READ, None)
        while not self._stop.is_set():
            for key, _ in sel.select(timeout=0.1):
                while True:
                    try:
                        data = key.fileobj.recv(65536)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        break
                    self._take(key.data, data)
        sel.close()

    def _take(self, port: int | None, data: bytes) -> None:
        with self.lock:
            self.received += 1
            if port is None:
                self.unexpected_on_watch += 1
                return
            self.bytes_to[port] += len(data)
            self.replies_to[port] += 1
            if len(data) > P.MAX_DATAGRAM:
                self._bad(f"a reply of {len(data)} bytes")
            tags = _flat_tags(data)
            if tags is None or not set(tags) <= set("ifs"):
                self._bad(f"a reply with type tags {tags!r}")
            try:
                address, args = decode(data)
            except OscError as exc:
                self._bad(f"an unreadable reply ({exc})")
                return
            self.addresses[address] += 1
            if address not in P.REPLIES or not args or not isinstance(args[0], int):
                self._bad(f"a reply {address} {args[:2]}")
                return
            request_id = args[0]
            if address == P.ERROR:
                self.codes[args[1] if len(args) > 1 else "?"] += 1
                if request_id == -1:
                    self.anon[port] += 1
                    return
            key = (port, request_id)
            self.by_key[key][address] += 1
            if address == P.RESULT and len(args) > 2:
                self.results.setdefault(key, [None, set()])[0] = args[2]
            elif address == P.RESULT_NOTES and len(args) > 1:
                self.results.setdefault(key, [None, set()])[1].add(args[1])

    def _bad(self, what: str) -> None:
        if len(self.bad) < 20:
            self.bad.append(what)
        else:
            self.bad[-1] = f"... and more ({what})"

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        for s in [*self.socks, self.deaf_sock]:
            s.close()


def _udp_socket(rcvbuf: int = RCVBUF, host: str = "127.0.0.1") -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0))
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    except OSError:
        pass
    return s


# --- the server process: memory, drops ----------------------------------------------------------
def proc_memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of a process, in MB; empty when it is gone or /proc is absent."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line.split(":")[0]] = int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return out


def udp_drops(ports: Sequence[int], host: str = "127.0.0.1") -> int | None:
    """Datagrams the kernel dropped on the IPv4 UDP sockets bound to ``ports`` of ``host`` (a full
    receive buffer), from /proc/net/udp; None where that is not available."""
    address = socket.inet_aton(host)[::-1].hex().upper()       # the kernel writes it little-endian
    wanted = {f"{address}:{p:04X}" for p in ports}
    try:
        with open("/proc/net/udp") as fh:
            lines = fh.read().splitlines()[1:]
    except OSError:
        return None
    return sum(int(f[-1]) for f in (line.split() for line in lines) if len(f) > 12 and f[1] in wanted)


class _MemoryWatch:
    """Samples the server's RSS every ``every`` seconds in a thread."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        self.pid, self.every = pid, every
        self.max_rss = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fuzz-memory", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.max_rss = max(self.max_rss, proc_memory_mb(self.pid).get("VmRSS", 0.0))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)


# --- the fuzzer -----------------------------------------------------------------------------------
class Fuzzer:
    """Makes datagrams. Every case returns ``(category, [datagram, ...])``; ids count up from a
    random start so that no request id is reused by accident."""

    def __init__(self, rng: random.Random, server_port: int, pool_ports: Sequence[int], deaf: int,
                 orphans: float = 0.03) -> None:
        self.rng = rng
        self.server_port = server_port
        self.pool = list(pool_ports)
        self.ours = frozenset(self.pool)
        self.deaf = deaf
        self.orphans = orphans
        self.next_id = rng.randrange(1, 2**30)
        self.queries = [realistic_query(b, seed=s) for b, s in ((1, 0), (2, 1), (4, 2), (16, 3), (32, 4))]
        self.cases: list[tuple[str, float, Callable[[], list[bytes]]]] = [
            ("garbage", 5, self.garbage),
            ("wrong_type_tags", 10, self.wrong_type_tags),
            ("truncated", 8, self.truncated),
            ("huge_counts", 6, self.huge_counts),
            ("bad_numbers", 8, self.bad_numbers),
            ("chunk_games", 10, self.chunk_games),
            ("unknown_ids", 4, self.unknown_ids),
            ("wrong_reply_ports", 8, self.wrong_reply_ports),
            ("mutated_bytes", 22, self.mutated_bytes),
            ("mutated_args", 12, self.mutated_args),
            ("valid", 5, self.valid),
            ("addresses", 2, self.addresses),
        ]
        self._weights = [w for _, w, _ in self.cases]

    # --- helpers ------------------------------------------------------------------------------
    def new_id(self) -> int:
        self.next_id = self.next_id + 1 if self.next_id < INT32_MAX - 1 else 1
        return self.next_id

    def port(self) -> int:
        return self.rng.choice(self.pool)

    def settings(self, free: bool = True) -> list:
        """A few valid settings pairs, small enough to improvise in milliseconds (``bars`` only
        for free improvisation)."""
        r = self.rng
        pool = [("rate", r.choice([0, 8, 64, 256, 1024, "full", -1])), ("seed", r.randrange(2**31)),
                ("threshold", r.choice([0.2, 0.3, 0.5, 0.8])), ("sampling", r.choice(["threshold", "sample"])),
                ("temperature", r.choice([0.5, 1.0, 2.0])), ("z", r.choice(["mean", "sample"])),
                ("allocation", r.choice(["query", "frame"])), ("source", r.choice(["posterior", "empirical", "prior"])),
                ("beats_per_bar", r.choice([3, 4, 4.0, 6.0, 7])), ("structure", r.choice(["free", "lock"])),
                ("continue_bars", r.choice([0, 0, 1, 2])), ("model", "")]
        if free:
            pool.append(("bars", r.choice([1, 2, 4])))
        out: list = []
        for key, value in r.sample(pool, r.randrange(0, 5)):
            out += [key, value]
        return out

    def valid_messages(self, kind: str | None = None, request_id: int | None = None,
                       port: int | None = None) -> list[tuple[str, list]]:
        """One valid request as its messages (an improvisation: header then chunks)."""
        kind = kind or self.rng.choice(["ping", "status", "models", "free", "improvise", "improvise"])
        rid = self.new_id() if request_id is None else request_id
        port = self.port() if port is None else port
        if kind == "ping":
            return [(P.PING, [rid, port])]
        if kind == "status":
            return [(P.STATUS, [rid, port])]
        if kind == "models":
            return [(P.MODELS, [rid, port])]
        if kind == "free":
            return [(P.FREE, [rid, port, *self.settings()])]
        query = self.rng.choice(self.queries)
        chunks = P.chunk_args(P.flatten_notes(query))
        return [(P.IMPROVISE, [rid, port, len(query), len(chunks), *self.settings(free=False)]),
                *[(P.NOTES, [rid, port, i, len(chunks), *c]) for i, c in enumerate(chunks)]]

    # --- cases --------------------------------------------------------------------------------
    def garbage(self) -> list[bytes]:
        r = self.rng
        n = r.choice([0, 1, 3, 4, 8, 16, 64, 300, 1500]) if r.random() < 0.9 else r.randrange(4000, 9000)
        body = r.randbytes(n)
        prefix = r.choice([b"", b"", b"/", b"/qbdi/", b"/qbdi/notes\0", b"#bundle\0", b"/qbdi/ping\0\0,ii\0"])
        return [prefix + body]

    def wrong_type_tags(self) -> list[bytes]:
        r = self.rng
        address = r.choice(ADDRESSES)
        rid, port = self.new_id(), self.port()
        tags = "".join(r.choice(ALL_TAGS + "xyzQ\x01") for _ in range(r.randrange(0, 10)))
        if r.random() < 0.5:            # readable id and port, then the wrong types
            tags = "ii" + tags
            head = [("i", rid), ("i", port)]
        else:
            head = []
        values = [(t, self._value_for(t)) for t in tags[len(head):]]
        if r.random() < 0.5:            # the body matches the tags (python-osc can parse it)
            return [raw_message(address, head + values)]
        body_tags = "," + "".join(r.choice("ifs") for _ in range(r.randrange(0, 8)))
        return [raw_message(address, head + values, tags=body_tags if r.random() < 0.5 else "," + tags)]

    def _value_for(self, tag: str) -> Any:
        r = self.rng
        if tag in "ihtcrm":
            return r.choice(INTERESTING_INTS) if r.random() < 0.5 else r.randrange(-(2**31), 2**31)
        if tag in "fd":
            return r.choice(INTERESTING_FLOATS)
        if tag == "s":
            return r.choice(INTERESTING_STRINGS[:8])
        if tag == "b":
            return r.randbytes(r.randrange(0, 12))
        return None

    def truncated(self) -> list[bytes]:
        out = [encode(a, args) for a, args in self.valid_messages()]
        k = self.rng.randrange(len(out))       # one message cut, the rest of its request intact
        out[k] = out[k][:self.rng.randrange(0, len(out[k]))]
        return out

    def huge_counts(self) -> list[bytes]:
        r = self.rng
        rid, port = self.new_id(), self.port()
        big = r.choice([P.MAX_NOTES + 1, P.MAX_CHUNKS + 1, INT32_MAX, 10**9, -1, -(2**31), 2.0**31, 1e30])
        choice = r.randrange(7)
        if choice == 0:
            return [encode(P.IMPROVISE, [rid, port, big if isinstance(big, int) else 5, 1])]
        if choice == 1:
            return [encode(P.IMPROVISE, [rid, port, 5, big if isinstance(big, int) else 1])]
        if choice == 2:
            return [encode(P.NOTES, [rid, port, big if isinstance(big, int) else 0, P.MAX_CHUNKS, 60, 0.0, 1.0, 90])]
        if choice == 3:     # a datagram past MAX_DATAGRAM
            n = r.randrange(130, 250)
            return [encode(P.NOTES, [rid, port, 0, 1, *([60, 0.0, 1.0, 90] * n)])]
        if choice == 4 and r.random() < 0.1:     # 157 chunks, more than MAX_NOTES, no header: kept rare
            chunk = [60, 0.0, 0.25, 90] * P.NOTES_PER_CHUNK
            return [encode(P.NOTES, [rid, port, i, P.MAX_CHUNKS, *chunk]) for i in range(P.MAX_CHUNKS)]
        if choice == 5:     # a long string, many pairs
            return [encode(P.FREE, [rid, port, *(["seed", 1] * r.randrange(50, 400))])]
        return [encode(P.FREE, [rid, port, "bars", r.choice([0, 513, 10**6, INT32_MAX]), "continue_bars",
                                r.choice([0, 513, -1])])]

    def bad_numbers(self) -> list[bytes]:
        r = self.rng
        rid, port = self.new_id(), self.port()
        notes = []
        for _ in range(r.randrange(1, 8)):
            notes += [r.choice([60, -1, 128, 200, 60.5, 2**31 - 1, 64.0]),
                      r.choice([0.0, -0.0, -1.0, math.nan, math.inf, -math.inf, 1e30, 3.0]),
                      r.choice([1.0, 0.0, -0.5, -1e-7, math.nan, math.inf, 1e30]),
                      r.choice([90, 0, 127, 128, -5, 90.0, 1e9])]
        messages = [(P.IMPROVISE, [rid, port, len(notes) // 4, 1, *self.settings(free=False)]),
                    (P.NOTES, [rid, port, 0, 1, *notes])]
        if r.random() < 0.4:   # bad numbers in the settings instead
            key = r.choice(["threshold", "temperature", "beats_per_bar", "rate", "seed", "bars", "continue_bars",
                            "length_beats"])
            value = r.choice([math.nan, math.inf, -math.inf, -1.0, 0.0, 1e30, -1, 2**31 - 1, 0.25, 33.0])
            if r.random() < 0.5:
                messages = [(P.FREE, [rid, port, key, value])]
            else:
                messages = [(P.IMPROVISE, [rid, port, 1, 1, key, value]),
                            (P.NOTES, [rid, port, 0, 1, 60, 0.0, 1.0, 90])]
        if r.random() < 0.2:   # NaN or infinity for the id or the reply port
            a = messages[0][1]
            a[r.randrange(2)] = r.choice([math.nan, math.inf, -math.inf, -0.0, 0.5])
        return [raw_message(address, _typed(args)) for address, args in messages]

    def chunk_games(self) -> list[bytes]:
        r = self.rng
        rid, port = self.new_id(), self.port()
        query = r.choice(self.queries[2:])          # 2 to 3 chunks
        chunks = P.chunk_args(P.flatten_notes(query))
        n = len(chunks)
        header = (P.IMPROVISE, [rid, port, len(query), n, *self.settings(free=False)[:4]])
        parts = [(P.NOTES, [rid, port, i, n, *c]) for i, c in enumerate(chunks)]
        game = r.randrange(8)
        if game == 0:                     # shuffled, header anywhere
            messages = [header, *parts]
            r.shuffle(messages)
        elif game == 1:                   # duplicated chunks and header
            messages = [header, *parts, *r.sample(parts, r.randrange(1, n + 1)), header]
            r.shuffle(messages)
        elif game == 2:                   # a chunk missing: expires
            messages = [header, *parts]
            messages.pop(r.randrange(1, len(messages)))
        elif game == 3:                   # the header missing: expires
            messages = list(parts)
        elif game == 4:                   # chunks disagree on n_chunks
            bad = r.randrange(n)
            parts[bad] = (P.NOTES, [rid, port, bad, n + r.choice([-1, 1, 5]), *chunks[bad]])
            messages = [header, *parts]
        elif game == 5:                   # the header announces the wrong number of notes
            header[1][2] = len(query) + r.choice([-3, -1, 1, 50])
            messages = [header, *parts]
        elif game == 6:                   # a chunk index out of range, or negative
            parts[-1] = (P.NOTES, [rid, port, r.choice([n, n + 7, -1]), n, *chunks[-1]])
            messages = [header, *parts]
        else:                             # a chunk for this id but another reply port
            other = r.choice([p for p in self.pool if p != port] or self.pool)
            parts[0] = (P.NOTES, [rid, other, 0, n, *chunks[0]])
            messages = [header, *parts]
        return [encode(a, args) for a, args in messages]

    def unknown_ids(self) -> list[bytes]:
        r = self.rng
        rid, port = self.new_id(), self.port()
        if r.random() < 0.6:               # a chunk of a request the server never heard of
            n = r.randrange(1, 4)
            return [encode(P.NOTES, [rid, port, r.randrange(n), n, 60, 0.0, 1.0, 90])]
        # stray datagrams for an id that was used a moment ago
        old = max(1, self.next_id - r.randrange(1, 200))
        return [encode(r.choice([P.NOTES, P.IMPROVISE]), [old, port, 0, 1, *([60, 0.0, 1.0, 90] * r.randrange(2))])]

    def wrong_reply_ports(self) -> list[bytes]:
        r = self.rng
        wrong = r.choice([self.server_port, self.deaf, 0, -1, 65536, INT32_MAX, -(2**31), math.nan, math.inf,
                          "7401", float(self.port()), float(self.port()) + 0.5, float(self.server_port), True])
        messages = self.valid_messages(port=0)
        out = []
        for address, args in messages:
            args = list(args)
            args[1] = wrong
            out.append(raw_message(address, _typed(args)))
        return out

    def mutated_bytes(self) -> list[bytes]:
        r = self.rng
        out = [encode(a, args) for a, args in self.valid_messages()]
        k = r.randrange(len(out))              # one message mutated, the rest of its request intact
        data = bytearray(out[k])
        for _ in range(r.choice([1, 1, 1, 2, 3, 8])):
            op = r.randrange(8)
            if not data:
                break
            i = r.randrange(len(data))
            if op == 0:
                data[i] ^= 1 << r.randrange(8)
            elif op == 1:
                data[i] = r.randrange(256)
            elif op == 2:
                data[i:i] = r.randbytes(r.choice([1, 2, 4, 7, 16]))
            elif op == 3:
                del data[i:i + r.choice([1, 2, 4, 9])]
            elif op == 4:                       # an interesting 32-bit word at an aligned place
                j = (i // 4) * 4
                data[j:j + 4] = r.choice([b"\0\0\0\0", b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x80\0\0\0",
                                          b"\x7f\xc0\0\0", b"\x7f\x80\0\0", b"\xff\x80\0\0", b"\x80\0\0\0",
                                          b"\x4f\0\0\0", b"\0\0\x1c\xe8"])
            elif op == 5:                       # a type tag changed
                comma = data.find(b",")
                end = data.find(b"\0", comma) if comma >= 0 else -1
                if comma >= 0 and end > comma + 1:
                    data[r.randrange(comma + 1, end)] = ord(r.choice(ALL_TAGS + "x"))
            elif op == 6:                       # a slice repeated
                j = r.randrange(i, len(data) + 1)
                data[j:j] = data[i:j][:512]
            else:
                del data[i:]
        out[k] = bytes(data)
        return out

    def mutated_args(self) -> list[bytes]:
        r = self.rng
        messages = self.valid_messages()
        k = r.randrange(len(messages))
        address, args = messages[k]
        args = list(args)
        for _ in range(r.choice([1, 1, 2, 3])):
            op = r.randrange(7)
            i = r.randrange(len(args)) if args else 0
            if op == 0 and args:                 # a value replaced by an interesting one of any type
                args[i] = r.choice([r.choice(INTERESTING_INTS), r.choice(INTERESTING_FLOATS),
                                    r.choice(INTERESTING_STRINGS)])
            elif op == 1 and args:               # an argument dropped
                del args[i]
            elif op == 2:                        # an argument added
                args.insert(i, r.choice([r.choice(INTERESTING_INTS), r.choice(INTERESTING_FLOATS),
                                         r.choice(INTERESTING_STRINGS)]))
            elif op == 3 and len(args) > 1:      # two swapped
                j = r.randrange(len(args))
                args[i], args[j] = args[j], args[i]
            elif op == 4 and args:               # the same value, another type
                v = args[i]
                args[i] = (float(v) if isinstance(v, int) else str(v) if isinstance(v, float) else 0)
            elif op == 5:                        # another address
                address = r.choice([*ADDRESSES, "/qbdi/Ping", "/qbdi/notes/", "/qbdi", "/", "/qbdi/result",
                                    "/qbdi/error", "/qbdi/pong"])
            else:                                # args beyond the settings: a key without a value
                args.append(r.choice(list(P.SETTING_KEYS)))
        items = _typed(args)
        if r.random() < 0.25:                    # ints as int64 or float64, the way generic OSC libraries send
            items = [(r.choice("hd") if t == "i" else "d" if t == "f" else t, v) for t, v in items]
        return [raw_message(address, items) if i == k else raw_message(a, _typed(payload))
                for i, (a, payload) in enumerate(messages)]

    def valid(self) -> list[bytes]:
        return [encode(a, args) for a, args in self.valid_messages()]

    def addresses(self) -> list[bytes]:
        r = self.rng
        rid, port = self.new_id(), self.port()
        address = r.choice(["/qbdi/dance", "/qbdi/result", "/qbdi/pong", "/qbdi/ready", "/x", "/" + "q" * 300,
                            "/qbdi/\u00e9", "/qbdi/ping/", "//", "/qbdi/status/reply"])
        roll = r.random()
        if roll < 0.2:
            return [b"#bundle\0" + encode(P.PING, [rid, port])]
        if roll < 0.4:      # a quit the server must refuse: no readable id, or no reply port but its own
            bad_id, bad_port = r.choice([("x", port), (-1, port), (math.nan, port), (2.0**31, port), (rid, "x"),
                                         (rid, self.server_port), (rid, 0), (True, port)])
            return [raw_message(P.QUIT, _typed([bad_id, bad_port]))]
        return [encode(address, [rid, port, *self.settings()])]

    def heavy(self) -> list[bytes]:
        """The largest legal requests: 512 free bars at 32 beats a bar with a low threshold (more
        notes than a reply may carry: ``too_large``), and a 512-bar query continued by 512 bars."""
        port = self.port()
        free = encode(P.FREE, [self.new_id(), port, "bars", 512, "beats_per_bar", 32.0, "threshold", 0.01,
                               "rate", 256])
        rid = self.new_id()
        notes = [60, 511 * 32.0, 1.0, 90]
        long = [encode(P.IMPROVISE, [rid, port, 1, 1, "beats_per_bar", 32.0, "continue_bars", 512, "threshold", 0.3]),
                encode(P.NOTES, [rid, port, 0, 1, *notes])]
        return [free, *long]

    def case(self) -> tuple[str, list[bytes]]:
        """One case's datagrams. Improvise requests that a case leaves incomplete (a header or a chunk
        lost to a mutation) are closed, except a share ``orphans``, by a chunk announcing more than
        MAX_CHUNKS chunks: an error at once instead of a slot held for REQUEST_TTL_S. Otherwise the
        64 slots would always be full of orphans and every improvisation would be answered ``busy``;
        the orphans that are kept still test expiry and the ``busy`` cap."""
        name, _, make = self.rng.choices(self.cases, weights=self._weights)[0]
        out = make()
        if self.rng.random() >= self.orphans:
            keys = {}
            for data in out:
                exp = expectation(data, self.server_port, self.ours, self.deaf)
                if exp.kind == "assembled":
                    keys[exp.port, exp.request_id] = None
            out += [encode(P.NOTES, [rid, port, 0, P.MAX_CHUNKS + 1]) for port, rid in keys]
        return name, out


def run_fuzz(datagrams: int = 100_000, seconds: float = 1800.0, burst: int = 200, seed: int | None = None,
             model: str | None = None, workers: int | None = None, heavy: int = 1, orphans: float = 0.03,
             progress: Callable[[str], None] | None = None, host: str = "127.0.0.1") -> dict[str, Any]:
    """Fuzz a fresh ``qbdi serve`` subprocess bound on ``host``; returns the report (``ok`` and
    ``problems`` included). A ``host`` that is not loopback runs the amplification checks."""
    seed = random.randrange(2**32) if seed is None else seed
    rng = random.Random(seed)
    remote = not is_loopback(host)
    heavy = 0 if remote else heavy       # refused without the handshake: nothing to wait for
    extra = [] if workers is None else ["--workers", str(workers)]
    server = ServerProcess.start(model, extra, host=host)
    pid = server.process.pid
    memory = _MemoryWatch(pid)
    # one sending socket per reply port (and one for the rest): the server counts fairness by source
    # address, so one socket would be one client, held to one client's share of the slots
    txs = [_udp_socket(host=host) for _ in range(POOL_SIZE + 1)]
    control = _udp_socket(host=host)
    control.settimeout(PING_TIMEOUT_S)
    pool = ReplyPool(watch=txs, host=host)
    tx_for = {port: txs[k] for k, port in enumerate(pool.ports)}
    ours = frozenset(pool.ports)
    fuzzer = Fuzzer(rng, server.port, pool.ports, pool.deaf, orphans)
    dest = (host, server.port)
    cookie: list = []                    # the control socket's, from its padded pings
    sent_bytes: Counter = Counter()      # reply port the server reads -> bytes of the requests naming it
    sent_count: Counter = Counter()
    problems: list[str] = []
    categories: Counter = Counter()
    expected: dict[tuple[int, int], str] = {}
    anon_expected: Counter = Counter()
    kinds: Counter = Counter()
    skipped: Counter = Counter()
    sent = 0
    bursts = 0
    pings_ok = 0
    ping_ms: list[float] = []
    pending_max = 0
    rss_after_warmup = None
    heavy_seconds = None
    start_mem = proc_memory_mb(pid)
    started = time.perf_counter()
    deadline = started + seconds
    died = False

    def control_call(address: str) -> list | None:
        rid = fuzzer.new_id()
        args = P.padded_ping(rid, control.getsockname()[1]) if address == P.PING else [rid, control.getsockname()[1]]
        control.sendto(encode(address, [*args, *([P.COOKIE_KEY, cookie[-1]] if cookie else [])]), dest)
        want = P.PONG if address == P.PING else P.STATUS_REPLY
        end = time.perf_counter() + PING_TIMEOUT_S
        while time.perf_counter() < end:
            control.settimeout(max(0.01, end - time.perf_counter()))
            try:
                reply = decode(control.recv(65536))
            except TimeoutError:
                break
            except OscError:
                problems.append("an unreadable datagram arrived on the control port")
                continue
            if reply[0] == want and reply[1] and reply[1][0] == rid:
                if want == P.PONG and len(reply[1]) > 3:
                    cookie.append(reply[1][3])
                return reply[1]
            problems.append(f"the control port got {reply[0]} {reply[1][:1]} while waiting for {want} {rid}")
        return None

    def send(name: str, data: bytes) -> Expect:
        nonlocal sent
        exp = expectation(data, server.port, ours, pool.deaf)
        if exp.kind in ("foreign", "quit"):
            skipped[exp.kind] += 1
            return exp
        kinds[exp.kind] += 1
        if exp.kind == "anon":
            anon_expected[exp.port] += 1
        elif exp.kind in ("single", "assembled"):
            expected.setdefault((exp.port, exp.request_id), exp.kind)
        try:
            named = P.read_reply_port(take_cookie(decode(data)[1])[0])
        except OscError:
            named = None
        if named is not None:
            sent_bytes[named] += len(data)
            sent_count[named] += 1
        tx_for.get(named, txs[-1]).sendto(data, dest)       # registered first: the reply may beat us back
        categories[name] += 1
        sent += 1
        return exp

    try:
        # first the largest legal requests, to measure the peak; RSS growth is measured after them
        heavy_keys = [(e.port, e.request_id) for _ in range(heavy)
                      for e in map(lambda d: send("heavy", d), fuzzer.heavy())
                      if e.kind == "assembled"]
        if heavy_keys:
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < MAX_WAIT_S and server.process.poll() is None:
                with pool.lock:
                    if all(k in pool.by_key and (k not in pool.results or len(pool.results[k][1]) == pool.results[k][0])
                           for k in heavy_keys):
                        break
                time.sleep(0.05)
            heavy_seconds = round(time.perf_counter() - t0, 2)
        fuzz_started, heavy_datagrams = time.perf_counter(), sent
        while sent < datagrams and time.perf_counter() < deadline:
            batch: list[tuple[str, bytes]] = []
            # now and then a burst that leaves every incomplete request open: the 64 slots fill, new
            # improvisations are answered busy, and all of them must expire
            fuzzer.orphans = 1.0 if bursts % STORM_EVERY == STORM_EVERY // 20 else orphans
            while len(batch) < burst and sent + len(batch) < datagrams:
                name, data_list = fuzzer.case()
                batch += [(name, data) for data in data_list]
            for name, data in batch:
                send(name, data)
            bursts += 1
            t0 = time.perf_counter()
            pong = control_call(P.PING)
            if pong is None:
                died = server.process.poll() is not None
                problems.append(f"no pong within {PING_TIMEOUT_S:g} s after burst {bursts}"
                                + (f": the server exited with code {server.process.returncode}" if died else ""))
                if died:
                    break
            else:
                pings_ok += 1
                ping_ms.append(1000 * (time.perf_counter() - t0))
            status = control_call(P.STATUS)
            if status is not None:
                pending_max = max(pending_max, int(status[6]))
            if rss_after_warmup is None and sent >= min(datagrams // 10, 10_000):
                rss_after_warmup = proc_memory_mb(pid).get("VmRSS")
            if progress and bursts % 50 == 0:
                elapsed = time.perf_counter() - started
                progress(f"{sent} datagrams, {elapsed:.0f} s, {sent / elapsed:.0f}/s, "
                         f"RSS {proc_memory_mb(pid).get('VmRSS', 0):.0f} MB, pending max {pending_max}")
        send_seconds = time.perf_counter() - fuzz_started

        # the last replies: incomplete requests expire TTL after their last datagram
        def outstanding() -> tuple[list, int]:
            with pool.lock:
                keys = [k for k in expected if k not in pool.by_key]
                anon = sum(max(0, n - pool.anon[p]) for p, n in anon_expected.items())
            return keys, anon

        wait_started = time.perf_counter()
        last_change, last = wait_started, None
        while not died:
            keys, anon = outstanding()
            now = time.perf_counter()
            if (len(keys), anon) != last:
                last, last_change = (len(keys), anon), now
            if (not keys and not anon) or now - last_change > SETTLE_S or now - wait_started > MAX_WAIT_S:
                break
            time.sleep(0.1)
        time.sleep(0.3)     # a result's last chunks
        end_status = None if died else control_call(P.STATUS)
        # an expiry error may still be in flight for requests that were re-touched late: wait for pending == 0
        settle_end = time.perf_counter() + SETTLE_S
        while end_status is not None and end_status[6] and time.perf_counter() < settle_end:
            time.sleep(0.25)
            end_status = control_call(P.STATUS)
        keys, anon_lost = outstanding()
        end_mem = proc_memory_mb(pid)
        drops_server = udp_drops([server.port], host)
        drops_ours = udp_drops([*pool.ports, control.getsockname()[1]], host)
        alive = server.process.poll() is None
        if not alive:
            died = True
    finally:
        memory.close()
        log_copy = os.fdopen(os.dup(server.log_file.fileno()), "r")   # stop() closes the log file
        exit_code = server.stop() if server.process.poll() is None else server.process.returncode
        log_copy.seek(0)
        log_text = log_copy.read()
        log_copy.close()
        pool.close()
        for tx in txs:
            tx.close()
        control.close()

    with pool.lock:
        crossed = [k for k in pool.by_key if k not in expected]
        incomplete = [k for k, (n, got) in pool.results.items() if n is None or len(got) != n]
        results = len(pool.results)
        # informational: a key answered twice (e.g. a stray header with bad settings after the request
        # finished, or an id reused by a mutation after its TTL); the protocol promises at least one
        answered_twice = sum(1 for c in pool.by_key.values() if c[P.ERROR] + c[P.RESULT] > 1)
        anon_extra = sum(max(0, n - anon_expected[p]) for p, n in pool.anon.items())
        codes = dict(pool.codes)
        bad = list(pool.bad)
        unexpected_on_watch = pool.unexpected_on_watch
        received = pool.received
        amplified = {port: (pool.bytes_to[port], sent_bytes[port]) for port in pool.bytes_to
                     if pool.bytes_to[port] > sent_bytes[port] or pool.replies_to[port] > sent_count[port]}
        reply_addresses = dict(pool.addresses)
        bytes_in, bytes_out = sum(sent_bytes.values()), sum(pool.bytes_to.values())
    log_lines = [line for line in log_text.splitlines() if line.strip() and "qbdi serve: ready" not in line]
    tracebacks = log_text.count("Traceback")
    elapsed = time.perf_counter() - started
    readable = len(expected) + sum(anon_expected.values())
    lost = len(keys) + anon_lost
    peak = max(end_mem.get("VmHWM", 0.0), memory.max_rss)
    figures = {
        "mode": "amplification" if remote else "fuzz", "host": host, "seed": seed, "model": model or "pop",
        "datagrams": sent, "bursts": bursts,
        "send_seconds": round(send_seconds, 1), "seconds": round(elapsed, 1),
        "rate_per_s": round((sent - heavy_datagrams) / send_seconds, 1) if send_seconds else 0.0,
        "categories": dict(sorted(categories.items())), "heavy_rounds": heavy, "heavy_seconds": heavy_seconds,
        "skipped": dict(skipped),
        "datagram_kinds": dict(sorted(kinds.items())),
        "server": {"crashes": int(died), "exit_code": exit_code, "tracebacks": tracebacks,
                   "internal_errors": codes.get("internal", 0), "log_lines": len(log_lines),
                   "log_sample": _log_sample(log_lines)},
        "replies": {"readable_requests": readable, "requests_with_id": len(expected),
                    "anonymous_errors_expected": sum(anon_expected.values()), "lost": lost,
                    "lost_examples": [list(k) for k in keys[:5]], "crossed": len(crossed),
                    "crossed_examples": [list(k) for k in crossed[:5]], "anonymous_extra": anon_extra,
                    "results": results, "answered_twice": answered_twice, "incomplete_results": len(incomplete),
                    "bad_datagrams": len(bad), "bad_examples": bad[:5],
                    "to_the_sender": unexpected_on_watch, "received": received,
                    "error_codes": dict(sorted(codes.items()))},
        "pings": {"bursts": bursts, "answered": pings_ok, **_percentiles([m / 1000 for m in ping_ms])},
        "memory": {"rss_start_mb": round(start_mem.get("VmRSS", 0.0), 1),
                   "rss_after_warmup_mb": round(rss_after_warmup or 0.0, 1),
                   "rss_end_mb": round(end_mem.get("VmRSS", 0.0), 1), "peak_rss_mb": round(peak, 1)},
        "caps": {"max_pending_seen": pending_max, "pending_at_end": None if end_status is None else end_status[6],
                 "pending_limit": 2 * P.MAX_PENDING + (workers if workers is not None else 2)},
        "kernel_drops": {"server": drops_server, "replies": drops_ours},
        "amplification": {"request_bytes_naming_our_ports": bytes_in, "reply_bytes": bytes_out,
                          "ratio": round(bytes_out / bytes_in, 3) if bytes_in else None,
                          "ports_over": len(amplified), "reply_addresses": reply_addresses},
    }
    # --- the verdict ---
    if died:
        problems.append("the server died")
    if exit_code != 0:
        problems.append(f"the server exited with code {exit_code} when asked to quit")
    if tracebacks or codes.get("internal"):
        problems.append(f"{tracebacks} traceback(s) in the server's log, {codes.get('internal', 0)} internal error(s)")
    if pings_ok != bursts:
        problems.append(f"{bursts - pings_ok} of {bursts} post-burst pings unanswered")
    if remote:
        if amplified:
            problems.append(f"replies beyond the requests that asked (port: (reply bytes, request bytes)): "
                            f"{dict(list(amplified.items())[:3])}")
        needs_cookie = set(reply_addresses) - {P.PONG, P.ERROR}
        if needs_cookie:
            problems.append(f"replies that need the handshake were sent without it: {sorted(needs_cookie)}")
        if pending_max:
            problems.append(f"the server held {pending_max} requests for peers that never did the handshake")
    elif lost:
        problems.append(f"{lost} readable request(s) got no reply, e.g. (port, id) {keys[:3]}; "
                        f"{anon_lost} anonymous error(s) missing")
    if crossed or anon_extra or unexpected_on_watch:
        problems.append(f"replies that nobody asked for: {len(crossed)} (port, id) keys, {anon_extra} id -1 errors, "
                        f"{unexpected_on_watch} to the sender's port")
    if incomplete and not remote:
        problems.append(f"{len(incomplete)} result(s) arrived without all their chunks")
    if bad:
        problems.append(f"reply datagrams that break the wire rules: {bad[:3]}")
    if pending_max > figures["caps"]["pending_limit"]:
        problems.append(f"the server held {pending_max} requests, above the caps")
    if end_status is not None and end_status[6]:
        problems.append(f"{end_status[6]} request(s) still pending after the settle time: they did not expire")
    if peak > PEAK_RSS_LIMIT_MB:
        problems.append(f"peak RSS {peak:.0f} MB is above {PEAK_RSS_LIMIT_MB:.0f} MB")
    if rss_after_warmup and end_mem.get("VmRSS", 0.0) - rss_after_warmup > RSS_GROWTH_LIMIT_MB:
        problems.append(f"RSS grew from {rss_after_warmup:.0f} MB to {end_mem['VmRSS']:.0f} MB during the run")
    if len(log_lines) > 20 + LOG_LINES_PER_S * elapsed:
        problems.append(f"the server logged {len(log_lines)} lines in {elapsed:.0f} s: "
                        "its complaints are not throttled")
    if drops_server:
        problems.append(f"the kernel dropped {drops_server} datagram(s) at the server's socket: lower --burst")
    figures["ok"] = not problems
    figures["problems"] = problems
    return figures


def _log_sample(lines: list[str], n: int = 6) -> list[str]:
    """A few distinct log lines (timestamps cut, long ones shortened) for the report."""
    out: list[str] = []
    for line in lines:
        text = line.split(" ", 2)[-1] if line[:2].isdigit() else line
        text = text if len(text) <= 160 else text[:157] + "..."
        if text not in out:
            out.append(text)
        if len(out) >= n:
            break
    return out


# --- load ----------------------------------------------------------------------------------------
class _Tap:
    """A socket proxy that keeps every datagram a Client receives."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.seen: list[bytes] = []

    def recvfrom(self, size: int):
        data, addr = self._sock.recvfrom(size)
        self.seen.append(data)
        return data, addr

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def run_load(clients: int = 16, requests: int = 500, bars: int = 8, model: str | None = None, port: int = 0,
             verify_every: int = 25, timeout: float = 10.0) -> dict[str, Any]:
    """``clients`` concurrent clients x ``requests`` improvisations each, through real UDP."""
    settings = dict(BENCH_SETTINGS)
    queries = [realistic_query(bars, seed=k) for k in range(clients)]
    server = None
    if not port:
        server = ServerProcess.start(model)
        port = server.port
    elif model:
        settings["model"] = model
    times: list[list[float]] = [[] for _ in range(clients)]
    lost = [0] * clients
    crossed = [0] * clients
    extra = [0] * clients
    errors: list[Counter] = [Counter() for _ in range(clients)]
    samples: dict[tuple[int, int], list] = {}
    model_seen: set[str] = set()
    failures: list[str] = []
    finished = [0.0] * clients
    barrier = threading.Barrier(clients + 1)

    def seed_of(k: int, i: int) -> int:
        return (k * 1_000_003 + i) % 2**31

    def run(k: int) -> None:
        try:
            with Client(port=port, timeout=timeout) as client:
                tap = _Tap(client.sock)
                client.sock = tap
                barrier.wait()
                for i in range(requests):
                    tap.seen.clear()
                    started = time.perf_counter()
                    try:
                        result = client.improvise(queries[k], {**settings, "seed": seed_of(k, i)}, beats_per_bar=4)
                    except NoReply:
                        lost[k] += 1
                        continue
                    except ServerError as exc:
                        errors[k][exc.code] += 1
                        continue
                    times[k].append(time.perf_counter() - started)
                    others = 0
                    for data in tap.seen:
                        try:
                            _, args = decode(data)
                        except OscError:
                            others += 1
                            continue
                        if not args or args[0] != result.request_id:
                            others += 1
                    crossed[k] += others
                    n_chunks = P.n_chunks(len(result.notes))
                    extra[k] += max(0, len(tap.seen) - others - (len(result.warnings) + 1 + n_chunks))
                    if result.settings.seed != seed_of(k, i):
                        crossed[k] += 1
                    model_seen.add(result.model)
                    if verify_every and i % verify_every == 0:
                        samples[k, i] = [(n.pitch, n.start, n.duration, n.velocity) for n in result.notes]
                finished[k] = time.perf_counter()
                client.sock.settimeout(0.5)      # anything still arriving is a duplicate or a late reply
                tap.seen.clear()
                try:
                    while True:
                        tap.recvfrom(65536)
                except (TimeoutError, OSError):
                    pass
                extra[k] += len(tap.seen)
        except Exception as exc:  # surfaced in the report
            failures.append(f"client {k}: {type(exc).__name__}: {exc}")
            try:
                barrier.abort()
            except threading.BrokenBarrierError:
                pass

    threads = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(clients)]
    memory = _MemoryWatch(server.process.pid) if server else None
    try:
        for t in threads:
            t.start()
        try:
            barrier.wait(timeout=60)
        except threading.BrokenBarrierError:
            pass
        started = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = max(max(finished), started) - started     # not the half second spent listening for strays
    finally:
        peak = None
        if memory:
            memory.close()
            peak = round(max(memory.max_rss, proc_memory_mb(server.process.pid).get("VmHWM", 0.0)), 1)
        exit_code = server.stop() if server else None

    # not crossed: a sample of the results equals a local run of the same request
    mismatched = 0
    if samples:
        from bridge.config import Settings
        from bridge.improvise import improvise
        from bridge.models import load_model

        local = load_model(settings.get("model") or model)
        for (k, i), notes in sorted(samples.items()):
            expected = improvise(local, queries[k], Settings.from_dict({**settings, "seed": seed_of(k, i),
                                                                       "beats_per_bar": 4.0}))
            if [(n.pitch, n.start, n.duration, n.velocity) for n in expected.notes] != notes:
                mismatched += 1
    all_times = [x for t in times for x in t]
    done = len(all_times)
    figures = {
        "mode": "load", "clients": clients, "requests_per_client": requests, "bars": bars,
        "query_notes": len(queries[0]),
        "settings": {**{k: v for k, v in settings.items() if k != "seed"}, "seed": "one per request"},
        "model": sorted(model_seen)[0] if len(model_seen) == 1 else sorted(model_seen),
        "requests": clients * requests, "completed": done, "lost": sum(lost), "crossed": sum(crossed),
        "duplicates_or_late": sum(extra), "errors": dict(sum(errors, Counter())),
        "verified_against_local_run": len(samples), "mismatched": mismatched,
        "seconds": round(elapsed, 2), "per_second": round(done / elapsed, 1) if elapsed else 0.0,
        **_percentiles(all_times, (50, 95, 99)), "max_ms": round(1000 * max(all_times), 3) if all_times else None,
        "peak_rss_mb": peak, "server_exit_code": exit_code,
    }
    problems = list(failures)
    if sum(lost):
        problems.append(f"{sum(lost)} request(s) got no reply within {timeout:g} s")
    if sum(crossed) or mismatched:
        problems.append(f"{sum(crossed)} datagram(s) for another request, {mismatched} result(s) unlike a local run")
    if sum(extra):
        problems.append(f"{sum(extra)} duplicated or late datagram(s)")
    if any(errors):
        problems.append(f"server errors: {dict(sum(errors, Counter()))}")
    if done != clients * requests:
        problems.append(f"{done} of {clients * requests} improvisations completed")
    if server and exit_code != 0:
        problems.append(f"the server exited with code {exit_code}")
    figures["ok"] = not problems
    figures["problems"] = problems
    return figures


# --- the command ---------------------------------------------------------------------------------
def format_report(report: dict[str, Any]) -> str:
    if report["mode"] == "load":
        lines = [f"load: {report['clients']} clients x {report['requests_per_client']} improvisations "
                 f"({report['bars']}-bar queries, model {report['model']})",
                 f"  completed {report['completed']} of {report['requests']} in {report['seconds']:.1f} s "
                 f"({report['per_second']:.0f}/s); lost {report['lost']}, crossed {report['crossed']}, "
                 f"duplicated {report['duplicates_or_late']}, errors {report['errors'] or 0}, "
                 f"{report['mismatched']} of {report['verified_against_local_run']} checked results unlike a local run",
                 f"  round trip ms: p50 {report['p50_ms']:.2f}  p95 {report['p95_ms']:.2f}  "
                 f"p99 {report['p99_ms']:.2f}  max {report['max_ms']:.2f}  mean {report['mean_ms']:.2f}; "
                 f"server peak RSS {report['peak_rss_mb']} MB"]
    else:
        r, m, s = report["replies"], report["memory"], report["server"]
        lines = [f"{report['mode']}: {report['datagrams']} datagrams in {report['send_seconds']:.0f} s "
                 f"({report['rate_per_s']:.0f}/s), "
                 f"{report['bursts']} bursts, seed {report['seed']}, model {report['model']}",
                 f"  server: crashes {s['crashes']}, tracebacks {s['tracebacks']}, "
                 f"internal errors {s['internal_errors']}, "
                 f"{s['log_lines']} log lines, exit code {s['exit_code']} on quit",
                 f"  replies: {r['readable_requests']} readable requests, lost {r['lost']}, crossed {r['crossed']}, "
                 f"results {r['results']}, incomplete {r['incomplete_results']}, "
                 f"bad reply datagrams {r['bad_datagrams']}",
                 f"  pings after bursts: {report['pings']['answered']} of {report['pings']['bursts']} "
                 f"(p50 {report['pings']['p50_ms']:.1f} ms, p99 {report['pings']['p99_ms']:.1f} ms)",
                 f"  memory: RSS {m['rss_start_mb']:.0f} MB at start, {m['rss_after_warmup_mb']:.0f} MB after warm-up, "
                 f"{m['rss_end_mb']:.0f} MB at the end, peak {m['peak_rss_mb']:.0f} MB; "
                 f"pending max {report['caps']['max_pending_seen']}, at the end {report['caps']['pending_at_end']}",
                 f"  error codes: {r['error_codes']}"]
        if report["mode"] == "amplification":
            a = report["amplification"]
            lines.append(f"  amplification: {a['reply_bytes']} reply bytes for {a['request_bytes_naming_our_ports']} "
                         f"request bytes (ratio {a['ratio']}), {a['ports_over']} port(s) over; replies "
                         f"{a['reply_addresses']}")
    lines.append("  OK" if report["ok"] else "  PROBLEMS:\n" + "\n".join(f"  - {p}" for p in report["problems"]))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.fuzz", description="Fuzzing and load against a real qbdi serve "
                                "on loopback, with figures (docs/FAULTS.md).")
    p.add_argument("--load", action="store_true", help="the load test instead of the fuzzer")
    p.add_argument("--datagrams", type=int, default=100_000, help="fuzz: datagrams to send (default 100000)")
    p.add_argument("--seconds", type=float, default=1800.0, help="fuzz: stop sending after this long (default 1800)")
    p.add_argument("--burst", type=int, default=200, help="fuzz: datagrams between two pings (default 200)")
    p.add_argument("--heavy", type=int, default=1,
                   help="fuzz: rounds of the largest legal requests, sent first (default 1)")
    p.add_argument("--seed", type=int, default=None, help="fuzz: random seed (default: random, reported)")
    p.add_argument("--workers", type=int, default=None, help="fuzz: the server's --workers")
    p.add_argument("--host", default="127.0.0.1", help="fuzz: bind the server, and send, on this address; a "
                   "non-loopback address of this machine runs the amplification checks (default 127.0.0.1)")
    p.add_argument("--clients", type=int, default=16, help="load: concurrent clients (default 16)")
    p.add_argument("--requests", type=int, default=500, help="load: improvisations per client (default 500)")
    p.add_argument("--bars", type=int, default=8, help="load: query length in bars (default 8)")
    p.add_argument("--port", type=int, default=0, help="load: a running server's port (default: start one)")
    p.add_argument("--model", default=None, help="model name or folder (default: pop)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.getLogger().setLevel(logging.ERROR)   # python-osc warns on the root logger about odd type tags
    progress = None if args.quiet else (lambda line: print(f"fuzz: {line}", file=sys.stderr, flush=True))
    try:
        if args.load:
            if args.clients < 1 or args.requests < 1 or not 1 <= args.bars <= 512:
                raise QbdiError("--clients and --requests must be 1 or more, --bars 1 to 512")
            report = run_load(args.clients, args.requests, args.bars, args.model, args.port)
        else:
            if args.datagrams < 1 or args.burst < 1 or args.seconds <= 0:
                raise QbdiError("--datagrams and --burst must be 1 or more and --seconds above 0")
            report = run_fuzz(args.datagrams, args.seconds, args.burst, args.seed, args.model, args.workers,
                              max(0, args.heavy), progress=progress, host=args.host)
    except QbdiError as exc:
        print(f"qbdi fuzz: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
