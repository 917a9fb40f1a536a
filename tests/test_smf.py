# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The Standard MIDI File codec: what it writes mido reads back the same; what it reads it reads
as tolerantly as real files need; anything else is one SmfError, never another exception."""

import io

import mido
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge import smf


def _chunk(kind: bytes, body: bytes) -> bytes:
    return kind + len(body).to_bytes(4, "big") + body


def _file(*tracks: bytes, fmt: int = 1, division: int = 480, n_tracks: int | None = None, extra: bytes = b"") -> bytes:
    header = b"".join(v.to_bytes(2, "big") for v in (fmt, len(tracks) if n_tracks is None else n_tracks, division))
    return _chunk(b"MThd", header) + b"".join(_chunk(b"MTrk", t) for t in tracks) + extra


def _events(data: bytes, index: int = 0) -> list:
    parsed = smf.decode_smf(data)
    return list(parsed.events(index))


def test_encode_then_mido_reads_the_same_events():
    track = [(0, smf.META, smf.TRACK_NAME, 0, b"piano"), (0, 0x90, 60, 100, b""), (480, 0x80, 60, 0, b""),
             (480, 0xB3, 64, 127, b""), (960, 0xC3, 5, 0, b""), (2 ** 20, 0xE0, 0, 64, b"")]
    data = smf.encode_smf([track], smf.Division(96))
    mid = mido.MidiFile(file=io.BytesIO(data))
    assert mid.ticks_per_beat == 96 and len(mid.tracks) == 1
    kinds = [(m.type, getattr(m, "time", None)) for m in mid.tracks[0]]
    assert kinds == [("track_name", 0), ("note_on", 0), ("note_off", 480), ("control_change", 0),
                     ("program_change", 480), ("pitchwheel", 2 ** 20 - 960), ("end_of_track", 0)]
    # and the codec reads its own bytes back
    assert _events(data)[:-1] == track


def test_mido_files_read_the_same():
    mid = mido.MidiFile(type=1, ticks_per_beat=120)
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=400000), mido.Message("note_on", note=64, velocity=9),
                            mido.Message("note_on", note=64, velocity=0, time=60),    # mido writes running status
                            mido.Message("note_on", note=65, velocity=9, time=0)])
    mid.tracks.append(track)
    buf = io.BytesIO()
    mid.save(file=buf)
    events = _events(buf.getvalue())
    assert [(e[0], e[1], e[2], e[3]) for e in events] == [
        (0, 0xFF, smf.TEMPO, 0), (0, 0x90, 64, 9), (60, 0x90, 64, 0), (60, 0x90, 65, 9),
        (60, 0xFF, smf.END_OF_TRACK, 0)]


def test_what_other_readers_trip_on_is_read():
    key_signature_no_one_can_name = b"\x00\xff\x59\x02\x7f\x05"       # sf=127, mode 5
    running_after_meta = b"\x00\x90\x3c\x40" + b"\x00\xff\x01\x01x" + b"\x10\x3c\x00"   # 3c 00: running status
    sysex = b"\x00\xf0\x03\x7e\x7f\xf7" + b"\x00\x3e\x40"               # running status across a sysex
    body = key_signature_no_one_can_name + running_after_meta + sysex
    alien = _chunk(b"XFIH", b"\x01\x02\x03")
    data = _chunk(b"MThd", b"\x00\x01\x00\x01\x01\xe0") + alien + _chunk(b"MTrk", body) + b"\x00" * 7  # padding
    notes = [e for e in _events(data) if e[1] == 0x90]
    assert [(e[0], e[2], e[3]) for e in notes] == [(0, 60, 64), (16, 60, 0), (16, 62, 64)]
    riff = b"RIFF" + (len(data) + 12).to_bytes(4, "little") + b"RMID" + b"data" + len(data).to_bytes(4, "little") + data
    assert _events(riff) == _events(data)


def test_data_bytes_above_127_are_clipped_as_mido_does():
    assert _events(_file(b"\x00\x90\x3c\xc0"))[0][:4] == (0, 0x90, 60, 127)


@pytest.mark.parametrize("data, words", [
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x02", "cut short"),
    (_file(division=0x8000 | (256 - 17) << 8 | 4), "17 frames per second"),
    (_file(division=0xE700), "0 ticks per frame"),
    (_file(division=0), "0 ticks per beat"),
    (_file(fmt=3), "format 3"),
    (_chunk(b"MThd", b"\x00\x00\x00\x01\x01\xe0"), "no track"),
    (_file(b"\x00\x3c\x40"), "running status with no status"),
    (_file(b"\xff\xff\xff\xff\x7f\x90\x3c\x40"), "past four bytes"),
    (_file(b"\x00\x90\x3c\x40\x60\x80")[:-1] + b"", "truncated"),
    (_file(b"\x00\x90\x3c\x40\x60\x80\x3c\x00", n_tracks=2) + b"MT", "ends inside the header of track 2"),
    (_file(b"\x00\x90\x3c\x40\x60\x80\x3c\x00", n_tracks=2) + b"MTrk\x00\x00", "inside the header of track 2"),
    (b"RIFF\x04\x00\x00\x00RMIDjunk", "without a data chunk"),
    (b"not midi at all", "not a Standard MIDI File"),
])
def test_unreadable_files_raise_one_smf_error(data, words):
    with pytest.raises(smf.SmfError, match=words):
        parsed = smf.decode_smf(data)
        for i in range(len(parsed.tracks)):
            list(parsed.events(i))


def test_a_track_whose_last_event_is_cut_inside_a_complete_chunk_keeps_the_rest():
    parsed = smf.decode_smf(_file(b"\x00\x90\x3c\x40\x60\x80\x3c"))    # note-off missing its last byte
    assert [e[2] for e in parsed.events(0)] == [60] and "middle of an event" in parsed.warnings[0]


def test_a_few_bytes_after_the_last_track_that_are_no_chunk_header_are_ignored():
    parsed = smf.decode_smf(_file(b"\x00\x90\x3c\x40\x60\x80\x3c\x00") + b"\x00\x00")   # padding
    assert [e[2] for e in parsed.events(0)] == [60, 60]


def test_header_track_count_that_disagrees_is_a_warning():
    parsed = smf.decode_smf(_file(b"\x00\x90\x3c\x40", n_tracks=3))
    assert len(parsed.tracks) == 1 and "announces 3" in parsed.warnings[0]


def test_smpte_division_round_trips():
    for fps in (24, 25, 29, 30):
        division = smf.Division.from_word(((256 - fps) << 8) | 40)
        assert division.smpte and division.ticks_per_frame == 40
        assert smf.Division.from_word(division.to_word()) == division
    assert smf.Division.from_word(0xE728).seconds_per_tick == pytest.approx(1 / (25 * 40))


def test_writing_refuses_what_midi_cannot_hold():
    with pytest.raises(smf.SmfError, match="cannot be stored"):
        smf.encode_track([(smf.MAX_DELTA + 1, 0x90, 60, 64, b"")])
    with pytest.raises(smf.SmfError, match="not a MIDI event"):
        smf.encode_track([(0, 0x90, 128, 64, b"")])
    with pytest.raises(smf.SmfError, match="sorted"):
        smf.encode_track([(5, 0x90, 60, 64, b""), (4, 0x80, 60, 0, b"")])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 2))
def test_any_bytes_give_events_or_one_smf_error(tail, fmt):
    data = _chunk(b"MThd", fmt.to_bytes(2, "big") + b"\x00\x01\x00\x60") + b"MTrk" + tail
    try:
        parsed = smf.decode_smf(data)
        for i in range(len(parsed.tracks)):
            for tick, _status, a, b, payload in parsed.events(i):
                assert tick >= 0 and 0 <= a <= 255 and 0 <= b <= 127 and isinstance(payload, bytes)
    except smf.SmfError:
        pass
