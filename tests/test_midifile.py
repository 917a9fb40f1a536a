# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import mido
import pytest
from builders import chord_bars, midi_file

from bridge.errors import MidiError
from bridge.midifile import read_midi, write_midi


def test_write_then_read_keeps_notes_tempo_and_meter(tmp_path):
    notes = chord_bars(beats_per_bar=3.0)
    path = midi_file(tmp_path / "q.mid", notes, tempo=93.0, signature=(3, 4))
    score = read_midi(path)
    assert score.tempo_bpm == pytest.approx(93.0, abs=0.01)
    assert score.time_signature == (3, 4) and score.beats_per_bar == 3.0
    assert sorted(score.notes) == sorted(notes)


def test_several_tracks_channels_and_drums(tmp_path):
    mid = mido.MidiFile(type=1, ticks_per_beat=96)
    for channel, pitch in ((0, 60), (5, 64), (9, 36)):
        track = mido.MidiTrack()
        track += [mido.Message("note_on", channel=channel, note=pitch, velocity=70, time=0),
                  mido.Message("note_off", channel=channel, note=pitch, velocity=0, time=96)]
        mid.tracks.append(track)
    mid.save(tmp_path / "m.mid")
    score = read_midi(tmp_path / "m.mid")
    assert sorted(n.pitch for n in score.notes) == [60, 64]
    assert any("drum" in w for w in score.warnings)
    assert sorted(n.pitch for n in read_midi(tmp_path / "m.mid", include_drums=True).notes) == [36, 60, 64]


def test_overlapping_same_pitch_and_unterminated_notes(tmp_path):
    mid = mido.MidiFile(type=0, ticks_per_beat=100)
    track = mido.MidiTrack()
    track += [mido.Message("note_on", note=60, velocity=80, time=0),
              mido.Message("note_on", note=60, velocity=90, time=50),
              mido.Message("note_off", note=60, time=50),
              mido.Message("note_off", note=60, time=100),
              mido.Message("note_on", note=67, velocity=80, time=0),
              mido.MetaMessage("end_of_track", time=200)]
    mid.tracks.append(track)
    mid.save(tmp_path / "o.mid")
    notes = read_midi(tmp_path / "o.mid").notes
    assert [(n.pitch, n.start, n.duration, n.velocity) for n in notes] == [
        (60, 0.0, 1.0, 80), (60, 0.5, 1.5, 90), (67, 2.0, 2.0, 80)]


@pytest.mark.parametrize("content, words", [
    (b"", "empty"), (b"hello world, not midi", "not a MIDI file"),
    (b"MThd\x00\x00\x00\x06\x00\x01\x00\x02", "damaged"),
])
def test_bad_files_raise_one_clear_error(tmp_path, content, words):
    path = tmp_path / "bad.mid"
    path.write_bytes(content)
    with pytest.raises(MidiError, match=words):
        read_midi(path)


def test_missing_type2_and_noteless_files(tmp_path):
    with pytest.raises(MidiError, match="no such file"):
        read_midi(tmp_path / "absent.mid")
    mid = mido.MidiFile(type=2)
    mid.tracks.append(mido.MidiTrack([mido.Message("note_on", note=60, time=0),
                                      mido.Message("note_off", note=60, time=10)]))
    mid.save(tmp_path / "t2.mid")
    with pytest.raises(MidiError, match="type 2"):
        read_midi(tmp_path / "t2.mid")
    write_midi(tmp_path / "silent.mid", [("x", [])])
    with pytest.raises(MidiError, match="no notes"):
        read_midi(tmp_path / "silent.mid")


def test_truncated_file_is_refused(tmp_path):
    path = midi_file(tmp_path / "full.mid", chord_bars())
    data = path.read_bytes()
    (tmp_path / "cut.mid").write_bytes(data[: len(data) // 2])
    with pytest.raises(MidiError):
        read_midi(tmp_path / "cut.mid")
