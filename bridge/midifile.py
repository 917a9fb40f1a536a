# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""MIDI files <-> notes in beats (mido): several tracks and channels, tempo and meter meta events.

``read_midi`` merges every track and channel into one note list (drums on channel 10 are left
out unless asked for); ``write_midi`` writes one track per part, the first carrying tempo and
time signature. Times are in beats (quarter notes) so tempo changes do not move notes.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import mido

from .errors import MidiError
from .pianoroll import Note

log = logging.getLogger(__name__)

DRUM_CHANNEL = 9
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_NOTES = 200_000
TICKS_PER_BEAT = 480


@dataclass
class Score:
    """A MIDI file read into beats: notes, the first tempo and time signature, and what was odd."""

    notes: list[Note]
    tempo_bpm: float = 120.0
    time_signature: tuple[int, int] = (4, 4)
    length_beats: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def beats_per_bar(self) -> float:
        num, den = self.time_signature
        return num * 4.0 / den


def read_midi(path: str | os.PathLike, include_drums: bool = False) -> Score:
    """Read a type 0 or 1 MIDI file; raise :class:`MidiError` with a one-line reason otherwise."""
    path = Path(path)
    if not path.exists():
        raise MidiError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise MidiError(f"{path} is a folder; give a .mid file")
    size = path.stat().st_size
    if size == 0:
        raise MidiError(f"{path} is empty (0 bytes); give a MIDI file")
    if size > MAX_FILE_BYTES:
        raise MidiError(f"{path} is {size // 1024 // 1024} MB; the limit is {MAX_FILE_BYTES // 1024 // 1024} MB, "
                        "split it or cut the part to improvise on")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != b"MThd":
        raise MidiError(f"{path} is not a MIDI file (it does not start with 'MThd'); export it as a .mid")
    try:
        mid = mido.MidiFile(path, clip=True)
    except (EOFError, OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise MidiError(f"{path} is a damaged or truncated MIDI file ({exc}); re-export it") from None
    if mid.type == 2:
        raise MidiError(f"{path} is a type 2 (asynchronous) MIDI file; export it as type 0 or 1")
    return _score_from(mid, path, include_drums)


def _score_from(mid: mido.MidiFile, path: Path, include_drums: bool) -> Score:
    tpb = mid.ticks_per_beat or TICKS_PER_BEAT
    tempos: list[tuple[int, int]] = []
    signatures: list[tuple[int, tuple[int, int]]] = []
    notes: list[Note] = []
    drums = 0
    end_tick = 0
    for track in mid.tracks:
        tick = 0
        open_notes: dict[tuple[int, int], deque] = defaultdict(deque)
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                tempos.append((tick, msg.tempo))
            elif msg.type == "time_signature":
                signatures.append((tick, (msg.numerator, msg.denominator)))
            elif msg.type in ("note_on", "note_off"):
                key = (msg.channel, msg.note)
                if msg.type == "note_on" and msg.velocity > 0:
                    open_notes[key].append((tick, msg.velocity))
                elif open_notes[key]:
                    start, vel = open_notes[key].popleft()  # first on, first off for re-struck pitches
                    if msg.channel == DRUM_CHANNEL and not include_drums:
                        drums += 1
                    else:
                        notes.append(Note(msg.note, start / tpb, (tick - start) / tpb, vel))
                if len(notes) > MAX_NOTES:
                    raise MidiError(f"{path} has more than {MAX_NOTES} notes; cut the part to improvise on")
        for (channel, pitch), pending in open_notes.items():  # never released: end at the track's end
            for start, vel in pending:
                if channel != DRUM_CHANNEL or include_drums:
                    notes.append(Note(pitch, start / tpb, (tick - start) / tpb, vel))
        end_tick = max(end_tick, tick)
    warnings = []
    if drums:
        warnings.append(f"{drums} drum note(s) on channel 10 were left out")
    tempos.sort()
    signatures.sort()
    tempo_bpm = mido.tempo2bpm(tempos[0][1]) if tempos else 120.0
    signature = signatures[0][1] if signatures else (4, 4)
    if len({s for _, s in signatures}) > 1:
        warnings.append(f"time signature changes; using the first, {signature[0]}/{signature[1]}")
    if len({t for _, t in tempos}) > 1:
        warnings.append(f"tempo changes; the output carries the first tempo, {tempo_bpm:.1f} BPM")
    if not notes:
        raise MidiError(f"{path} has no notes to improvise on; give a MIDI file with notes")
    notes.sort(key=lambda n: (n.start, n.pitch))
    length = max(end_tick / tpb, max(n.end for n in notes))
    return Score(notes, round(tempo_bpm, 3), signature, length, warnings)


def write_midi(path: str | os.PathLike, tracks: Sequence[tuple[str, Sequence[Note]]],
               tempo_bpm: float = 120.0, time_signature: tuple[int, int] = (4, 4)) -> None:
    """Write a type 1 MIDI file: a tempo/meter track then one named track per part (own channel)."""
    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm), time=0))
    num, den = time_signature
    meta.append(mido.MetaMessage("time_signature", numerator=num, denominator=den, time=0))
    mid.tracks.append(meta)
    for index, (name, notes) in enumerate(tracks):
        channel = index if index < DRUM_CHANNEL else index + 1
        events = []
        for n in notes:
            on = int(round(n.start * TICKS_PER_BEAT))
            off = max(on + 1, int(round(n.end * TICKS_PER_BEAT)))
            events.append((on, 1, n.pitch, int(n.velocity)))
            events.append((off, 0, n.pitch, 0))
        events.sort()  # note-offs before note-ons at the same tick
        track = mido.MidiTrack()
        track.append(mido.MetaMessage("track_name", name=name, time=0))
        last = 0
        for tick, is_on, pitch, vel in events:
            kind = "note_on" if is_on else "note_off"
            track.append(mido.Message(kind, channel=channel % 16, note=pitch, velocity=vel, time=tick - last))
            last = tick
        mid.tracks.append(track)
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    mid.save(tmp)
    os.replace(tmp, path)
