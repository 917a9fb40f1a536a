# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-FileCopyrightText: 2014-2024 Cheng-i Wang (vmo, https://github.com/wangsix/vmo)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Variable Markov Oracle (VMO): build, information rate (IR), and a fast exact threshold sweep.

Licence: GPL-3.0-or-later, unlike the rest of qbdi (MIT). ``_build``, ``_len_common_suffix``,
``_find_better`` and ``information_rate`` follow vmo's ``MO.add_state``, ``_len_common_suffix``,
``_find_better``, ``_encode`` and ``_ir_cum`` (vmo/VMO/oracle.py, Cheng-i Wang, GPL-3.0-or-later)
statement by statement; see LICENSES/GPL-3.0-or-later.txt.

The build follows vmo's incremental algorithm (``vmo.build_oracle(..., flag='a',
suffix_method='inc')``, Wang & Dubnov 2014) and yields the same suffix links, repeat lengths and
clusters; :func:`vmo_reference_sweep` runs vmo itself and the tests check that both agree.

Two things make the sweep fast without changing its result:

* all pairwise frame distances are computed once (vmo calls ``cdist`` per frame and threshold);
* each build records the interval of thresholds ``(lo, hi]`` in which every distance comparison
  it made (``d < threshold``) comes out the same. Any threshold in that interval builds the
  identical oracle, so grid points inside it reuse the result instead of rebuilding.

States are numbered 0..n: state 0 is the empty prefix, state ``i`` follows frame ``i - 1``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.distance import cdist

log = logging.getLogger(__name__)

METRICS = ("euclidean", "cosine")
N_THRESHOLDS = 100
_SHORT = 24  # transition lists up to this length are scanned in Python, longer ones with NumPy


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
        thresholds: (m,) increasing thresholds.
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
        """Index of the highest total IR; the lowest threshold wins a tie (as in vmo)."""
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
    """All pairwise distances between frames: (n, d) features -> (n, n) float64.

    Computed with the same ``cdist`` routine vmo uses, so the values match vmo's bit for bit.
    """
    x = _as_features(features)
    _check_metric(metric)
    return cdist(x, x, metric=metric)


def build(features: np.ndarray, threshold: float, metric: str = "euclidean",
          distances: np.ndarray | None = None) -> Oracle:
    """Build the VMO of ``features`` (n, d) at ``threshold``; pass ``distances`` (n, n) to reuse them."""
    if distances is None:
        distances = distance_matrix(features, metric)
    return _build(distances, float(threshold), metric)


def _build(dist: np.ndarray, threshold: float, metric: str, rows: list[list[float]] | None = None) -> Oracle:
    """``rows`` is ``dist.tolist()`` (Python floats for fast scalar access), passed in to share it."""
    n = dist.shape[0]
    if rows is None:
        rows = dist.tolist()
    sfx = [-1] * (n + 1)
    lrs = [0] * (n + 1)
    sym = [-1] * (n + 1)
    trn: list[list[int]] = [[] for _ in range(n + 1)]
    rsfx: list[list[int]] = [[] for _ in range(n + 1)]
    n_clusters = 0
    lo, hi = -math.inf, math.inf
    t = threshold
    for i in range(1, n + 1):
        trn[i - 1].append(i)
        row = rows[i - 1]
        k = sfx[i - 1]
        pi_1 = i - 1
        candidate = 0
        while k != -1:
            targets = trn[k]
            best_d = math.inf
            if len(targets) <= _SHORT:
                for s in targets:
                    d = row[s - 1]
                    if d < t:
                        if d > lo:
                            lo = d
                        if d < best_d:
                            best_d, candidate = d, s
                    elif d < hi:
                        hi = d
            else:
                dvec = dist[i - 1, np.asarray(targets) - 1]
                below = dvec < t
                if below.any():
                    inside = dvec[below]
                    j = int(np.argmin(inside))
                    best_d, candidate = float(inside[j]), targets[int(np.flatnonzero(below)[j])]
                    lo = max(lo, float(inside.max()))
                above = dvec[dvec >= t]  # NaN distances compare False either way: they never bind
                if above.size:
                    hi = min(hi, float(above.min()))
            if best_d == math.inf:
                trn[k].append(i)
                pi_1 = k
                k = sfx[k]
            else:
                break
        if k == -1:
            sfx[i], lrs[i], sym[i] = 0, 0, n_clusters
            n_clusters += 1
        else:
            sfx[i] = candidate
            lrs[i] = _len_common_suffix(sfx, lrs, pi_1, candidate - 1) + 1
            sym[i] = sym[candidate]
        better = _find_better(rsfx[sfx[i]], lrs, sym, lrs[i], sym[i - lrs[i]])
        if better is not None:
            lrs[i] += 1
            sfx[i] = better
        rsfx[sfx[i]].append(i)
    return Oracle(threshold=t, metric=metric, sfx=np.array(sfx), lrs=np.array(lrs), symbols=np.array(sym),
                  trn=trn, rsfx=rsfx, valid=(lo, hi))


def _len_common_suffix(sfx: list[int], lrs: list[int], p1: int, p2: int) -> int:
    if p2 == sfx[p1]:
        return lrs[p1]
    while sfx[p2] != sfx[p1] and p2 != 0:
        p2 = sfx[p2]
    return min(lrs[p1], lrs[p2])


def _find_better(siblings: list[int], lrs: list[int], sym: list[int], length: int, symbol: int) -> int | None:
    """A state sharing the suffix link whose repeat can be extended by one more frame."""
    for j in siblings:  # kept sorted: states are appended in increasing order
        if lrs[j] == length and sym[j - length] == symbol:
            return j
    return None


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


def default_thresholds(distances: np.ndarray, n: int = N_THRESHOLDS) -> np.ndarray:
    """``n`` evenly spaced thresholds in (0, largest finite distance]: shape (n,)."""
    finite = distances[np.isfinite(distances)]
    top = float(finite.max()) if finite.size else 0.0
    if top <= 0:
        top = 1.0
    return np.linspace(0.0, top, n + 1)[1:]


def sweep(features: np.ndarray, metric: str = "euclidean", thresholds: Sequence[float] | None = None,
          alpha: float = 1.0, distances: np.ndarray | None = None, progress: bool = False,
          desc: str = "threshold sweep") -> Sweep:
    """Total IR at every threshold of a grid; equal to vmo's exhaustive ``find_threshold``.

    Args:
        features: (n, d) frames.
        thresholds: increasing grid; default :func:`default_thresholds` (100 values).
    """
    if distances is None:
        distances = distance_matrix(features, metric)
    grid = default_thresholds(distances) if thresholds is None else np.asarray(thresholds, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError("thresholds must be a non-empty 1-D sequence")
    totals = np.zeros(grid.size)
    clusters = np.zeros(grid.size, dtype=int)
    builds = 0
    done = np.zeros(grid.size, dtype=bool)
    rows = distances.tolist()
    bar = _progress(grid.size, desc, progress)
    for index in range(grid.size):
        if done[index]:
            continue
        oracle = _build(distances, float(grid[index]), metric, rows)
        builds += 1
        total = float(information_rate(oracle.lrs, alpha).sum())
        lo, hi = oracle.valid
        same = (grid > lo) & (grid <= hi) & ~done
        totals[same] = total
        clusters[same] = oracle.n_clusters
        done |= same
        if bar is not None:
            bar.update(int(same.sum()))
    if bar is not None:
        bar.close()
    log.debug("sweep over %d thresholds needed %d builds", grid.size, builds)
    return Sweep(thresholds=grid, ir_totals=totals, n_clusters=clusters, n_builds=builds)


def analyze(features: np.ndarray, metric: str = "euclidean", thresholds: Sequence[float] | None = None,
            alpha: float = 1.0, progress: bool = False, desc: str = "threshold sweep") -> OracleAnalysis:
    """Sweep thresholds, then rebuild at the best one: (n, d) features -> :class:`OracleAnalysis`."""
    distances = distance_matrix(features, metric)
    result = sweep(features, metric, thresholds, alpha, distances, progress, desc)
    try:  # the reported oracle is vmo's own; the fast sweep only chose its threshold
        import vmo

        x = _as_features(features)
        oracle = from_vmo(vmo.build_oracle(x, flag="a", threshold=result.best_threshold, dfunc=metric,
                                           dim=x.shape[1]), result.best_threshold, metric)
    except ImportError:
        log.info("vmo is not installed; using the built-in oracle (identical by test)")
        oracle = _build(distances, result.best_threshold, metric)
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

    x = _as_features(features)
    totals = []
    for t in thresholds:
        oracle = vmo.build_oracle(x, flag="a", threshold=float(t), dfunc=metric, dim=x.shape[1])
        totals.append(float(oracle.IR(alpha=alpha, ir_type="cum")[0].sum()))
    return np.array(totals)


def _as_features(features: np.ndarray) -> np.ndarray:
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"features must be a non-empty (n_frames, n_dims) array, got shape {x.shape}")
    return x


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")


def _progress(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="thr", leave=False)
