# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import numpy as np
import pytest
from synth import Note, progression

from bridge.measures import chroma


def test_chroma_counts_share_of_each_step():
    notes = [Note(60, 0.0, 1.0), Note(72, 0.0, 0.5), Note(64, 0.125, 0.25)]  # C4 + C5, E4 from 1/2 step
    c = chroma.chroma(notes, steps_per_beat=4)
    assert c.shape == (12, 4)
    np.testing.assert_allclose(c[0], [2.0, 2.0, 1.0, 1.0])
    np.testing.assert_allclose(c[4], [0.5, 0.5, 0.0, 0.0])
    assert c.sum() == pytest.approx(4 * 1.0 + 2 * 1.0 + 1.0)  # in steps: (1 + 0.5 + 0.25 beats) * 4


def test_chroma_length_follows_n_steps_and_ignores_notes_past_it():
    c = chroma.chroma([Note(60, 0, 1), Note(62, 3, 2)], 4, n_steps=8)
    assert c.shape == (12, 8)
    assert c[2].sum() == 0


def test_bar_profiles_are_beats_per_pitch_class():
    profiles = chroma.bar_profiles(progression(bars=3), beats_per_bar=4)
    assert profiles.shape == (3, 12)
    np.testing.assert_allclose(profiles[0][[0, 4, 7]], 4.0)
    np.testing.assert_allclose(profiles[1][[9, 0, 4]], 4.0)
    assert profiles[0].sum() == pytest.approx(12.0)


def test_a_note_across_the_barline_counts_in_both_bars():
    profiles = chroma.bar_profiles([Note(62, 3.0, 2.0)], beats_per_bar=4, n_bars=2)
    assert profiles[0, 2] == pytest.approx(1.0) and profiles[1, 2] == pytest.approx(1.0)


def test_count_bars():
    assert chroma.count_bars([Note(60, 0, 4)], 4) == 1
    assert chroma.count_bars([Note(60, 0, 4.5)], 4) == 2
    assert chroma.count_bars([], 4) == 1
    assert chroma.count_bars([Note(60, 0, 1)], 3, length_beats=12) == 4


def test_top_pitch_classes_ties_and_silence():
    p = np.zeros(12)
    p[[2, 7, 9, 11]] = [3, 1, 1, 0.5]
    assert chroma.top_pitch_classes(p) == frozenset({2, 7, 9})
    assert chroma.top_pitch_classes(np.eye(12)[4]) == frozenset({4})
    assert chroma.top_pitch_classes(np.zeros(12)) == frozenset()


def test_rejects_bad_grid():
    with pytest.raises(ValueError):
        chroma.bar_profiles([], 0)


def test_profiles_equal_the_per_note_loop_they_replaced_on_random_notes():
    from tools.kept_bench import loop_accumulate

    rng = np.random.default_rng(7)
    for _ in range(300):
        notes = [Note(int(rng.integers(0, 128)),
                      float(rng.choice([rng.uniform(0, 40), rng.integers(0, 160) / 4, -rng.uniform(0, 2)])),
                      float(rng.choice([rng.uniform(0, 12), rng.integers(0, 16) / 4, 0.0, rng.uniform(0, 1e-3)])))
                 for _ in range(int(rng.integers(0, 60)))]
        for cell, cells in ((0.25, int(rng.integers(0, 200))), (4.0, int(rng.integers(0, 14))), (3.0, 5)):
            np.testing.assert_allclose(chroma._accumulate(notes, cell, cells), loop_accumulate(notes, cell, cells),
                                       rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(chroma.bar_profiles(notes, 4.0), loop_accumulate(notes, 4.0, chroma.count_bars(
            notes, 4.0)).T * 4.0, rtol=1e-12, atol=1e-12)
