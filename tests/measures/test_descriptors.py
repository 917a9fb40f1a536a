# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import math

import numpy as np
import pytest
from synth import Note, progression, song, transpose

from bridge.measures import descriptors as d


def test_a_held_whole_bar_chord_per_bar():
    notes = progression(bars=4)                       # one triad per bar, held 4 beats
    got = d.describe(notes, 4.0, 4)
    assert got["notes_per_bar"] == 3.0
    assert got["onset_steps_per_bar"] == 1.0
    assert got["mean_duration"] == 4.0
    assert got["long_share"] == 1.0
    assert got["held_share"] == 0.0                    # 4 beats is not more than 4
    assert got["sixteenth_share"] == 0.0
    assert got["longest"] == 4.0
    assert got["downbeat_share"] == 1.0
    assert got["groove"] == pytest.approx(1.0)
    assert got["polyphony"] == 3.0


def test_groove_of_a_repeated_pattern_is_one_and_of_disjoint_patterns_zero():
    pattern = [Note(60, b * 4 + t, 0.5) for b in range(4) for t in (0, 1.5, 2, 3.25)]
    assert d.describe(pattern, 4.0)["groove"] == pytest.approx(1.0)
    alternating = [Note(60, b * 4 + (0 if b % 2 == 0 else 0.25) + k, 0.25) for b in range(4) for k in range(4)]
    assert d.describe(alternating, 4.0)["groove"] == pytest.approx(0.0)


def test_sixteenths_downbeats_and_onset_steps():
    notes = [Note(60 + k % 3, k * 0.25, 0.25) for k in range(16)]      # 16 sixteenths in one bar
    got = d.describe(notes, 4.0, 1)
    assert got["sixteenth_share"] == 1.0
    assert got["onset_steps_per_bar"] == 16
    assert got["downbeat_share"] == pytest.approx(1 / 16)
    assert math.isnan(got["groove"])                   # one bar: no pair to compare
    assert got["pitch_span"] == 2


def test_a_drone_has_one_long_note_and_no_groove():
    notes = [Note(p, 0.0, 32.0) for p in (48, 52, 55)]
    got = d.describe(notes, 4.0, 8)
    assert got["notes_per_bar"] == pytest.approx(3 / 8)
    assert got["held_share"] == 1.0
    assert got["longest"] == 32.0
    assert math.isnan(got["groove"]) and math.isnan(got["pitch_jump"])
    assert got["polyphony"] == 3.0                     # it sounds in every step of every bar


def test_pitch_jump_is_the_mean_onset_pitch_difference_of_neighbouring_bars():
    notes = [Note(60, 0, 1), Note(64, 1, 1), Note(70, 4, 1), Note(58, 8, 1)]   # bar means 62, 70, 58
    assert d.describe(notes, 4.0, 3)["pitch_jump"] == pytest.approx((8 + 12) / 2)


def test_descriptors_and_features_are_key_invariant():
    notes = song(8, seed=3)
    for shift in (-5, 1, 7):
        moved = transpose(notes, shift)
        assert d.describe(moved, 4.0, 8) == pytest.approx(d.describe(notes, 4.0, 8), nan_ok=True)
        a, b = d.bar_features(notes, 4.0, 8), d.bar_features(moved, 4.0, 8)
        register = [d.FEATURE_NAMES.index(n) for n in ("mean_pitch", "lowest", "highest")]
        other = [i for i in range(d.N_FEATURES) if i not in register]
        np.testing.assert_allclose(a[:, other], b[:, other], atol=1e-12)
        np.testing.assert_allclose(a[:, register], b[:, register] - shift / 12.0, atol=1e-12)


def test_keep_chooses_the_bars_measured():
    notes = progression(bars=2) + [Note(60, 8 + k * 0.5, 0.5) for k in range(8)]
    keep = np.array([False, False, True])
    got = d.describe(notes, 4.0, 3, keep=keep)
    assert got["notes_per_bar"] == 8 and got["mean_duration"] == 0.5
    with pytest.raises(ValueError, match="keep"):
        d.describe(notes, 4.0, 3, keep=np.array([True]))


def test_long_bars_are_cut_into_four_beat_bars_and_features_have_a_fixed_width():
    notes = [Note(60, k, 1.0) for k in range(12)]
    v = d.view(notes, 6.0)
    assert v.steps_per_bar == 16 and v.n_bars == 3
    short = d.bar_features([Note(60, k, 1.0) for k in range(6)], 3.0)
    assert short.shape == (2, d.N_FEATURES)


def test_mean_descriptors_averages_and_keeps_the_longest_note_anywhere():
    rows = [{"notes_per_bar": 4.0, "longest": 2.0}, {"notes_per_bar": 8.0, "longest": 10.0},
            {"notes_per_bar": math.nan, "longest": math.nan}]
    got = d.mean_descriptors(rows)
    assert got["notes_per_bar"] == 6.0
    assert got["longest"] == 6.0 and got["longest_max"] == 10.0
    assert math.isnan(got["groove"])


def test_compare_puts_the_descriptors_beside_retained_and_copy():
    from bridge.measures.metrics import compare

    query = [n for n in progression(bars=4) if n.start != 8.0]          # bar 3 of 4 is silent
    output = [Note(60, k * 0.5, 0.5) for k in range(32)]                # eighths throughout
    m = compare(query, output, 4.0, 16.0).to_dict()
    assert m["notes_per_bar"] == 8.0 and m["mean_duration"] == 0.5 and m["groove"] == pytest.approx(1.0)
    assert m["density"] == 8.0 and m["retained"] is not None and m["copy"] < 0.2
    held = compare(query, [Note(60, 0.0, 16.0)], 4.0, 16.0).to_dict()
    assert held["longest"] == 16.0 and held["notes_per_bar"] == pytest.approx(1 / 3)   # over the 3 sounding bars


def test_seeds_differ_counts_queries_whose_seeds_play_different_notes():
    from bridge.measures.goals import Output, seeds_differ

    a, b = [Note(60, 0, 1)], [Note(62, 0, 1)]
    outs = [Output("q1", a, a, 4.0, 1), Output("q1", a, list(a), 4.0, 1),      # the same notes twice
            Output("q2", a, a, 4.0, 1), Output("q2", a, b, 4.0, 1), Output("q3", a, a, 4.0, 1)]
    assert seeds_differ(outs) == 0.5                       # q3 has one output: not counted
    assert math.isnan(seeds_differ(outs[-1:]))
