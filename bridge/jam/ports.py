# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""MIDI ports for ``qbdi jam``: real ones through mido (python-rtmidi, the ``[jam]`` extra) opened
by name or as virtual ports, and in-memory ones with mido's shapes (``iter_pending``, ``send``,
``close``) for tests and the jitter benchmark, where no MIDI hardware is needed.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import QbdiError

VIRTUAL_NAME = "qbdi jam"
INSTALL_HINT = "install the MIDI backend with: pip install 'qbdi-bridge[jam]' (mido and python-rtmidi)"


def _mido():
    try:
        import mido
    except ImportError:
        raise QbdiError(f"qbdi jam needs mido, which comes with the [jam] extra; {INSTALL_HINT}") from None
    return mido


def port_names() -> tuple[list[str], list[str]]:
    """The MIDI input and output port names the backend sees; a missing backend or MIDI system
    raises :class:`QbdiError` saying what to install."""
    mido = _mido()
    try:
        return list(mido.get_input_names()), list(mido.get_output_names())
    except ImportError:
        raise QbdiError(f"no MIDI backend: {INSTALL_HINT}") from None
    except Exception as exc:   # rtmidi raises its own errors when there is no MIDI system (no ALSA sequencer)
        raise QbdiError(f"the MIDI system cannot be opened ({type(exc).__name__}: {exc}); on Linux load the ALSA "
                        "sequencer (modprobe snd-seq), elsewhere check the MIDI setup") from None


def match(name: str, names: list[str], kind: str) -> str:
    """A port name given exactly, or as a part of one name (case ignored); else a clear error."""
    if name in names:
        return name
    hits = [n for n in names if name.lower() in n.lower()]
    if len(hits) == 1:
        return hits[0]
    listed = ", ".join(repr(n) for n in names) or "none"
    if hits:
        raise QbdiError(f"MIDI {kind} {name!r} matches several ports ({', '.join(map(repr, hits))}); "
                        "give more of the name")
    raise QbdiError(f"no MIDI {kind} named {name!r}; the {kind}s are: {listed} (or use --virtual)")


def open_ports(input_name: str | None, output_name: str | None, virtual: bool = False) -> tuple[Any, Any]:
    """Open the input and output (by name, or virtual ports called 'qbdi jam' that other
    programs connect to); the input may be None (no notes in: free play is not a jam)."""
    mido = _mido()
    inputs, outputs = port_names()
    try:
        if virtual:
            return (mido.open_input(VIRTUAL_NAME, virtual=True), mido.open_output(VIRTUAL_NAME, virtual=True))
        if not input_name or not output_name:
            raise QbdiError("give --in and --out MIDI ports (see qbdi jam --list-ports), or --virtual")
        inport = mido.open_input(match(input_name, inputs, "input"))
        try:
            return inport, mido.open_output(match(output_name, outputs, "output"))
        except BaseException:
            inport.close()
            raise
    except QbdiError:
        raise
    except Exception as exc:   # the backend's own errors, e.g. no virtual ports on Windows
        raise QbdiError(f"cannot open the MIDI ports ({type(exc).__name__}: {exc})") from None


class MemoryInput:
    """An input port fed in code: :meth:`feed` a message for a time; :meth:`iter_pending` yields
    those whose time has come, in time order (mido's BaseInput shape)."""

    def __init__(self, now: Callable[[], float] = time.perf_counter) -> None:
        self.now = now
        self.closed = False
        self._queue: list[tuple[float, int, Any]] = []
        self._order = itertools.count()

    def feed(self, message: Any, at: float | None = None) -> None:
        heapq.heappush(self._queue, (self.now() if at is None else at, next(self._order), message))

    def next_time(self) -> float | None:
        """When the next fed message is due (None: nothing left)."""
        return self._queue[0][0] if self._queue else None

    def iter_pending(self) -> Iterator[Any]:
        now = self.now()
        while self._queue and self._queue[0][0] <= now:
            yield heapq.heappop(self._queue)[2]

    def close(self) -> None:
        self.closed = True


class MemoryOutput:
    """An output port that keeps what is sent, with the time: ``sent`` is ``[(time, message)]``."""

    def __init__(self, now: Callable[[], float] = time.perf_counter) -> None:
        self.now = now
        self.closed = False
        self.sent: list[tuple[float, Any]] = []

    def send(self, message: Any) -> None:
        if self.closed:
            raise ValueError("send() called on closed port")
        self.sent.append((self.now(), message))

    def close(self) -> None:
        self.closed = True
