# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import io

import mido
import pytest
from builders import chord_bars, midi_file, shared_corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge import smf
from bridge.errors import MidiError, QbdiError
from bridge.midifile import (
    beats_per_bar_of,
    decode_midi,
    encode_midi,
    read_midi,
    signature_of,
    usable_signature,
    write_midi,
)
from bridge.pianoroll import Note


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


# --- real-world files: a result with a warning, or one line naming the real problem ---------------
def _smf_bytes(*tracks, division=None, fmt=1) -> bytes:
    """Tracks of (tick, status, a, b, payload) events -> file bytes (any meta payload, as odd files have)."""
    return smf.encode_smf([list(t) for t in tracks], division or smf.Division(480), fmt)


def _note(tick, pitch, length, channel=0, velocity=80):
    return [(tick, 0x90 | channel, pitch, velocity, b""), (tick + length, 0x80 | channel, pitch, 0, b"")]


def _track(*events):
    return sorted((e for group in events for e in group), key=lambda e: e[0])


def _meta(tick, kind, payload):
    return [(tick, smf.META, kind, 0, payload)]


def test_a_key_signature_mido_cannot_name_is_skipped():
    data = _smf_bytes(_track(_meta(0, 0x59, b"\x7f\x05"), _note(0, 60, 480)))
    with pytest.raises(mido.KeySignatureError):     # what the old reader met
        mido.MidiFile(file=io.BytesIO(data))
    score = decode_midi(data)
    assert [(n.pitch, n.start, n.duration) for n in score.notes] == [(60, 0.0, 1.0)]


def test_tempo_zero_is_ignored_with_a_warning():
    score = decode_midi(_smf_bytes(_track(_meta(0, smf.TEMPO, b"\x00\x00\x00"), _meta(0, smf.TEMPO, b"\x07\xa1\x20"),
                                          _note(0, 60, 480))))
    assert score.tempo_bpm == pytest.approx(120.0) and any("tempo event(s) of 0" in w for w in score.warnings)


def test_the_slowest_storable_tempo_reads_and_writes_back():
    score = decode_midi(_smf_bytes(_track(_meta(0, smf.TEMPO, b"\xff\xff\xff"), _note(0, 60, 480))))
    assert score.tempo_bpm == pytest.approx(60e6 / 0xFFFFFF, abs=1e-3)
    again = decode_midi(encode_midi([("x", score.notes)], tempo_bpm=score.tempo_bpm))   # rounded above the limit
    assert again.tempo_bpm == pytest.approx(score.tempo_bpm, abs=1e-3)
    for bad in (0.0, -5.0, float("nan"), float("inf")):
        with pytest.raises(QbdiError, match="tempo"):
            encode_midi([("x", score.notes)], tempo_bpm=bad)


def test_smpte_time_is_converted_through_the_tempo_map():
    division = smf.Division.from_word(((256 - 25) << 8) | 40)          # 25 fps x 40 = 1000 ticks a second
    data = _smf_bytes(_track(_note(1000, 60, 500), _meta(2000, smf.TEMPO, (1_000_000).to_bytes(3, "big")),
                             _note(3000, 62, 1000)), division=division)
    score = decode_midi(data)
    # 120 BPM: 1 s = 2 beats; from 2 s at 60 BPM: 1 s = 1 beat
    assert [(n.pitch, n.start, n.duration) for n in score.notes] == [(60, 2.0, 1.0), (62, 5.0, 1.0)]
    assert any("SMPTE" in w for w in score.warnings)


def test_drum_only_files_say_the_drums_were_left_out():
    data = _smf_bytes(_track(_note(0, 36, 240, channel=9), _note(480, 38, 240, channel=9)))
    with pytest.raises(MidiError, match=r"only drums \(2 note\(s\) on channel 10\)"):
        decode_midi(data)
    assert len(decode_midi(data, include_drums=True).notes) == 2


def test_the_sustain_pedal_lengthens_notes_it_holds():
    pedal = [(120, 0xB0, 64, 127, b""), (960, 0xB0, 64, 0, b""), (1200, 0xB0, 64, 100, b"")]
    events = _track(_note(0, 60, 240), _note(0, 62, 60), _note(720, 60, 80), _note(600, 64, 100),
                    _note(1300, 67, 20), pedal, _meta(1440, smf.END_OF_TRACK, b""))
    score = decode_midi(_smf_bytes(events))
    got = {(n.pitch, n.start): n.duration for n in score.notes}
    assert got[(60, 0.0)] == 1.5            # held until 60 is struck again at 720
    assert got[(60, 1.5)] == 0.5            # 720 -> the release at 960
    assert got[(62, 0.0)] == 0.125          # released before the pedal went down
    assert got[(64, 1.25)] == 0.75          # 600 -> 960
    assert got[(67, 1300 / 480)] == pytest.approx((1440 - 1300) / 480)   # pedal down to the end of the file
    assert any("4 note(s) held by the sustain pedal" in w for w in score.warnings)
    plain = {(n.pitch, n.start): n.duration for n in decode_midi(_smf_bytes(events), sustain=False).notes}
    assert plain[(60, 0.0)] == 0.5 and plain[(64, 1.25)] == pytest.approx(100 / 480)


def test_notes_never_released_end_with_their_track_and_say_so():
    score = decode_midi(_smf_bytes(_track([(0, 0x90, 60, 80, b"")], _meta(960, smf.END_OF_TRACK, b""))))
    assert score.notes[0].duration == 2.0 and any("never released" in w for w in score.warnings)


def test_an_end_of_track_far_after_the_notes_is_trimmed():
    score = decode_midi(_smf_bytes(_track(_note(0, 60, 480), _meta(smf.MAX_DELTA, smf.END_OF_TRACK, b""))))
    assert score.length_beats == 1.0 and any("long after its last note" in w for w in score.warnings)


@pytest.mark.parametrize("tpb", [1, 7, 32767])
def test_absurd_tick_counts_give_beats(tpb):
    score = decode_midi(_smf_bytes(_track(_note(3 * tpb, 60, tpb)), division=smf.Division(tpb)))
    assert [(n.start, n.duration) for n in score.notes] == [(3.0, 1.0)]


@pytest.mark.parametrize("payload, words", [(b"\x00\x02", "0/4"), (b"\x07\x05", "7/32"), (b"\x04\xff", "4/"),
                                            (b"\xff\x00", "255/1")])
def test_meters_qbdi_cannot_use_fall_back_to_four_four(payload, words):
    score = decode_midi(_smf_bytes(_track(_meta(0, smf.TIME_SIGNATURE, payload + b"\x18\x08"), _note(0, 60, 480))))
    assert score.time_signature == (4, 4) and any(words in w and "4/4 was used" in w for w in score.warnings)


def test_meters_round_trip_and_bars_midi_cannot_hold_are_refused():
    for quarters in range(1, 129):
        bpb = quarters / 4
        num, den = signature_of(bpb)
        assert beats_per_bar_of((num, den)) == bpb and den in (4, 8, 16) and usable_signature((num, den))
    assert [signature_of(b) for b in (4, 3, 0.25, 1.25, 3.5, 6)] == [(4, 4), (3, 4), (1, 16), (5, 16), (7, 8), (6, 4)]
    for bad in (3.3, 0.1, 1 / 3):
        with pytest.raises(QbdiError, match="16th"):
            signature_of(bad)
    for bad in ((0, 4), (4, 0), (4, 3), (7, 32), (129, 4)):
        assert not usable_signature(bad)


def test_a_length_ends_every_track_there_unless_a_note_ends_later():
    notes = [Note(60, 0.0, 1.0, 90), Note(64, 2.0, 1.5, 80)]
    assert decode_midi(encode_midi([("a", notes)])).length_beats == 3.5
    score = decode_midi(encode_midi([("a", notes), ("b", notes[:1])], length_beats=8.0))
    assert score.length_beats == 8.0 and len(score.notes) == 3
    assert [len(t) for t in mido.MidiFile(file=io.BytesIO(encode_midi([("a", notes)], length_beats=8.0))).tracks] == \
        [3, 6]                                       # one end of track each, none added twice
    assert decode_midi(encode_midi([("a", notes)], length_beats=2.0)).length_beats == 3.5
    with pytest.raises(QbdiError, match="length"):
        encode_midi([("a", notes)], length_beats=-1.0)


def test_encode_and_decode_are_a_pair():
    notes = chord_bars(beats_per_bar=3.0)
    for signature in ((3, 4), (6, 8), (12, 16)):
        score = decode_midi(encode_midi([("a", notes), ("b", notes[:3])], tempo_bpm=87.5, time_signature=signature))
        assert score.time_signature == signature and score.tempo_bpm == pytest.approx(87.5, abs=1e-3)
        assert sorted(score.notes) == sorted(notes + notes[:3])


@pytest.mark.parametrize("note, words", [(Note(128, 0, 1, 80), "pitch 128"), (Note(-1, 0, 1, 80), "pitch -1"),
                                         (Note(60, 0, 1, 0), "velocity 0"), (Note(60, 0, 1, 128), "velocity 128"),
                                         (Note(60, float("nan"), 1, 80), "start nan"),
                                         (Note(60, 0, float("inf"), 80), "duration inf"),
                                         (Note(60, 1e9, 1, 80), "within")])
def test_writing_refuses_notes_midi_cannot_hold(tmp_path, note, words):
    with pytest.raises(QbdiError, match=words):
        write_midi(tmp_path / "o.mid", [("x", [Note(60, 0, 1, 80), note])])
    assert list(tmp_path.iterdir()) == []                      # nothing written, no .part


def test_writing_refuses_meters_midi_cannot_store():
    for signature in ((0, 4), (4, 3), (256, 4)):
        with pytest.raises(QbdiError, match="time signature"):
            encode_midi([("x", [Note(60, 0, 1, 80)])], time_signature=signature)


CORPUS = shared_corpus()


def _mido_reference(path):
    """The previous reader (mido, first-on first-off pairing per track) for files mido can read."""
    mid = mido.MidiFile(path, clip=True)
    out = []
    for track in mid.tracks:
        tick, pending = 0, {}
        for msg in track:
            tick += msg.time
            if msg.type in ("note_on", "note_off") and msg.channel != 9:
                key = (msg.channel, msg.note)
                if msg.type == "note_on" and msg.velocity > 0:
                    pending.setdefault(key, []).append((tick, msg.velocity))
                elif pending.get(key):
                    start, vel = pending[key].pop(0)
                    out.append((msg.note, start / mid.ticks_per_beat, (tick - start) / mid.ticks_per_beat, vel))
        for (_, pitch), starts in pending.items():        # never released: to the track's end
            out += [(pitch, s / mid.ticks_per_beat, (tick - s) / mid.ticks_per_beat, v) for s, v in starts]
    return sorted(out)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the pop corpus is not in the shared folder beside this repository "
                                                 "(../shared/datasets/pop_music_midi)")
def test_real_corpus_files_read_as_before():
    files = sorted(CORPUS.glob("*.mid*"))
    assert len(files) > 100
    for path in files:
        got = sorted((n.pitch, n.start, n.duration, n.velocity) for n in read_midi(path).notes)
        assert got == _mido_reference(path), path


@settings(max_examples=250, deadline=None)
@given(st.data())
def test_a_damaged_real_file_gives_a_score_or_one_midi_error(data):
    """Bytes of a real file, flipped, cut, inserted, deleted: never another exception."""
    base = bytearray(encode_midi([("a", chord_bars())], tempo_bpm=93.0, time_signature=(3, 4)))
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(base) - 1))
        action = data.draw(st.sampled_from(("flip", "set", "cut", "insert", "delete")))
        if action == "flip":
            base[at] ^= 1 << data.draw(st.integers(0, 7))
        elif action == "set":
            base[at] = data.draw(st.sampled_from((0x00, 0x7F, 0x80, 0xFF, 0xF0, 0xF7, 0x90)))
        elif action == "cut":
            del base[at:]
            if not base:
                base.append(0)
        elif action == "insert":
            base[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        elif len(base) > 1:
            del base[at]
    try:
        score = decode_midi(bytes(base))
    except MidiError as exc:
        assert "\n" not in str(exc)
        return
    for n in score.notes:
        assert 0 <= n.pitch <= 127 and 1 <= n.velocity <= 127 and n.start >= 0 and n.duration >= 0
    assert usable_signature(score.time_signature) and score.tempo_bpm > 0
