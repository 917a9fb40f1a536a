# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import math

import numpy as np
import pytest
from synth import Note

from bridge.measures import baselines, twosample
from bridge.measures.descriptors import bar_features


def test_auc_counts_ties_half_and_orders_correctly():
    assert twosample.auc_score(np.array([0.9, 0.8, 0.1, 0.2]), np.array([1, 1, 0, 0])) == 1.0
    assert twosample.auc_score(np.array([0.1, 0.2, 0.9, 0.8]), np.array([1, 1, 0, 0])) == 0.0
    assert twosample.auc_score(np.ones(4), np.array([1, 0, 1, 0])) == 0.5
    assert math.isnan(twosample.auc_score(np.ones(3), np.ones(3)))


def test_group_folds_never_split_a_group(rng):
    groups = np.repeat(np.arange(9), rng.integers(1, 20, 9))
    folds = twosample.group_folds(groups, 3, rng)
    for g in np.unique(groups):
        assert len(set(folds[groups == g])) == 1
    assert set(folds) == {0, 1, 2}


def rhythmic_song(seed: int, bars: int = 12) -> list:
    """A pop-like texture: bass on 1 and 3, off-beat chords, an eighth-note line; varied by seed."""
    rng = np.random.default_rng(seed)
    notes = []
    for b in range(bars):
        root = int(rng.choice([0, 5, 7, 9]))
        t = b * 4.0
        notes += [Note(36 + root, t, 1.0), Note(36 + root, t + 2, 1.0)]
        notes += [Note(55 + (root + i) % 12, t + off, 0.5) for off in (0.5, 1.5, 2.5, 3.5) for i in (0, 4, 7)
                  if rng.random() < 0.8]
        notes += [Note(72 + int(rng.integers(0, 12)), t + k * 0.5, 0.5) for k in range(8) if rng.random() < 0.7]
    return notes


def corpus(n_songs: int = 12, bars: int = 12):
    x, groups = [], []
    for s in range(n_songs):
        f = bar_features(rhythmic_song(s, bars), 4.0, bars)
        x.append(f)
        groups += [f"song{s}"] * bars
    return np.concatenate(x), np.array(groups)


def test_half_vs_half_of_one_corpus_is_near_chance():
    x, g = corpus(16)
    cal = twosample.calibrate(x, g, repeats=6, seed=0)
    assert cal["n"] == 6
    assert abs(cal["mean"] - 0.5) < 0.12
    assert cal["min"] <= cal["mean"] <= cal["max"]


def test_block_chords_are_told_from_a_rhythmic_corpus():
    x, g = corpus(12)
    queries = [rhythmic_song(100 + q) for q in range(6)]
    blocks = [bar_features(baselines.block_chords(q, 4.0, 12), 4.0, 12) for q in queries]
    gen = np.concatenate(blocks)
    groups = np.repeat([f"q{q}" for q in range(6)], 12)
    for method in twosample.METHODS:
        result = twosample.classifier_auc(gen, groups, x, g, method=method)
        assert result.auc > 0.97, method
        assert result.folds == 5 and result.n_a == 72 and result.groups_b == 12


def test_the_same_seed_gives_the_same_auc_and_too_few_groups_give_nan():
    x, g = corpus(8)
    a = twosample.classifier_auc(x[g < "song4"], g[g < "song4"], x[g >= "song4"], g[g >= "song4"], seed=3,
                                 method="mlp")
    b = twosample.classifier_auc(x[g < "song4"], g[g < "song4"], x[g >= "song4"], g[g >= "song4"], seed=3,
                                 method="mlp")
    assert a == b
    one = twosample.classifier_auc(x[g == "song0"], g[g == "song0"], x, g)
    assert math.isnan(one.auc) and one.folds == 0
    with pytest.raises(ValueError, match="method"):
        twosample.classifier_auc(x, g, x, g, method="forest")
