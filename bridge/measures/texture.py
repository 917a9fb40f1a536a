# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Surface and texture: does an improvisation replay its query, and does it sound like the corpus?

Two measures beside the harmony metrics (NumPy only):

* **copy**: F1 between the query's and the output's (pitch, onset step) pairs, on the 16th-note
  grid: 1 when every note is replayed where it was, 0 when none is (a note one step early or a
  semitone off counts as new).
* **texture** (corpus likeness): each bar (one model frame) gets a *texture profile*: square
  roots of its onset count per step (16), its sounding-note count per step (16) and its mean
  sounding notes per octave band from MIDI 24 (7): rhythm, density and voicing, without pitch
  classes. For every sounding query bar the output bar's profile is compared with its nearest
  profile among the query's bars (``d_q``) and among a bank of corpus bars (``d_c``, Euclidean);
  the bar scores ``d_q / (d_q + d_c)``: 0 = the query's texture, 1 = a corpus bar's, 0.5 = as
  near to each. A model's bank (the ``texture.bank`` tensor of its weight file, written by ``qbdi train``)
  holds the integer counts of a seeded sample of its corpus bars.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .chroma import NoteLike

BANK_SIZE = 512      # corpus bars kept in a model's texture bank


def onset_pairs(notes: Sequence[NoteLike], steps_per_beat: int = 4,
                end_beats: float | None = None) -> set[tuple[int, int]]:
    """{(pitch, onset step)} of the notes starting before ``end_beats`` (all when None)."""
    out = set()
    for n in notes:
        if end_beats is not None and n.start >= end_beats - 1e-9:
            continue
        out.add((int(n.pitch), int(round(float(n.start) * steps_per_beat))))
    return out


def copy_score(query: Sequence[NoteLike], output: Sequence[NoteLike], steps_per_beat: int = 4,
               end_beats: float | None = None) -> float:
    """F1 of the (pitch, onset step) pairs of ``output`` against ``query``: 1 = replayed, 0 = new notes.

    Output notes from ``end_beats`` on (a continuation) are ignored; 1.0 when both are empty.
    """
    q = onset_pairs(query, steps_per_beat, end_beats)
    o = onset_pairs(output, steps_per_beat, end_beats)
    if not q and not o:
        return 1.0
    return 2 * len(q & o) / (len(q) + len(o))


def profile_counts(frames: np.ndarray, steps: int = 16, n_pitches: int = 78) -> np.ndarray:
    """Frames ``(n, steps * 2 * n_pitches)`` (per step ``[sounding, onset]``) -> integer counts
    ``(n, 2 * steps + bands)``, bands = ceil(n_pitches / 12) (``Representation.texture_size``):
    onsets per step, sounding notes per step, sounding steps per octave band."""
    cube = np.asarray(frames).reshape(len(frames), steps, 2, n_pitches) > 0.5
    sounding, onset = cube[:, :, 0], cube[:, :, 1]
    per_pitch = sounding.sum(axis=1)                                       # (n, P) steps sounded
    bands = np.add.reduceat(per_pitch, np.arange(0, n_pitches, 12), axis=1)
    return np.concatenate([onset.sum(axis=2), sounding.sum(axis=2), bands], axis=1).astype(np.int64)


def profiles(counts: np.ndarray, steps: int = 16) -> np.ndarray:
    """Counts ``(n, 2 * steps + bands)`` -> texture profiles (same shape, float64): square roots,
    the band block as mean notes per step."""
    c = np.asarray(counts, dtype=np.float64).copy()
    c[:, 2 * steps:] /= steps
    return np.sqrt(np.maximum(c, 0.0))


def _nearest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from every row of ``a`` (m, d) to its nearest row of ``b`` (k, d): (m,)."""
    if not len(b):
        return np.full(len(a), np.inf)
    d2 = ((a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2 * a @ b.T).min(axis=1)
    return np.sqrt(np.where(d2 < 1e-9, 0.0, d2))   # rounding: identical rows are at 0 exactly


def corpus_likeness(query_frames: np.ndarray, output_frames: np.ndarray, bank: np.ndarray,
                    steps: int = 16, n_pitches: int = 78) -> float:
    """Mean over the query's sounding bars of ``d_q / (d_q + d_c)`` (see the module docstring).

    Args:
        query_frames, output_frames: ``(n, frame_size)`` on the same grid.
        bank: corpus texture counts ``(k, 2 * steps + bands)`` (:func:`profile_counts`).
    Returns:
        0..1; NaN with no sounding query bar or an empty bank.
    """
    q = profiles(profile_counts(query_frames, steps, n_pitches), steps)
    o = profiles(profile_counts(output_frames, steps, n_pitches), steps)
    c = profiles(np.asarray(bank), steps)
    sounding = np.flatnonzero(q.any(axis=1))
    if not len(sounding) or not len(c):
        return math.nan
    d_q = _nearest(o[sounding], q[sounding])
    d_c = _nearest(o[sounding], c)
    total = d_q + d_c
    score = np.divide(d_q, total, out=np.full_like(total, 0.5), where=total > 0)
    return float(score.mean())


def texture_bank(frames: np.ndarray, rng: np.random.Generator, size: int = BANK_SIZE, steps: int = 16,
                 n_pitches: int = 78) -> np.ndarray:
    """A seeded sample of ``size`` distinct corpus bars' texture counts ``(<= size, 2 * steps + bands)``."""
    counts = np.unique(profile_counts(frames, steps, n_pitches), axis=0)
    if len(counts) > size:
        counts = counts[np.sort(rng.choice(len(counts), size, replace=False))]
    return counts
