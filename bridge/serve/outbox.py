# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""How every part of the server answers, without holding the server.

* :class:`Outbox`: ``reply`` and ``error`` over the server's socket (never larger than
  MAX_DATAGRAM, nor than the limit the gate set for a peer; never to the server's own socket),
  the count of answers sent, and a :class:`Throttle` for complaints that repeat;
* :func:`send_chunks`: the one paced sender of chunked notes (results and stream answers);
* :class:`ServerFacts`: the few facts of the server that status and quit need, as callables.

The admission gate, the stream sessions and the workers get these, as python-osc's handlers get
a reply address: none of them sees the :class:`bridge.serve.server.Server`.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .. import protocol as P
from ..osc import encode
from .peers import is_this_machine, shown

log = logging.getLogger(__name__)

# reply(dest, address, args, count) and error(dest, request_id, code, message): what the parts send with
Reply = Callable[[tuple[str, int], str, list, bool], Any]
ErrorReply = Callable[[tuple[str, int] | None, int, str, str], None]


class Throttle:
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


@dataclass(frozen=True)
class ServerFacts:
    """What the status and quit requests need from the server, and what a long-running part checks."""

    uptime: Callable[[], float]          # seconds since serving began
    served: Callable[[], int]            # requests answered
    pending: Callable[[], int]           # incomplete requests held, plus improvisations queued or running
    stopping: Callable[[], bool]         # True once a shutdown was asked for
    shutdown: Callable[[], None]         # ask the server to stop (from any thread)


class Outbox:
    """The server's sending side: one socket (:meth:`attach` it once bound), the answers counted."""

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.own_port: int | None = None
        self.throttle = Throttle()
        self.answered = 0
        self._lock = threading.Lock()

    def attach(self, sock: socket.socket) -> None:
        """Send through ``sock`` (bound): its port is the one no reply may go to."""
        self.sock = sock
        self.own_port = sock.getsockname()[1]

    def answers_itself(self, host: str, port: int) -> bool:
        """True if ``(host, port)`` is the server's own socket: its port on any address of this machine
        (whatever --host bound: ``::``, ``0.0.0.0``, a LAN address, ``::ffff:127.0.0.1``)."""
        return port == self.own_port and is_this_machine(host)

    def reply(self, dest: tuple[str, int], address: str, args: list, count: bool = True,
              limit: int | None = None) -> bool:
        """Send one reply datagram to ``dest``, if it fits in ``limit`` bytes (None: MAX_DATAGRAM);
        returns whether it was sent (a send failure is logged, throttled, not raised)."""
        data = encode(address, args)
        if len(data) > P.MAX_DATAGRAM:  # cannot happen with the caps in bridge.protocol; never send it anyway
            raise RuntimeError(f"{address} reply of {len(data)} bytes exceeds {P.MAX_DATAGRAM}")
        if limit is not None and len(data) > limit:
            log.debug("not sending %s (%d bytes) to %s: the limit for that peer is %d", address, len(data),
                      dest[0], limit)
            return False
        try:
            self.sock.sendto(data, dest)
        except OSError as exc:
            self.throttle.warning("send", "cannot send %s to %s:%d: %s", address, dest[0], dest[1], exc)
            return False
        if count:
            with self._lock:
                self.answered += 1
        return True

    def error(self, dest: tuple[str, int] | None, request_id: int, code: str, message: str,
              limit: int | None = None) -> None:
        """Send ``/qbdi/error`` (an unknown code becomes ``bad_request``), its message shortened to fit
        ``limit`` bytes (not sent if even an empty one would not); never raises."""
        if code not in P.ERROR_CODES:
            code = "bad_request"
        log.debug("error %s for request %d: %s", code, request_id, shown(message, 400))
        if dest is None:
            return
        try:
            text = P.clip_text(message)
            if limit is not None:
                room = limit - len(encode(P.ERROR, [request_id, code, ""]))   # bytes beyond an empty message
                if room < 0:
                    log.debug("no room for error %s to %s in %d bytes", code, dest[0], limit)
                    return
                text = P.clip_text(text, (room + 4) // 4 * 4 - 1)          # an OSC string is NUL-padded to 4
            self.reply(dest, P.ERROR, [request_id, code, text], count=False, limit=limit)
        except Exception:  # never let an error report stop the server
            log.exception("could not send an error reply")


def send_chunks(send: Callable[[list, bool], Any], head: Sequence, flat: Sequence) -> int:
    """Send flat note values ``(n_notes * 4,)`` as ``[*head, chunk, n_chunks, *notes]`` messages through
    ``send(args, first)``, NOTES_PER_CHUNK notes each (one empty chunk for no notes), RESULT_BURST
    back to back, then a pause of RESULT_PAUSE_S: a receiver whose buffer cannot be sized (Max's
    ``[udpreceive]``) drains a long reply. Returns the number of chunks."""
    chunks = P.chunk_args(list(flat))
    for index, chunk in enumerate(chunks):
        if index and index % P.RESULT_BURST == 0:
            time.sleep(P.RESULT_PAUSE_S)
        send([*head, index, len(chunks), *chunk], index == 0)
    return len(chunks)
