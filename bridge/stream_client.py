# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Playing along through a running ``qbdi serve``: a stream session, bar by bar (docs/PROTOCOL.md,
"Playing along"; the server side is bridge.serve.sessions, the engine bridge.stream).

Example (with ``qbdi serve`` running)::

    from bridge.stream_client import Stream

    with Stream({"rate": 256, "seed": 7}, mode="echo", beats_per_bar=4) as stream:
        answer = stream.bar(0, notes)              # wait: the notes to play during bar 1
        stream.send_bar(1, notes)                  # or send now and collect later
        for answer in stream.poll(timeout=0.1):
            print(answer.bar, len(answer.notes), answer.round_trip_s)
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import protocol as P
from .client import DEFAULT_TIMEOUT_S, Client, NoReply, ServerError, as_settings
from .config import Settings, StreamSettings
from .errors import QbdiError
from .osc import OscError, decode, shortest_float32
from .pianoroll import Note


@dataclass
class Answer:
    """A stream's notes for bar ``bar``, in beats from that bar's start (a negative start
    continues a note of the previous answer); ``round_trip_s`` from sending the bar it answers."""

    bar: int
    notes: list[Note]
    round_trip_s: float | None = None


class Stream:
    """A play-along session on a running ``qbdi serve`` (docs/PROTOCOL.md, "Playing along").

    ``settings`` a Settings or a dict of its fields; ``mode`` echo or ahead; ``window`` bars of
    channel statistics. Opening waits for the server's ``/qbdi/stream/opened`` (``effective``
    holds what it echoed). Answers to bars sent with :meth:`send_bar` arrive in :meth:`poll`;
    asynchronous errors and warnings collect in :attr:`errors` and :attr:`warnings`.
    """

    MAX_PENDING_BARS = 8      # answers being reassembled, and bar send times remembered

    def __init__(self, settings: Settings | Mapping[str, Any] | None = None, *, mode: str = "echo",
                 window: int | None = None, beats_per_bar: float | None = None, host: str = P.DEFAULT_HOST,
                 port: int = P.DEFAULT_PORT, reply_port: int = 0, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.settings = as_settings(settings, beats_per_bar)
        self.stream = StreamSettings(mode=mode, **({} if window is None else {"window": int(window)}))
        self.client = Client(host, port, reply_port, timeout)
        self.session_id = self.client.new_id()
        self.effective: dict[str, Any] = {}
        self.errors: list[ServerError] = []
        self.warnings: list[str] = []
        self._sent: dict[int, float] = {}
        self._parts: dict[int, tuple[int, P.Chunks]] = {}   # bar -> (n_notes, its chunks so far)
        self._ready: list[Answer] = []
        self._renew_at = -float("inf")
        try:
            self.open()
        except BaseException:
            self.client.close()
            raise

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _args(self, settings: Settings, stream: Any) -> list:
        return [self.session_id, self.client.reply_port, *P.stream_settings_args(settings.to_dict(), stream.to_dict())]

    def open(self) -> dict[str, Any]:
        """(Re)start the session with the current settings; returns the effective settings."""
        self._sent.clear()
        self._parts.clear()
        self._ready.clear()
        return self._configure(P.STREAM_OPEN, self._args(self.settings, self.stream))

    def set(self, settings: Settings | Mapping[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
        """Change dials for the bars to come (keys of Settings, plus ``mode`` and ``window``); the
        history is kept unless the model or the meter changes. Returns the effective settings."""
        values = {**self.settings.to_dict(), **(dict(settings.to_dict()) if isinstance(settings, Settings)
                                               else dict(settings or {})), **changes}
        own = {k: values.pop(k) for k in P.STREAM_KEYS if k in values}
        self.settings = Settings.from_dict(values)
        self.stream = self.stream.replace(**own)
        return self._configure(P.STREAM_SET, self._args(self.settings, self.stream))

    def _configure(self, address: str, args: list) -> dict[str, Any]:
        self.client.ensure_cookie()          # a server on another machine: the handshake first
        self.client.send(address, args)
        deadline = time.perf_counter() + self.client.timeout
        while True:
            got, reply = self._wait(deadline)
            if got == P.STREAM_OPENED:
                opened = P.parse_header(P.STREAM_OPENED, reply)
                self.effective = {str(k): (shortest_float32(v) if isinstance(v, float) else v)
                                  for k, v in zip(opened.rest[0::2], opened.rest[1::2])}
                self.effective["model"] = opened.model
                return self.effective

    def send_bar(self, bar: int, notes: Iterable[Note]) -> None:
        """Send bar ``bar``'s notes (beats from its start; negative for notes held over) at once."""
        flat = P.flatten_notes(notes)
        n_notes = len(flat) // P.FIELDS_PER_NOTE
        if n_notes > P.MAX_BAR_NOTES:
            raise QbdiError(f"bar {bar} has {n_notes} notes; the limit is {P.MAX_BAR_NOTES}", code="too_large")
        chunks = P.chunk_args(flat)
        self._renew_cookie()
        self._sent[bar] = time.perf_counter()
        while len(self._sent) > self.MAX_PENDING_BARS:
            del self._sent[min(self._sent)]
        for index, chunk in enumerate(chunks):
            self.client.send(P.STREAM_BAR, [self.session_id, self.client.reply_port, int(bar), n_notes, index,
                                             len(chunks), *chunk])

    def _renew_cookie(self) -> None:
        """A server on another machine: halfway through the cookie's period, ask for a new one
        without waiting (its pong is read with the answers), so the stream never stops for it."""
        client = self.client
        if client.remote and min(client.cookie_age(), time.monotonic() - self._renew_at) >= P.COOKIE_PERIOD_S / 2:
            self._renew_at = time.monotonic()
            client.send(P.PING, P.padded_ping(client.new_id(), client.reply_port))

    def poll(self, timeout: float = 0.0) -> list[Answer]:
        """The answers complete by now, waiting up to ``timeout`` seconds while there are none;
        errors and warnings that came meanwhile go to :attr:`errors` and :attr:`warnings`."""
        deadline = time.perf_counter() + timeout
        while True:
            message = self._read(deadline if not self._ready else 0.0)
            if message is None:
                out, self._ready = self._ready, []
                return out
            if message[0] == P.ERROR:
                args = message[1]
                self.errors.append(ServerError(str(args[2]) if len(args) > 2 else "", str(args[1]), self.session_id))

    def bar(self, bar: int, notes: Iterable[Note], timeout: float | None = None) -> Answer:
        """Send a bar and wait for its answer (for bar ``bar + 1``); a server error raises."""
        self.send_bar(bar, notes)
        deadline = time.perf_counter() + (self.client.timeout if timeout is None else timeout)
        while True:
            for i, answer in enumerate(self._ready):
                if answer.bar == bar + 1:
                    del self._ready[i]
                    return answer
            self._wait(deadline)

    def close(self) -> None:
        """Close the session (no wait for the server's goodbye) and the socket."""
        try:
            self.client.send(P.STREAM_CLOSE, [self.session_id, self.client.reply_port])
        except OSError:
            pass
        self.client.close()

    def _wait(self, deadline: float) -> tuple[str, list]:
        """The next message by ``deadline`` (else :class:`NoReply`); an error raises :class:`ServerError`."""
        message = self._read(deadline)
        if message is None:
            raise NoReply(f"no answer from {self.client.server[0]}:{self.client.server[1]} within "
                          f"{self.client.timeout:g} s; is qbdi serve running on that port?")
        if message[0] == P.ERROR:
            args = message[1]
            raise ServerError(str(args[2]) if len(args) > 2 else "", str(args[1]), self.session_id)
        return message

    def _read(self, deadline: float) -> tuple[str, list] | None:
        """One message for this session by ``deadline`` (0: only what has come), None if none.
        Answer chunks are assembled into :attr:`_ready` and warnings collected on the way."""
        sock = self.client.sock
        while True:
            left = deadline - time.perf_counter() if deadline else 0.0
            sock.settimeout(left if left > 0 else 0.0)        # 0.0: do not block
            try:
                data, _ = sock.recvfrom(65536)
            except (BlockingIOError, TimeoutError):
                return None
            except ConnectionError:          # Windows reports a closed server port on the next receive
                continue
            try:
                address, args = decode(data)
            except OscError:
                continue
            if address == P.PONG and self.client.keep_cookie(args):
                continue
            if not args or args[0] != self.session_id:
                continue
            if address == P.WARNING:
                self.warnings.append(str(args[1]) if len(args) > 1 else "")
            elif address == P.STREAM_NEXT:
                answer = self._assemble(args)
                if answer is not None:
                    self._ready.append(answer)
            return address, args

    def _assemble(self, args: list) -> Answer | None:
        answer = P.parse_header(P.STREAM_NEXT, args)
        bar = answer.bar
        n_notes, chunks = self._parts.setdefault(bar, (answer.n_notes, P.Chunks(answer.n_chunks)))
        chunks.add(answer.chunk, answer.rest)
        if not chunks.complete:
            while len(self._parts) > self.MAX_PENDING_BARS:
                del self._parts[min(self._parts)]
            return None
        del self._parts[bar]
        notes = chunks.notes()
        if len(notes) != n_notes:
            raise QbdiError(f"the answer for bar {bar} announced {n_notes} notes but held {len(notes)}",
                            code="bad_reply")
        sent = self._sent.get(bar - 1)
        return Answer(bar, notes, None if sent is None else time.perf_counter() - sent)
