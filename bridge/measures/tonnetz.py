# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Tonal centroid (Harte, Sandler & Gasser 2006) and the Tonnetz distance between chroma vectors.

A chroma vector is L1-normalised and projected onto three circles: fifths (radius 1),
minor thirds (radius 1) and major thirds (radius 0.5), giving a 6-D tonal centroid.
The Tonnetz distance is the Euclidean distance between two centroids. Silence (an all-zero
chroma) maps to the origin.
"""

from __future__ import annotations

import numpy as np

R_FIFTHS = 1.0
R_MINOR_THIRDS = 1.0
R_MAJOR_THIRDS = 0.5


def _projection() -> np.ndarray:
    """The (6, 12) matrix Phi of Harte et al. (2006), eq. 2."""
    pc = np.arange(12, dtype=np.float64)
    rows = []
    for radius, angle in ((R_FIFTHS, 7 * np.pi / 6), (R_MINOR_THIRDS, 3 * np.pi / 2),
                          (R_MAJOR_THIRDS, 2 * np.pi / 3)):
        rows.append(radius * np.sin(angle * pc))
        rows.append(radius * np.cos(angle * pc))
    return np.vstack(rows)


PHI = _projection()
PHI.setflags(write=False)


def tonal_centroid(chroma: np.ndarray) -> np.ndarray:
    """Project chroma onto the tonal centroid space.

    Args:
        chroma: shape (12,) for one vector or (n, 12) for a sequence (rows are steps);
            non-negative weights.
    Returns:
        shape (6,) or (n, 6), float64; zero rows for silent (all-zero) chroma.
    """
    c = np.asarray(chroma, dtype=np.float64)
    if c.shape[-1] != 12:
        raise ValueError(f"chroma must have 12 pitch classes in its last axis, got shape {c.shape}")
    norm = np.abs(c).sum(axis=-1, keepdims=True)
    c = np.divide(c, norm, out=np.zeros_like(c), where=norm > 0)
    return c @ PHI.T


def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """Tonnetz distance between chroma vectors ``a`` and ``b`` (shapes (12,) or (n, 12), broadcast)."""
    d = np.linalg.norm(tonal_centroid(a) - tonal_centroid(b), axis=-1)
    return float(d) if np.ndim(d) == 0 else d


def chord(*pitch_classes: int) -> np.ndarray:
    """A (12,) chroma vector with weight 1 on each given pitch class (for tests and examples)."""
    c = np.zeros(12)
    for pc in pitch_classes:
        c[pc % 12] = 1.0
    return c
