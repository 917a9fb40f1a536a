# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The MIDI sides of ``qbdi jam``, per bar: :class:`BarCollector` gathers the notes played into
the bars a stream client sends; :class:`Player` plays the answers on the grid.

The player keeps every note it started, thru notes included, so nothing is left hanging: every
note-on gets exactly one note-off, scheduled with it; a stop or Ctrl-C sends the note-offs still
owed and then All Notes Off on every channel it used. A pitch sounding twice on one channel (an
answer over a held thru note) gets its note-offs when the last of the two ends, so neither is
cut short. An answer note
that continues one of the previous answer (a negative start) keeps ringing across the bar line
when that note is still sounding there; otherwise it is struck again on the downbeat.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Sequence
from typing import Any

from ..pianoroll import Note
from ..stream import bar_notes
from .clock import TICKS_PER_BEAT

ALL_NOTES_OFF = 123      # MIDI control change
OFF, ON = 0, 1           # at one tick, note-offs go first


def _mido():
    from .ports import _mido as mido  # one place says how to install it

    return mido()


class BarCollector:
    """Notes played, as note-ons and note-offs at positions in beats -> each bar's notes."""

    KEEP_BARS = 2        # finished notes are forgotten this many bars after they end

    def __init__(self) -> None:
        self._held: dict[tuple[int, int], tuple[float, int]] = {}    # (channel, pitch) -> (start, velocity)
        self._done: list[Note] = []
        self.played = 0

    def note_on(self, channel: int, pitch: int, velocity: int, beat: float) -> None:
        if velocity == 0:
            self.note_off(channel, pitch, beat)
            return
        self.note_off(channel, pitch, beat)              # struck again while held: the first one ends here
        self._held[(channel, pitch)] = (max(beat, 0.0), velocity)
        self.played += 1

    def note_off(self, channel: int, pitch: int, beat: float) -> None:
        held = self._held.pop((channel, pitch), None)
        if held is not None:
            start, velocity = held
            self._done.append(Note(pitch, start, max(beat - start, 0.0), velocity))

    def bar(self, index: int, beats_per_bar: float) -> list[Note]:
        """Bar ``index``'s notes, in beats from its start (bridge.stream.bar_notes); a note still
        held lasts to the bar's end for now."""
        start, end = index * beats_per_bar, (index + 1) * beats_per_bar
        held = [Note(pitch, s, max(end - s, 0.0), v) for (_, pitch), (s, v) in self._held.items()]
        notes = bar_notes(self._done + held, index, beats_per_bar)
        horizon = start - self.KEEP_BARS * beats_per_bar
        self._done = [n for n in self._done if n.end > horizon]
        return notes

    def clear(self) -> None:
        self._held.clear()
        self._done.clear()


class Player:
    """Answer notes -> MIDI messages at their ticks on ``port`` (mido's ``send``), channel 0..15.

    ``on_send(tick, message)``, if given, hears every message sent with the tick it was due at
    (the jitter benchmark measures against it)."""

    def __init__(self, port: Any, channel: int = 0, on_send: Callable[[int, Any], None] | None = None) -> None:
        self.port = port
        self.channel = channel
        self.on_send = on_send
        self._events: list[tuple[int, int, int, int, int]] = []     # (tick, OFF/ON, seq, pitch, velocity)
        self._seq = itertools.count()
        self._cancelled: set[int] = set()
        self._answer_off: dict[int, tuple[int, int]] = {}          # pitch -> (tick, seq) of its pending off
        self._sounding: dict[tuple[int, int], int] = {}            # (channel, pitch) -> notes sounding
        self._deferred: dict[tuple[int, int], int] = {}            # (channel, pitch) -> note-offs waiting
        self.sent = 0
        self.skipped = 0                                           # notes whose time had passed

    def schedule(self, bar_tick: int, notes: Sequence[Note], now_tick: int) -> None:
        """Play an answer in the bar that starts at ``bar_tick``; notes already due are skipped."""
        for n in sorted(notes, key=lambda n: (n.start, n.pitch)):
            on = bar_tick + round(n.start * TICKS_PER_BEAT)
            off = max(bar_tick + round(n.end * TICKS_PER_BEAT), bar_tick + 1)
            if n.start < 0:                      # continues a note of the previous answer
                pending = self._answer_off.get(n.pitch)
                if pending is not None and pending[0] == bar_tick and pending[1] not in self._cancelled \
                        and now_tick < bar_tick:
                    self._cancelled.add(pending[1])
                    self._answer_off[n.pitch] = (off, self._push(off, OFF, n.pitch, 0))
                    continue
                on = bar_tick                    # cannot tie: strike it again on the downbeat
            if on < now_tick:                    # late: not played off the grid
                self.skipped += 1
                continue
            self._push(on, ON, n.pitch, n.velocity)
            self._answer_off[n.pitch] = (max(off, on + 1), self._push(max(off, on + 1), OFF, n.pitch, 0))

    def next_tick(self) -> int | None:
        """The tick of the next event (None: nothing scheduled)."""
        while self._events and self._events[0][2] in self._cancelled:
            self._cancelled.discard(heapq.heappop(self._events)[2])
        return self._events[0][0] if self._events else None

    def fire(self, tick: int) -> int:
        """Send every event due at or before ``tick``; returns how many were sent."""
        count = 0
        while (due := self.next_tick()) is not None and due <= tick:
            due, kind, seq, pitch, velocity = heapq.heappop(self._events)
            if self._answer_off.get(pitch, (None, None))[1] == seq:
                del self._answer_off[pitch]
            message = self._message("note_on" if kind == ON else "note_off", self.channel, pitch, velocity)
            for _ in range(self._count(message)):
                self._send(due, message)
                count += 1
        return count

    def thru(self, message: Any) -> None:
        """Pass a played message straight out (note-ons and -offs counted like the answers')."""
        for _ in range(self._count(message)):
            self._send(None, message)

    def all_off(self) -> None:
        """Forget what is scheduled; a note-off for every note-on still open, then All Notes Off."""
        self._events.clear()
        self._cancelled.clear()
        self._answer_off.clear()
        channels = {self.channel} | {channel for channel, _ in self._sounding}
        for (channel, pitch), count in sorted(self._sounding.items()):
            for _ in range(count + self._deferred.pop((channel, pitch), 0)):
                self._send(None, self._message("note_off", channel, pitch, 0))
        self._sounding.clear()
        self._deferred.clear()
        for channel in sorted(channels):
            self._send(None, _mido().Message("control_change", channel=channel, control=ALL_NOTES_OFF, value=0))

    @property
    def sounding(self) -> int:
        return sum(self._sounding.values())

    # --- plumbing -----------------------------------------------------------------------------
    def _push(self, tick: int, kind: int, pitch: int, velocity: int) -> int:
        seq = next(self._seq)
        heapq.heappush(self._events, (tick, kind, seq, pitch, velocity))
        return seq

    def _message(self, kind: str, channel: int, pitch: int, velocity: int) -> Any:
        return _mido().Message(kind, channel=channel, note=pitch, velocity=velocity)

    def _count(self, message: Any) -> int:
        """How many times to send ``message``: every note-on gets its note-off, but while another
        note of the same pitch and channel sounds (an answer over a held thru note) the offs wait,
        so the other is not cut; they all go when the last one ends."""
        if message.type not in ("note_on", "note_off"):
            return 1
        key = (message.channel, message.note)
        if message.type == "note_on" and message.velocity > 0:
            self._sounding[key] = self._sounding.get(key, 0) + 1
            return 1
        left = self._sounding.get(key, 0) - 1
        if left > 0:
            self._sounding[key] = left
            self._deferred[key] = self._deferred.get(key, 0) + 1
            return 0
        self._sounding.pop(key, None)
        return 1 + self._deferred.pop(key, 0)

    def _send(self, tick: int | None, message: Any) -> None:
        self.port.send(message)
        self.sent += 1
        if self.on_send is not None and tick is not None:
            self.on_send(tick, message)
