# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import numpy as np
import pytest
from synth import Note, progression, song, transpose

from bridge.measures import baselines
from bridge.measures.corpuscopy import CopyIndex, bar_keys, copy_share
from bridge.measures.descriptors import view


def keys_of(notes, bars):
    v = view(notes, 4.0, bars)
    return bar_keys(v.pitch, v.step, v.bar, v.n_bars)


def brute_f1(a: np.ndarray, b: np.ndarray) -> float:
    sa = set(a.tolist())
    best = 0.0
    for shift in range(-6, 7):
        moved = {k + shift * 64 for k in sa}
        best = max(best, 2 * len(moved & set(b.tolist())) / (len(sa) + len(b)))
    return best


def test_a_transposed_corpus_bar_is_a_copy_and_new_bars_are_not():
    training = keys_of(song(8, seed=1), 8)
    index = CopyIndex.build(training)
    copied = keys_of(transpose(song(8, seed=1), 5), 8)        # the same bars, a fourth up
    assert np.all(index.best_f1(copied) == 1.0)
    assert copy_share(index.best_f1(copied)) == 1.0
    new = keys_of([Note(90 + k % 5, k * 0.75, 0.25) for k in range(40)], 8)
    f1 = index.best_f1([k for k in new if len(k)])
    assert copy_share(f1) == 0.0


def test_best_f1_matches_brute_force(rng):
    training = [k for k in keys_of(song(16, seed=2), 16) + keys_of(progression(bars=4), 4) if len(k)]
    queries = []
    for _ in range(20):
        bar = training[int(rng.integers(len(training)))]
        keep = bar[rng.random(len(bar)) < 0.7]
        extra = rng.integers(40, 90, 3) * 64 + rng.integers(0, 16, 3)
        queries.append(np.unique(np.concatenate([keep, extra]) + int(rng.integers(-6, 7)) * 64))
    index = CopyIndex.build(training)
    got = index.best_f1(queries, chunk=7)
    want = [max(brute_f1(q, b) for b in training) for q in queries]
    np.testing.assert_allclose(got, want)


def test_a_bar_one_step_late_is_not_a_copy():
    bar = [Note(60 + i, t, 0.5) for i, t in enumerate((0, 1, 2, 3))]
    index = CopyIndex.build(keys_of(bar, 1))
    late = keys_of([Note(n.pitch, n.start + 0.25, n.duration) for n in bar], 1)
    assert index.best_f1(late)[0] == 0.0


def test_chord_retrieval_plays_transposed_corpus_bars():
    from bridge.measures.chroma import bar_profiles

    corpus_bar = [Note(48, 0, 1), Note(64, 0.5, 0.5), Note(67, 1, 3), Note(72, 2, 2.5)]   # C major, in C
    profiles = bar_profiles(corpus_bar, 4.0, 1)
    bars = [[(n.pitch, n.start, min(n.duration, 4 - n.start), n.velocity) for n in corpus_bar]]
    query = [Note(50 + pc, 0, 4) for pc in (0, 4, 7)] + [Note(55 + pc, 4, 4) for pc in (0, 4, 7)]   # D, G
    out = baselines.chord_retrieval(query, 4.0, 2, profiles, bars)
    assert sorted(n.pitch for n in out if n.start < 4) == [50, 66, 69, 74]
    assert sorted(n.pitch for n in out if n.start >= 4) == [43, 59, 62, 67]     # G: five up is seven down
    assert max(n.end for n in out) == pytest.approx(8.0)
    index = CopyIndex.build(keys_of(corpus_bar, 1))
    assert copy_share(index.best_f1(keys_of(out, 2))) == 1.0


def test_block_chords_and_drone():
    query = progression(bars=4)
    blocks = baselines.block_chords(query, 4.0, 4)
    assert len(blocks) == 12 and all(n.duration == 4.0 and 55 <= n.pitch <= 66 for n in blocks)
    assert {n.pitch % 12 for n in blocks if n.start == 4.0} == {9, 0, 4}
    hum = baselines.drone(query, 4.0, 4)
    assert len(hum) == 3 and all(n.start == 0 and n.duration == 16.0 for n in hum)
    assert baselines.drone([], 4.0, 4) == [] and baselines.block_chords([], 4.0, 2) == []
