# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""MIDI files <-> notes in beats: several tracks and channels, tempo and meter, the sustain pedal.

``read_midi`` merges every track and channel into one note list. Drums (channel 10) are left out
unless asked for; notes held by the sustain pedal (CC64 at 64 or more) are lengthened to the
pedal's release, as pretty_midi's piano roll does. Times are in beats (quarter notes), so tempo
changes do not move notes; SMPTE-timed files are converted through their tempo map. Whatever was
odd about the file is said in ``Score.warnings``; what makes it unreadable is one
:class:`MidiError` line. ``write_midi`` writes one track per part, the first carrying tempo and
meter, and refuses values MIDI cannot hold rather than writing them wrong.
"""

from __future__ import annotations

import bisect
import logging
import os
from array import array
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from . import smf
from .config import MAX_BARS, MAX_BEATS_PER_BAR, METER_STEP, MIN_BEATS_PER_BAR
from .errors import MidiError, QbdiError
from .paths import read_input, shown, write_file
from .pianoroll import Note, check_output_notes

log = logging.getLogger(__name__)

DRUM_CHANNEL = 9
SUSTAIN_PEDAL = 64                 # controller number; down at 64 or more
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_NOTES = 200_000
TICKS_PER_BEAT = 480
DEFAULT_TEMPO_US = 500_000         # 120 BPM, the standard's default before any tempo event
NOTE_OFF, NOTE_ON, CONTROL = 0x80, 0x90, 0xB0
WANTED, PEDALS = frozenset((NOTE_OFF, NOTE_ON, CONTROL)), frozenset((SUSTAIN_PEDAL,))
METAS = frozenset((smf.TEMPO, smf.TIME_SIGNATURE))


@dataclass
class Score:
    """A MIDI file read into beats: notes, the first tempo and time signature, and what was odd."""

    notes: list[Note]
    tempo_bpm: float = 120.0
    time_signature: tuple[int, int] = (4, 4)
    length_beats: float = 0.0
    warnings: list[str] = field(default_factory=list)
    meters: list[tuple[float, tuple[int, int]]] = field(default_factory=list)  # later changes: (beat, signature)

    @property
    def beats_per_bar(self) -> float:
        return beats_per_bar_of(self.time_signature)

    def sections(self) -> list[tuple[float, float, float]]:
        """The piece in meters: ``(start beat, end beat, beats per bar)`` per section, in order."""
        starts = [(0.0, self.time_signature)] + list(self.meters)
        ends = [beat for beat, _ in starts[1:]] + [max(self.length_beats, starts[-1][0])]
        return [(start, end, beats_per_bar_of(sig)) for (start, sig), end in zip(starts, ends)]


# --- meters: (numerator, denominator) <-> beats per bar ------------------------------------------
def beats_per_bar_of(signature: tuple[int, int]) -> float:
    """``(6, 8)`` -> 3.0 quarter-note beats per bar."""
    num, den = signature
    return num * 4.0 / den


def signature_of(beats_per_bar: float) -> tuple[int, int]:
    """Beats per bar -> the simplest meter that holds it exactly: 4 -> 4/4, 3.5 -> 7/8, 1.25 -> 5/16.

    Raises :class:`QbdiError` for a bar MIDI cannot write exactly (not a whole number of 16ths)."""
    for den in (4, 8, 16):
        num = beats_per_bar * den / 4
        if num == int(num) and 1 <= num <= 255:
            return int(num), den
    raise QbdiError(f"a bar of {beats_per_bar:g} beats is not a whole number of 16th notes, so no MIDI time "
                    f"signature holds it; use a multiple of {METER_STEP:g} (e.g. 3.25 is 13/16, 3.5 is 7/8)")


def usable_signature(signature: tuple[int, int]) -> bool:
    """A meter qbdi can improvise in: a bar of 0.25..32 beats that is a whole number of 16ths."""
    num, den = signature
    if num < 1 or den < 1 or den & (den - 1):
        return False
    bpb = beats_per_bar_of(signature)
    return MIN_BEATS_PER_BAR <= bpb <= MAX_BEATS_PER_BAR and (bpb / METER_STEP).is_integer()


# --- reading --------------------------------------------------------------------------------------
def read_midi(path: str | os.PathLike, include_drums: bool = False, sustain: bool = True) -> Score:
    """Read a type 0 or 1 MIDI file (``-``: standard input); :class:`MidiError` with a one-line reason."""
    try:
        data = read_input(path, "MIDI file", MAX_FILE_BYTES)
    except MidiError:
        raise
    except QbdiError as exc:
        raise MidiError(str(exc)) from None
    name = "standard input" if os.fspath(path) == "-" else shown(path)
    if not data:
        raise MidiError(f"{name} is empty (0 bytes); give a MIDI file")
    return decode_midi(data, name, include_drums, sustain)


def decode_midi(data: bytes, name: str = "the MIDI data", include_drums: bool = False,
                sustain: bool = True) -> Score:
    """The bytes of a MIDI file -> :class:`Score` (see :func:`read_midi`)."""
    try:
        parsed = smf.decode_smf(data)
    except smf.SmfError as exc:
        if data[:4] not in (b"MThd", b"RIFF"):
            raise MidiError(f"{name} is not a MIDI file (it does not start with 'MThd'); export it as a .mid") from None
        raise MidiError(f"{name} is a damaged or truncated MIDI file: {exc}; re-export it") from None
    if parsed.format == 2:
        raise MidiError(f"{name} is a type 2 (asynchronous) MIDI file; export it as type 0 or 1")
    try:
        return _Reader(parsed, name, include_drums, sustain).score()
    except smf.SmfError as exc:
        raise MidiError(f"{name} is a damaged or truncated MIDI file: {exc}; re-export it") from None


class _Reader:
    """Walks the tracks once, pairing notes and collecting tempo, meter and pedal events (in ticks)."""

    def __init__(self, parsed: smf.Smf, name: str, include_drums: bool, sustain: bool) -> None:
        self.parsed, self.name, self.include_drums, self.sustain = parsed, name, include_drums, sustain
        self.notes: list[tuple[int, int, int, int, int]] = []    # (channel, pitch, on, off, velocity)
        self.tempos: list[tuple[int, int]] = []
        self.signatures: list[tuple[int, tuple[int, int]]] = []
        self.pedal: dict[int, tuple[array, array]] = defaultdict(lambda: (array("q"), array("b")))
        self.warnings = parsed.warnings
        self.drums = self.unreleased = self.bad_tempos = 0
        self.end_tick = 0

    def score(self) -> Score:
        for index in range(len(self.parsed.tracks)):
            self._track(index)
        if not self.notes:
            if self.drums:
                raise MidiError(f"{self.name} holds only drums ({self.drums} note(s) on channel 10), which qbdi leaves "
                                "out: it improvises on pitched parts; give a file with one (or move it off channel 10)")
            raise MidiError(f"{self.name} has no notes to improvise on; give a MIDI file with notes")
        lengthened = self._apply_pedal() if self.sustain else 0
        to_beats = self._clock()
        notes = [Note(pitch, to_beats(on), max(0.0, to_beats(off) - to_beats(on)), vel)
                 for _, pitch, on, off, vel in self.notes]
        notes.sort(key=lambda n: (n.start, n.pitch))
        signature = self._signature()
        meters = self._meters(to_beats, signature)
        tempo_bpm = self._tempo_bpm()
        notes_end = max(n.end for n in notes)
        length = max(to_beats(self.end_tick), notes_end)
        bar = beats_per_bar_of(signature)
        if length > MAX_BARS * bar >= notes_end:
            self.warnings.append(f"the file ends {length / bar:.0f} bars in, long after its last note; "
                                 "the silence after the last note was left out")
            length = notes_end
        self._summarise(lengthened, signature, tempo_bpm)
        return Score(notes, tempo_bpm, signature, length, self.warnings, meters)

    def _track(self, index: int) -> None:
        open_notes: dict[tuple[int, int], deque] = defaultdict(deque)
        tick = 0
        for tick, status, a, b, payload in self.parsed.events(index, WANTED, PEDALS, METAS):
            kind, channel = status & 0xF0, status & 0x0F
            if kind == NOTE_ON and b > 0:
                open_notes[(channel, a)].append((tick, b))
            elif kind in (NOTE_ON, NOTE_OFF):
                if open_notes[(channel, a)]:
                    start, vel = open_notes[(channel, a)].popleft()  # first on, first off for re-struck pitches
                    self._note(channel, a, start, tick, vel)
            elif kind == CONTROL and a == SUSTAIN_PEDAL and status < 0xF0:
                ticks, states = self.pedal[channel]
                ticks.append(tick)
                states.append(b >= 64)
            elif status == smf.META and a == smf.TEMPO:
                self._tempo(tick, payload)
            elif status == smf.META and a == smf.TIME_SIGNATURE and len(payload) >= 2:
                self.signatures.append((tick, (payload[0], 2 ** min(payload[1], 30))))
        for (channel, pitch), pending in open_notes.items():  # never released: end at the track's end
            for start, vel in pending:
                self.unreleased += channel != DRUM_CHANNEL or self.include_drums
                self._note(channel, pitch, start, tick, vel)
        self.end_tick = max(self.end_tick, tick)

    def _note(self, channel: int, pitch: int, on: int, off: int, velocity: int) -> None:
        if channel == DRUM_CHANNEL and not self.include_drums:
            self.drums += 1
            return
        self.notes.append((channel, pitch, on, off, velocity))
        if len(self.notes) > MAX_NOTES:
            raise MidiError(f"{self.name} has more than {MAX_NOTES} notes; cut the part to improvise on")

    def _tempo(self, tick: int, payload: bytes) -> None:
        tempo = int.from_bytes(payload[:3], "big") if len(payload) >= 3 else 0
        if tempo <= 0:
            self.bad_tempos += 1      # a tempo of 0 (or a short event) means nothing: ignore it
        else:
            self.tempos.append((tick, tempo))

    def _apply_pedal(self) -> int:
        """Lengthen notes released while the pedal is down to the pedal's release (or the next strike
        of the same pitch); returns how many were lengthened."""
        intervals: dict[int, list[tuple[int, int]]] = {}
        for channel, (ticks, states) in self.pedal.items():
            order = np.argsort(np.frombuffer(ticks, dtype=np.int64), kind="stable")   # tracks merged in time
            t, down = np.frombuffer(ticks, dtype=np.int64)[order], np.frombuffer(states, dtype=np.int8)[order]
            changes = np.flatnonzero(np.diff(down, prepend=0) != 0)                     # up -> down, down -> up
            spans, down_at = [], None
            for k in changes.tolist():
                if down[k] and down_at is None:
                    down_at = int(t[k])
                elif not down[k] and down_at is not None:
                    spans.append((down_at, int(t[k])))
                    down_at = None
            if down_at is not None:
                spans.append((down_at, max(self.end_tick, down_at)))
            intervals[channel] = spans
        if not any(intervals.values()):
            return 0
        onsets: dict[tuple[int, int], list[int]] = defaultdict(list)
        for channel, pitch, on, _, _ in self.notes:
            onsets[(channel, pitch)].append(on)
        for ticks in onsets.values():
            ticks.sort()
        lengthened = 0
        for i, (channel, pitch, on, off, vel) in enumerate(self.notes):
            spans = intervals.get(channel)
            if not spans:
                continue
            k = bisect.bisect_right(spans, (off, float("inf"))) - 1
            if k < 0 or not spans[k][0] < off < spans[k][1]:
                continue
            strikes = onsets[(channel, pitch)]
            nxt = bisect.bisect_right(strikes, on)
            end = min(spans[k][1], strikes[nxt] if nxt < len(strikes) else spans[k][1])
            if end > off:
                self.notes[i] = (channel, pitch, on, end, vel)
                lengthened += 1
        return lengthened

    def _clock(self):
        """Ticks -> beats: ticks / ticks-per-beat, or for SMPTE time through the tempo map."""
        division = self.parsed.division
        if not division.smpte:
            tpb = division.ticks_per_beat
            return lambda tick: tick / tpb
        spt = division.seconds_per_tick
        ticks, beats, tempo = [0], [0.0], DEFAULT_TEMPO_US
        for tick, us in sorted(self.tempos):
            beats.append(beats[-1] + (tick - ticks[-1]) * spt * 1e6 / tempo)
            ticks.append(tick)
            tempo = us
        tempos = [DEFAULT_TEMPO_US] + [us for _, us in sorted(self.tempos)]

        def to_beats(tick: int) -> float:
            k = bisect.bisect_right(ticks, tick) - 1
            return beats[k] + (tick - ticks[k]) * spt * 1e6 / tempos[k]
        return to_beats

    def _signature(self) -> tuple[int, int]:
        self.signatures.sort(key=lambda s: s[0])
        usable = [s for _, s in self.signatures if usable_signature(s)]
        if len(usable) < len(self.signatures):
            bad = next(s for _, s in self.signatures if not usable_signature(s))
            used = f"{usable[0][0]}/{usable[0][1]}" if usable else "4/4"
            self.warnings.append(f"time signature {bad[0]}/{bad[1]} is not a meter qbdi can use (a bar of 0.25 to 32 "
                                 f"beats, whole 16ths); {used} was used")
        return usable[0] if usable else (4, 4)

    def _meters(self, to_beats, first: tuple[int, int]) -> list[tuple[float, tuple[int, int]]]:
        """The usable meter changes after the first meter: ``(beat, signature)``, each a real change."""
        out: list[tuple[float, tuple[int, int]]] = []
        current = first
        for tick, sig in self.signatures:
            beat = to_beats(tick)
            if not usable_signature(sig) or sig == current:
                continue
            if beat <= 0:
                continue
            if out and abs(out[-1][0] - beat) < 1e-9:
                out[-1] = (beat, sig)
            else:
                out.append((beat, sig))
            current = sig
        if out:
            listed = ", ".join(f"{n}/{d} at beat {b:g}" for b, (n, d) in out[:4])
            self.warnings.append(f"time signature changes ({listed}); each section is improvised in its own meter")
        return out

    def _tempo_bpm(self) -> float:
        self.tempos.sort()
        if self.bad_tempos:
            self.warnings.append(f"{self.bad_tempos} tempo event(s) of 0 (or damaged) were ignored")
        tempo_bpm = 60e6 / self.tempos[0][1] if self.tempos else 120.0
        if len({t for _, t in self.tempos}) > 1:
            self.warnings.append(f"tempo changes; the output carries the first tempo, {tempo_bpm:.1f} BPM")
        return round(tempo_bpm, 3)

    def _summarise(self, lengthened: int, signature: tuple[int, int], tempo_bpm: float) -> None:
        if self.drums:
            self.warnings.append(f"{self.drums} drum note(s) on channel 10 were left out")
        if lengthened:
            self.warnings.append(f"{lengthened} note(s) held by the sustain pedal (CC64) were lengthened to the "
                                 "pedal's release")
        if self.unreleased:
            self.warnings.append(f"{self.unreleased} note(s) were never released; they end where their track ends")
        division = self.parsed.division
        if division.smpte:
            self.warnings.append(f"the file is timed in SMPTE frames ({division.frames_per_second:g} per second); "
                                 f"its notes were placed on beats through its tempo ({tempo_bpm:g} BPM)")


# --- writing --------------------------------------------------------------------------------------
def encode_midi(tracks: Sequence[tuple[str, Sequence[Note]]], tempo_bpm: float = 120.0,
                time_signature: tuple[int, int] = (4, 4),
                meters: Sequence[tuple[float, tuple[int, int]]] = (), length_beats: float | None = None) -> bytes:
    """A type 1 MIDI file's bytes: a tempo/meter track, then one named track per part (own channel).
    ``meters``: later meter changes ``(beat, signature)`` (:attr:`Score.meters`). ``length_beats``: the
    file's length (every track ends there, or at its last event if later; default: at its last event),
    so a clip whose last bar ends in silence still has its whole bars.

    Raises :class:`QbdiError` for anything MIDI cannot hold (a pitch outside 0..127, a velocity
    outside 1..127, a time that is not finite or too late, a meter that is not n/2^k)."""
    if not isinstance(tempo_bpm, (int, float)) or not 0 < tempo_bpm < float("inf"):
        raise QbdiError(f"the tempo must be a positive number of BPM, got {tempo_bpm!r}")
    tempo = min(smf.MAX_TEMPO, max(1, round(60e6 / tempo_bpm)))     # 3.58 BPM is the slowest MIDI can store
    num, den = time_signature
    if not (1 <= num <= 255 and 1 <= den <= 2 ** 30 and den & (den - 1) == 0):
        raise QbdiError(f"{num}/{den} is not a time signature MIDI can store (n/2^k, n from 1 to 255)")
    meta = [(0, smf.META, smf.TEMPO, 0, tempo.to_bytes(3, "big")),
            (0, smf.META, smf.TIME_SIGNATURE, 0, bytes((num, den.bit_length() - 1, 24, 8)))]
    for beat, (n, d) in meters:
        if not (1 <= n <= 255 and 1 <= d <= 2 ** 30 and d & (d - 1) == 0) or not 0 <= beat < float("inf"):
            raise QbdiError(f"{n}/{d} at beat {beat} is not a meter change MIDI can store")
        meta.append((int(round(beat * TICKS_PER_BEAT)), smf.META, smf.TIME_SIGNATURE, 0,
                     bytes((n, d.bit_length() - 1, 24, 8))))
    out = [meta]
    for index, (name, notes) in enumerate(tracks):
        check_output_notes(notes, max_beats=smf.MAX_DELTA / TICKS_PER_BEAT)
        channel = (index if index < DRUM_CHANNEL else index + 1) % 16
        events = []
        for n in notes:
            on = int(round(n.start * TICKS_PER_BEAT))
            off = max(on + 1, int(round(n.end * TICKS_PER_BEAT)))
            events.append((on, 1, int(n.pitch), int(n.velocity)))
            events.append((off, 0, int(n.pitch), 0))
        events.sort()  # note-offs before note-ons at the same tick
        label = str(name).encode("utf-8", "replace")[:255]
        track = [(0, smf.META, smf.TRACK_NAME, 0, label)]
        track += [(tick, (NOTE_ON if is_on else NOTE_OFF) | channel, pitch, vel, b"")
                  for tick, is_on, pitch, vel in events]
        out.append(track)
    if length_beats is not None:
        if not 0 <= length_beats <= smf.MAX_DELTA / TICKS_PER_BEAT:
            raise QbdiError(f"the file's length must be from 0 to {smf.MAX_DELTA // TICKS_PER_BEAT} beats, "
                            f"got {length_beats!r}")
        end = int(round(length_beats * TICKS_PER_BEAT))
        out = [t + [(max(end, t[-1][0]), smf.META, smf.END_OF_TRACK, 0, b"")] for t in out]
    try:
        return smf.encode_smf(out, smf.Division(TICKS_PER_BEAT))
    except smf.SmfError as exc:
        raise QbdiError(f"cannot write the MIDI file: {exc}") from None


def write_midi(path: str | os.PathLike, tracks: Sequence[tuple[str, Sequence[Note]]],
               tempo_bpm: float = 120.0, time_signature: tuple[int, int] = (4, 4), replace: bool = True) -> None:
    """Write :func:`encode_midi`'s bytes to ``path``: a new file, or (``replace``) over a regular file,
    atomically. A link, folder or device is never replaced (see :mod:`bridge.paths`)."""
    write_file(path, encode_midi(tracks, tempo_bpm, time_signature), replace=replace)
