# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Analysis at scale without timing anything: exact on-demand distances, no n x n array, a walk
memory budget that holds, and the length cap's one-line message."""

import subprocess
import sys
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.spatial.distance
from scipy.spatial.distance import cdist
from synth import song

from bridge.analysis import distances, lockstep, oracle, piece
from bridge.analysis.distances import FrameDistances
from bridge.errors import QbdiError
from bridge.midifile import write_midi
from bridge.pianoroll import Note


def _performed_surface(bars: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    notes = [Note(n.pitch, max(0.0, n.start + rng.normal() * 0.04), n.duration * rng.uniform(0.8, 1.0))
             for n in song(bars, seed)]
    return piece.surface_features(notes, 4, 4.0 * bars)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_on_demand_distances_are_cdist_bit_for_bit(rng, metric):
    x = rng.normal(size=(300, 7))
    x[50:80] = x[0:30]  # duplicated frames are stored once
    x[200] = 0.0  # a zero row: NaN cosine distances
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        full = cdist(x, x, metric)
        d = FrameDistances(x, metric)
        picks = rng.integers(0, 300, size=(40, 25))
        for frame, others in zip(rng.integers(0, 300, 40), picks):
            np.testing.assert_array_equal(d.between(int(frame), others), full[frame, others])
            np.testing.assert_array_equal(d.to_states(int(frame), others + 1), full[frame, others])
        np.testing.assert_array_equal(d.matrix(), full)
        assert d.n_unique == 300 - 30
        np.testing.assert_array_equal(full, full.T)  # what largest() relies on to read one triangle
        finite = full[np.isfinite(full)]
        assert d.largest() == finite.max()


def test_largest_distance_in_small_blocks(rng, monkeypatch):
    x = rng.normal(size=(500, 3))
    monkeypatch.setattr(distances, "BLOCK_VALUES", 700)
    assert FrameDistances(x).largest() == cdist(x, x).max()
    assert FrameDistances(np.ones((4, 2))).largest() == 0.0


def test_no_step_materialises_an_n_by_n_array(monkeypatch):
    """Spy on every cdist call (ours and vmo's) in a whole analysis of 2,080 frames."""
    x = _performed_surface(130)
    n = len(x)
    sizes = []

    def spy(real):
        def call(a, b, *args, **kwargs):
            out = real(a, b, *args, **kwargs)
            sizes.append(out.size)
            return out
        return call

    monkeypatch.setattr(distances, "cdist", spy(distances.cdist))
    monkeypatch.setattr(scipy.spatial.distance, "cdist", spy(scipy.spatial.distance.cdist))  # vmo's final build
    monkeypatch.setattr(distances, "BLOCK_VALUES", 1 << 18)
    result = oracle.analyze(x)
    assert result.sweep.n_builds > 20 and len(sizes) > n
    assert max(sizes) * 8 < n * n  # the biggest single result is under an eighth of the matrix


def test_sweep_memory_stays_within_the_walk_budget(monkeypatch):
    x = _performed_surface(90)  # 1,440 frames: the (n, n) float64 matrix would be 16.6 MB
    n = len(x)
    budget = 2 << 20
    monkeypatch.setattr(oracle, "WALK_MEMORY", budget)
    d = FrameDistances(x)
    grid = oracle.default_thresholds(d, 40)
    tracemalloc.start()
    try:
        result = oracle.sweep(x, thresholds=grid, distances=d)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.n_builds > 3 * (budget // (oracle.STATE_BYTES * (n + 1)))  # several passes were needed
    assert peak < budget + (1 << 20) < n * n * 8 / 4


@pytest.mark.parametrize("kind", ["performed", "repeats"])
def test_a_walk_holds_no_more_than_the_budgeted_bytes_per_state(kind):
    if kind == "performed":
        x = _performed_surface(100)
    else:  # long exact repeats: repeat lengths beyond the small-int cache
        rng = np.random.default_rng(2)
        x = np.tile(rng.normal(size=(400, 6)), (4, 1))
    d = FrameDistances(x)
    grid = oracle.default_thresholds(d, 10)
    for t in (grid[0], grid[3]):
        tracemalloc.start()
        try:
            with lockstep.no_gc():
                (walk,), _ = lockstep.run(d, [lockstep.Walk([float(t)], [0])], 1)
                held, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert held / (d.n + 1) <= oracle.STATE_BYTES
        assert max(walk.lrs) > 256 or kind == "performed"


def test_analyze_piece_refuses_a_piece_over_the_cap_before_any_work():
    too_long = (piece.MAX_STEPS // 4 + 8) * 1.0
    with pytest.raises(QbdiError, match=r"at most 65,536 steps \(4,096 bars of 4 beats\).*cut the file"):
        piece.analyze_piece([Note(60, too_long - 1.0, 1.0)], 4.0, too_long, name="long.mid")
    piece.check_length(piece.MAX_STEPS / 4, 4.0)  # the cap itself is allowed


def test_qbdi_analyze_refuses_a_too_long_file_in_one_line(tmp_path):
    path = tmp_path / "long.mid"
    write_midi(path, [("piano", [Note(60, 0.0, 1.0), Note(64, 70_000.0, 1.0)])])  # 17,501 bars of 4/4
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "bridge", "analyze", str(path), "--out", str(out), "--no-latents",
                        "--no-progress"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert lines[0].startswith("qbdi: error: ") and "17,501 bars" in lines[0] and "at most 65,536 steps" in lines[0]
    assert not out.exists()
