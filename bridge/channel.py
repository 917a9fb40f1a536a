# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The rate-limited channel between encoder and decoder: the heart of the paper.

1. **Bit allocation by reverse water-filling.** Start from per-component variances ``s_i^2``;
   give one bit at a time to the component with the largest remaining variance and divide that
   variance by 4, until ``rate`` bits are spent. Ties go to the lower component index.
2. **Berger's optimal Gaussian test channel.** With ``R_i`` bits, the decoder receives
   ``z_d ~ N(mu_d, s_d^2)``, ``mu_d = z_e + 2^(-2R_i) (mu_i - z_e)`` and
   ``s_d^2 = 2^(-4R_i) (2^(2R_i) - 1) s_i^2``. A component with no bits sends ``mu_i`` exactly.

The reference notebook scales its noise by ``s_i^2`` where the standard deviation ``s_i`` is
meant; here the noise's standard deviation is ``sqrt(s_d^2)``, as the formula says.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_BITS_PER_COMPONENT = 64  # 4^-64 of the variance is left: numerically the full rate


def allocate_bits(variances: np.ndarray, rate: int) -> np.ndarray:
    """Reverse water-filling: ``variances`` ``(L,)`` or ``(T, L)`` -> integer bits of the same shape.

    Equal to the greedy one-bit-at-a-time loop (see :func:`allocate_bits_greedy`), computed in
    one pass: the k-th bit of component i has priority ``s_i^2 / 4^(k-1)``, and the ``rate``
    highest priorities win. Each row of a 2-D input gets its own ``rate`` bits.
    """
    var = np.asarray(variances, dtype=np.float64)
    if var.ndim == 2:
        return np.stack([allocate_bits(row, rate) for row in var]) if len(var) else np.zeros(var.shape, int)
    if rate < 0:
        raise ValueError(f"rate must be >= 0, got {rate}")
    n = var.shape[0]
    var = np.where(np.isfinite(var), np.maximum(var, 0.0), 0.0)
    if rate == 0 or n == 0:
        return np.zeros(n, dtype=np.int64)
    k = min(MAX_BITS_PER_COMPONENT, rate)
    priorities = np.ldexp(var[:, None], -2 * np.arange(k)[None, :])       # (L, k), exact powers of 4
    flat = priorities.ravel()
    if rate >= flat.size:
        return np.full(n, k, dtype=np.int64)
    cut = np.partition(flat, flat.size - rate)[flat.size - rate]          # the rate-th largest priority
    taken = priorities > cut
    remaining = rate - int(taken.sum())
    if remaining > 0:  # ties at the cut: lowest component first (row-major order is exactly that)
        ties = np.flatnonzero(flat == cut)[:remaining]
        taken.ravel()[ties] = True
    return taken.sum(axis=1).astype(np.int64)


def allocate_bits_greedy(variances: np.ndarray, rate: int) -> np.ndarray:
    """The reference's loop, literally: for tests and for reading. ``(L,)`` -> bits ``(L,)``."""
    remaining = np.asarray(variances, dtype=np.float64).copy()
    bits = np.zeros(len(remaining), dtype=np.int64)
    for _ in range(rate):
        eligible = np.where(bits < MAX_BITS_PER_COMPONENT, remaining, -np.inf)
        i = int(np.argmax(eligible))  # argmax returns the first maximum: lowest index on ties
        if not np.isfinite(eligible[i]):
            break
        bits[i] += 1
        remaining[i] /= 4.0
    return bits


@dataclass(frozen=True)
class ChannelStats:
    """Source statistics the channel codes against: means ``(L,)``, variances ``(L,)`` or ``(T, L)``."""

    mean: np.ndarray
    var: np.ndarray


def transmit(z_e: np.ndarray, stats: ChannelStats, bits: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Berger's test channel: ``z_e`` ``(T, L)``, bits ``(L,)`` or ``(T, L)``, standard normal
    ``noise`` ``(T, L)`` -> decoder latents ``(T, L)``. Deterministic given ``noise``."""
    a = np.ldexp(1.0, -2 * np.asarray(bits, dtype=np.int64))                # 2^(-2R)
    mean = z_e + a * (stats.mean - z_e)
    std = np.sqrt(a * (1.0 - a) * stats.var)                               # = sqrt(2^(-4R)(2^(2R)-1) s^2)
    return (mean + std * noise).astype(np.float32)


def distortion(stats_var: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """Expected squared error per component after coding: ``s_i^2 4^(-R_i)``."""
    return np.ldexp(np.asarray(stats_var, dtype=np.float64), -2 * np.asarray(bits, dtype=np.int64))
