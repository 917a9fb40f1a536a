# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Musical time for ``qbdi jam``: where the music is, in MIDI clock ticks (24 per quarter note).

Two sources with one interface: :class:`InternalClock` runs at a tempo (``--bpm``);
:class:`MidiClock` follows a MIDI clock from the input port (``--clock midi``): clock ticks,
start, stop, continue and song position pointer. The jam loop asks where the music is
(:meth:`position`, fractional ticks), which tick it has reached (:meth:`tick`: events are due
there), and when a future tick will come (:meth:`time_of`, for sleeping). Time itself is
injectable (``now``), so tests run on a simulated clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable

TICKS_PER_BEAT = 24           # MIDI clock: 24 pulses per quarter note
TICKS_PER_SIXTEENTH = 6       # a song position pointer counts sixteenths ("MIDI beats")
TEMPO_SMOOTHING = 0.1         # weight of a new tick interval in the tempo estimate


class InternalClock:
    """A steady clock at ``bpm``; stopped until :meth:`start`. Positions are exact in time."""

    source = "internal"

    def __init__(self, bpm: float = 120.0, now: Callable[[], float] = time.perf_counter) -> None:
        if not 20.0 <= float(bpm) <= 400.0:
            raise ValueError(f"tempo must be between 20 and 400 BPM, got {bpm}")
        self.bpm = float(bpm)
        self.now = now
        self._origin: float | None = None      # the time of tick 0
        self._held = 0.0                       # the position while stopped

    @property
    def running(self) -> bool:
        return self._origin is not None

    @property
    def seconds_per_tick(self) -> float:
        return 60.0 / (self.bpm * TICKS_PER_BEAT)

    def start(self, at_tick: float = 0.0) -> None:
        self._origin = self.now() - at_tick * self.seconds_per_tick

    def stop(self) -> None:
        self._held = self.position()
        self._origin = None

    def position(self, at: float | None = None) -> float:
        """Where the music is, in ticks (fractional), at time ``at`` (default now)."""
        if self._origin is None:
            return self._held
        return ((self.now() if at is None else at) - self._origin) / self.seconds_per_tick

    def tick(self) -> int:
        """The last tick reached: events at or before it are due (a wake-up at :meth:`time_of`
        may read a hair before the tick in floating point: 1e-6 of a tick counts as on it)."""
        return int((self.position() + 1e-6) // 1)

    def time_of(self, tick: float) -> float | None:
        """When ``tick`` comes (None while stopped)."""
        return None if self._origin is None else self._origin + tick * self.seconds_per_tick

    def feed(self, message) -> str | None:   # an internal clock ignores incoming clock messages
        return None


class MidiClock:
    """Follows MIDI clock messages (mido messages: ``clock``, ``start``, ``stop``, ``continue``,
    ``songpos``). :meth:`feed` returns ``"start"``, ``"stop"``, ``"continue"`` or ``"songpos"``
    when the transport changes, else None. As the MIDI specification says, the first clock
    after a start is the downbeat (tick 0), the first after a continue is the song position.
    Between ticks the position is interpolated (for the times of notes played), never past the
    next tick."""

    source = "midi"

    def __init__(self, now: Callable[[], float] = time.perf_counter) -> None:
        self.now = now
        self.running = False
        self._ticks = -1                       # the tick the last clock reached (-1: the next one is 0)
        self._last: float | None = None        # when the last tick came
        self._interval: float | None = None    # smoothed seconds per tick

    @property
    def bpm(self) -> float | None:
        return None if self._interval is None else 60.0 / (self._interval * TICKS_PER_BEAT)

    def feed(self, message) -> str | None:
        kind = message.type
        now = self.now()
        if kind == "clock":
            if not self.running:
                return None
            if self._last is not None:
                gap = now - self._last
                self._interval = gap if self._interval is None else (
                    self._interval + TEMPO_SMOOTHING * (gap - self._interval))
            self._last = now
            self._ticks += 1
            return None
        if kind == "start":
            self.running, self._ticks, self._last = True, -1, None
            return "start"
        if kind == "stop":
            self.running = False
            return "stop"
        if kind == "continue":
            self.running, self._last = True, None
            return "continue"
        if kind == "songpos":
            self._ticks, self._last = int(message.pos) * TICKS_PER_SIXTEENTH - 1, None
            return "songpos"
        return None

    def position(self, at: float | None = None) -> float:
        """Ticks counted, plus the fraction of a tick since the last one (at most 0.999)."""
        if not self.running or self._last is None or not self._interval:
            return float(self._ticks)
        since = ((self.now() if at is None else at) - self._last) / self._interval
        return self._ticks + min(max(since, 0.0), 0.999)

    def tick(self) -> int:
        """The tick the last clock reached (-1 after a start, until its first clock)."""
        return self._ticks

    def time_of(self, tick: float) -> float | None:
        """Unknown ahead: the jam loop fires events as their ticks arrive."""
        return None
