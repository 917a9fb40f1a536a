# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Standard MIDI File bytes <-> tracks of events: read as real-world files need, written strictly.

:func:`decode_smf` reads what sequencers write, including what the specification allows but
other readers trip on: alien chunks (skipped), any meta event (a key signature no library can
name is just skipped), running status across meta and sysex events, a track without an
end-of-track event, a RIFF (``.rmi``) wrapper, trailing padding. It raises :class:`SmfError`
with one line for what cannot be read: no header, a bad division, an event cut off by the end of
the file. :func:`encode_smf` writes format 1 files with no running status.

An event is a tuple ``(tick, status, data1, data2, payload)``: ``tick`` absolute from the track's
start; ``status`` 0x80..0xEF for a channel message (data1, data2 its data bytes), 0xFF for a
meta event (data1 its type, payload its data), 0xF0/0xF7 for sysex (payload its data).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

META, SYSEX, ESCAPE = 0xFF, 0xF0, 0xF7
END_OF_TRACK, TEMPO, TIME_SIGNATURE, TRACK_NAME = 0x2F, 0x51, 0x58, 0x03
MAX_DELTA = 0x0FFFFFFF               # four bytes of variable-length quantity
MAX_TEMPO = 0xFFFFFF                 # microseconds per beat in three bytes: 3.58 BPM
SMPTE_RATES = {24: 24.0, 25: 25.0, 29: 30000 / 1001, 30: 30.0}
MAX_TRACKS = 65535
# data bytes after each status of the system range (0xF1..0xFE, not allowed in files but seen)
_SYSTEM_LENGTH = {0xF1: 1, 0xF2: 2, 0xF3: 1}

Event = tuple[int, int, int, int, bytes]


class SmfError(ValueError):
    """Bytes that cannot be read as a Standard MIDI File; the message says where and why."""


@dataclass(frozen=True)
class Division:
    """The header's time division: ticks per beat, or SMPTE frames per second x ticks per frame."""

    ticks_per_beat: int = 0
    frames_per_second: float = 0.0
    ticks_per_frame: int = 0

    @property
    def smpte(self) -> bool:
        return self.ticks_per_beat == 0

    @property
    def seconds_per_tick(self) -> float:
        return 1.0 / (self.frames_per_second * self.ticks_per_frame)

    @classmethod
    def from_word(cls, word: int) -> Division:
        if word & 0x8000:
            fps, tpf = 256 - (word >> 8), word & 0xFF
            if fps not in SMPTE_RATES:
                raise SmfError(f"the header's SMPTE time division gives {fps} frames per second; only 24, 25, 29.97 "
                               "and 30 exist")
            if tpf == 0:
                raise SmfError("the header's SMPTE time division gives 0 ticks per frame")
            return cls(0, SMPTE_RATES[fps], tpf)
        if word == 0:
            raise SmfError("the header gives 0 ticks per beat, so no note has a time")
        return cls(word)

    def to_word(self) -> int:
        if not self.smpte:
            return self.ticks_per_beat
        fps = next(k for k, v in SMPTE_RATES.items() if v == self.frames_per_second)
        return ((256 - fps) << 8) | self.ticks_per_frame


@dataclass
class Smf:
    """A decoded file: its format, division and tracks (chunk bytes, read lazily by :func:`events`)."""

    format: int
    division: Division
    tracks: list[bytes]
    cut: int = -1                    # index of a track the end of the file cut short, or -1
    warnings: list[str] = field(default_factory=list)

    def events(self, index: int, kinds: frozenset[int] | None = None, controllers: frozenset[int] | None = None,
               metas: frozenset[int] | None = None) -> Iterator[Event]:
        """The events of track ``index``, in file order (see :func:`track_events`)."""
        return track_events(self.tracks[index], index, self.warnings, index == self.cut, kinds, controllers, metas)


def _unwrap_riff(data: bytes) -> bytes:
    """The SMF inside a RIFF RMID file (``.rmi``), else ``data`` unchanged."""
    if data[:4] != b"RIFF" or data[8:12] != b"RMID":
        return data
    pos = 12
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos + 4:pos + 8], "little")
        if data[pos:pos + 4] == b"data":
            return data[pos + 8:pos + 8 + size]
        pos += 8 + size + (size & 1)
    raise SmfError("it is a RIFF MIDI file (.rmi) without a data chunk")


def decode_smf(data: bytes) -> Smf:
    """Split the file into header and track chunks; :class:`SmfError` when it is not a MIDI file."""
    data = _unwrap_riff(data)
    if data[:4] != b"MThd":
        raise SmfError("it does not start with 'MThd', so it is not a Standard MIDI File")
    if len(data) < 14:
        raise SmfError("the header is cut short")
    length = int.from_bytes(data[4:8], "big")
    if length < 6 or 8 + length > len(data):
        raise SmfError(f"the header chunk says it is {length} bytes long")
    fmt, n_tracks, word = (int.from_bytes(data[i:i + 2], "big") for i in (8, 10, 12))
    if fmt > 2:
        raise SmfError(f"the header names format {fmt}; MIDI files are format 0, 1 or 2")
    smf = Smf(fmt, Division.from_word(word), [])
    pos = 8 + length
    while pos + 8 <= len(data) and len(smf.tracks) < MAX_TRACKS:
        kind, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "big")
        if not all(65 <= b <= 90 or 97 <= b <= 122 or 48 <= b <= 57 or b == 32 for b in kind):
            break                    # not a chunk: padding or junk after the last track
        body = data[pos + 8:pos + 8 + size]
        if kind == b"MTrk":
            if len(body) < size:
                smf.cut = len(smf.tracks)
            smf.tracks.append(body)
        pos += 8 + size
    rest = data[pos:pos + 8]
    if 0 < len(rest) < 8 and len(smf.tracks) < MAX_TRACKS and (rest.startswith(b"MTrk") or b"MTrk".startswith(rest)):
        raise SmfError(f"the file is truncated: it ends inside the header of track {len(smf.tracks) + 1}")
    if not smf.tracks:
        raise SmfError("it holds no track (no MTrk chunk)")
    if n_tracks != len(smf.tracks):
        smf.warnings.append(f"the header announces {n_tracks} track(s) and the file holds {len(smf.tracks)}; "
                            "all that are there were read")
    return smf


def _vlq(body: bytes, pos: int) -> tuple[int, int]:
    value = 0
    for i in range(4):
        byte = body[pos + i]           # IndexError at the end: the caller's truncation
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos + i + 1
    raise SmfError(f"a variable-length number at byte {pos} of its track runs past four bytes")


def track_events(body: bytes, index: int = 0, warnings: list[str] | None = None, cut: bool = False,
                 kinds: frozenset[int] | None = None, controllers: frozenset[int] | None = None,
                 metas: frozenset[int] | None = None) -> Iterator[Event]:
    """Events of one track chunk's bytes; stops at end-of-track or the end of the chunk.

    Filters (None: everything) keep only some events, so a reader that needs a few is not slowed
    by floods of others: ``kinds`` (channel message types such as 0x90, and SYSEX for sysex
    events), ``controllers`` (control change numbers), ``metas`` (meta event types; end-of-track
    always comes). Data bytes above 127 are clipped to 127, as mido does with ``clip=True``."""
    tick, pos, running, size = 0, 0, 0, len(body)
    try:
        while pos < size:
            start = pos
            byte = body[pos]
            if byte < 0x80:                      # the usual one-byte delta, without a call
                tick += byte
                pos += 1
            else:
                delta, pos = _vlq(body, pos)
                tick += delta
            status = body[pos]
            if status < 0x80:
                if not running:
                    raise SmfError(f"track {index + 1} has a data byte where an event must start (byte {start}): "
                                   "running status with no status before it")
                status = running
            else:
                pos += 1
            if status < 0xF0:
                running = status
                kind = status & 0xF0
                if kind in (0xC0, 0xD0):
                    pos += 1
                    if pos > size:
                        raise IndexError
                    if kinds is None or kind in kinds:
                        yield tick, status, min(body[pos - 1], 127), 0, b""
                    continue
                pos += 2
                if pos > size:
                    raise IndexError
                if kinds is None or kind in kinds:
                    a = body[pos - 2]
                    if kind != 0xB0 or controllers is None or a in controllers:
                        yield tick, status, min(a, 127), min(body[pos - 1], 127), b""
            elif status in (META, SYSEX, ESCAPE):
                if status == META:
                    kind = body[pos]
                    pos += 1
                length = body[pos]
                if length < 0x80:
                    pos += 1
                else:
                    length, pos = _vlq(body, pos)
                end = pos + length
                if end > size:
                    raise IndexError
                if status != META:
                    if kinds is None or SYSEX in kinds:
                        yield tick, status, 0, 0, bytes(body[pos:end])
                elif kind == END_OF_TRACK:
                    yield tick, META, kind, 0, bytes(body[pos:end])
                    return
                elif metas is None or kind in metas:
                    yield tick, META, kind, 0, bytes(body[pos:end])
                pos = end
            else:                     # system messages do not belong in files: skip them and their data
                pos += _SYSTEM_LENGTH.get(status, 0)
                if pos > size:
                    raise IndexError
    except IndexError:
        if cut:
            raise SmfError(f"the file is truncated: it ends inside track {index + 1}") from None
        if warnings is not None:
            warnings.append(f"track {index + 1} ends in the middle of an event; the events before it were read")
        return
    if cut:
        raise SmfError(f"the file is truncated: track {index + 1} is shorter than its header says")


def _vlq_bytes(value: int) -> bytes:
    if not 0 <= value <= MAX_DELTA:
        raise SmfError(f"a time step of {value} ticks cannot be stored in a MIDI file (at most {MAX_DELTA})")
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def encode_track(events: Sequence[Event]) -> bytes:
    """Events (sorted by tick) -> one MTrk chunk; an end-of-track event is added when missing."""
    out = bytearray()
    last = 0
    for tick, status, a, b, payload in events:
        if tick < last:
            raise SmfError("events must be sorted by time")
        out += _vlq_bytes(tick - last)
        last = tick
        if status == META:
            out += bytes((META, a)) + _vlq_bytes(len(payload)) + payload
            if a == END_OF_TRACK:
                break
        elif status in (SYSEX, ESCAPE):
            out += bytes((status,)) + _vlq_bytes(len(payload)) + payload
        elif 0x80 <= status < 0xF0 and 0 <= a < 128 and 0 <= b < 128:
            out += bytes((status, a)) if 0xC0 <= status < 0xE0 else bytes((status, a, b))
        else:
            raise SmfError(f"not a MIDI event: status {status}, data {a}, {b}")
    else:
        out += b"\x00" + bytes((META, END_OF_TRACK, 0))
    return b"MTrk" + len(out).to_bytes(4, "big") + bytes(out)


def encode_smf(tracks: Sequence[Sequence[Event]], division: Division, fmt: int = 1) -> bytes:
    """Tracks of events -> the bytes of a Standard MIDI File."""
    if not 1 <= len(tracks) <= MAX_TRACKS:
        raise SmfError(f"a MIDI file holds 1 to {MAX_TRACKS} tracks, not {len(tracks)}")
    header = b"MThd" + (6).to_bytes(4, "big") + b"".join(
        v.to_bytes(2, "big") for v in (fmt, len(tracks), division.to_word()))
    return header + b"".join(encode_track(t) for t in tracks)
