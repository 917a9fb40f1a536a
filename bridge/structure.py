# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Long-term structure: which query bars repeat earlier ones, and latents that continue a query.

Both are NumPy only, so they run on the serving path. Repeats follow the rule a Variable Markov
Oracle uses to add a suffix link on one frame: bar t repeats the earliest bar s < t whose
frame is within a similarity threshold (cosine on the bar's piano-roll frame).
"""

from __future__ import annotations

import numpy as np

REPEAT_SIMILARITY = 0.9


def repeat_sources(frames: np.ndarray, similarity: float = REPEAT_SIMILARITY) -> np.ndarray:
    """Frames ``(T, D)`` -> ``(T,)``: for each frame the earliest earlier frame it repeats, else itself.

    Sources are resolved to the first occurrence, so ``src[src] == src``. Silent frames repeat
    only silent frames.
    """
    x = np.asarray(frames, dtype=np.float64)
    n = len(x)
    norms = np.linalg.norm(x, axis=1)
    unit = x / np.where(norms > 0, norms, 1.0)[:, None]
    sim = unit @ unit.T
    silent = norms == 0
    sim[np.ix_(silent, silent)] = 1.0
    src = np.arange(n)
    for t in range(1, n):
        earlier = np.flatnonzero(sim[t, :t] >= similarity)
        if len(earlier):
            src[t] = src[earlier[0]]
    return src


def continue_latents(model, z: np.ndarray, n_frames: int) -> np.ndarray:
    """Latents ``(T, L)`` -> ``n_frames`` more ``(n_frames, L)`` that follow them.

    With a next-bar predictor (models trained with ``--gamma``) each latent is predicted from the
    one before. Without one, the continuation walks the query's own latent sequence like an
    oracle: from the current latent jump to the most similar earlier bar and take its successor.
    """
    z = np.asarray(z, dtype=np.float32)
    out = np.zeros((n_frames, z.shape[1]), dtype=np.float32)
    if n_frames == 0:
        return out
    if model.vae.has_predictor:
        current = z[-1:]
        for i in range(n_frames):
            current = model.vae.predict_next(current)
            out[i] = current[0]
        return out
    if len(z) < 2:
        out[:] = z[-1]
        return out
    history = z[:-1]
    unit = history / np.maximum(np.linalg.norm(history, axis=1, keepdims=True), 1e-9)
    current = z[-1]
    for i in range(n_frames):
        scores = unit @ (current / max(float(np.linalg.norm(current)), 1e-9))
        nxt = int(np.argmax(scores)) + 1          # successor of the most similar earlier bar
        current = z[nxt]
        out[i] = current
    return out
