# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The lockstep sweep against vmo on longer and adversarial sequences: repeats, constant runs,
distances exactly at thresholds, NaN distances, few walks at a time (several passes)."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from synth import Note, song

from bridge.analysis import lockstep, oracle
from bridge.analysis.piece import surface_features

vmo = pytest.importorskip("vmo")


def _performed(bars: int, seed: int = 0) -> list:
    """song() with jittered onsets and shortened notes: near-continuous chroma, many clusters."""
    rng = np.random.default_rng(seed)
    return [Note(n.pitch, max(0.0, n.start + rng.normal() * 0.04), n.duration * rng.uniform(0.8, 1.0))
            for n in song(bars, seed)]


def _repeats():
    rng = np.random.default_rng(11)
    block = rng.normal(size=(40, 6))
    parts = []
    for k in range(10):  # exact copies, noisy copies and fresh material
        parts.append(block if k % 3 else block + rng.normal(scale=0.02, size=block.shape))
        parts.append(rng.normal(size=(int(rng.integers(1, 12)), 6)))
    return np.vstack(parts)


def _constant_runs():
    x = surface_features(song(12, seed=2), 4)
    silence = np.zeros((150, x.shape[1]))
    return np.vstack([silence, x[:64], silence[:90], x[64:], np.repeat(x[5:6], 120, axis=0), silence[:3]])


def _ties():
    rng = np.random.default_rng(13)
    return rng.integers(0, 4, size=(700, 1)).astype(float)  # distances 0, 1, 2, 3 exactly


def _nan_cosine():
    rng = np.random.default_rng(14)
    z = rng.normal(size=(240, 16))
    z[rng.random(240) < 0.08] = 0.0  # zero latents: cosine distance NaN, which never matches
    z[120:160] = z[20:60]
    return z


CASES = {  # name -> (features, metric)
    "repeats": lambda: (_repeats(), "euclidean"),
    "constant runs": lambda: (_constant_runs(), "euclidean"),
    "ties": lambda: (_ties(), "euclidean"),
    "nan cosine": lambda: (_nan_cosine(), "cosine"),
    "performed 60 bars": lambda: (surface_features(_performed(60), 4), "euclidean"),
    "three symbols, 1500 frames": lambda: (np.random.default_rng(15).integers(0, 3, (1500, 1)) * 1.0, "euclidean"),
}


def _grid(x, metric, n=24, seed=0):
    """A default grid plus distances that occur exactly (d < t then fails) and their neighbours."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        d = oracle.distance_matrix(x[:400], metric)
    values = np.unique(d[np.isfinite(d)])
    pick = np.random.default_rng(seed).choice(values, size=min(8, values.size), replace=False)
    return np.unique(np.concatenate([oracle.default_thresholds(d, n), pick, np.nextafter(pick, np.inf),
                                     np.nextafter(pick, -np.inf)]))


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    x, metric = CASES[request.param]()
    grid = _grid(x, metric)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        reference = oracle.vmo_reference_sweep(x, grid, metric)
    return request.param, x, metric, grid, reference


@pytest.mark.parametrize("max_walks", [None, 2])
def test_sweep_equals_vmo_exhaustive_sweep(case, max_walks):
    name, x, metric, grid, reference = case
    fast = oracle.sweep(x, metric, grid, max_walks=max_walks)
    np.testing.assert_array_equal(fast.ir_totals, reference)
    assert fast.best_threshold == grid[int(np.argmax(reference))]
    assert fast.n_builds <= len(grid)


def test_the_cases_reach_the_hard_paths(case):
    """Preconditions: ties on the grid, and scans long enough for the NumPy path."""
    name, x, metric, grid, _ = case
    if name == "ties":
        assert {1.0, 2.0, 3.0} <= set(grid.tolist())
    if name == "performed 60 bars":
        assert len(oracle.build(x, grid[0], metric).trn[0]) > lockstep.LONG


def test_build_matches_vmo_state_by_state(case):
    name, x, metric, grid, _ = case
    for t in grid[:: max(1, len(grid) // 5)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ours = oracle.build(x, t, metric)
            ref = vmo.build_oracle(x, flag="a", threshold=t, dfunc=metric, dim=x.shape[1])
        assert ours.sfx[1:].tolist() == ref.sfx[1:]
        assert ours.lrs.tolist() == ref.lrs
        assert ours.symbols[1:].tolist() == ref.data[1:]
        assert ours.trn == ref.trn
        assert ours.rsfx == [sorted(r) for r in ref.rsfx]


def test_valid_interval_holds_on_adversarial_input(case):
    name, x, metric, grid, _ = case
    for t in grid[1::7]:
        base = oracle.build(x, t, metric)
        lo, hi = base.valid
        assert lo < t <= hi
        for other in (np.nextafter(lo, np.inf), hi, (lo + hi) / 2):
            if np.isfinite(other) and lo < other <= hi:  # the midpoint of adjacent floats rounds to one of them
                o = oracle.build(x, other, metric)
                assert o.sfx.tolist() == base.sfx.tolist() and o.lrs.tolist() == base.lrs.tolist()


def test_grid_order_does_not_matter():
    x = surface_features(_performed(6, seed=3), 4)
    grid = oracle.default_thresholds(oracle.distance_matrix(x), 30)
    order = np.random.default_rng(0).permutation(grid.size)
    shuffled = oracle.sweep(x, thresholds=grid[order])
    np.testing.assert_array_equal(shuffled.ir_totals, oracle.sweep(x, thresholds=grid).ir_totals[order])
    with pytest.raises(ValueError, match="NaN"):
        oracle.sweep(x, thresholds=[0.1, float("nan")])


@settings(max_examples=60, deadline=None)
@given(seq=st.lists(st.integers(0, 4), min_size=1, max_size=60),
       cuts=st.lists(st.integers(0, 8), min_size=1, max_size=8), max_walks=st.integers(1, 4))
def test_random_symbol_sequences_match_vmo(seq, cuts, max_walks):
    x = np.array(seq, dtype=float)[:, None]
    grid = np.unique(np.array(cuts) / 2.0)  # on, between and beyond the distances 0..4
    fast = oracle.sweep(x, thresholds=grid, max_walks=max_walks)
    np.testing.assert_array_equal(fast.ir_totals, oracle.vmo_reference_sweep(x, grid))
