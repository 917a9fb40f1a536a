# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``qbdi serve``: the OSC/UDP server the Max for Live device talks to (protocol: bridge.protocol).

Its parts, one module each, along the data flow; none of them holds the :class:`Server`:

* here, the socket loop: one receive thread reads datagrams, decodes them and hands them on;
  replies go to the sender's host at the request's reply port, never elsewhere (never to this
  server's own socket, on any address of the machine), each at most MAX_DATAGRAM bytes of int32,
  float32 and string arguments, and within the limit the gate set (:mod:`bridge.serve.peers`);
  datagrams from source port 0, or from this socket itself, or beyond a source's allowance (a
  flood: :class:`bridge.serve.peers.Allowance`), are dropped unread;
* :mod:`bridge.serve.admission`: the gate (reply addresses, reply ports, cookies for peers on other
  machines, caps), then the cheap requests answered at once and the chunked ones assembled;
* :mod:`bridge.serve.workers`: a bounded fair queue (full -> ``busy``) and the threads that improvise;
  :mod:`bridge.serve.sessions`: the play-along streams, with a thread of their own;
* :mod:`bridge.serve.outbox`: what they all answer through (``reply``, ``error``, the log
  throttle, the paced chunk sender) and the few server facts status and quit read.

Nothing here imports torch: the model is NumPy weights from safetensors (bridge.vae). While it
serves, BLAS runs one thread per worker (threadpoolctl, so API users of :class:`Server` get it
too, not only ``qbdi serve``): on a 2-core machine shared with a training job, OpenBLAS's own
threads spun against the other process and made improvisations up to 8 times slower.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from threadpoolctl import threadpool_limits

from .. import __version__
from .. import protocol as P
from ..config import ServeConfig
from ..errors import QbdiError
from ..models import Model
from ..osc import OscError, decode, encode
from .admission import Admission
from .outbox import Outbox, ServerFacts
from .peers import Allowance, shown
from .workers import DEFAULT_WORKERS, ModelCache, Workers

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
POLL_S = 0.1                 # how often the receive loop checks for shutdown and expired requests
# While workers run Python code, every socket call of the receive thread waits for the GIL up to the
# interpreter's switch interval (5 ms): under a flood of requests it then falls behind, and every
# client's datagrams queue in the kernel for seconds. Serving lowers the interval (restored after).
SWITCH_INTERVAL_S = 0.0005
DRAIN_BATCH = 256            # datagrams read without waiting after one arrives (see serve_forever)
SOCKET_BUFFER = 4 << 20      # ask the OS for room for a burst of chunks from many clients


class Server:
    """The OSC server. ``start()`` binds, loads the default model and serves in a background
    thread (for tests and scripts); ``serve_forever()`` serves in the calling thread.

    ``model`` is a name or folder (default: ``QBDI_MODEL`` or pop); ``port=0`` picks a free port
    (read it back from :attr:`port`); ``workers=0`` improvises in the receive thread.
    """

    def __init__(self, host: str = P.DEFAULT_HOST, port: int = P.DEFAULT_PORT, model: str | None = None,
                 notify_port: int | None = None, workers: int = DEFAULT_WORKERS,
                 ttl: float = P.REQUEST_TTL_S) -> None:
        ServeConfig(host=host, port=port, notify_port=notify_port, workers=workers)   # validates, names the field
        self.host, self.requested_port, self.notify_port = host, int(port), notify_port
        self.sock: socket.socket | None = None
        self._reader: socket.socket | None = None
        self.outbox = Outbox()
        self.models = ModelCache(model)
        self.workers = Workers(workers, self.models, self.outbox.reply, self.outbox.error)
        facts = ServerFacts(uptime=lambda: self.uptime, served=lambda: self.served, pending=lambda: self.pending,
                            stopping=lambda: self.stopping, shutdown=self.shutdown)
        self.admission = Admission(self.outbox, self.models, self.workers, facts, ttl=ttl)
        self.allowance = Allowance()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = time.monotonic()
        self._blas: Any = None      # threadpoolctl's limiter while serving, and the thread that set it
        self._blas_thread: int | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The bound UDP port (useful with ``port=0``)."""
        if self.sock is None:
            raise RuntimeError("the server is not bound yet")
        return self.sock.getsockname()[1]

    @property
    def default(self) -> Model | None:
        """The default model, once :meth:`load` ran."""
        return self.models.default

    @property
    def assembler(self):
        """The requests being put back together (:class:`bridge.serve.reassembly.Assembler`)."""
        return self.admission.assembler

    def bind(self) -> None:
        """Bind the UDP socket; a port in use raises :class:`QbdiError` naming the port and --port."""
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
        if not _is_loopback(sock.getsockname()[0]):    # after the bind: a host that failed reaches no one
            log.warning("binding %s: the server is reachable from other machines on this network, and anyone "
                        "who can reach it can use or quit it; use --host 127.0.0.1 unless you need that", self.host)
        sock.settimeout(POLL_S)
        self.sock = sock
        self.outbox.attach(sock)

    def load(self) -> None:
        """Load the default model and list the installed ones (the models reply)."""
        self.models.load()

    def announce(self, echo: Callable[[str], None] | None = None) -> None:
        """Say that the server is ready (a log line, or ``echo(line)``) and send /qbdi/ready to the
        notify port. Called only once the model is loaded."""
        assert self.default is not None
        line = (f"ready: listening on {self.host}:{self.port}, model {self.default.name}, "
                f"protocol {P.PROTOCOL_VERSION}, {self.workers.count} worker(s)")
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
        self._pin_blas()    # from the calling thread: OpenBLAS ignores a later limit set from another thread
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
        self._pin_blas()
        self.workers.start()
        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, SWITCH_INTERVAL_S))
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
                    self._drain_queued()
                if time.monotonic() >= next_expiry:
                    self.admission.expire()
                    next_expiry = time.monotonic() + POLL_S
        finally:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
            self.workers.stop()
            sys.setswitchinterval(switch)
            if self._blas_thread == threading.get_ident():
                self._unpin_blas()
            log.info("stopped after %.1f s, %d request(s) served", self.uptime, self.served)

    def _drain_queued(self) -> None:
        """Handle what is already queued through a non-waiting twin of the socket: a socket with a
        timeout polls before every read, which doubled the cost of each datagram of a flood."""
        if self._reader is None:
            self._reader = self.sock.dup()
            self._reader.settimeout(0.0)      # the descriptor is non-blocking already: nothing changes for sends
        for _ in range(DRAIN_BATCH):
            try:
                data, addr = self._reader.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:            # e.g. Windows reports an unreachable reply port here
                log.debug("receive error ignored: %s", exc)
                return
            self._on_datagram(data, addr)

    @property
    def stopping(self) -> bool:
        """True once :meth:`shutdown` was called (or /qbdi/quit, SIGTERM, Ctrl-C arrived)."""
        return self._stop.is_set()

    @property
    def uptime(self) -> float:
        return time.monotonic() - self._started

    @property
    def served(self) -> int:
        """Requests answered: immediate replies plus improvisations sent."""
        return self.outbox.answered + self.workers.served

    @property
    def pending(self) -> int:
        """Incomplete requests held, plus improvisations queued or running."""
        return len(self.assembler) + self.workers.pending

    def model_for(self, name: str | None) -> Model:
        """The default model, or an installed one by name (loaded on first use, then cached)."""
        return self.models.get(name)

    def _pin_blas(self) -> None:
        """One BLAS thread per matrix product while serving (the workers run several at once)."""
        if self._blas is None:
            self._blas, self._blas_thread = threadpool_limits(1, user_api="blas"), threading.get_ident()

    def _unpin_blas(self) -> None:
        if self._blas is not None:
            self._blas.restore_original_limits()
            self._blas = self._blas_thread = None

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
        self._unpin_blas()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- receiving and sending ---------------------------------------------------------------
    def _on_datagram(self, data: bytes, addr: tuple) -> None:
        host, port = addr[0], addr[1]
        if not self.allowance.allow(host, port):
            if self.allowance.dropped % 1000 == 1:    # the drop itself must stay cheap: a flood is many
                self.outbox.throttle.warning("flood", "dropping datagrams from %s port %d: more than %g a "
                                             "second (%d dropped so far)", host, port, self.allowance.rate,
                                             self.allowance.dropped)
            return
        if port == 0 or self.answers_itself(host, port):
            self.outbox.throttle.warning("source", "ignoring a datagram from %s port %d: no reply can go there",
                                         host, port)
            return
        try:
            address, args = decode(data)
        except OscError as exc:
            self.outbox.throttle.warning("unreadable", "ignoring an unreadable datagram from %s (%d bytes): %s",
                                         host, len(data), shown(str(exc)))
            return
        self.admission.admit(address, args, len(data), (host, port))

    def answers_itself(self, host: str, port: int) -> bool:
        """True if ``(host, port)`` is this server's own socket (:meth:`Outbox.answers_itself`)."""
        return self.outbox.answers_itself(host, port)


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def serve(host: str = P.DEFAULT_HOST, port: int = P.DEFAULT_PORT, model: str | None = None,
          notify_port: int | None = None, workers: int = DEFAULT_WORKERS, exit_with_stdin: bool = False) -> int:
    """``qbdi serve``: bind, load, announce, serve until Ctrl-C, SIGTERM or /qbdi/quit (or, with
    ``exit_with_stdin``, until standard input closes); returns 0.

    The ready line goes to stderr whatever the log level: it is this command's output."""
    server = Server(host=host, port=port, model=model, notify_port=notify_port, workers=workers)
    server.bind()    # first, so a port in use is reported at once, before the model loads
    previous = {sig: signal.signal(sig, lambda signum, frame: server.shutdown())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    if exit_with_stdin:
        from .watchdog import watch_stdin

        watch_stdin(server.shutdown)
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
