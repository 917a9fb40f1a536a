# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Play-along sessions in the server: /qbdi/stream/* (protocol: bridge.protocol, docs/PROTOCOL.md).

A session is one :class:`bridge.stream.StreamImproviser`, keyed by (sender host, reply port,
session id). The receive thread checks each message, assembles a bar's chunks and admits bars
in increasing order only: a bar not later than the last one admitted (late, or a duplicate) is
dropped without an answer, a newer bar abandons an older one still missing chunks, and a gap in
the numbers is fine. Admitted work goes, in order, to one **stream thread** of its own, so a
one-bar answer never waits behind a long improvisation in the worker pool's queue.

Bounded: MAX_STREAMS sessions, MAX_STREAMS_PER_HOST from one host, MAX_STREAMS_PER_SENDER from
one host and reply port (a further open replaces that sender's least recently used session:
the same device, restarted); MAX_QUEUED_BARS bars queued, MAX_QUEUED_PER_STREAM from one
session (beyond: ``busy``); a session untouched for STREAM_TTL_S is dropped.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from .. import protocol as P
from ..config import Settings, StreamSettings
from ..errors import QbdiError
from ..pianoroll import Note
from ..stream import NextBar, StreamImproviser
from .outbox import Outbox, send_chunks
from .peers import Peer
from .workers import ModelCache

log = logging.getLogger(__name__)

POLL_S = 0.1     # how often an idle stream thread checks that the server still runs


@dataclass
class Session:
    """One stream as the server holds it."""

    key: Hashable                          # (host, reply port, session id)
    session_id: int
    dest: tuple[str, int]
    settings: Settings
    stream: StreamSettings
    touched: float
    engine: StreamImproviser | None = None   # made by the stream thread (it may load a model)
    last_bar: int = -1                     # the last bar admitted
    partial: tuple[int, int, P.Chunks] | None = None   # bar, n_notes, its chunks so far
    queued: int = 0
    answered: int = 0
    closed: bool = False


@dataclass
class _Work:
    kind: str                              # "open", "set" or "bar"
    session: Session
    bar: int = -1
    notes: list[Note] = field(default_factory=list)
    settings: Settings | None = None
    stream: StreamSettings | None = None


class Sessions:
    """The stream sessions of one server; handlers run in the receive thread, answers go out through
    ``outbox``, models come from ``models``. ``inline``: run the work in the receive thread (a server
    with no workers); else the stream thread runs it until ``stopping()``."""

    def __init__(self, outbox: Outbox, models: ModelCache, inline: bool = False,
                 stopping: Callable[[], bool] = lambda: False, ttl: float = P.STREAM_TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.outbox, self.models = outbox, models
        self.inline, self.stopping = inline, stopping
        self.ttl = ttl
        self.clock = clock
        self.table: dict[Hashable, Session] = {}
        self._lock = threading.Lock()            # the table, against the stream thread's lookups
        self._work: queue.Queue[_Work] = queue.Queue(maxsize=P.MAX_QUEUED_BARS)
        self._thread: threading.Thread | None = None

    def handlers(self) -> dict[str, Callable[[int, tuple[str, int], list, Peer], None]]:
        """Address -> handler, for :class:`bridge.serve.admission.Admission`."""
        return {P.STREAM_OPEN: self.on_open, P.STREAM_SET: self.on_set, P.STREAM_BAR: self.on_bar,
                P.STREAM_CLOSE: self.on_close}

    def __len__(self) -> int:
        return len(self.table)

    @property
    def queued(self) -> int:
        return self._work.qsize()

    # --- the messages -------------------------------------------------------------------------
    def on_open(self, session_id: int, dest: tuple[str, int], args: list, peer: Peer) -> None:
        host = peer.host
        settings, stream = _settings(P.parse_header(P.STREAM_OPEN, args).rest, Settings(), StreamSettings())
        key = (host, dest[1], session_id)
        with self._lock:
            old = self.table.pop(key, None)
            if old is not None:
                old.closed = True
            self._make_room(host, dest)
            session = self.table[key] = Session(key, session_id, dest, settings, stream, self.clock())
        log.info("stream %d for %s:%d %s: %s", session_id, host, dest[1], "restarted" if old else "opened",
                 " ".join(map(str, P.stream_settings_args(settings.to_dict(), stream.to_dict()))))
        self._submit(_Work("open", session, settings=settings, stream=stream))

    def on_set(self, session_id: int, dest: tuple[str, int], args: list, peer: Peer) -> None:
        host = peer.host
        session = self._session(host, dest, session_id)
        rest = P.parse_header(P.STREAM_SET, args).rest
        session.settings, session.stream = _settings(rest, session.settings, session.stream)
        self._submit(_Work("set", session, settings=session.settings, stream=session.stream))

    def on_bar(self, session_id: int, dest: tuple[str, int], args: list, peer: Peer) -> None:
        host = peer.host
        header = P.parse_header(P.STREAM_BAR, args)
        bar, n_notes, chunk, n_chunks = header.bar, header.n_notes, header.chunk, header.n_chunks
        if not 0 <= bar <= P.INT32_MAX:
            raise QbdiError(f"the bar index must be from 0 to {P.INT32_MAX}, got {bar}")
        if not 0 <= n_notes <= P.MAX_BAR_NOTES:
            raise QbdiError(f"a bar may carry 0 to {P.MAX_BAR_NOTES} notes; got {n_notes}",
                            code="too_large" if n_notes > 0 else "bad_request")
        if not (P.n_chunks(n_notes) <= n_chunks <= P.MAX_BAR_CHUNKS and 0 <= chunk < n_chunks):
            raise QbdiError(f"chunk {chunk} of {n_chunks} cannot carry a bar of {n_notes} notes "
                            f"(at most {P.NOTES_PER_CHUNK} notes per chunk)")
        flat = P.notes_array(header.rest, chunk, min_start=P.MIN_NOTE_START)
        session = self._session(host, dest, session_id)
        if bar <= session.last_bar:
            log.debug("stream %d: bar %d is late or a duplicate (last admitted %d); skipped",
                      session_id, bar, session.last_bar)
            return
        if session.partial is not None and session.partial[0] > bar:
            return                                  # a chunk of a bar already abandoned for a newer one
        if session.partial is None or session.partial[0] != bar:
            session.partial = (bar, n_notes, P.Chunks(n_chunks))
        _, expected, chunks = session.partial
        if (n_notes, n_chunks) != (expected, chunks.n_chunks):
            session.partial = None
            raise QbdiError(f"the chunks of bar {bar} disagree on its size ({expected} notes in {chunks.n_chunks} "
                            f"chunks, then {n_notes} in {n_chunks})")
        chunks.add(chunk, flat)
        if not chunks.complete:
            return
        session.partial = None
        if chunks.values != P.FIELDS_PER_NOTE * expected:
            raise QbdiError(f"bar {bar} announced {expected} notes but its chunks hold {chunks.notes_held}")
        session.last_bar = bar
        self._submit(_Work("bar", session, bar=bar, notes=chunks.notes()))

    def on_close(self, session_id: int, dest: tuple[str, int], args: list, peer: Peer) -> None:
        host = peer.host
        with self._lock:
            session = self.table.pop((host, dest[1], session_id), None)
        if session is not None:
            session.closed = True
            log.info("stream %d for %s:%d closed after %d bars", session_id, host, dest[1], session.answered)
        self.outbox.reply(dest, P.STREAM_CLOSED, [session_id, session.answered if session else 0])

    def expire(self) -> None:
        """Drop the sessions that got nothing for ``ttl`` seconds (their device went away)."""
        now = self.clock()
        with self._lock:
            gone = [s for s in self.table.values() if now - s.touched >= self.ttl]
            for session in gone:
                del self.table[session.key]
                session.closed = True
        for session in gone:
            log.info("stream %d for %s:%d dropped after %g s without a message", session.session_id,
                     session.dest[0], session.dest[1], self.ttl)

    # --- plumbing -----------------------------------------------------------------------------
    def _session(self, host: str, dest: tuple[str, int], session_id: int) -> Session:
        session = self.table.get((host, dest[1], session_id))
        if session is None:
            raise QbdiError(f"stream {session_id} is not open here (never opened, closed, or dropped after "
                            f"{self.ttl:g} s without a bar, or the server restarted); open it again",
                            code="unknown_stream")
        session.touched = self.clock()
        return session

    def _make_room(self, host: str, dest: tuple[str, int]) -> None:
        """Caps for a new session (the table lock held): busy, or the sender's oldest one goes."""
        mine = [s for s in self.table.values() if s.key[:2] == (host, dest[1])]
        if len(mine) >= P.MAX_STREAMS_PER_SENDER:
            oldest = min(mine, key=lambda s: s.touched)
            del self.table[oldest.key]
            oldest.closed = True
            self.outbox.reply(oldest.dest, P.STREAM_CLOSED, [oldest.session_id, oldest.answered], False)
        elif len(self.table) >= P.MAX_STREAMS:
            raise QbdiError(f"the server holds {P.MAX_STREAMS} streams already; close one or try again later",
                            code="busy")
        elif sum(1 for s in self.table.values() if s.key[0] == host) >= P.MAX_STREAMS_PER_HOST:
            raise QbdiError(f"{host} holds {P.MAX_STREAMS_PER_HOST} streams already; close one first", code="busy")

    def _submit(self, work: _Work) -> None:
        session = work.session
        if self.inline:      # --workers 0: everything in the receive thread
            self._run(work)
            return
        with self._lock:
            if work.kind == "bar" and session.queued >= P.MAX_QUEUED_PER_STREAM:
                raise QbdiError(f"stream {session.session_id} has {P.MAX_QUEUED_PER_STREAM} bars waiting already; "
                                f"bar {work.bar} is dropped", code="busy")
            try:
                self._work.put_nowait(work)
            except queue.Full:
                raise QbdiError(f"{P.MAX_QUEUED_BARS} stream bars are waiting already; bar {work.bar} is dropped",
                                code="busy") from None
            session.queued += 1
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._serve, name="qbdi-stream", daemon=True)
            self._thread.start()

    def _serve(self) -> None:
        """The stream thread: runs the admitted work in order until the server stops."""
        while not self.stopping():
            try:
                work = self._work.get(timeout=POLL_S)
            except queue.Empty:
                continue
            with self._lock:
                work.session.queued -= 1
            self._run(work)

    def _run(self, work: _Work) -> None:
        session = work.session
        if session.closed:
            return
        try:
            if work.kind == "open" or (work.kind == "set" and self._restarts(session, work.settings)):
                model = self.models.get(work.settings.model)
                session.engine = StreamImproviser(model, work.settings, work.stream)
                self._opened(session)
            elif work.kind == "set":
                if session.engine is not None:
                    session.engine.retune(work.settings, work.stream)
                    self._opened(session)
            elif session.engine is not None:
                started = time.perf_counter()
                answer = session.engine.play(work.bar, work.notes)
                if answer is not None:
                    self._send(session, answer)
                    log.debug("stream %d bar %d -> bar %d: %d -> %d notes, %.2f ms", session.session_id, work.bar,
                              answer.bar, len(work.notes), len(answer.notes), 1000 * (time.perf_counter() - started))
        except QbdiError as exc:
            if work.kind == "open":
                self._drop(session)
            self.outbox.error(session.dest, session.session_id, exc.code, str(exc))
        except Exception as exc:  # a bug: report it, keep serving
            log.exception("stream %d: %s failed", session.session_id, work.kind)
            self.outbox.error(session.dest, session.session_id, "internal",
                              f"internal error: {type(exc).__name__}: {exc}")

    def _restarts(self, session: Session, settings: Settings) -> bool:
        engine = session.engine
        return engine is None or (settings.model or engine.model.name) != engine.model.name or (
            float(settings.beats_per_bar or 4.0) != engine.beats_per_bar)

    def _drop(self, session: Session) -> None:
        with self._lock:
            if self.table.get(session.key) is session:
                del self.table[session.key]
        session.closed = True

    def _opened(self, session: Session) -> None:
        engine = session.engine
        args = P.stream_settings_args(engine.settings.to_dict(), engine.stream.to_dict())
        self.outbox.reply(session.dest, P.STREAM_OPENED, [session.session_id, engine.model.name, *args])

    def _send(self, session: Session, answer: NextBar) -> None:
        if len(answer.notes) > P.MAX_BAR_NOTES:
            raise QbdiError(f"the answer to bar {answer.played} has {len(answer.notes)} notes; the limit is "
                            f"{P.MAX_BAR_NOTES} (raise the threshold or lower the temperature)", code="too_large")
        session.answered += 1
        for warning in answer.warnings:
            self.outbox.reply(session.dest, P.WARNING, [session.session_id, P.clip_text(warning)], False)
        send_chunks(lambda args, first: self.outbox.reply(session.dest, P.STREAM_NEXT, args, first),
                    [session.session_id, answer.bar, len(answer.notes)], P.flatten_notes(answer.notes))


def _settings(args: list, settings: Settings, stream: StreamSettings) -> tuple[Settings, StreamSettings]:
    """A message's key value pairs applied over ``settings`` and ``stream``; bad values: ``bad_request``."""
    engine, own = P.parse_stream_settings(args)
    return Settings.from_dict({**settings.to_dict(), **engine}), StreamSettings.from_dict({**stream.to_dict(), **own})

