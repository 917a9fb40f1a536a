# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The texture layer (bridge.patterns, issue 20): harmony, pattern choice, voicing, fitting, the
model format, and what the shipped texture model plays."""

import json

import numpy as np
import pytest
from builders import C_MAJOR, chord_bars, edit_config, performance, tiny_model

from bridge import patterns
from bridge.config import Representation, Settings
from bridge.errors import ModelError
from bridge.improvise import free_improvise, improvise
from bridge.models import load_model
from bridge.models.schema import FORMAT_VERSION, PATTERNS_VERSION
from bridge.patterns import (
    BASS,
    CHORD,
    PATTERN_STEPS,
    Texture,
    TextureState,
    choose_pattern,
    harmony,
    realize_bar,
)
from bridge.pianoroll import Note, to_frames
from bridge.stream import StreamImproviser, merge_bars, split_bars
from bridge.training.patterns import bar_roles, fit_patterns

REP = Representation()


def sounding_for(pitches, strength=0.9, steps=16):
    """Decoder-like sounding probabilities ``(steps, P)``: ``pitches`` at ``strength``, the rest 0.01."""
    snd = np.full((steps, REP.n_pitches), 0.01)
    for p in pitches:
        snd[:, p - REP.lowest_pitch] = strength
    return snd


def one_pattern(onsets_by_role, size=3):
    """Texture tensors for a single pattern with the given onset steps per role."""
    onset = np.zeros((1, 3, 16), np.float32)
    for role, steps in enumerate(onsets_by_role):
        onset[0, role, steps] = 1.0
    return Texture({"patterns.onset": onset, "patterns.frequency": onset, "patterns.duration": onset * 2,
                    "patterns.size": np.full((1, 16), float(size), np.float32),
                    "patterns.register": np.array([[45.0, 62.0, 74.0]], np.float32),
                    "patterns.transition": np.ones((1, 1), np.float32), "patterns.prior": np.ones(1, np.float32),
                    "patterns.classifier.weight": np.zeros((1, 4), np.float32),
                    "patterns.classifier.bias": np.zeros(1, np.float32)})


# --- harmony from the decoder ---------------------------------------------------------------
def test_harmony_takes_the_pitch_classes_over_the_threshold_heaviest_first_and_the_bass_from_below():
    snd = sounding_for([43, 60, 64, 67])                       # G2 under a C major triad
    snd[:, 62 - REP.lowest_pitch] = 0.3                       # D: under the threshold
    chord, bass, weight = harmony(snd, REP, Settings(), np.random.default_rng(0))
    assert set(chord) == {0, 4, 7} and bass == 7
    assert weight.shape == (12,) and weight[2] > 0
    chord, _, _ = harmony(snd, REP, Settings(threshold=0.2), np.random.default_rng(0))
    assert set(chord) == {0, 2, 4, 7}                        # a lower threshold lets D in


def test_harmony_fills_a_thin_bar_to_three_tones_caps_at_four_and_rests_on_silence():
    chord, _, _ = harmony(sounding_for([60], 0.9) + sounding_for([64, 69], 0.2) - 0.01, REP, Settings(),
                          np.random.default_rng(0))
    assert chord[0] == 0 and set(chord) == {0, 4, 9}
    chord, _, _ = harmony(sounding_for(range(60, 72)), REP, Settings(), np.random.default_rng(0))
    assert len(chord) == 4
    assert harmony(np.full((16, REP.n_pitches), 0.01), REP, Settings(), np.random.default_rng(0)) is None


# --- a bar played ---------------------------------------------------------------------------
def test_a_bar_plays_the_pattern_s_onsets_on_the_harmony_inside_the_bar():
    texture = one_pattern([[0, 8], [0, 4, 8, 12], [2, 6, 10, 14]])
    state = TextureState()
    snd = sounding_for([48, 60, 64, 67])
    notes = realize_bar(texture, 0, [0, 4, 7], 0, np.ones(12), state, snd, np.zeros_like(snd), REP,
                        np.random.default_rng(1), 80.0)
    starts = sorted({n.start for n in notes})
    assert starts == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    assert all(n.end <= 4.0 for n in notes)                                  # nothing crosses the bar line
    bass = [n for n in notes if n.pitch < 55]
    assert [n.start for n in bass] == [0.0, 2.0] and bass[0].pitch % 12 == 0
    chord = [n for n in notes if n.start == 1.0]
    assert len(chord) == 3 and {n.pitch % 12 for n in chord} == {0, 4, 7}
    top = [n for n in notes if n.start in (0.5, 2.5)]                        # strong-ish steps: chord tones
    assert all(n.pitch > max(c.pitch for c in chord) for n in top)
    assert state.pattern == 0 and state.chord and state.bass >= 0


def test_an_unchanged_chord_struck_again_holds_its_lower_voices_under_a_re_struck_top(monkeypatch):
    texture = one_pattern([[0], [0, 4, 8, 12], []])
    texture.duration[0, CHORD] = 4                          # each stroke lasts until the next: legato
    snd = sounding_for([48, 60, 64, 67])

    def chord_notes(hold):
        monkeypatch.setattr(patterns, "CHORD_HOLD", hold)
        notes = realize_bar(texture, 0, [0, 4, 7], 0, np.ones(12), TextureState(), snd, np.zeros_like(snd), REP,
                            np.random.default_rng(3), 80.0)
        return [n for n in notes if n.pitch >= 55]

    struck = chord_notes(0.0)                                # every stroke re-struck, as the pattern says
    assert sorted({n.start for n in struck}) == [0.0, 1.0, 2.0, 3.0] and len(struck) == 12
    held = chord_notes(1.0)
    top = max(n.pitch for n in held)
    assert sorted(n.start for n in held if n.pitch == top) == [0.0, 1.0, 2.0, 3.0]    # the groove stays
    lower = [n for n in held if n.pitch != top]
    assert len(lower) == 2 and all(n.start == 0.0 and n.duration == 4.0 for n in lower)
    assert {n.pitch for n in held} == {n.pitch for n in struck}                     # the same voicing


def test_a_chord_that_changes_is_struck_anew_not_held(monkeypatch):
    monkeypatch.setattr(patterns, "CHORD_HOLD", 1.0)                               # hold wherever it may
    texture = one_pattern([[0], [0, 4, 8, 12], []])
    texture.duration[0, CHORD] = 4
    snd = np.concatenate([sounding_for([48, 60, 64, 67], steps=8), sounding_for([53, 65, 69, 72], steps=8)])
    notes = realize_bar(texture, 0, [0, 4, 7], 0, np.ones(12), TextureState(), snd, np.zeros_like(snd), REP,
                        np.random.default_rng(3), 80.0)
    second_half = [n for n in notes if n.pitch >= 55 and n.start == 2.0]
    assert {n.pitch % 12 for n in second_half} == {5, 9, 0}                         # F major, all struck
    assert all(n.end <= 2.0 for n in notes if n.pitch >= 55 and n.start < 2.0)       # C major ends there


def test_voice_leading_keeps_the_chord_near_the_previous_one():
    texture = one_pattern([[0], [0, 8], []])
    state = TextureState()
    rng = np.random.default_rng(0)
    first = realize_bar(texture, 0, [0, 4, 7], 0, np.ones(12), state, sounding_for([60, 64, 67]),
                        np.zeros((16, REP.n_pitches)), REP, rng, 80.0)
    second = realize_bar(texture, 0, [5, 9, 0], 5, np.ones(12), state, sounding_for([65, 69, 72]),
                         np.zeros((16, REP.n_pitches)), REP, rng, 80.0)
    mean = [np.mean([n.pitch for n in bar if n.pitch >= 55]) for bar in (first, second)]
    assert abs(mean[1] - mean[0]) <= 4


def test_a_bar_of_other_length_tiles_or_cuts_the_pattern():
    texture = one_pattern([[0, 8], [0, 4, 8, 12], []])
    for steps in (8, 12, 20):
        snd = sounding_for([48, 60, 64, 67], steps=steps)
        notes = realize_bar(texture, 0, [0, 4, 7], 0, np.ones(12), TextureState(), snd, np.zeros_like(snd), REP,
                            np.random.default_rng(0), 80.0)
        assert max(n.end for n in notes) <= steps / 4
        assert {n.start for n in notes} == {s / 4 for s in range(0, steps, 4)}


# --- the pattern choice ---------------------------------------------------------------------
def test_the_transition_matrix_decides_the_next_pattern_and_temperature_flattens_a_sample():
    texture = one_pattern([[0], [0], []])
    texture.k = 3
    texture.log_transition = np.log(np.array([[0.98, 0.01, 0.01], [0.01, 0.98, 0.01], [0.01, 0.01, 0.98]]))
    texture.log_prior = np.log(np.full(3, 1 / 3))
    texture.mean_pitch = np.zeros(3)
    texture._fits = {n: np.ones(3, bool) for n in range(1, 16)}
    picks = [choose_pattern(texture, np.zeros(3), 1, Settings(), np.random.default_rng(i)) for i in range(200)]
    assert np.mean(np.array(picks) == 1) > 0.9
    hot = [choose_pattern(texture, np.zeros(3), 1, Settings(sampling="sample", temperature=10.0),
                          np.random.default_rng(i)) for i in range(200)]
    assert 0.2 < np.mean(np.array(hot) == 1) < 0.7
    again = [choose_pattern(texture, np.zeros(3), 1, Settings(), np.random.default_rng(i)) for i in range(200)]
    assert picks == again


# --- fitting -------------------------------------------------------------------------------
def test_roles_split_bass_chord_and_top_line():
    notes = [Note(36, 0, 2), Note(60, 0, 1), Note(64, 0, 1), Note(67, 0, 1), Note(72, 1.5, 0.5)]
    frame = to_frames(notes, __import__("bridge.pianoroll", fromlist=["BarGrid"]).BarGrid(4.0, 1, REP))[0]
    roles = sorted(bar_roles(frame, REP))
    assert roles == [(0, 36, 8, BASS), (0, 60, 4, CHORD), (0, 64, 4, CHORD), (0, 67, 4, CHORD), (6, 72, 2, 2)]


def test_fitted_patterns_are_aggregates_with_valid_tensors():
    from bridge.patterns import check_patterns
    from bridge.pianoroll import BarGrid

    rng = np.random.default_rng(0)
    frames, shift = [], []
    for song in range(12):
        notes = []
        for bar in range(4):
            t = bar * 4.0
            notes += [Note(36 + song % 5, t, 2.0), Note(36 + song % 5, t + 2.0, 2.0)]
            notes += [Note(60 + song % 5 + i, t + b, 1.0) for b in range(4) for i in (0, 4, 7)]
        frames.append(to_frames(notes, BarGrid(4.0, 4, REP)))
        shift += [0] * 4
    frames = np.concatenate(frames)
    nxt = np.array([i + 1 if (i + 1) % 4 else -1 for i in range(len(frames))])
    tensors, card = fit_patterns(lambda x: rng.standard_normal((len(x), 4)), frames, np.array(shift), nxt, REP, k=2)
    assert check_patterns(tensors) is None and card["patterns"] == 2
    onset = tensors["patterns.onset"]
    assert onset.shape == (2, 3, PATTERN_STEPS)
    assert set(np.flatnonzero(onset[0, BASS])) == {0, 8} and set(np.flatnonzero(onset[0, CHORD])) == {0, 4, 8, 12}
    assert np.allclose(tensors["patterns.transition"].sum(1), 1.0, atol=1e-5)


# --- the model format ----------------------------------------------------------------------
def test_a_model_with_patterns_round_trips_and_its_tensors_are_checked(tmp_path):
    folder = tiny_model(tmp_path / "m", patterns=4)
    model = load_model(folder)
    assert model.texture is not None and model.texture.k == 4 and model.architecture.patterns == 4
    assert json.loads((folder / "config.json").read_text())["format_version"] == FORMAT_VERSION >= PATTERNS_VERSION
    result = improvise(model, chord_bars(), Settings())
    assert result.notes and all(n.end <= 16.0 for n in result.notes)


def test_a_pattern_tensor_of_the_wrong_shape_or_value_is_refused(tmp_path):
    from safetensors.numpy import load, save

    from bridge.models import WEIGHTS_FILE, sha256_of

    for name, value, words in (("patterns.onset", np.full((4, 3, 16), 0.5, np.float32), "only 0 and 1"),
                               ("patterns.frequency", np.full((4, 3, 16), 1.5, np.float32), "0 to 1"),
                               ("patterns.transition", np.ones((4, 5), np.float32), "has shape"),
                               ("patterns.prior", np.zeros(4, np.float32), "positive probabilities")):
        folder = tiny_model(tmp_path / name, patterns=4)
        tensors = load((folder / WEIGHTS_FILE).read_bytes())
        tensors[name] = value
        (folder / WEIGHTS_FILE).write_bytes(save(tensors))
        weights = json.loads((folder / "config.json").read_text())["weights"]
        edit_config(folder, weights={**weights, "sha256": sha256_of(folder / WEIGHTS_FILE)})
        with pytest.raises(ModelError, match=words):
            load_model(folder)


def test_patterns_in_a_format_2_config_are_refused(tmp_path):
    folder = tiny_model(tmp_path / "m", patterns=4)
    edit_config(folder, format_version=2)
    with pytest.raises(ModelError, match="needs format version 3"):
        load_model(folder)


# --- the shipped texture model --------------------------------------------------------------
@pytest.fixture(scope="module")
def pop():
    model = load_model("pop")
    assert model.texture is not None, "the shipped pop model plays texture patterns"
    return model


def _per_bar(notes, bpb, n_bars):
    counts = np.zeros(n_bars)
    for n in notes:
        counts[min(int(n.start // bpb), n_bars - 1)] += 1
    return counts


@pytest.mark.parametrize("rate", [None, 64, 0])
def test_pop_plays_music_at_every_rate_same_seed_same_notes(pop, rate):
    query = performance(8, seed=3)
    a = improvise(pop, query, Settings(rate=rate, seed=1))
    b = improvise(pop, query, Settings(rate=rate, seed=1))
    assert [(n.pitch, n.start, n.duration, n.velocity) for n in a.notes] == \
        [(n.pitch, n.start, n.duration, n.velocity) for n in b.notes]
    per_bar = _per_bar(a.notes, 4.0, a.grid.n_bars)
    assert per_bar.mean() >= 8 and per_bar.min() >= 3, per_bar
    assert max(n.duration for n in a.notes) <= 4.0                          # no drone, no pad over bar lines
    assert len({round(n.start % 4.0, 3) for n in a.notes}) >= 4              # a rhythm, not one strike a bar


@pytest.mark.parametrize("rate", [None, 64, 0])
def test_each_seed_gives_another_improvisation_at_every_rate(pop, rate):
    query = performance(8, seed=3)
    a = improvise(pop, query, Settings(rate=rate, seed=1)).notes
    b = improvise(pop, query, Settings(rate=rate, seed=2)).notes
    assert [(n.pitch, n.start) for n in a] != [(n.pitch, n.start) for n in b]


def test_sample_and_free_play_music(pop):
    query = performance(8, seed=3)
    sampled = improvise(pop, query, Settings(sampling="sample", seed=4))
    assert 8 <= _per_bar(sampled.notes, 4.0, sampled.grid.n_bars).mean() <= 40
    free = free_improvise(pop, Settings(bars=8, seed=4))
    per_bar = _per_bar(free.notes, 4.0, 8)
    assert per_bar.min() >= 3 and per_bar.mean() >= 8


def test_structure_lock_gives_a_repeated_bar_its_source_s_pattern(pop):
    bar = chord_bars((C_MAJOR,))
    riff = [Note(n.pitch, n.start + 4.0 * b, n.duration, n.velocity) for b in (0, 2) for n in bar]
    other = [Note(n.pitch + 5, n.start + 4.0, n.duration, n.velocity) for n in bar]
    result = improvise(pop, riff + other, Settings(structure="lock", seed=3))
    bars = split_bars(result.notes, 4.0, 3)
    assert bars[0] and sorted({n.start for n in bars[0]}) == sorted({n.start for n in bars[2]})


@pytest.mark.parametrize("bpb", [2.0, 3.0, 6.0])
def test_other_meters_get_music_in_every_bar(pop, bpb):
    query = [Note(48 + (i % 3) * 4, i * 0.5, 0.5, 80) for i in range(int(12 * bpb / 0.5))]
    result = improvise(pop, query, Settings(), beats_per_bar=bpb)
    per_bar = _per_bar(result.notes, bpb, result.grid.n_bars)
    assert result.grid.n_bars == 12 and per_bar.min() >= 2, per_bar
    for n in result.notes:
        bar = int(n.start // bpb)
        assert n.end <= (bar + 1) * bpb + 1e-9                              # each bar in its own meter


@pytest.mark.parametrize("structure", ["free", "lock"])
def test_the_stream_bar_by_bar_equals_the_batch_at_full_rate(pop, structure):
    bar = performance(2, seed=7)
    played = bar + [Note(n.pitch, n.start + 8.0, n.duration, n.velocity) for n in bar if n.end <= 8.0]
    settings = Settings(seed=2, structure=structure)
    reference = improvise(pop, played, settings, length_beats=16.0)
    engine = StreamImproviser(pop, settings)
    answers = [engine.play(i, notes) for i, notes in enumerate(split_bars(played, 4.0, 4))]
    merged = merge_bars([a.notes for a in answers], 4.0, first_bar=1)
    shifted = [Note(n.pitch, n.start + 4.0, n.duration, n.velocity) for n in reference.notes]
    assert [(n.pitch, n.start, n.duration, n.velocity) for n in merged] == \
        [(n.pitch, n.start, n.duration, n.velocity) for n in sorted(shifted, key=lambda n: (n.start, n.pitch))]


# --- meter changes --------------------------------------------------------------------------
def test_a_meter_change_mid_file_keeps_each_section_in_its_own_bar_grid(pop, tmp_path):
    import subprocess
    import sys

    from bridge.improvise import improvise_file
    from bridge.midifile import encode_midi, read_midi

    four = [Note(48 + (i % 3) * 4, i * 0.5, 0.5, 80) for i in range(32)]               # 4 bars of 4/4
    three = [Note(50 + (i % 3) * 3, 16 + i * 0.5, 0.5, 80) for i in range(24)]         # 4 bars of 3/4
    data = encode_midi([("q", four + three)], 100.0, (4, 4), meters=[(16.0, (3, 4))])
    path = tmp_path / "meters.mid"
    path.write_bytes(data)
    score = read_midi(path)
    assert score.meters == [(16.0, (3, 4))] and any("own meter" in w for w in score.warnings)
    assert score.sections() == [(0.0, 16.0, 4.0), (16.0, 28.0, 3.0)]
    _, result = improvise_file(path, Settings(seed=1), model=pop)
    assert result.sections == [(0.0, 4.0, 4), (16.0, 3.0, 4)]
    assert result.grid.n_bars == 8 and max(n.end for n in result.notes) <= 28.0 + 1e-9
    bar_lines = [0, 4, 8, 12, 16, 19, 22, 25, 28]
    for a, b in zip(bar_lines, bar_lines[1:]):
        inside = [n for n in result.notes if a <= n.start < b]
        assert len(inside) >= 3, (a, b)
        assert all(n.end <= b + 1e-9 for n in inside), (a, b)                          # no note over a bar line
    out = tmp_path / "out.mid"
    run = subprocess.run([sys.executable, "-m", "bridge", "improvise", str(path), "-o", str(out), "--seed", "1"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    written = read_midi(out)
    assert written.time_signature == (4, 4) and written.meters == [(16.0, (3, 4))]
