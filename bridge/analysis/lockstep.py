# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-FileCopyrightText: 2014-2024 Cheng-i Wang (vmo, https://github.com/wangsix/vmo)
# SPDX-License-Identifier: GPL-3.0-or-later
"""VMO builds for many thresholds in one pass over the frames, splitting where they differ.

Licence: GPL-3.0-or-later, like :mod:`.oracle`. :meth:`Walk.match`, :meth:`Walk.new_symbol`,
the chain walk in :func:`run`, ``_len_common_suffix`` and ``_find_better`` follow vmo's
``MO.add_state``, ``_len_common_suffix`` and ``_find_better`` (vmo/VMO/oracle.py, Cheng-i Wang,
GPL-3.0-or-later) statement by statement; see LICENSES/GPL-3.0-or-later.txt.

Why one pass can serve many thresholds. vmo's build (``flag='a'``, ``suffix_method='inc'``)
compares distances with the threshold ``t`` in one place: scanning the transitions of a state
``k``, it matches when some distance ``d`` to their frames has ``d < t``, and then takes the
smallest such distance (the first of equals). Both depend on ``t`` only through ``m < t``, with
``m`` the smallest distance of the scan (NaN never counts): the candidate is the one at ``m``
whatever ``t``. So thresholds that have made the same decisions so far have built the same
oracle so far, and share one :class:`Walk`. A scan whose ``m`` falls between two of a walk's
thresholds splits it: those above ``m`` match and go on in a twin, the others do not. A walk
also keeps the interval ``(lo, hi]`` of every threshold its decisions hold for (``lo``: the
largest matching ``m``, ``hi``: the smallest other one).

Distances. In each row, the distances that the walks' next scans need and the row has not
computed yet come from one :meth:`FrameDistances.to_states` call (a round per step up the
suffix chains, rarely more than a few); a long scan (state 0 of a fine threshold has a
transition per symbol) runs in NumPy on a row cache instead.

Memory. A walk holds the oracle so far; a twin shares the transition and reverse-suffix lists
of its parent and copies one only before changing it, so a split costs a few pointers per
state. At most ``max_walks`` walks live at once; a split beyond that leaves the smaller side's
thresholds out, and the caller runs them in another pass.
"""

from __future__ import annotations

import gc
import math
from bisect import bisect_right
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

from .distances import FrameDistances

LONG = 48  # scans of more transitions than this run in NumPy


class Walk:
    """One oracle under construction and the thresholds it serves.

    Attributes:
        thresholds: increasing thresholds that all build this oracle so far.
        indices: their positions in the caller's grid (same length).
        lo, hi: every ``t`` with ``lo < t <= hi`` makes the same decisions.
        sfx, lrs, sym, trn, rsfx: the oracle's lists, as :class:`.oracle.Oracle` holds them,
            except that ``rsfx`` holds ``None`` for an empty list.
        n_clusters: symbols so far.
    """

    __slots__ = ("thresholds", "indices", "lo", "hi", "sfx", "lrs", "sym", "trn", "rsfx", "n_clusters",
                 "shared", "own_trn", "own_rsfx", "arrays")

    def __init__(self, thresholds: list[float], indices: list[int]) -> None:
        self.thresholds = thresholds
        self.indices = indices
        self.lo, self.hi = -math.inf, math.inf
        self.sfx = [-1]
        self.lrs = [0]
        self.sym = [-1]
        self.trn: list[list[int]] = []  # the list of state k is made in row k + 1, with its first target
        self.rsfx: list[list[int] | None] = [None]
        self.n_clusters = 0
        self.shared = 0  # the lists of states below this may be a twin's too: copy one before changing it
        self.own_trn: set[int] = set()  # ...unless it is here (copied since)
        self.own_rsfx: set[int] = set()
        self.arrays: dict[int, list] = {}  # state -> [NumPy copy of a long trn list, entries filled]

    def split(self, c: int, m: float) -> Walk:
        """Hand ``thresholds[c:]`` (those above ``m``) to a twin; this walk keeps the rest."""
        twin = Walk.__new__(Walk)
        twin.thresholds, self.thresholds = self.thresholds[c:], self.thresholds[:c]
        twin.indices, self.indices = self.indices[c:], self.indices[:c]
        twin.lo, twin.hi = max(self.lo, m), self.hi
        self.hi = min(self.hi, m)
        twin.sfx, twin.lrs, twin.sym = self.sfx[:], self.lrs[:], self.sym[:]
        twin.trn, twin.rsfx = self.trn[:], self.rsfx[:]
        twin.n_clusters = self.n_clusters
        twin.shared = self.shared = len(self.trn)
        twin.own_trn, twin.own_rsfx, self.own_trn, self.own_rsfx = set(), set(), set(), set()
        twin.arrays = {}
        return twin

    def add_transition(self, k: int, i: int) -> None:
        targets = self.trn[k]
        if k < self.shared and k not in self.own_trn:
            targets = self.trn[k] = targets[:]
            self.own_trn.add(k)
        targets.append(i)

    def new_symbol(self, i: int) -> None:
        """Finish state ``i``: no suffix matched, a new symbol."""
        self.sfx.append(0)
        self.lrs.append(0)
        self.sym.append(self.n_clusters)
        self.n_clusters += 1
        self.add_child(0, i)  # vmo's _find_better looks for an earlier state of this new symbol: none

    def match(self, i: int, pi_1: int, candidate: int) -> None:
        """Finish state ``i``: its suffix is ``candidate``, found from state ``pi_1``."""
        sfx, lrs, sym = self.sfx, self.lrs, self.sym
        lrs.append(_len_common_suffix(sfx, lrs, pi_1, candidate - 1) + 1)
        sfx.append(candidate)
        sym.append(sym[candidate])
        better = _find_better(self.rsfx[candidate] or (), lrs, sym, lrs[i], sym[i - lrs[i]])
        if better is not None:
            lrs[i] += 1
            sfx[i] = better
        self.add_child(sfx[i], i)

    def add_child(self, p: int, i: int) -> None:
        children = self.rsfx[p]
        if children is None:
            self.rsfx[p] = [i]
            if p < self.shared:
                self.own_rsfx.add(p)
            return
        if p < self.shared and p not in self.own_rsfx:
            children = self.rsfx[p] = children[:]
            self.own_rsfx.add(p)
        children.append(i)

    def targets_array(self, k: int) -> np.ndarray:
        """``trn[k]`` as a NumPy array, kept up to date by appending what is new."""
        targets = self.trn[k]
        entry = self.arrays.get(k)
        if entry is None:
            entry = self.arrays[k] = [np.empty(2 * len(targets), dtype=np.intp), 0]
        elif len(entry[0]) < len(targets):
            grown = np.empty(2 * len(targets), dtype=np.intp)
            grown[:entry[1]] = entry[0][:entry[1]]
            entry[0] = grown
        if entry[1] < len(targets):
            entry[0][entry[1]:len(targets)] = targets[entry[1]:]
            entry[1] = len(targets)
        return entry[0][:len(targets)]

    def finish(self) -> None:
        """Close the lists once every frame is in: state n's transitions, empty reverse lists."""
        self.trn.append([])
        self.rsfx = [[] if r is None else r for r in self.rsfx]
        self.arrays = {}


def run(distances: FrameDistances, walks: list[Walk], max_walks: int,
        on_row: Callable[[int], None] | None = None) -> tuple[list[Walk], list[tuple[float, int]]]:
    """Build every walk over all frames.

    Args:
        distances: the frames' distances.
        walks: fresh walks (usually one holding every threshold).
        max_walks: most walks alive at once; at least 1.
        on_row: called with each state number once all walks have it (progress).
    Returns:
        the finished walks, and the ``(threshold, index)`` pairs left out for another pass.
    """
    left_out: list[tuple[float, int]] = []
    walks = list(walks)
    long_rows = _RowCache(distances)
    with no_gc():
        for i in range(1, distances.n + 1):
            row: dict[int, float] = {}  # state s -> distance from frame i - 1 to frame s - 1 (short scans)
            long_rows.frame = i - 1
            steps = []
            for w in walks:
                w.trn.append([i])
                w.rsfx.append(None)
                steps.append((w, w.sfx[i - 1], i - 1))
            born: list[Walk] = []
            while steps:
                _fetch(distances, i - 1, row, long_rows, steps)
                later = []
                for w, k, pi_1 in steps:
                    if k == -1:
                        w.new_symbol(i)
                        continue
                    targets = w.trn[k]
                    if len(targets) > LONG:
                        m, candidate = long_rows.nearest(w.targets_array(k))
                    else:
                        m, candidate = math.inf, 0
                        for s in targets:
                            d = row[s]
                            if d < m:  # NaN never is
                                m, candidate = d, s
                    ts = w.thresholds
                    if m < ts[0]:  # every threshold matches: Walk.match, inlined (the hot path)
                        if m > w.lo:
                            w.lo = m
                        sfx, lrs, sym = w.sfx, w.lrs, w.sym
                        length = _len_common_suffix(sfx, lrs, pi_1, candidate - 1) + 1
                        lrs.append(length)
                        sfx.append(candidate)
                        sym.append(sym[candidate])
                        siblings = w.rsfx[candidate]
                        if siblings is not None:
                            better = _find_better(siblings, lrs, sym, length, sym[i - length])
                            if better is not None:
                                lrs[i] = length + 1
                                sfx[i] = candidate = better
                        w.add_child(candidate, i)
                        continue
                    if m < ts[-1]:  # the thresholds above m match, the others do not
                        c = bisect_right(ts, m)
                        if len(walks) + len(born) < max_walks:
                            twin = w.split(c, m)
                            twin.match(i, pi_1, candidate)
                            born.append(twin)
                        elif c >= len(ts) - c:  # no room for a twin: leave the smaller side out
                            left_out += zip(ts[c:], w.indices[c:])
                            w.thresholds, w.indices, w.hi = ts[:c], w.indices[:c], min(w.hi, m)
                        else:
                            left_out += zip(ts[:c], w.indices[:c])
                            w.thresholds, w.indices, w.lo = ts[c:], w.indices[c:], max(w.lo, m)
                            w.match(i, pi_1, candidate)
                            continue
                    elif m < w.hi:
                        w.hi = m
                    w.add_transition(k, i)  # no threshold left in this walk matches: up the chain
                    later.append((w, w.sfx[k], k))
                steps = later
            walks += born
            if on_row is not None:
                on_row(i)
    return walks, left_out


def _fetch(distances: FrameDistances, frame: int, row: dict[int, float], long_rows: _RowCache, steps: list) -> None:
    """Compute what the scans of ``steps`` need and this row lacks, in one cdist call.

    Short scans read ``row``, long ones ``long_rows``.
    """
    need: set[int] = set()
    stale = []
    for w, k, _ in steps:
        if k != -1:
            targets = w.trn[k]
            if len(targets) > LONG:
                states = w.targets_array(k)
                stale.append(states[long_rows.stamp[states] != frame])
            else:
                need.update(targets)
    missing = list(need.difference(row))
    if stale:
        stale_states = np.concatenate(stale)  # walks share states: computing one twice is cheaper than np.unique
        values = distances.to_states(frame, np.concatenate([np.asarray(missing, dtype=np.intp), stale_states]))
        long_rows.values[stale_states] = values[len(missing):]
        long_rows.stamp[stale_states] = frame
        if missing:
            row.update(zip(missing, values[:len(missing)].tolist()))
    elif missing:
        row.update(zip(missing, distances.to_states(frame, missing).tolist()))


class _RowCache:
    """Distances from the row's frame to states, in NumPy, for long scans (filled by :func:`_fetch`)."""

    def __init__(self, distances: FrameDistances) -> None:
        self.values = np.empty(distances.n + 1)
        self.stamp = np.full(distances.n + 1, -1, dtype=np.intp)
        self.frame = -1

    def nearest(self, states: np.ndarray) -> tuple[float, int]:
        """``(m, s)``: the smallest distance to ``states`` and the first state at it; ``(inf, 0)`` if all NaN."""
        d = self.values[states]
        j = int(d.argmin())
        if d[j] != d[j]:  # argmin stops at the first NaN; vmo's comparisons skip NaN
            finite = np.flatnonzero(~np.isnan(d))
            if not finite.size:
                return math.inf, 0
            j = int(finite[d[finite].argmin()])
        return float(d[j]), int(states[j])


def _len_common_suffix(sfx: list[int], lrs: list[int], p1: int, p2: int) -> int:
    if p2 == sfx[p1]:
        return lrs[p1]
    while sfx[p2] != sfx[p1] and p2 != 0:
        p2 = sfx[p2]
    return min(lrs[p1], lrs[p2])


def _find_better(siblings, lrs: list[int], sym: list[int], length: int, symbol: int) -> int | None:
    """A state sharing the suffix link whose repeat can be extended by one more frame."""
    for j in siblings:  # kept sorted: states are appended in increasing order
        if lrs[j] == length and sym[j - length] == symbol:
            return j
    return None


@contextmanager
def no_gc() -> Iterator[None]:
    """Walks make many lists and no cycles: the cyclic collector would only rescan them, again and
    again. Hold this while walks are alive (building and reading them)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
