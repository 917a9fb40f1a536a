# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import numpy as np
import pytest
from builders import chord_bars

from bridge.config import Representation
from bridge.pianoroll import BarGrid, Note, RollReport, from_frames, from_roll, to_frames, to_roll

REP = Representation()


def test_frame_layout_is_sounding_then_onset_per_step():
    grid = BarGrid(4, 1)
    frames = to_frames([Note(60, 0.25, 0.5, 90)], grid)
    assert frames.shape == (1, 2496)
    step = frames[0].reshape(16, 2, 78)
    p = 60 - REP.lowest_pitch
    assert step[1, 0, p] == 1 and step[2, 0, p] == 1 and step[3, 0, p] == 0   # sounding steps 1-2
    assert step[1, 1, p] == 1 and step[2, 1, p] == 0                           # one onset at step 1
    assert frames.sum() == 3


@pytest.mark.parametrize("beats_per_bar", [4.0, 3.0, 6.0, 2.5])
def test_grid_aligned_notes_round_trip_exactly(beats_per_bar):
    notes = chord_bars(beats_per_bar=beats_per_bar)
    notes += [Note(24, 0.0, 0.25, 50), Note(101, 1.75, 0.25, 60)]  # range edges
    grid = BarGrid.covering(max(n.end for n in notes), beats_per_bar)
    back = from_frames(to_frames(notes, grid), grid)

    def key(n):
        return (n.start, n.pitch, n.duration)

    assert [key(n) for n in back] == sorted(key(n) for n in notes)


def test_notes_tied_across_bar_lines_stay_one_note():
    grid = BarGrid(4, 2)
    back = from_frames(to_frames([Note(60, 3.0, 2.0)], grid), grid)
    assert [(n.start, n.duration) for n in back] == [(3.0, 2.0)]


def test_out_of_range_notes_are_dropped_and_counted_or_folded():
    report = RollReport()
    roll = to_roll([Note(10, 0, 1), Note(120, 0, 1), Note(60, 0, 1)], 16, REP, report=report)
    assert report.out_of_range == 2 and roll[:, :, 1].sum() == 1
    assert any("dropped" in w for w in report.warnings())
    report = RollReport()
    roll = to_roll([Note(10, 0, 1), Note(120, 0, 1)], 16, REP, fold=True, report=report)
    assert report.folded == 2
    pitches = set(np.nonzero(roll[0, :, 1])[0] + REP.lowest_pitch)
    assert pitches == {34, 96}   # 10 + 24, 120 - 24


def test_zero_length_and_overlapping_notes():
    report = RollReport()
    roll = to_roll([Note(60, 0, 0), Note(62, 0, 2), Note(62, 1, 2)], 16, REP, report=report)
    assert report.zero_length == 1 and report.overlaps == 1
    notes = from_roll(roll, REP)
    assert (60, 0.0, 0.25) in [(n.pitch, n.start, n.duration) for n in notes]
    assert [(n.start, n.duration) for n in notes if n.pitch == 62] == [(0.0, 1.0), (1.0, 2.0)]


def test_partial_last_bar_is_padded_and_length_kept():
    grid = BarGrid.covering(5.0, 4.0)
    assert grid.n_bars == 2 and grid.length_beats == 8.0
    frames = to_frames([Note(60, 4.0, 1.0)], grid)
    assert frames[0].sum() == 0 and frames[1].sum() == 5


def test_short_bars_pad_frames_and_long_bars_span_frames():
    assert BarGrid(3, 2).frames_per_bar == 1 and BarGrid(3, 2).n_steps == 24
    long = BarGrid(6, 1)
    assert long.frames_per_bar == 2
    frames = to_frames([Note(60, 5.0, 1.0)], long)
    assert frames.shape == (2, 2496) and frames[1].sum() == 5


def test_velocities_are_read_at_note_starts():
    roll = to_roll([Note(60, 0, 1), Note(64, 1, 1)], 8, REP)
    vel = np.zeros((8, 78), dtype=int)
    vel[0, 60 - 24], vel[4, 64 - 24] = 40, 110
    assert [n.velocity for n in from_roll(roll, REP, vel)] == [40, 110]
