# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Corpus copy (issue 20): does an output bar replay a training bar, in any key?

Each bar is its set of (pitch, onset step within the bar) pairs (16th grid, as
:func:`.texture.onset_pairs`). An output bar's *corpus copy* is its best F1 against any training
bar under every transposition of -6..+6 semitones (all 12 keys, both tritones):
``2 |A + k  &  B| / (|A| + |B|)``. A bar with F1 >= :data:`COPY_F1` counts as a copy.

The search is exact and vectorised: the training bars are indexed by (pitch, step) key (an
inverted index, 128 x 16 keys), and each output bar's transposed keys gather their postings and
count matches with one ``bincount`` per chunk of bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SHIFTS = tuple(range(-6, 7))
COPY_F1 = 0.9
KEY_STEPS = 16 * 4      # room for bars of up to 16 beats of 16ths (a key is pitch * KEY_STEPS + step)
N_MIDI = 128


def bar_keys(pitch: np.ndarray, step: np.ndarray, bar: np.ndarray, n_bars: int) -> list[np.ndarray]:
    """Per bar, the sorted distinct keys ``pitch * KEY_STEPS + step`` of its onsets: ``n_bars`` int arrays."""
    keys = np.asarray(pitch, dtype=np.int64) * KEY_STEPS + np.minimum(np.asarray(step, dtype=np.int64), KEY_STEPS - 1)
    order = np.lexsort((keys, bar))
    keys, bar = keys[order], np.asarray(bar)[order]
    bounds = np.searchsorted(bar, np.arange(n_bars + 1))
    return [np.unique(keys[bounds[i]:bounds[i + 1]]) for i in range(n_bars)]


@dataclass(frozen=True)
class CopyIndex:
    """Training bars indexed by onset key.

    Attributes:
        indptr: ``(N_MIDI * KEY_STEPS + 1,)`` CSR offsets into ``postings``.
        postings: ``(total,)`` training bar ids, grouped by key.
        sizes: ``(n_bars,)`` distinct onset pairs per training bar.
    """

    indptr: np.ndarray
    postings: np.ndarray
    sizes: np.ndarray

    @classmethod
    def build(cls, bars: Sequence[np.ndarray]) -> CopyIndex:
        """From each training bar's keys (:func:`bar_keys`); bars without onsets are kept but never match."""
        sizes = np.array([len(b) for b in bars], dtype=np.int64)
        keys = np.concatenate(list(bars)) if len(bars) else np.zeros(0, np.int64)
        ids = np.repeat(np.arange(len(bars), dtype=np.int64), sizes)
        order = np.argsort(keys, kind="stable")
        counts = np.bincount(keys, minlength=N_MIDI * KEY_STEPS)
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(indptr, ids[order], sizes)

    def __len__(self) -> int:
        return len(self.sizes)

    def best_f1(self, bars: Sequence[np.ndarray], chunk: int = 32) -> np.ndarray:
        """Best F1 of each query bar (its keys) against any indexed bar in any shift: ``(len(bars),)``;
        0 for a bar without onsets or an empty index."""
        out = np.zeros(len(bars))
        n_c = len(self.sizes)
        if not n_c:
            return out
        n_shift = len(SHIFTS)
        for lo in range(0, len(bars), chunk):
            part = bars[lo:lo + chunk]
            rows, keys = [], []
            for i, k in enumerate(part):
                for j, shift in enumerate(SHIFTS):
                    moved = k + shift * KEY_STEPS
                    moved = moved[(moved >= 0) & (moved < N_MIDI * KEY_STEPS)]
                    rows.append(np.full(len(moved), i * n_shift + j, dtype=np.int64))
                    keys.append(moved)
            if not keys:
                continue
            row = np.concatenate(rows)
            key = np.concatenate(keys)
            start, lens = self.indptr[key], self.indptr[key + 1] - self.indptr[key]
            total = int(lens.sum())
            if not total:
                continue
            offsets = np.arange(total) - np.repeat(np.cumsum(lens) - lens, lens)
            ids = self.postings[np.repeat(start, lens) + offsets]
            owner = np.repeat(row, lens)
            counts = np.bincount(owner * n_c + ids, minlength=len(part) * n_shift * n_c)
            counts = counts.reshape(len(part), n_shift, n_c)
            size_q = np.array([len(k) for k in part], dtype=np.float64)[:, None, None]
            f1 = 2.0 * counts / np.maximum(size_q + self.sizes[None, None, :], 1.0)
            out[lo:lo + len(part)] = f1.reshape(len(part), -1).max(axis=1)
        return out


def copy_share(f1: np.ndarray, threshold: float = COPY_F1) -> float:
    """Share of bars whose best F1 reaches ``threshold`` (NaN for no bars)."""
    f1 = np.asarray(f1, dtype=np.float64)
    return float((f1 >= threshold - 1e-12).mean()) if f1.size else float("nan")
