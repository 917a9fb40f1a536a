# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Pitch-class views of a note list: chroma per 16th step and duration profiles per bar.

Works on anything with ``pitch``, ``start`` and ``duration`` attributes (beats), such as
:class:`bridge.pianoroll.Note`; nothing here imports the engine.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

N_PITCH_CLASSES = 12


class NoteLike(Protocol):
    """The fields of :class:`bridge.pianoroll.Note` this module reads (times in beats)."""

    pitch: int
    start: float
    duration: float


def end_beats(notes: Iterable[NoteLike]) -> float:
    """Beat at which the last note ends (0 for no notes)."""
    return max((n.start + n.duration for n in notes), default=0.0)


def count_bars(notes: Sequence[NoteLike], beats_per_bar: float, length_beats: float | None = None) -> int:
    """Number of bars covering ``length_beats`` (or the notes' end), at least 1."""
    _check_positive("beats_per_bar", beats_per_bar)
    length = end_beats(notes) if length_beats is None else max(float(length_beats), 0.0)
    return max(1, math.ceil(length / beats_per_bar - 1e-9))


def _accumulate(notes: Iterable[NoteLike], cell_beats: float, n_cells: int) -> np.ndarray:
    """Sounding time of each pitch class in each cell, in units of a cell: shape (12, n_cells).

    Vectorised over the notes: a note adds its share of its first and last cell, and 1 to every
    cell between them (a difference array, summed along the cells)."""
    fields = np.array([(n.pitch, n.start, n.duration) for n in notes], dtype=np.float64).reshape(-1, 3)
    out = np.zeros((N_PITCH_CLASSES, n_cells), dtype=np.float64)
    fields = fields[fields[:, 2] > 0]
    if not len(fields) or n_cells <= 0:
        return out
    pc = fields[:, 0].astype(np.int64) % N_PITCH_CLASSES
    s0 = fields[:, 1] / cell_beats
    s1 = (fields[:, 1] + fields[:, 2]) / cell_beats
    first = np.maximum(np.floor(s0), 0).astype(np.int64)
    last = np.minimum(np.ceil(s1), n_cells).astype(np.int64)
    keep = last > first
    pc, s0, s1, first, last = pc[keep], s0[keep], s1[keep], first[keep], last[keep]
    one = last - first == 1
    head = np.where(one, np.minimum(s1, first + 1.0), first + 1.0) - np.maximum(s0, first)
    tail = np.minimum(s1, last.astype(np.float64)) - (last - 1)
    middle = np.zeros((N_PITCH_CLASSES, n_cells + 1), dtype=np.float64)
    span = last - first > 2
    np.add.at(middle, (pc[span], first[span] + 1), 1.0)
    np.add.at(middle, (pc[span], last[span] - 1), -1.0)
    out += np.cumsum(middle[:, :n_cells], axis=1)
    np.add.at(out, (pc, first), np.clip(head, 0.0, None))
    np.add.at(out, (pc[~one], last[~one] - 1), np.clip(tail[~one], 0.0, None))
    return out


def chroma(notes: Sequence[NoteLike], steps_per_beat: int = 4, n_steps: int | None = None) -> np.ndarray:
    """Chromagram of ``notes``: shape (12, n_steps), float64.

    Entry ``[pc, t]`` is the summed share of step ``t`` during which notes of pitch class
    ``pc`` sound (two octaves of C for the whole step give 2.0). ``n_steps`` defaults to
    the steps covering the last note.
    """
    _check_positive("steps_per_beat", steps_per_beat)
    if n_steps is None:
        n_steps = max(1, math.ceil(end_beats(notes) * steps_per_beat - 1e-9))
    return _accumulate(notes, 1.0 / steps_per_beat, int(n_steps))


def bar_profiles(notes: Sequence[NoteLike], beats_per_bar: float, n_bars: int | None = None) -> np.ndarray:
    """Pitch-class duration profile of each bar: shape (n_bars, 12), in beats."""
    _check_positive("beats_per_bar", beats_per_bar)
    if n_bars is None:
        n_bars = count_bars(notes, beats_per_bar)
    return (_accumulate(notes, float(beats_per_bar), int(n_bars)) * beats_per_bar).T


def top_pitch_classes(profile: np.ndarray, k: int = 3) -> frozenset[int]:
    """The ``k`` pitch classes with the largest weight in a (12,) profile; ties go to the lower class.

    Classes with zero weight are never included, so a bar with two pitch classes gives a pair.
    """
    profile = np.asarray(profile, dtype=np.float64)
    order = np.lexsort((np.arange(N_PITCH_CLASSES), -profile))  # by weight desc, then class asc
    return frozenset(int(pc) for pc in order[:k] if profile[pc] > 0)


def step_to_bar(steps: np.ndarray | Sequence[float], steps_per_beat: int, beats_per_bar: float) -> np.ndarray:
    """Convert step positions to (fractional) bar positions."""
    return np.asarray(steps, dtype=np.float64) / (steps_per_beat * beats_per_bar)


def _check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
