# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Exact frame distances on demand: what the oracle builds ask for, never an (n, n) array.

A VMO build only compares the new frame with the frames its suffix chain points at, and the
threshold grid needs only the largest distance. So :class:`FrameDistances` computes the distances
asked for (:meth:`~FrameDistances.between`) and finds the largest one in row blocks of bounded
size (:meth:`~FrameDistances.largest`): memory O(n), whatever the length.

Exactness. Every value comes from scipy's ``cdist`` on the same float64 rows vmo gives it, and
``cdist`` computes each pair on its own (the Euclidean sum and the cosine dot product and norms run
over the coordinates of that pair only, in order), so a value does not depend on which other
pairs share the call: it is bit for bit the value vmo compares with the threshold. The tests check
this against ``cdist`` of whole matrices and against vmo itself.

Identical frames (equal bytes: silence, a chord held over several steps, quantised music in
general) are stored once; a frame's distances are those of its unique frame.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from scipy.spatial.distance import cdist

log = logging.getLogger(__name__)

METRICS = ("euclidean", "cosine")
BLOCK_VALUES = 1 << 22  # distances per block of :meth:`FrameDistances.largest` (32 MB of float64)


class FrameDistances:
    """Distances between the frames of one sequence, computed when asked for.

    Args:
        features: (n, d) frames; converted to float64 as vmo does.
        metric: ``'euclidean'`` or ``'cosine'`` (scipy's definitions, as in vmo).
    """

    def __init__(self, features: np.ndarray, metric: str = "euclidean") -> None:
        x = as_features(features)
        check_metric(metric)
        self.metric = metric
        self.n = x.shape[0]
        rows = np.ascontiguousarray(x).view(np.dtype((np.void, x.dtype.itemsize * x.shape[1]))).ravel()
        _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
        order = np.argsort(first)  # unique frames in order of first appearance
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        self.unique = x[first[order]]  # (u, d)
        self.ids = rank[inverse.ravel()]  # (n,) unique frame of each frame
        self._state_ids = np.concatenate([[0], self.ids])  # (n + 1,) the same by oracle state
        log.debug("%d frames, %d distinct", self.n, len(self.unique))

    @property
    def n_unique(self) -> int:
        return len(self.unique)

    def between(self, frame: int, others: list[int] | np.ndarray) -> np.ndarray:
        """Distances from ``frame`` to each frame of ``others`` (0-based): shape (len(others),)."""
        return self._from(self.ids[frame], self.ids[np.asarray(others, dtype=np.intp)])

    def to_states(self, frame: int, states: list[int] | np.ndarray) -> np.ndarray:
        """:meth:`between` for oracle states: state ``s >= 1`` follows frame ``s - 1``."""
        return self._from(self.ids[frame], self._state_ids[np.asarray(states, dtype=np.intp)])

    def _from(self, i: int, ids: np.ndarray) -> np.ndarray:
        return cdist(self.unique[i:i + 1], self.unique[ids], self.metric)[0]

    def largest(self) -> float:
        """The largest finite distance between two frames (0.0 for none), in blocks of rows.

        Only the lower triangle and the diagonal are computed: both metrics are symmetric bit
        for bit (``|a - b|`` and ``a * b`` commute), which the tests check.
        """
        u = self.unique
        top = -math.inf
        step = max(1, BLOCK_VALUES // max(len(u), 1))
        for r0 in range(0, len(u), step):
            r1 = min(r0 + step, len(u))
            block = cdist(u[r0:r1], u[:r1], self.metric)
            finite = block[np.isfinite(block)]
            if finite.size:
                top = max(top, float(finite.max()))
        return top if top > -math.inf else 0.0

    def matrix(self) -> np.ndarray:
        """All (n, n) distances at once: for small inputs and checks only."""
        full = cdist(self.unique, self.unique, self.metric)
        return full[np.ix_(self.ids, self.ids)]


def as_features(features: np.ndarray) -> np.ndarray:
    """``features`` as a float64 (n, d) array with n >= 1, or ValueError."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"features must be a non-empty (n_frames, n_dims) array, got shape {x.shape}")
    return x


def check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
