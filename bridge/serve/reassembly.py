# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Putting chunked requests back together: a header plus note chunks, in any order, with caps.

An improvisation request is one ``/qbdi/improvise`` header and ``n_chunks`` ``/qbdi/notes``
chunks, keyed by ``(sender host, sender port, reply port, request id)``: the sender is the
datagram's source address (one socket: one device), never what the request claims. Chunks may
come before the header and in any order; a duplicate chunk is ignored. A request is complete when
the header and every chunk are in, and then holds exactly the header's ``n_notes`` notes.

Memory stays bounded and no sender can hold the others out (a slow loris):

* at most ``max_pending`` requests are held, at most ``max_per_sender`` from one sender (more
  from it are refused as ``busy``), each with at most MAX_NOTES notes in MAX_CHUNKS chunks
  (``too_large``);
* only progress keeps a request alive: it expires ``ttl`` seconds after its last *new* header or
  chunk (a repeated one changes nothing) and ``deadline`` seconds after its first datagram, however
  it goes on;
* when every slot is taken, a new request takes the slot of the oldest request of the heaviest
  sender of the heaviest host (counting the newcomer): a sender with many requests, or a host with
  many sockets, loses its oldest first, and the newcomer is refused only when it would itself be
  the heaviest. The request that loses its slot is handed to ``on_evict`` (the server answers it
  ``busy``).

Once a request is complete, refused, evicted or expired, its key is remembered for ``ttl`` seconds
and stray datagrams for it are ignored, so one broken request yields one error, not one per chunk.
Request ids must therefore not be reused by the same sender within ``ttl`` seconds (clients start
ids at random).

Not thread-safe: the server's receive thread owns its :class:`Assembler`.
"""

from __future__ import annotations

import logging
import time
from array import array
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from ..errors import QbdiError
from ..protocol import FIELDS_PER_NOTE, MAX_CHUNKS, MAX_NOTES, MAX_PENDING, REQUEST_DEADLINE_S, REQUEST_TTL_S, Chunks

log = logging.getLogger(__name__)

MAX_PENDING_PER_SENDER = 8     # a device sends one request at a time; a few more is generous

MAX_REMEMBERED = 8192   # finished keys remembered to ignore their stray chunks


@dataclass
class Partial:
    """One request being assembled: its ``chunks`` (:class:`bridge.protocol.Chunks`, each a checked
    flat ``array('d')`` of notes) plus what the header brings."""

    key: Hashable
    request_id: int
    reply_port: int
    touched: float                     # the last progress: a new header or chunk
    created: float = 0.0               # the first datagram
    header: Any = None                 # what the owner keeps from the header (e.g. settings)
    n_notes: int | None = None         # None until the header is in
    chunks: Chunks = field(default_factory=Chunks)   # n_chunks known from the header or from any chunk

    @property
    def has_header(self) -> bool:
        return self.n_notes is not None

    @property
    def n_chunks(self) -> int | None:
        return self.chunks.n_chunks

    @property
    def notes_held(self) -> int:
        return self.chunks.notes_held

    @property
    def complete(self) -> bool:
        return self.has_header and self.chunks.complete

    def flat_notes(self) -> array:
        """All notes as one flat ``array('d')`` ``(n_notes * 4,)``, in chunk order."""
        out = array("d")
        for part in self.chunks.ordered():
            out.extend(part)
        return out

    def describe(self) -> str:
        header = "header in" if self.has_header else "header missing"
        total = "?" if self.n_chunks is None else self.n_chunks
        return f"{len(self.chunks)} of {total} chunks arrived, {header}"

    @property
    def sender(self) -> Hashable:
        return _sender(self.key)

    @property
    def host(self) -> Hashable:
        return _host(self.key)


class Assembler:
    """Pending requests with caps, expiry and fair eviction; ``clock`` is injectable for tests.

    Keys are tuples ``(host, sender port, ...)``: ``key[:2]`` is the sender, ``key[0]`` its host."""

    def __init__(self, max_pending: int = MAX_PENDING, ttl: float = REQUEST_TTL_S,
                 clock: Callable[[], float] = time.monotonic, max_per_sender: int = MAX_PENDING_PER_SENDER,
                 deadline: float | None = None, on_evict: Callable[[Partial], None] | None = None) -> None:
        self.max_pending = max_pending
        self.max_per_sender = max_per_sender
        self.ttl = ttl
        # as in the protocol, the deadline is twice the ttl unless given
        self.deadline = ttl * REQUEST_DEADLINE_S / REQUEST_TTL_S if deadline is None else deadline
        self.clock = clock
        self.on_evict = on_evict
        self.evicted = 0
        self.pending: dict[Hashable, Partial] = {}
        self._by_sender: dict[Hashable, dict[Hashable, None]] = {}   # sender -> its keys, oldest first
        self._hosts: Counter = Counter()                            # host -> requests held
        self._finished: OrderedDict[Hashable, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self.pending)

    def finished_recently(self, key: Hashable) -> bool:
        """True if ``key`` completed, failed or expired less than ``ttl`` seconds ago."""
        when = self._finished.get(key)
        return when is not None and self.clock() - when < self.ttl

    def header(self, key: Hashable, request_id: int, reply_port: int, n_notes: int, n_chunks: int,
               payload: Any = None) -> Partial | None:
        """Take a header; returns the request once complete, None while chunks are missing,
        None for a stray header of a finished request. Raises :class:`QbdiError` (the request
        is then dropped and its key remembered)."""
        if self.finished_recently(key):
            log.debug("ignoring a repeated header for finished request %s", key)
            return None
        part = self._get(key, request_id, reply_port)
        try:
            if part.has_header:
                log.debug("ignoring a duplicate header for request %s", key)
                return None
            if not 0 <= n_notes <= MAX_NOTES:
                raise QbdiError(f"the query has {n_notes} notes; a request may carry 0 to {MAX_NOTES}",
                                code="too_large" if n_notes > 0 else "bad_request")
            self._check_n_chunks(part, n_chunks, n_notes)
            if part.notes_held > n_notes:
                raise QbdiError(f"the header announces {n_notes} notes but {part.notes_held} have arrived already")
            part.n_notes, part.header = n_notes, payload
            part.touched = self.clock()
        except QbdiError:
            self.drop(key)
            raise
        return self._finish_if_complete(part)

    def chunk(self, key: Hashable, request_id: int, reply_port: int, index: int, n_chunks: int,
              flat: array) -> Partial | None:
        """Take note chunk ``index`` of ``n_chunks`` (checked flat notes); like :meth:`header`."""
        if self.finished_recently(key):
            log.debug("ignoring a stray chunk of finished request %s", key)
            return None
        part = self._get(key, request_id, reply_port)
        try:
            self._check_n_chunks(part, n_chunks, part.n_notes)
            if not 0 <= index < n_chunks:
                raise QbdiError(f"chunk index {index} is outside 0..{n_chunks - 1}")
            if index in part.chunks:
                log.debug("ignoring duplicate chunk %d of request %s", index, key)
                return None
            limit = part.n_notes if part.has_header else MAX_NOTES
            if part.notes_held + len(flat) // FIELDS_PER_NOTE > limit:
                if part.has_header:
                    raise QbdiError(f"the chunks hold more notes than the {limit} the header announced")
                raise QbdiError(f"the query has more than {MAX_NOTES} notes", code="too_large")
            part.chunks.add(index, flat)
            part.touched = self.clock()     # progress: only a new chunk (or the header) extends its life
        except QbdiError:
            self.drop(key)
            raise
        return self._finish_if_complete(part)

    def expire(self) -> list[Partial]:
        """Drop and return the requests that made no progress for ``ttl`` seconds, or reached
        their ``deadline``."""
        now = self.clock()
        gone = [p for p in self.pending.values() if now - p.touched >= self.ttl or now - p.created >= self.deadline]
        for part in gone:
            self.drop(part.key)
        while self._finished and now - next(iter(self._finished.values())) >= self.ttl:
            self._finished.popitem(last=False)
        return gone

    def drop(self, key: Hashable) -> None:
        """Forget a pending request and ignore its stray datagrams for ``ttl`` seconds."""
        if self.pending.pop(key, None) is not None:
            sender, host = _sender(key), _host(key)
            keys = self._by_sender[sender]
            del keys[key]
            if not keys:
                del self._by_sender[sender]
            self._hosts[host] -= 1
            if not self._hosts[host]:
                del self._hosts[host]
        self._finished[key] = self.clock()
        self._finished.move_to_end(key)
        while len(self._finished) > MAX_REMEMBERED:
            self._finished.popitem(last=False)

    def _get(self, key: Hashable, request_id: int, reply_port: int) -> Partial:
        part = self.pending.get(key)
        if part is None:
            sender = _sender(key)
            if len(self._by_sender.get(sender, ())) >= self.max_per_sender:
                self.drop(key)
                raise QbdiError(f"this client has {self.max_per_sender} incomplete requests already; "
                                "send the missing chunks or wait for them to expire", code="busy")
            if len(self.pending) >= self.max_pending:
                self._make_room(key)
            now = self.clock()
            part = self.pending[key] = Partial(key, request_id, reply_port, now, now)
            self._by_sender.setdefault(sender, {})[key] = None
            self._hosts[_host(key)] += 1
        return part

    def _make_room(self, key: Hashable) -> None:
        """Free a slot for the newcomer ``key``. If another host holds more requests than the
        newcomer's host (or as many once it is in), that host gives one up; else, if another sender
        on the newcomer's host does, that sender; in either case the oldest request of the heaviest
        such sender. Refused (``busy``) when the newcomer's sender would be the heaviest: it has
        its share already. O(senders held), at most ``max_pending``."""
        host, sender = _host(key), _sender(key)
        top = max(self._hosts.values())
        if self._hosts.get(host, 0) < top:          # another host is heavier, or as heavy with this one in
            heavy = {h for h, n in self._hosts.items() if n == top}
            load = {s: len(keys) for s, keys in self._by_sender.items() if _host(s) in heavy}
            candidates = list(load)
        else:
            load = {s: len(keys) for s, keys in self._by_sender.items() if _host(s) == host}
            top = max(load.values())
            candidates = [s for s, n in load.items() if n == top and s != sender]
            if not candidates or load.get(sender, 0) >= top:
                self.drop(key)
                raise QbdiError(f"the server holds {self.max_pending} incomplete requests already; "
                                "try again in a moment", code="busy")
        most = max(load[s] for s in candidates)
        oldest = [next(iter(self._by_sender[s])) for s in candidates if load[s] == most]
        victim = self.pending[min(oldest, key=lambda k: self.pending[k].created)]
        self.drop(victim.key)
        self.evicted += 1
        log.debug("request %s lost its slot to %s (the server is full)", victim.key, key)
        if self.on_evict is not None:
            self.on_evict(victim)

    @staticmethod
    def _check_n_chunks(part: Partial, n_chunks: int, n_notes: int | None) -> None:
        if not 0 <= n_chunks <= MAX_CHUNKS:
            raise QbdiError(f"{n_chunks} chunks announced; a request may have 0 to {MAX_CHUNKS}",
                            code="too_large" if n_chunks > 0 else "bad_request")
        if part.n_chunks is not None and n_chunks != part.n_chunks:
            raise QbdiError(f"the request's messages disagree on the number of chunks ({part.n_chunks} "
                            f"and {n_chunks})")
        if n_notes is not None and (n_chunks > max(1, n_notes) or (n_notes > 0 and n_chunks == 0)):
            raise QbdiError(f"{n_notes} notes cannot travel in {n_chunks} chunks")
        if part.chunks.last >= n_chunks:
            raise QbdiError(f"chunk {part.chunks.last} arrived but only {n_chunks} were announced")
        part.chunks.n_chunks = n_chunks

    def _finish_if_complete(self, part: Partial) -> Partial | None:
        if not part.complete:
            return None
        self.drop(part.key)
        if part.notes_held != part.n_notes:
            raise QbdiError(f"the header announced {part.n_notes} notes but the chunks hold {part.notes_held}")
        return part


def _sender(key: Hashable) -> Hashable:
    """The sender of a ``(host, sender port, ...)`` key: one socket, one device."""
    return key[:2] if isinstance(key, tuple) else key


def _host(key: Hashable) -> Hashable:
    return key[0] if isinstance(key, tuple) else key
