# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import math

import numpy as np
import pytest
from synth import POP, Note, progression, song, transpose

from bridge.measures import metrics
from bridge.measures.chroma import bar_profiles


def test_copy_keeps_everything():
    q = song(16)
    m = metrics.compare(q, list(q), 4.0)
    assert m.agreement == pytest.approx(1.0)
    assert m.retained == pytest.approx(1.0)
    assert m.key_agreement == pytest.approx(1.0)
    assert m.vocabulary == 4 and m.density == pytest.approx(len(q) / 16)


def test_key_only_output_retains_nothing():
    q = progression(bars=8)
    key = bar_profiles(q, 4.0).sum(axis=0)  # every output bar: the whole piece's pitch-class mix
    out = [Note(48 + pc, b * 4.0, 4.0 * key[pc] / key.max()) for b in range(8) for pc in np.flatnonzero(key)]
    m = metrics.compare(q, out, 4.0)
    assert m.retained == pytest.approx(0.0, abs=1e-9)
    assert m.key_agreement == pytest.approx(1.0)
    assert m.vocabulary == 1


def test_transposed_by_a_tritone_retains_about_nothing():
    q = song(16)
    m = metrics.compare(q, transpose(q, 6), 4.0)
    assert abs(m.retained) < 0.15
    assert m.agreement < 0.1 and m.key_agreement < 0.2


def test_retained_falls_as_bars_are_replaced():
    q = progression(bars=16)
    half = progression(bars=8) + [Note(n.pitch, n.start + 32, n.duration) for n in progression([(0, 4, 7)], bars=8)]
    r_half = metrics.compare(q, half, 4.0).retained
    r_none = metrics.compare(q, progression([(0, 4, 7)], bars=16), 4.0).retained
    assert 1.0 > r_half > r_none
    assert r_none == pytest.approx(0.0, abs=1e-9)  # one chord throughout: no bar-specific harmony


def test_silent_output_bars_score_zero_and_silent_query_bars_are_skipped():
    q = progression(bars=4)
    out = [n for n in q if n.start < 8]  # output stops after 2 of 4 bars
    assert metrics.compare(q, out, 4.0).agreement == pytest.approx(0.5)
    gap = [n for n in q if n.start < 8] + [Note(n.pitch, n.start + 4, n.duration) for n in q if n.start >= 8]
    # query bar 2 is silent: only the 4 sounding bars count, all copied
    assert metrics.compare(gap, list(gap), 4.0).agreement == pytest.approx(1.0)


def test_retained_is_nan_without_bar_specific_harmony():
    q = progression([(0, 4, 7)], bars=4)
    assert math.isnan(metrics.compare(q, q, 4.0).retained)
    assert metrics.compare(q, q, 4.0).to_dict()["retained"] is None
    assert math.isnan(metrics.compare(progression(bars=1), progression(bars=1), 4.0).retained)


def test_vocabulary_and_density():
    q = progression(bars=8)
    assert metrics.chord_vocabulary(bar_profiles(q, 4.0)) == len(POP)
    assert metrics.compare(q, q, 4.0).density == pytest.approx(3.0)
    assert metrics.chord_vocabulary(np.zeros((3, 12))) == 0


def test_output_past_the_query_is_ignored():
    q = progression(bars=4)
    longer = progression(bars=6)
    m = metrics.compare(q, longer, 4.0)
    assert m.agreement == pytest.approx(1.0) and m.density == pytest.approx(3.0)


def test_cosine_with_silence_is_zero():
    assert metrics.cosine(np.zeros(12), np.ones(12)) == 0.0
    sims = metrics.cosine_matrix(np.eye(3), np.array([[1.0, 1, 0], [0, 0, 0]]))
    np.testing.assert_allclose(sims, [[2 ** -0.5, 0], [2 ** -0.5, 0], [0, 0]])
