# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Repeated motifs from an oracle: where the music repeats itself, and for how long.

Our own finder rather than ``vmo.analysis.find_repeated_patterns``: importing ``vmo.analysis``
pulls in librosa and scikit-learn (about 280 MB installed, with numba and llvmlite) for one
small function, and that function misses occurrences in some cases (e.g. ``abcabcXabcabc``
reports ``abc`` at 0, 3 and 10 but not 7; ``abababab`` gives ``ab`` at 4 and 6 only).
On sequences without those cases both give the same motifs; the tests check this.

Method. Every right-maximal repeat the oracle records (state ``i`` repeats the ``lrs[i]``
frames ending at ``sfx[i]``, and the repeat does not continue into ``i + 1``) proposes a motif:
the symbols of that repeat, clipped so the two copies do not overlap (a periodic run such as
``abababab`` proposes ``abab``). Each distinct motif is then located at all its
non-overlapping occurrences in the oracle's symbol sequence, left to right.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .oracle import Oracle

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Motif:
    """A pattern of ``length`` frames occurring at each of ``starts`` (0-based frame indices)."""

    length: int
    starts: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.starts)

    @property
    def coverage(self) -> int:
        """Frames covered by all occurrences."""
        return self.length * self.count

    def to_dict(self) -> dict:
        return {"length": self.length, "starts": list(self.starts), "count": self.count}


def repeat_proposals(sfx: np.ndarray, lrs: np.ndarray, min_length: int = 1) -> list[tuple[int, int]]:
    """Right-maximal repeats as ``(start, length)`` of their later copy, shape-free list.

    Args:
        sfx, lrs: (n + 1,) suffix links and repeat lengths of an oracle (state 0 first).
    """
    sfx = np.asarray(sfx)
    lrs = np.asarray(lrs)
    n = len(sfx) - 1
    out = []
    for i in range(1, n + 1):
        s, length = int(sfx[i]), int(lrs[i])
        if s <= 0 or length < min_length:
            continue
        if i < n and sfx[i + 1] == s + 1 and lrs[i + 1] == length + 1:
            continue  # the repeat goes on: only its last state proposes it
        period = i - s
        if length > period:  # the copies overlap: a periodic run of length + period frames
            length = (length + period) // 2 // period * period
        if length >= min_length:
            out.append((i - length, length))
    return out


def occurrences(symbols: np.ndarray, pattern: np.ndarray) -> list[int]:
    """Non-overlapping starts of ``pattern`` (m,) in ``symbols`` (n,), scanning left to right.

    Candidates are narrowed one position at a time: O(n) memory, never an (n, m) window array.
    """
    symbols = np.asarray(symbols)
    pattern = np.asarray(pattern)
    m = len(pattern)
    n = len(symbols)
    if m == 0 or m > n:
        return []
    hits = np.flatnonzero(symbols[:n - m + 1] == pattern[0])
    for j in range(1, m):
        if not hits.size:
            break
        hits = hits[symbols[hits + j] == pattern[j]]
    starts: list[int] = []
    for h in hits.tolist():
        if not starts or h >= starts[-1] + m:
            starts.append(h)
    return starts


def find_motifs(oracle: Oracle, min_length: int = 1, max_motifs: int | None = None) -> list[Motif]:
    """Repeated motifs of an oracle, sorted by coverage (most frames covered first).

    Args:
        oracle: the oracle (its ``sfx``, ``lrs`` and ``symbols``).
        min_length: shortest motif, in frames.
        max_motifs: keep only this many (all when ``None``).
    """
    symbols = np.asarray(oracle.symbols)[1:]  # frame t has the symbol of state t + 1
    found: dict[tuple[int, ...], Motif] = {}

    def locate(start: int, length: int) -> Motif | None:
        key = tuple(symbols[start:start + length].tolist())
        if key not in found:
            starts = occurrences(symbols, np.asarray(key))
            if len(starts) < 2:
                return None
            found[key] = Motif(length=length, starts=tuple(starts))
        return found[key]

    for start, length in repeat_proposals(oracle.sfx, oracle.lrs, min_length):
        locate(start, length)
    for start, length, counts in _overlaps(list(found.values()), min_length):
        key = tuple(symbols[start:start + length].tolist())
        if key in found:
            continue
        core = locate(start, length)  # the shared part of two overlapping motifs
        if core is not None and core.count <= max(counts):
            del found[key]  # no more frequent than a motif containing it: nothing new
    motifs = sorted(found.values(), key=lambda m: (-m.coverage, -m.length, m.starts))
    if max_motifs is not None:
        motifs = motifs[:max_motifs]
    log.debug("%d motifs of at least %d frames", len(motifs), min_length)
    return motifs


def _overlaps(motifs: list[Motif], min_length: int) -> list[tuple[int, int, tuple[int, int]]]:
    """``(start, length, (count_a, count_b))`` of each overlap between occurrences of two motifs."""
    spans = sorted((s, s + m.length, index) for index, m in enumerate(motifs) for s in m.starts)
    out = []
    for a, (_start_a, end_a, ia) in enumerate(spans):
        for start_b, end_b, ib in spans[a + 1:]:
            if start_b >= end_a:
                break
            if ib != ia and min(end_a, end_b) - start_b >= min_length:
                out.append((start_b, min(end_a, end_b) - start_b, (motifs[ia].count, motifs[ib].count)))
    return out


def vmo_patterns(oracle: Oracle, min_length: int = 1) -> list[Motif]:
    """vmo's own ``find_repeated_patterns`` on the same oracle, as :class:`Motif` (for checks).

    Loads ``vmo/analysis/analysis.py`` directly: the ``vmo.analysis`` package would import
    librosa and scikit-learn. vmo's ``lower`` is exclusive, ours inclusive.
    """
    import importlib.util

    import vmo

    spec = importlib.util.spec_from_file_location("_vmo_analysis_core", f"{vmo.__path__[0]}/analysis/analysis.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]

    class _View:  # the attributes find_repeated_patterns reads
        n_states = oracle.n_frames + 1
        sfx = [None] + [int(s) for s in oracle.sfx[1:]]
        lrs = [int(v) for v in oracle.lrs]
        rsfx = oracle.rsfx

    patterns = module.find_repeated_patterns(_View, lower=min_length - 1)
    return [Motif(length=int(length), starts=tuple(sorted(int(e) - int(length) for e in ends)))
            for ends, length in patterns]
