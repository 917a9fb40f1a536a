# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""A Python client for ``qbdi serve``: the same OSC protocol the Max device speaks (bridge.protocol).

Example (with ``qbdi serve`` running)::

    from bridge.client import Client
    from bridge.pianoroll import Note

    query = [Note(60, 0.0, 4.0, 80), Note(64, 0.0, 4.0, 80), Note(67, 0.0, 4.0, 80)]
    with Client() as client:                       # 127.0.0.1:7400, replies on a free port
        print(client.ping())                       # Pong(server_version='0.1.0', protocol_version=1, ...)
        result = client.improvise(query, {"rate": 256, "seed": 7}, beats_per_bar=4)
        print(result.model, result.settings.rate, len(result.notes), f"{result.round_trip_s * 1000:.1f} ms")

A failed request raises :class:`ServerError` with the server's ``code`` and message; no reply in
time raises :class:`NoReply`. One :class:`Client` sends one request at a time: calls from several
threads are serialised by a lock, so for parallel requests give each thread its own Client.

A server on another machine answers only after a handshake (docs/PROTOCOL.md): the client then
pings first (padded), keeps the cookie from the pong, ends every request with it, renews it every
COOKIE_PERIOD_S, and if the server still refuses it (``cookie``), pings and retries once. On the
loopback none of this happens.

Playing along, bar by bar: :class:`bridge.stream_client.Stream`, built on this client::

    from bridge.stream_client import Stream

    with Stream({"rate": 256, "seed": 7}, mode="echo", beats_per_bar=4) as stream:
        answer = stream.bar(0, query)              # the notes to play during bar 1
        stream.send_bar(1, query)                  # or: send now, collect with poll() later
        for answer in stream.poll(timeout=0.1):
            print(answer.bar, len(answer.notes))
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import protocol as P
from .config import INT32_MAX, Settings
from .errors import QbdiError
from .osc import OscError, decode, encode, shortest_float32
from .pianoroll import Note

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 5.0
SOCKET_BUFFER = 4 << 20


class ServerError(QbdiError):
    """The server answered ``/qbdi/error``: ``code`` is one of protocol.ERROR_CODES."""

    def __init__(self, message: str, code: str, request_id: int) -> None:
        super().__init__(message, code=code)
        self.request_id = request_id


class NoReply(QbdiError):
    """No (complete) reply within the timeout: the server is not running, or replies were lost."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="timeout")


@dataclass
class Pong:
    server_version: str
    protocol_version: int
    round_trip_s: float


@dataclass
class Status:
    ready: bool
    model: str
    n_models: int
    uptime_s: float
    served: int
    pending: int


@dataclass
class ModelInfo:
    name: str
    latent_size: int
    max_rate: int


@dataclass
class ModelList:
    default: str
    models: list[ModelInfo]


@dataclass
class Result:
    """An improvisation as the server sent it; ``settings`` are the effective ones it used."""

    request_id: int
    notes: list[Note]
    model: str
    settings: Settings
    raw_settings: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    round_trip_s: float = 0.0
    measures: dict[str, float] = field(default_factory=dict)   # P.RESULT_MEASURES the server sent: retained, copy


@dataclass
class Morphed:
    """A morph as the server sent it: ``clips[k]`` is step k+1's notes (beats from its start), each
    ``step_beats`` long; ``settings`` are the effective ones (``length_beats`` = ``step_beats``)."""

    request_id: int
    clips: list[list[Note]]
    step_beats: float
    model: str
    settings: Settings
    warnings: list[str] = field(default_factory=list)
    round_trip_s: float = 0.0


class Client:
    """Talks to one server over UDP; binds its own reply socket (``reply_port=0``: any free port)."""

    def __init__(self, host: str = P.DEFAULT_HOST, port: int = P.DEFAULT_PORT, reply_port: int = 0,
                 timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.server = (host, int(port))
        self.timeout = float(timeout)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        wildcard = "::" if family == socket.AF_INET6 else "0.0.0.0"
        local = host if host in ("127.0.0.1", "::1", "localhost") else wildcard
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self.sock.bind((local, int(reply_port)))
        except OSError as exc:
            self.sock.close()
            raise QbdiError(f"cannot receive replies on port {reply_port} ({exc.strerror or exc}); "
                            "choose another reply port (0 picks a free one)") from None
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
        except OSError:
            pass
        self.reply_port = self.sock.getsockname()[1]
        self._next_id = random.randrange(1, 2**30)
        self._lock = threading.Lock()
        self.remote = not _is_loopback_name(host, family)    # the server needs the handshake
        self._cookie: str | None = None
        self._cookie_at = 0.0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- requests ------------------------------------------------------------------------------
    def ping(self) -> Pong:
        """Server and protocol versions, and the round trip (and, from a server on another
        machine, a fresh cookie)."""
        with self._lock:
            started = time.perf_counter()
            pong = P.parse_header(P.PONG, self.handshake())
            return Pong(pong.server_version, pong.protocol_version, time.perf_counter() - started)

    def status(self) -> Status:
        reply = P.parse_header(P.STATUS_REPLY, self._call(P.STATUS, [], P.STATUS_REPLY))
        return Status(bool(reply.ready), reply.model, reply.n_models, reply.uptime_s, reply.served, reply.pending)

    def models(self) -> ModelList:
        reply = P.parse_header(P.MODELS_REPLY, self._call(P.MODELS, [], P.MODELS_REPLY))
        entries = reply.rest
        models = [ModelInfo(str(name), int(latent), int(rate))
                  for name, latent, rate in zip(entries[0::3], entries[1::3], entries[2::3])][:reply.n]
        return ModelList(reply.default, models)

    def quit(self) -> None:
        """Ask the server to stop; returns once it said goodbye."""
        self._call(P.QUIT, [], P.BYE)

    def improvise(self, notes: Iterable[Note], settings: Settings | Mapping[str, Any] | None = None, *,
                  beats_per_bar: float | None = None) -> Result:
        """Improvise on ``notes`` (beats); ``settings`` a Settings or a dict of its fields.

        ``beats_per_bar`` overrides ``settings.beats_per_bar`` (default 4). The improvisation
        covers the query up to the end of its last note, rounded up to whole bars.
        """
        settings = as_settings(settings, beats_per_bar)
        flat = P.flatten_notes(notes)
        chunks = P.chunk_args(flat)
        n_notes = len(flat) // P.FIELDS_PER_NOTE
        if n_notes > P.MAX_NOTES:
            raise QbdiError(f"the query has {n_notes} notes; the limit is {P.MAX_NOTES}", code="too_large")
        def messages(request_id: int) -> list[tuple[str, list]]:
            head = [(P.IMPROVISE, [request_id, self.reply_port, n_notes, len(chunks),
                                   *P.settings_args(settings.to_dict())])]
            return head + [(P.NOTES, [request_id, self.reply_port, i, len(chunks), *chunk])
                           for i, chunk in enumerate(chunks)]

        with self._lock:
            return self._with_cookie(lambda: self._exchange_result(messages))

    def interpolate(self, clip_a: Iterable[Note], clip_b: Iterable[Note], steps: int,
                    settings: Settings | Mapping[str, Any] | None = None, *, beats_per_bar: float | None = None,
                    length_a: float | None = None, length_b: float | None = None) -> Morphed:
        """Morph from ``clip_a`` to ``clip_b`` in ``steps`` clips (both ends included; 2 to 16).

        Both clips share ``beats_per_bar`` (default ``settings.beats_per_bar``, then 4); ``length_a``
        and ``length_b`` are their lengths in beats (default: to the end of the last note). The
        shorter clip loops to the longer's length, so every step has the longer clip's bars.
        """
        settings = as_settings(settings, beats_per_bar)
        if isinstance(steps, bool) or not isinstance(steps, int) or not (
                P.MIN_INTERPOLATE_STEPS <= steps <= P.MAX_INTERPOLATE_STEPS):
            raise QbdiError(f"steps must be a whole number from {P.MIN_INTERPOLATE_STEPS} to "
                            f"{P.MAX_INTERPOLATE_STEPS}, got {steps!r}")
        flat_a, flat_b = P.flatten_notes(clip_a), P.flatten_notes(clip_b)
        flat = flat_a + flat_b
        chunks = P.chunk_args(flat)
        n_notes = len(flat) // P.FIELDS_PER_NOTE
        if n_notes > P.MAX_NOTES:
            raise QbdiError(f"the clips have {n_notes} notes together; the limit is {P.MAX_NOTES}", code="too_large")
        lengths = [0.0 if x is None else float(x) for x in (length_a, length_b)]

        def messages(request_id: int) -> list[tuple[str, list]]:
            head = [(P.INTERPOLATE, [request_id, self.reply_port, n_notes, len(chunks), steps,
                                     len(flat_a) // P.FIELDS_PER_NOTE, *lengths,
                                     *P.settings_args(settings.to_dict())])]
            return head + [(P.NOTES, [request_id, self.reply_port, i, len(chunks), *chunk])
                           for i, chunk in enumerate(chunks)]

        with self._lock:
            result = self._with_cookie(lambda: self._exchange_result(messages))
        step_beats = float(result.raw_settings.get("length_beats") or 0.0)
        if not step_beats > 0:
            raise QbdiError("the morph's reply did not say how long a step is (length_beats)", code="bad_reply")
        clips = [[Note(*n) for n in part] for part in
                 P.split_steps([(n.pitch, n.start, n.duration, n.velocity) for n in result.notes], steps, step_beats)]
        return Morphed(result.request_id, clips, step_beats, result.model, result.settings, result.warnings,
                       result.round_trip_s)

    def free(self, settings: Settings | Mapping[str, Any] | None = None, *, bars: int | None = None,
             beats_per_bar: float | None = None) -> Result:
        """Free improvisation: ``bars`` bars (default ``settings.bars``) from the model's prior."""
        settings = as_settings(settings, beats_per_bar)
        if bars is not None:
            settings = settings.replace(bars=int(bars))
        def messages(request_id: int) -> list[tuple[str, list]]:
            return [(P.FREE, [request_id, self.reply_port, *P.settings_args(settings.to_dict())])]

        with self._lock:
            return self._with_cookie(lambda: self._exchange_result(messages))

    # --- the pieces a session builds on (bridge.stream_client) -----------------------------------
    def new_id(self) -> int:
        """A fresh request (or session) id: ids start at random and count up, wrapping below INT32_MAX."""
        request_id = self._next_id
        self._next_id = request_id + 1 if request_id < INT32_MAX - 1 else 1
        return request_id

    def send(self, address: str, args: list) -> None:
        """Send one message to the server, ending with the cookie when the handshake gave one."""
        if self._cookie is not None:
            args = [*args, P.COOKIE_KEY, self._cookie]
        self.sock.sendto(encode(address, args), self.server)

    def handshake(self) -> list:
        """Ping (padded, for a server on another machine) and keep the pong's cookie, if any; the
        pong's arguments."""
        args = self._call_unlocked(P.PING, [P.padded_ping(0, 0)[2]] if self.remote else [], P.PONG)
        self.keep_cookie(args)
        return args

    def keep_cookie(self, pong: list) -> bool:
        """Keep the cookie a pong's arguments carry (a server on another machine sends one)."""
        if self.remote and len(pong) > 3 and isinstance(pong[3], str):
            self._cookie, self._cookie_at = pong[3], time.monotonic()
            return True
        return False

    def cookie_age(self) -> float:
        """Seconds since the cookie was issued (infinite without one)."""
        return float("inf") if self._cookie is None else time.monotonic() - self._cookie_at

    def ensure_cookie(self) -> None:
        """For a server on another machine: a handshake unless the cookie is fresh."""
        if self.remote and self.cookie_age() >= P.COOKIE_PERIOD_S:
            self.handshake()

    # --- plumbing --------------------------------------------------------------------------------
    def _with_cookie(self, call: Callable[[], Any]) -> Any:
        """Run ``call()`` (a request); for a server on another machine, with a fresh cookie, and once
        more after a new handshake if the server refused the cookie."""
        self.ensure_cookie()
        try:
            return call()
        except ServerError as exc:
            if exc.code != "cookie":
                raise
            log.debug("the server refused the cookie: %s; a new handshake, then once more", exc)
            self._cookie = None
            self.handshake()
            return call()

    def _receive(self, request_id: int, deadline: float) -> tuple[str, list]:
        """The next reply for ``request_id``; others (late replies to timed-out requests) are skipped."""
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise NoReply(f"no reply from {self.server[0]}:{self.server[1]} within {self.timeout:g} s; "
                              "is qbdi serve running on that port?")
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65536)
            except TimeoutError:
                continue
            except ConnectionError:   # Windows reports a closed server port on the next receive
                continue
            try:
                address, args = decode(data)
            except OscError as exc:
                log.warning("ignoring an unreadable reply: %s", exc)
                continue
            if args and args[0] == request_id:
                if address == P.ERROR:
                    code = str(args[1]) if len(args) > 1 else "internal"
                    raise ServerError(str(args[2]) if len(args) > 2 else code, code, request_id)
                return address, args
            if address == P.ERROR and args and args[0] == -1:
                raise ServerError(str(args[2]) if len(args) > 2 else "bad request", str(args[1]), -1)
            log.debug("skipping %s for request %s (waiting for %d)", address, args[:1], request_id)

    def _call(self, address: str, extra: list, expect: str) -> list:
        with self._lock:
            return self._with_cookie(lambda: self._call_unlocked(address, extra, expect))

    def _call_unlocked(self, address: str, extra: list, expect: str) -> list:
        request_id = self.new_id()
        self.send(address, [request_id, self.reply_port, *extra])
        deadline = time.perf_counter() + self.timeout
        while True:
            got, args = self._receive(request_id, deadline)
            if got == expect:
                return args
            log.debug("skipping %s while waiting for %s", got, expect)

    def _exchange_result(self, make_messages: Callable[[int], list[tuple[str, list]]]) -> Result:
        """Send the messages ``make_messages(request_id)`` of a new request; collect its result."""
        request_id = self.new_id()
        started = time.perf_counter()
        for address, args in make_messages(request_id):
            self.send(address, args)
        deadline = started + self.timeout
        warnings: list[str] = []
        header = None
        chunks = P.Chunks()
        while header is None or not chunks.complete:
            address, args = self._receive(request_id, deadline)
            deadline = time.perf_counter() + self.timeout     # a long reply keeps the request alive
            if address == P.WARNING:
                warnings.append(str(args[1]))
            elif address == P.RESULT:
                header = P.parse_header(P.RESULT, args)
                chunks.n_chunks = header.n_chunks
            elif address == P.RESULT_NOTES:
                part = P.parse_header(P.RESULT_NOTES, args)
                chunks.add(part.chunk, part.rest)
        notes = chunks.notes()
        if len(notes) != header.n_notes:
            raise QbdiError(f"the reply announced {header.n_notes} notes but held {len(notes)}", code="bad_reply")
        pairs, measures = P.split_measures(header.rest)
        raw = {str(k): (shortest_float32(v) if isinstance(v, float) else v)
               for k, v in zip(pairs[0::2], pairs[1::2])}
        try:
            effective = Settings.from_dict(raw)
        except QbdiError:   # a newer server may echo settings this client does not know
            effective = Settings(model=header.model)
        return Result(request_id, notes, header.model, effective, raw, warnings, time.perf_counter() - started,
                      measures)


def _is_loopback_name(host: str, family: int) -> bool:
    """Whether ``host`` (an address or a name) reaches this machine's loopback."""
    if P.is_loopback(host):
        return True
    try:
        return all(P.is_loopback(info[4][0]) for info in socket.getaddrinfo(host, None, family, socket.SOCK_DGRAM))
    except (OSError, UnicodeError):
        return False


def as_settings(settings: Settings | Mapping[str, Any] | None, beats_per_bar: float | None = None) -> Settings:
    """``settings`` (a Settings, a dict of its fields, or None for the defaults) as a Settings, with
    ``beats_per_bar`` if given: what every request of the clients starts from."""
    if settings is None:
        settings = Settings()
    elif not isinstance(settings, Settings):
        settings = Settings.from_dict(settings)
    if beats_per_bar is not None:
        settings = settings.replace(beats_per_bar=float(beats_per_bar))
    return settings

