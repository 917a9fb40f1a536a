# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-FileCopyrightText: 2014-2024 Cheng-i Wang (vmo, https://github.com/wangsix/vmo)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Variable Markov Oracle (VMO): build, information rate (IR), and a fast exact threshold sweep.

Licence: GPL-3.0-or-later, unlike the rest of qbdi (MIT). The build (:mod:`.lockstep`) and
``information_rate`` follow vmo's ``MO.add_state``, ``_len_common_suffix``, ``_find_better``,
``_encode`` and ``_ir_cum`` (vmo/VMO/oracle.py, Cheng-i Wang, GPL-3.0-or-later) statement by
statement; see LICENSES/GPL-3.0-or-later.txt.

The build follows vmo's incremental algorithm (``vmo.build_oracle(..., flag='a',
suffix_method='inc')``, Wang & Dubnov 2014) and yields the same suffix links, repeat lengths and
clusters; :func:`vmo_reference_sweep` runs vmo itself and the tests check that both agree.

The sweep gives vmo's exhaustive result (one build per threshold) with far less work and memory:

* one build's decisions hold for an interval of thresholds ``(lo, hi]``, so thresholds of the
  grid that fall in it share that build (:mod:`.lockstep` keeps them in one walk and splits it
  where a decision differs), and all builds advance together, one frame at a time;
* distances are computed when a build asks for them, never all n x n (:mod:`.distances`), so
  memory is linear in the length; a frame's distances to earlier ones are computed once per
  pass for all builds.

States are numbered 0..n: state 0 is the empty prefix, state ``i`` follows frame ``i - 1``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from . import lockstep
from .distances import METRICS, FrameDistances, as_features

log = logging.getLogger(__name__)

__all__ = ["METRICS", "N_THRESHOLDS", "Oracle", "OracleAnalysis", "Sweep", "analyze", "build", "default_thresholds",
           "distance_matrix", "from_vmo", "information_rate", "sweep", "threshold_grid", "vmo_reference_sweep"]

N_THRESHOLDS = 100
WALK_MEMORY = 96 << 20  # bytes for the builds alive at once in a sweep (see lockstep)
STATE_BYTES = 400  # an upper bound on what one state of one walk holds (checked by tests/analysis/test_scale.py)


@dataclass
class Oracle:
    """One VMO over ``n`` frames at one threshold.

    Attributes:
        threshold: frames closer than this (strictly) count as the same symbol.
        metric: the frame distance, ``'euclidean'`` or ``'cosine'``.
        sfx: (n + 1,) suffix link of each state; ``sfx[0] == -1``.
        lrs: (n + 1,) length of the longest repeated suffix ending at each state.
        symbols: (n + 1,) cluster index of each state; ``symbols[0] == -1``.
        trn: forward transitions of each state (n + 1 lists of states).
        rsfx: reverse suffix links of each state (n + 1 sorted lists).
        valid: ``(lo, hi)``: every threshold ``t`` with ``lo < t <= hi`` builds this same oracle.
    """

    threshold: float
    metric: str
    sfx: np.ndarray
    lrs: np.ndarray
    symbols: np.ndarray
    trn: list[list[int]]
    rsfx: list[list[int]]
    valid: tuple[float, float] = (-math.inf, math.inf)

    @property
    def n_frames(self) -> int:
        return len(self.sfx) - 1

    @property
    def n_clusters(self) -> int:
        return len(self.rsfx[0])

    def information_rate(self, alpha: float = 1.0) -> np.ndarray:
        """IR of each frame, shape (n,), in bits: vmo's ``oracle.IR(ir_type='cum')[0]``."""
        return information_rate(self.lrs, alpha)


@dataclass
class Sweep:
    """Total IR of the oracle at each threshold of a grid.

    Attributes:
        thresholds: (m,) the grid, as given (increasing by default).
        ir_totals: (m,) total IR (bits) of the oracle built at each threshold.
        n_clusters: (m,) number of clusters (symbols) at each threshold.
        n_builds: how many oracles were actually built (the rest were reused).
    """

    thresholds: np.ndarray
    ir_totals: np.ndarray
    n_clusters: np.ndarray
    n_builds: int

    @property
    def best_index(self) -> int:
        """Index of the highest total IR; on a tie the first (the lowest threshold of an increasing grid, as in vmo)."""
        return int(np.argmax(self.ir_totals))

    @property
    def best_threshold(self) -> float:
        return float(self.thresholds[self.best_index])


@dataclass
class OracleAnalysis:
    """The sweep, and the oracle and IR over time at the best threshold."""

    sweep: Sweep
    oracle: Oracle
    ir: np.ndarray = field(repr=False)  # (n,) IR per frame at the best threshold

    @property
    def best_threshold(self) -> float:
        return self.sweep.best_threshold

    @property
    def ir_total(self) -> float:
        return float(self.ir.sum())


def distance_matrix(features: np.ndarray, metric: str = "euclidean") -> np.ndarray:
    """All pairwise distances between frames: (n, d) features -> (n, n) float64; small inputs only.

    The same values vmo computes, bit for bit; the sweep itself never builds this matrix.
    """
    return FrameDistances(features, metric).matrix()


def build(features: np.ndarray, threshold: float, metric: str = "euclidean",
          distances: FrameDistances | None = None) -> Oracle:
    """Build the VMO of ``features`` (n, d) at ``threshold``; pass ``distances`` to reuse them."""
    if distances is None:
        distances = FrameDistances(features, metric)
    t = float(threshold)
    with lockstep.no_gc():
        (walk,), _ = lockstep.run(distances, [lockstep.Walk([t], [0])], max_walks=1)
        walk.finish()
    return Oracle(threshold=t, metric=distances.metric, sfx=np.array(walk.sfx), lrs=np.array(walk.lrs),
                  symbols=np.array(walk.sym), trn=walk.trn, rsfx=walk.rsfx, valid=(walk.lo, walk.hi))


def information_rate(lrs: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """IR per frame from the repeat lengths ``lrs`` (n + 1,): shape (n,), bits, clipped at 0.

    Compror coding (Wang & Dubnov): a frame with no repeat is a new symbol; otherwise the longest
    repeat that can be copied starting there is one code word of block length L. With C0(t) the new
    symbols and C1(t) the code words up to frame t, ``IR(t) = alpha * log2 C0(t) - log2 C1(t) / L(t)``.
    """
    lrs = np.asarray(lrs)
    n = len(lrs) - 1
    new = np.zeros(n)
    word = np.zeros(n)
    block = np.zeros(n)
    j = 0
    while j < n:
        i = j
        while i < n and lrs[i + 1] >= i - j + 1:
            i += 1
        if i == j:
            new[j] = word[j] = block[j] = 1
            j += 1
        else:
            word[j] = 1
            block[j:i] = i - j
            j = i
    with np.errstate(divide="ignore"):
        h0 = np.log2(np.cumsum(new))
        h1 = np.log2(np.cumsum(word)) / block
    ir = alpha * h0 - h1
    ir[ir < 0] = 0
    return ir


def threshold_grid(top: float, n: int = N_THRESHOLDS) -> np.ndarray:
    """``n`` evenly spaced thresholds in (0, top]; ``top`` <= 0 counts as 1: shape (n,)."""
    if not top > 0:
        top = 1.0
    return np.linspace(0.0, float(top), n + 1)[1:]


def default_thresholds(distances: np.ndarray | FrameDistances, n: int = N_THRESHOLDS) -> np.ndarray:
    """``n`` evenly spaced thresholds in (0, largest finite distance]: shape (n,).

    Args:
        distances: a :class:`FrameDistances` (or, for small inputs, an (n, n) matrix).
    """
    if isinstance(distances, FrameDistances):
        return threshold_grid(distances.largest(), n)
    finite = distances[np.isfinite(distances)]
    return threshold_grid(float(finite.max()) if finite.size else 0.0, n)


def sweep(features: np.ndarray, metric: str = "euclidean", thresholds: Sequence[float] | None = None,
          alpha: float = 1.0, distances: FrameDistances | None = None, progress: bool = False,
          desc: str = "threshold sweep", max_walks: int | None = None) -> Sweep:
    """Total IR at every threshold of a grid; equal to vmo's exhaustive ``find_threshold``.

    Args:
        features: (n, d) frames.
        thresholds: a grid (any order, no NaN); default :func:`default_thresholds` (100 values).
        max_walks: builds alive at once (default: as many as :data:`WALK_MEMORY` holds); fewer
            means more passes over the frames, never another result.
    """
    if distances is None:
        distances = FrameDistances(features, metric)
    grid = default_thresholds(distances) if thresholds is None else np.asarray(thresholds, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError("thresholds must be a non-empty 1-D sequence")
    if np.isnan(grid).any():
        raise ValueError("thresholds must not be NaN")
    if max_walks is None:
        max_walks = max(2, WALK_MEMORY // (STATE_BYTES * (distances.n + 1)))
    totals = np.zeros(grid.size)
    clusters = np.zeros(grid.size, dtype=int)
    todo = sorted((float(t), j) for j, t in enumerate(grid))
    builds = passes = 0
    bar = _progress(distances.n, desc, progress)
    while todo:
        passes += 1
        if bar is not None:
            bar.reset()
            bar.set_description(f"{desc} (pass {passes})" if passes > 1 else desc)
        with lockstep.no_gc():
            walks, todo = lockstep.run(distances, [lockstep.Walk([t for t, _ in todo], [j for _, j in todo])],
                                       max_walks, None if bar is None else lambda _i: bar.update())
            for w in walks:
                totals[w.indices] = float(information_rate(np.array(w.lrs), alpha).sum())
                clusters[w.indices] = w.n_clusters
            builds += len(walks)
            del walks
        todo.sort()
    if bar is not None:
        bar.close()
    log.debug("sweep over %d thresholds: %d builds in %d passes of %d frames", grid.size, builds, passes,
              distances.n)
    return Sweep(thresholds=grid, ir_totals=totals, n_clusters=clusters, n_builds=builds)


def analyze(features: np.ndarray, metric: str = "euclidean", thresholds: Sequence[float] | None = None,
            alpha: float = 1.0, progress: bool = False, desc: str = "threshold sweep") -> OracleAnalysis:
    """Sweep thresholds, then rebuild at the best one: (n, d) features -> :class:`OracleAnalysis`."""
    distances = FrameDistances(features, metric)
    result = sweep(features, metric, thresholds, alpha, distances, progress, desc)
    try:  # the reported oracle is vmo's own; the fast sweep only chose its threshold
        import vmo

        x = as_features(features)
        oracle = from_vmo(vmo.build_oracle(x, flag="a", threshold=result.best_threshold, dfunc=metric,
                                           dim=x.shape[1]), result.best_threshold, metric)
    except ImportError:
        log.info("vmo is not installed; using the built-in oracle (identical by test)")
        oracle = build(features, result.best_threshold, metric, distances)
    return OracleAnalysis(sweep=result, oracle=oracle, ir=information_rate(oracle.lrs, alpha))


def from_vmo(ref, threshold: float, metric: str) -> Oracle:
    """A ``vmo`` oracle object -> :class:`Oracle` (same states, links and clusters)."""
    sfx = np.array([-1 if s is None else s for s in ref.sfx], dtype=np.int64)
    symbols = np.array([-1 if d is None else d for d in ref.data], dtype=np.int64)
    symbols[0] = -1
    return Oracle(threshold=float(threshold), metric=metric, sfx=sfx, lrs=np.array(ref.lrs, dtype=np.int64),
                  symbols=symbols, trn=[list(t) for t in ref.trn], rsfx=[sorted(r) for r in ref.rsfx])


def vmo_reference_sweep(features: np.ndarray, thresholds: Sequence[float], metric: str = "euclidean",
                        alpha: float = 1.0) -> np.ndarray:
    """vmo's own exhaustive sweep (one ``build_oracle`` per threshold): total IR per threshold, (m,).

    The slow reference the tests compare :func:`sweep` against.
    """
    import vmo

    x = as_features(features)
    totals = []
    for t in thresholds:
        oracle = vmo.build_oracle(x, flag="a", threshold=float(t), dfunc=metric, dim=x.shape[1])
        totals.append(float(oracle.IR(alpha=alpha, ir_type="cum")[0].sum()))
    return np.array(totals)


def _progress(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="frame", leave=False)
