# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Synthetic music for the analysis tests: notes, chord progressions, sequences with known repeats."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

try:  # the engine's Note once it lands; the same fields otherwise
    from bridge.pianoroll import Note
except ImportError:  # pragma: no cover - until bridge.pianoroll exists

    @dataclass(frozen=True)
    class Note:  # type: ignore[no-redef]
        pitch: int
        start: float
        duration: float
        velocity: int = 90


POP = [(0, 4, 7), (9, 0, 4), (5, 9, 0), (7, 11, 2)]  # C Am F G


def progression(chords=POP, bars: int = 8, beats_per_bar: float = 4.0, root: int = 48) -> list:
    """One sustained triad per bar, cycling through ``chords``."""
    return [Note(root + pc, b * beats_per_bar, beats_per_bar, 80)
            for b in range(bars) for pc in chords[b % len(chords)]]


def song(bars: int = 32, seed: int = 0) -> list:
    """A pop-like piece: chords, bass on beats 1 and 3, an eighth-note melody from three motifs."""
    rng = np.random.default_rng(seed)
    motifs = [[0, 2, 4, 7, 4, 2, 0, None], [7, None, 9, 7, 4, None, 2, 0], [4, 4, 5, 7, 7, 5, 4, 2]]
    notes = []
    for b in range(bars):
        chord = POP[b % 4]
        notes += [Note(48 + pc, b * 4, 4, 70) for pc in chord]
        notes += [Note(36 + chord[0], b * 4 + half * 2, 2, 90) for half in (0, 1)]
        line = motifs[(b // 4) % 3] if rng.random() > 0.2 else list(rng.integers(0, 12, 8))
        notes += [Note(72 + int(p), b * 4 + k * 0.5, 0.5, 100) for k, p in enumerate(line) if p is not None]
    return notes


def transpose(notes, semitones: int) -> list:
    return [Note(n.pitch + semitones, n.start, n.duration, n.velocity) for n in notes]


def planted(n: int = 200, dim: int = 6, length: int = 12, starts=(20, 90, 160), noise: float = 0.01, seed: int = 0):
    """Independent random frames (n, dim) with one segment copied (plus small noise) to each of ``starts``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim))
    for s in starts[1:]:
        x[s:s + length] = x[starts[0]:starts[0] + length] + rng.normal(scale=noise, size=(length, dim))
    return x
