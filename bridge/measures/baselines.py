# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Trivial improvisers every frontier is reported beside (issue 20), NumPy only.

* :func:`block_chords`: one whole-bar close triad of each query bar's top three pitch classes
  (the harmony kept, no texture at all).
* :func:`drone`: the whole query's top three pitch classes held as one chord for the whole piece.
* :func:`chord_retrieval`: for each query bar, the training-corpus bar whose pitch-class profile,
  transposed, is nearest (cosine) to the bar's, played transposed: pop comping that jumps between
  songs bar to bar (and, by construction, a corpus copy).

Triads are voiced close, each pitch class at its place in MIDI 55..66 (G3..F#4).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .chroma import NoteLike, bar_profiles, top_pitch_classes

VOICING_LOW = 55
VELOCITY = 80


def _note(pitch: int, start: float, duration: float, velocity: int = VELOCITY):
    from bridge.pianoroll import Note

    return Note(int(pitch), float(start), float(duration), int(velocity))


def _triad(pcs: frozenset[int], start: float, duration: float) -> list:
    return [_note(VOICING_LOW + (pc - VOICING_LOW) % 12, start, duration) for pc in sorted(pcs)]


def block_chords(query: Sequence[NoteLike], beats_per_bar: float, n_bars: int) -> list:
    """One whole-bar triad per sounding query bar."""
    out = []
    for b, profile in enumerate(bar_profiles(query, beats_per_bar, n_bars)):
        if profile.sum() > 0:
            out += _triad(top_pitch_classes(profile), b * beats_per_bar, beats_per_bar)
    return out


def drone(query: Sequence[NoteLike], beats_per_bar: float, n_bars: int) -> list:
    """The piece's top three pitch classes, held from the first beat to the last."""
    total = bar_profiles(query, beats_per_bar, n_bars).sum(axis=0)
    return _triad(top_pitch_classes(total), 0.0, n_bars * beats_per_bar) if total.sum() > 0 else []


def chord_retrieval(query: Sequence[NoteLike], beats_per_bar: float, n_bars: int, profiles: np.ndarray,
                    bars: Sequence[Sequence[tuple[int, float, float, int]]]) -> list:
    """Each sounding query bar replaced by the nearest corpus bar, transposed.

    Args:
        profiles: ``(n, 12)`` the corpus bars' pitch-class durations.
        bars: the corpus bars' notes as (pitch, start in the bar, duration, velocity).
    Returns:
        Notes; the corpus bar's notes past the query bar's end are left out. Ties go to the
        first corpus bar and the smallest transposition.
    """
    profiles = np.asarray(profiles, dtype=np.float64)
    norm = np.linalg.norm(profiles, axis=1, keepdims=True)
    unit = np.divide(profiles, norm, out=np.zeros_like(profiles), where=norm > 0)
    # rotations[k] = each corpus bar moved up k semitones
    rotated = np.stack([np.roll(unit, k, axis=1) for k in range(12)])          # (12, n, 12)
    out = []
    for b, q in enumerate(bar_profiles(query, beats_per_bar, n_bars)):
        if q.sum() <= 0 or not len(unit):
            continue
        sims = rotated @ (q / np.linalg.norm(q))                                 # (12, n)
        k, c = np.unravel_index(int(np.argmax(sims)), sims.shape)
        shift = int(k) - 12 if k > 6 else int(k)
        t0 = b * beats_per_bar
        for pitch, start, duration, velocity in bars[c]:
            if start < beats_per_bar - 1e-9 and 0 <= pitch + shift <= 127:
                out.append(_note(pitch + shift, t0 + start, min(duration, beats_per_bar - start), velocity))
    return sorted(out, key=lambda n: (n.start, n.pitch))


BASELINES = ("block chords", "drone", "corpus retrieval")
