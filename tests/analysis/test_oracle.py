# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT

import numpy as np
import pytest
from synth import Note, planted, song

from bridge.analysis import oracle
from bridge.analysis.piece import surface_features

vmo = pytest.importorskip("vmo")


def _vmo_build(x, threshold, metric):
    return vmo.build_oracle(x, flag="a", threshold=threshold, dfunc=metric, dim=x.shape[1])


def _humanized(bars=16, seed=3):
    rng = np.random.default_rng(seed)
    return [Note(n.pitch, max(0.0, n.start + rng.normal() * 0.04), n.duration * rng.uniform(0.8, 1.0))
            for n in song(bars, seed)]


CASES = {
    "chroma": lambda: surface_features(song(12), 4),
    "humanized chroma": lambda: surface_features(_humanized(12), 4),
    "continuous": lambda: planted(200, 6, noise=0.05),
    "symbols": lambda: np.random.default_rng(5).integers(0, 4, size=(200, 2)).astype(float),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_build_matches_vmo_state_by_state(case):
    x = CASES[case]()
    grid = oracle.default_thresholds(oracle.distance_matrix(x), 12)
    for t in grid[::3]:
        ours, ref = oracle.build(x, t), _vmo_build(x, t, "euclidean")
        assert ours.sfx[1:].tolist() == ref.sfx[1:]
        assert ours.lrs.tolist() == ref.lrs
        assert ours.symbols[1:].tolist() == ref.data[1:]
        assert ours.trn == ref.trn
        assert ours.rsfx == [sorted(r) for r in ref.rsfx]
        np.testing.assert_array_equal(ours.information_rate(), ref.IR(ir_type="cum")[0])


def test_build_matches_vmo_with_cosine(rng):
    x = rng.normal(size=(60, 32))
    x[30:50] = x[5:25] + rng.normal(scale=0.05, size=(20, 32))
    for t in (0.05, 0.3, 0.9):
        ours, ref = oracle.build(x, t, "cosine"), _vmo_build(x, t, "cosine")
        assert ours.sfx[1:].tolist() == ref.sfx[1:] and ours.lrs.tolist() == ref.lrs


@pytest.mark.parametrize("case", sorted(CASES))
def test_fast_sweep_equals_exhaustive_vmo_sweep(case):
    x = CASES[case]()
    fast = oracle.sweep(x, "euclidean")
    exhaustive = oracle.vmo_reference_sweep(x, fast.thresholds, "euclidean")
    np.testing.assert_array_equal(fast.ir_totals, exhaustive)
    best, _ = vmo.find_threshold(x, r=(fast.thresholds[0], fast.thresholds[-1] + 1e-9,
                                       fast.thresholds[1] - fast.thresholds[0]), dfunc="euclidean", dim=x.shape[1])
    assert best[0] == pytest.approx(fast.ir_totals[fast.best_index])
    assert fast.n_builds <= len(fast.thresholds)


def test_fast_sweep_equals_exhaustive_with_cosine(rng):
    x = rng.normal(size=(48, 16))
    x[24:40] = x[4:20] + rng.normal(scale=0.1, size=(16, 16))
    fast = oracle.sweep(x, "cosine")
    np.testing.assert_array_equal(fast.ir_totals, oracle.vmo_reference_sweep(x, fast.thresholds, "cosine"))


def test_valid_interval_gives_the_same_oracle():
    x = surface_features(_humanized(8), 4)
    base = oracle.build(x, 0.3)
    lo, hi = base.valid
    assert lo < 0.3 <= hi
    for t in (np.nextafter(lo, np.inf), (lo + hi) / 2, hi):
        other = oracle.build(x, t)
        assert other.sfx.tolist() == base.sfx.tolist() and other.lrs.tolist() == base.lrs.tolist()


def test_sweep_reuses_builds_on_discrete_music():
    sweep = oracle.sweep(surface_features(song(16), 4))
    assert sweep.n_builds < len(sweep.thresholds) / 2


def test_ir_is_high_where_symbols_repeat():
    rng = np.random.default_rng(0)
    s = rng.integers(0, 40, 200).astype(float) * 3
    s[120:140] = s[30:50]  # one 20-frame repeat
    ir = oracle.build(s[:, None], 1.0).information_rate()
    assert ir[122:140].mean() > 10 * ir[:120].mean()
    assert ir[122:140].mean() > 10 * ir[150:].mean()


def _random_bar(rng):
    chord = [Note(48 + int(p), 0, 4) for p in rng.integers(0, 12, 3)]
    return chord + [Note(72 + int(rng.integers(0, 12)), k * 0.5, 0.5) for k in range(8)]


def test_ir_at_best_threshold_peaks_on_a_repeated_section():
    rng = np.random.default_rng(0)
    bars = [_random_bar(rng) for _ in range(12)]
    order = list(range(8)) + [0, 1, 2, 3] + [8, 9, 10, 11]  # bars 8-11 repeat bars 0-3
    notes = [Note(n.pitch, n.start + 4 * pos, n.duration) for pos, i in enumerate(order) for n in bars[i]]
    result = oracle.analyze(surface_features(notes, 4))
    per_bar = result.ir.reshape(16, 16).mean(axis=1)
    repeated = per_bar[8:12]
    assert repeated.min() > np.delete(per_bar, range(8, 12)).max()
    assert repeated.mean() > 3 * per_bar[0:4].mean()  # the first take is new material


def test_best_threshold_prefers_the_lowest_on_ties():
    sweep = oracle.Sweep(np.array([0.1, 0.2, 0.3]), np.array([1.0, 2.0, 2.0]), np.zeros(3, int), 3)
    assert sweep.best_index == 1 and sweep.best_threshold == 0.2


def test_identical_frames_and_errors():
    x = np.ones((10, 3))
    result = oracle.analyze(x)
    assert result.oracle.n_clusters == 1
    with pytest.raises(ValueError):
        oracle.build(np.zeros((0, 3)), 0.1)
    with pytest.raises(ValueError):
        oracle.distance_matrix(np.ones((3, 2)), "manhattan")


def test_analyze_reports_vmos_own_oracle_at_the_best_threshold():
    x = surface_features(_humanized(8, seed=5), 4)
    result = oracle.analyze(x)
    ours = oracle.build(x, result.best_threshold)
    assert result.oracle.sfx.tolist() == ours.sfx.tolist() and result.oracle.lrs.tolist() == ours.lrs.tolist()
    assert result.oracle.symbols.tolist() == ours.symbols.tolist() and result.oracle.trn == ours.trn
    np.testing.assert_array_equal(result.ir, ours.information_rate())
