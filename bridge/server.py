# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``qbdi serve``: the OSC/UDP server the Max for Live device talks to (protocol: bridge.protocol).

One receive thread reads datagrams, answers the cheap requests (ping, status, models, quit) at
once, and puts improvisation requests back together from their chunks (bridge.reassembly).
Complete requests go to a small pool of worker threads through a bounded queue (full -> ``busy``);
the NumPy matrix products release the GIL, so workers overlap on several cores while the receive
thread stays free to answer pings. Replies go to the sender's host at the request's reply port,
never elsewhere, chunked like requests; every datagram is at most MAX_DATAGRAM bytes and carries
only int32, float32 and string arguments.

Nothing here imports torch: the model is NumPy weights from safetensors (bridge.vae). ``qbdi serve``
runs BLAS with one thread per worker (bridge.cli.cmd_serve sets OPENBLAS_NUM_THREADS=1 before NumPy
loads, unless the environment says otherwise): on a 2-core machine shared with a training job,
OpenBLAS's own threads spun against the other process and made improvisations up to 8 times slower.
"""

from __future__ import annotations

import errno
import logging
import queue
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import __version__
from . import protocol as P
from .config import Settings
from .errors import QbdiError
from .improvise import Improvisation, free_improvise, improvise
from .models import Model, installed_names, list_models, load_model
from .osc import OscError, decode, encode
from .pianoroll import Note
from .reassembly import Assembler, Partial

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_WORKERS = 2
POLL_S = 0.1                 # how often the receive loop checks for shutdown and expired requests
SOCKET_BUFFER = 4 << 20      # ask the OS for room for a burst of chunks from many clients
MAX_REPLY_TEXT = 1000        # bytes of an error or warning message sent back


@dataclass
class Job:
    """A complete improvisation request waiting for a worker."""

    kind: str                              # "improvise" or "free"
    request_id: int
    dest: tuple[str, int]
    settings: Settings
    notes: list[Note] = field(default_factory=list)
    received: float = field(default_factory=time.perf_counter)


class _Throttle:
    """Log a repeated complaint at most once per ``every`` seconds, with the count suppressed."""

    def __init__(self, every: float = 1.0) -> None:
        self.every = every
        self.last: dict[str, float] = {}
        self.suppressed: dict[str, int] = {}

    def warning(self, kind: str, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self.last.get(kind, -1e9) < self.every:
            self.suppressed[kind] = self.suppressed.get(kind, 0) + 1
            log.debug(message, *args)
            return
        skipped = self.suppressed.pop(kind, 0)
        self.last[kind] = now
        log.warning(message + (f" ({skipped} more like it not shown)" if skipped else ""), *args)


class Server:
    """The OSC server. ``start()`` binds, loads the default model and serves in a background
    thread (for tests and scripts); ``serve_forever()`` serves in the calling thread.

    ``model`` is a name or folder (default: ``QBDI_MODEL`` or pop); ``port=0`` picks a free port
    (read it back from :attr:`port`); ``workers=0`` improvises in the receive thread.
    """

    def __init__(self, host: str = P.DEFAULT_HOST, port: int = P.DEFAULT_PORT, model: str | None = None,
                 notify_port: int | None = None, workers: int = DEFAULT_WORKERS,
                 ttl: float = P.REQUEST_TTL_S) -> None:
        if not 0 <= int(port) <= 65535:
            raise QbdiError(f"port must be between 0 and 65535, got {port}")
        if notify_port is not None and not 1 <= int(notify_port) <= 65535:
            raise QbdiError(f"notify port must be between 1 and 65535, got {notify_port}")
        self.host, self.requested_port, self.model_name = host, int(port), model
        self.notify_port, self.workers = notify_port, max(0, int(workers))
        self.assembler = Assembler(ttl=ttl)
        self.sock: socket.socket | None = None
        self._own_port: int | None = None
        self._own_hosts: set[str] = set()
        self.default: Model | None = None
        self._models: dict[str, Model] = {}
        self._catalogue: list[tuple[str, int, int]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._jobs: queue.Queue[Job | None] = queue.Queue(maxsize=P.MAX_PENDING)
        self._threads: list[threading.Thread] = []
        self._running_jobs = 0
        self._served = 0
        self._started = time.monotonic()
        self._throttle = _Throttle()
        self._handlers: dict[str, Callable[[int, tuple[str, int], list, str], None]] = {
            P.PING: self._on_ping, P.STATUS: self._on_status, P.MODELS: self._on_models,
            P.IMPROVISE: self._on_improvise, P.NOTES: self._on_notes, P.FREE: self._on_free,
            P.QUIT: self._on_quit,
        }

    # --- lifecycle ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The bound UDP port (useful with ``port=0``)."""
        if self.sock is None:
            raise RuntimeError("the server is not bound yet")
        return self.sock.getsockname()[1]

    def bind(self) -> None:
        """Bind the UDP socket; a port in use raises :class:`QbdiError` naming the port and --port."""
        if self.host not in LOOPBACK_HOSTS:
            log.warning("binding %s: the server is reachable from other machines on this network, and anyone "
                        "who can reach it can use or quit it; use --host 127.0.0.1 unless you need that", self.host)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((self.host, self.requested_port))
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE or getattr(exc, "winerror", None) == 10048:
                raise QbdiError(f"UDP port {self.requested_port} is already in use (another qbdi serve?); choose "
                                f"another with --port, e.g. qbdi serve --port {self.requested_port + 10}") from None
            raise QbdiError(f"cannot listen on {self.host}:{self.requested_port} ({exc.strerror or exc}); "
                            "choose another --host or --port") from None
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            try:
                sock.setsockopt(socket.SOL_SOCKET, option, SOCKET_BUFFER)
            except OSError:  # the OS may cap it; the default still works for normal loads
                pass
        sock.settimeout(POLL_S)
        self.sock = sock
        self._own_port = sock.getsockname()[1]
        self._own_hosts = {sock.getsockname()[0], "127.0.0.1", "::1"}

    def load(self) -> None:
        """Load the default model and list the installed ones (the models reply)."""
        self.default = load_model(self.model_name)
        self._models[self.default.name] = self.default
        catalogue = [(m["name"], int(m.get("latent_size") or 0), int(m.get("max_rate") or 0))
                     for m in list_models() if "error" not in m]
        if self.default.name not in [name for name, _, _ in catalogue]:
            catalogue.insert(0, (self.default.name, self.default.architecture.latent_size, self.default.max_rate))
        self._catalogue = catalogue

    def announce(self, echo: Callable[[str], None] | None = None) -> None:
        """Say that the server is ready (a log line, or ``echo(line)``) and send /qbdi/ready to the
        notify port. Called only once the model is loaded."""
        assert self.default is not None
        line = (f"ready: listening on {self.host}:{self.port}, model {self.default.name}, "
                f"protocol {P.PROTOCOL_VERSION}, {self.workers} worker(s)")
        (echo or log.info)(line)
        if self.notify_port:
            args = [__version__, P.PROTOCOL_VERSION, self.port, self.default.name]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                try:
                    s.sendto(encode(P.READY, args), ("127.0.0.1", self.notify_port))
                except OSError as exc:
                    log.warning("could not send /qbdi/ready to port %d: %s", self.notify_port, exc)

    def start(self) -> Server:
        """Bind, load, announce and serve in a daemon thread; returns self (stop with :meth:`close`)."""
        self.bind()
        try:
            self.load()
        except BaseException:
            self.sock.close()
            raise
        thread = threading.Thread(target=self._serve_announced, name="qbdi-receive", daemon=True)
        self._threads.append(thread)
        thread.start()
        return self

    def _serve_announced(self) -> None:
        self.announce()
        self.serve_forever()

    def serve_forever(self) -> None:
        """Receive and answer until :meth:`shutdown` (or /qbdi/quit); then stop the workers."""
        assert self.sock is not None and self.default is not None
        self._started = time.monotonic()
        workers = [threading.Thread(target=self._work, name=f"qbdi-worker-{i}", daemon=True)
                   for i in range(self.workers)]
        for w in workers:
            w.start()
        next_expiry = time.monotonic() + POLL_S
        try:
            while not self._stop.is_set():
                try:
                    data, addr = self.sock.recvfrom(65536)
                except TimeoutError:
                    data = None
                except OSError as exc:   # e.g. Windows reports an unreachable reply port here
                    if self._stop.is_set() or self.sock.fileno() < 0:
                        break
                    log.debug("receive error ignored: %s", exc)
                    data = None
                if data is not None:
                    self._on_datagram(data, addr)
                if time.monotonic() >= next_expiry:
                    self._expire()
                    next_expiry = time.monotonic() + POLL_S
        finally:
            for _ in workers:
                self._jobs.put(None)
            for w in workers:
                w.join(timeout=5.0)
            log.info("stopped after %.1f s, %d request(s) served", time.monotonic() - self._started, self._served)

    @property
    def stopping(self) -> bool:
        """True once :meth:`shutdown` was called (or /qbdi/quit, SIGTERM, Ctrl-C arrived)."""
        return self._stop.is_set()

    def shutdown(self) -> None:
        """Ask the receive loop to stop (from any thread or a signal handler); it stops within POLL_S."""
        self._stop.set()

    def close(self) -> None:
        """Stop serving, wait for the threads, close the socket."""
        self.shutdown()
        for t in self._threads:
            t.join(timeout=5.0)
        if self.sock is not None:
            self.sock.close()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- receiving ---------------------------------------------------------------------------
    def _on_datagram(self, data: bytes, addr: tuple) -> None:
        host = addr[0]
        try:
            address, args = decode(data)
        except OscError as exc:
            self._throttle.warning("unreadable", "ignoring an unreadable datagram from %s (%d bytes): %s",
                                   host, len(data), exc)
            return
        request_id = P.read_id(args)
        port = P.read_reply_port(args)
        if port == self._own_port and host in self._own_hosts:
            port = None        # never answer ourselves: a forged reply port must not start a loop
        dest = (host, port) if port is not None else None
        try:
            handler = self._handlers.get(address)
            if handler is None:
                self._throttle.warning("address", "unknown address %s from %s", address[:P.MAX_STRING], host)
                raise QbdiError(f"unknown address {address[:P.MAX_STRING]}; this server (protocol "
                                f"{P.PROTOCOL_VERSION}) knows {', '.join(P.REQUESTS)}", code="unknown_address")
            if dest is None:
                self._throttle.warning("port", "%s from %s has no usable reply port (second argument); "
                                       "cannot answer it", address, host)
                return
            if request_id < 0:
                raise QbdiError(f"{address}: the first argument must be the request id, a whole number "
                                f"from 0 to {2**31 - 1}; got {P.describe(args[0]) if args else 'nothing'}")
            if len(data) > P.MAX_DATAGRAM:
                self._drop_request(address, host, dest, request_id)
                raise QbdiError(f"a datagram of {len(data)} bytes; the limit is {P.MAX_DATAGRAM}, "
                                "split the notes into chunks", code="too_large")
            for arg in args:
                if isinstance(arg, str) and len(arg) > P.MAX_STRING:
                    self._drop_request(address, host, dest, request_id)
                    raise QbdiError(f"a string argument of {len(arg)} characters; the limit is {P.MAX_STRING}",
                                    code="too_large")
            handler(request_id, dest, args, host)
        except QbdiError as exc:
            self._error(dest, max(request_id, -1), exc.code, str(exc))
        except Exception as exc:  # a bug: report it, keep serving
            log.exception("handler for %s failed", address)
            self._error(dest, max(request_id, -1), "internal", f"internal error: {type(exc).__name__}: {exc}")

    def _drop_request(self, address: str, host: str, dest: tuple[str, int], request_id: int) -> None:
        """A header or chunk refused before its handler drops its whole request, as the handlers do:
        its other datagrams are then ignored, so it gets one error, not a second ``expired`` one."""
        if address in (P.IMPROVISE, P.NOTES):
            key = (host, dest[1], request_id)
            if not self.assembler.finished_recently(key):
                self.assembler.drop(key)

    def _on_ping(self, request_id: int, dest, args: list, host: str) -> None:
        self._reply(dest, P.PONG, [request_id, __version__, P.PROTOCOL_VERSION])

    def _on_status(self, request_id: int, dest, args: list, host: str) -> None:
        self._reply(dest, P.STATUS_REPLY, [request_id, 1, self.default.name, len(self._catalogue),
                                           float(time.monotonic() - self._started), min(self._served, 2**31 - 1),
                                           self.pending])

    def _on_models(self, request_id: int, dest, args: list, host: str) -> None:
        entries: list = []
        count = 0
        for name, latent, max_rate in self._catalogue:
            trial = [request_id, self.default.name, count + 1, *entries, name, latent, max_rate]
            if len(encode(P.MODELS_REPLY, trial)) > P.MAX_DATAGRAM:
                log.warning("the models reply lists %d of %d models (4 KB limit)", count, len(self._catalogue))
                break
            entries += [name, latent, max_rate]
            count += 1
        self._reply(dest, P.MODELS_REPLY, [request_id, self.default.name, count, *entries])

    def _on_quit(self, request_id: int, dest, args: list, host: str) -> None:
        log.info("quit requested by %s", host)
        self._reply(dest, P.BYE, [request_id])
        self.shutdown()

    def _on_free(self, request_id: int, dest, args: list, host: str) -> None:
        settings = Settings.from_dict(P.parse_settings(args[2:]))
        self._submit(Job("free", request_id, dest, settings))

    def _on_improvise(self, request_id: int, dest, args: list, host: str) -> None:
        key = (host, dest[1], request_id)
        try:
            if len(args) < 4:
                raise QbdiError(f"{P.IMPROVISE} takes <id> <reply_port> <n_notes> <n_chunks> [key value]...; "
                                f"got {len(args)} arguments")
            n_notes = P.as_int(args[2], "n_notes")
            n_chunks = P.as_int(args[3], "n_chunks")
            settings = Settings.from_dict(P.parse_settings(args[4:]))
        except QbdiError:
            if not self.assembler.finished_recently(key):
                self.assembler.drop(key)
            raise
        self._submit_if_complete(self.assembler.header(key, request_id, dest[1], n_notes, n_chunks, settings))

    def _on_notes(self, request_id: int, dest, args: list, host: str) -> None:
        key = (host, dest[1], request_id)
        try:
            if len(args) < 4:
                raise QbdiError(f"{P.NOTES} takes <id> <reply_port> <chunk> <n_chunks> [pitch start duration "
                                f"velocity]...; got {len(args)} arguments")
            index = P.as_int(args[2], "the chunk index")
            n_chunks = P.as_int(args[3], "n_chunks")
            flat = P.notes_array(args[4:], index)
        except QbdiError:
            if self.assembler.finished_recently(key):
                return
            self.assembler.drop(key)
            raise
        self._submit_if_complete(self.assembler.chunk(key, request_id, dest[1], index, n_chunks, flat))

    def _submit_if_complete(self, part: Partial | None) -> None:
        if part is None:
            return
        flat = part.flat_notes()
        notes = [Note(int(p), s, d, int(v)) for p, s, d, v in zip(*[iter(flat)] * P.FIELDS_PER_NOTE)]
        dest = (part.key[0], part.reply_port)
        self._submit(Job("improvise", part.request_id, dest, part.header, notes))

    def _submit(self, job: Job) -> None:
        if not self.workers:
            self._run(job)
            return
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            raise QbdiError(f"{P.MAX_PENDING} improvisations are waiting already; try again in a moment",
                            code="busy") from None

    def _expire(self) -> None:
        for part in self.assembler.expire():
            log.info("request %d from %s expired: %s", part.request_id, part.key[0], part.describe())
            self._error((part.key[0], part.reply_port), part.request_id, "expired",
                        f"request {part.request_id} expired: {part.describe()} within "
                        f"{self.assembler.ttl:g} s; send it again")

    @property
    def pending(self) -> int:
        """Incomplete requests held, plus improvisations queued or running."""
        return len(self.assembler) + self._jobs.qsize() + self._running_jobs

    # --- improvising -------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            with self._lock:
                self._running_jobs += 1
            try:
                self._run(job)
            finally:
                with self._lock:
                    self._running_jobs -= 1

    def _run(self, job: Job) -> None:
        """Improvise and send warnings, then the result header and its note chunks."""
        try:
            model = self.model_for(job.settings.model)
            if job.kind == "free":
                result = free_improvise(model, job.settings)
            else:
                result = improvise(model, job.notes, job.settings)
            self._send_result(job, result)
        except QbdiError as exc:
            self._error(job.dest, job.request_id, exc.code, str(exc))
        except Exception as exc:  # a bug: report it, keep serving
            log.exception("%s request %d failed", job.kind, job.request_id)
            self._error(job.dest, job.request_id, "internal", f"internal error: {type(exc).__name__}: {exc}")

    def model_for(self, name: str | None) -> Model:
        """The default model, or an installed one by name (loaded on first use, then cached)."""
        if not name:
            return self.default
        with self._lock:
            model = self._models.get(name)
        if model is not None:
            return model
        if name not in installed_names():
            known = sorted({self.default.name, *installed_names()})
            raise QbdiError(f"unknown model '{name}'; this server has {', '.join(known)} (a request names an "
                            "installed model; serve a model folder with qbdi serve --model PATH)",
                            code="unknown_model")
        model = load_model(name)
        with self._lock:
            self._models[name] = model
        return model

    def _send_result(self, job: Job, result: Improvisation) -> None:
        # the engine refuses more than P.MAX_NOTES notes (config.MAX_NOTES), so every result fits
        for warning in result.warnings:
            self._reply(job.dest, P.WARNING, [job.request_id, _clip(warning)], count=False)
        chunks = P.chunk_args(P.flatten_notes(result.notes))
        header = [job.request_id, len(result.notes), len(chunks), result.model,
                  *P.settings_args(result.settings.to_dict())]
        self._reply(job.dest, P.RESULT, header, count=False)
        for index, chunk in enumerate(chunks):
            self._reply(job.dest, P.RESULT_NOTES, [job.request_id, index, len(chunks), *chunk], count=False)
        with self._lock:
            self._served += 1
        if log.isEnabledFor(logging.INFO):
            log.info("%s %d for %s:%d: %d -> %d notes, %d bars, model %s, rate %s, %.1f ms", job.kind,
                     job.request_id, job.dest[0], job.dest[1], len(job.notes), len(result.notes), result.grid.n_bars,
                     result.model, result.settings.rate_label, 1000 * (time.perf_counter() - job.received))

    # --- sending -----------------------------------------------------------------------------
    def _reply(self, dest: tuple[str, int], address: str, args: list, count: bool = True) -> None:
        data = encode(address, args)
        if len(data) > P.MAX_DATAGRAM:  # cannot happen with the caps above; never send it anyway
            raise RuntimeError(f"{address} reply of {len(data)} bytes exceeds {P.MAX_DATAGRAM}")
        try:
            self.sock.sendto(data, dest)
        except OSError as exc:
            self._throttle.warning("send", "cannot send %s to %s:%d: %s", address, dest[0], dest[1], exc)
            return
        if count:
            with self._lock:
                self._served += 1

    def _error(self, dest: tuple[str, int] | None, request_id: int, code: str, message: str) -> None:
        if code not in P.ERROR_CODES:
            code = "bad_request"
        log.debug("error %s for request %d: %s", code, request_id, message)
        if dest is None:
            return
        try:
            self._reply(dest, P.ERROR, [request_id, code, _clip(message)], count=False)
        except Exception:  # never let an error report stop the server
            log.exception("could not send an error reply")


def _clip(text: str) -> str:
    """At most MAX_REPLY_TEXT UTF-8 bytes, so every reply fits one datagram."""
    raw = text.encode("utf-8")
    if len(raw) <= MAX_REPLY_TEXT:
        return text
    return raw[:MAX_REPLY_TEXT - 3].decode("utf-8", errors="ignore") + "..."


def serve_from_args(args) -> int:
    """``qbdi serve``: bind, load, announce, serve until Ctrl-C, SIGTERM or /qbdi/quit; exit 0.

    The ready line goes to stderr whatever the log level: it is this command's output."""
    server = Server(host=args.host or P.DEFAULT_HOST, port=P.DEFAULT_PORT if args.port is None else args.port,
                    model=args.model, notify_port=args.notify_port,
                    workers=DEFAULT_WORKERS if getattr(args, "workers", None) is None else args.workers)
    server.bind()    # first, so a port in use is reported at once, before the model loads
    previous = {sig: signal.signal(sig, lambda signum, frame: server.shutdown())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.load()
        if not server.stopping:
            server.announce(echo=lambda line: print(f"qbdi serve: {line}", file=sys.stderr, flush=True))
            server.serve_forever()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.sock.close()
    return 0
