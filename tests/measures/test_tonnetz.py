# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import itertools

import numpy as np
import pytest

from bridge.measures.tonnetz import chord, distance, tonal_centroid

C_MAJOR, A_MINOR, FS_MAJOR, G_MAJOR = chord(0, 4, 7), chord(9, 0, 4), chord(6, 10, 1), chord(7, 11, 2)


def test_c_major_is_closer_to_a_minor_than_to_f_sharp_major():
    assert distance(C_MAJOR, A_MINOR) < distance(C_MAJOR, FS_MAJOR)
    assert distance(C_MAJOR, G_MAJOR) < distance(C_MAJOR, FS_MAJOR)


def test_distance_is_symmetric_and_zero_on_equal_chords():
    chords = [C_MAJOR, A_MINOR, FS_MAJOR, G_MAJOR, chord(0), chord(0, 7), np.zeros(12)]
    for a, b in itertools.product(chords, repeat=2):
        assert distance(a, b) == pytest.approx(distance(b, a), abs=1e-12)
    for a in chords:
        assert distance(a, a) == 0.0


def test_normalised_chroma_makes_loudness_irrelevant():
    assert distance(C_MAJOR, 3.5 * C_MAJOR) == pytest.approx(0.0, abs=1e-12)


def test_centroid_of_sequence_and_of_silence():
    seq = np.stack([C_MAJOR, np.zeros(12), A_MINOR])
    tc = tonal_centroid(seq)
    assert tc.shape == (3, 6)
    np.testing.assert_array_equal(tc[1], 0.0)
    np.testing.assert_allclose(tc[0], tonal_centroid(C_MAJOR))
    np.testing.assert_allclose(distance(seq, seq[::-1]), [distance(C_MAJOR, A_MINOR), 0.0, distance(C_MAJOR, A_MINOR)])


def test_single_note_sits_on_the_circles():
    # one pitch class: radius 1 on fifths and minor thirds, 0.5 on major thirds
    tc = tonal_centroid(chord(0))
    np.testing.assert_allclose(tc, [0, 1, 0, 1, 0, 0.5], atol=1e-12)


def test_shape_is_checked():
    with pytest.raises(ValueError):
        tonal_centroid(np.zeros(11))
