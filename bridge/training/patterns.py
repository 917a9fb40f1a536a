# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Fit the texture layer (:mod:`bridge.patterns`) on a corpus: NumPy only, a minute on a CPU.

1. Each training bar (original key) is split into roles: **bass** = the lowest note at its onset
   step when at most ``BASS_MAX``; **chord** = the other notes struck together with at least one
   more; **top** = a note struck alone. Its skeleton is the three roles' onset steps (48 zeros and
   ones: no pitch, so it is key-invariant).
2. k-means (k-means++ seeding, seeded) groups the skeletons into K clusters. A pattern is a
   cluster's aggregate, never one of its bars: per role, the share of its bars striking at each step
   (the frequencies a figure is drawn from), the expected number of onsets placed at the steps where
   the cluster strikes most often (the modal figure), the median duration at each step (cut at the
   role's next onset), the chord's median size and the role's mean register.
3. The transition matrix counts consecutive bars' clusters (add-half smoothing); the prior counts
   clusters.
4. A softmax classifier from the VAE's encoder means (every transposition of the training bars)
   to the cluster, L2-regularised, fitted by full-batch gradient descent with Adam.
"""

from __future__ import annotations

import logging

import numpy as np

from ..config import Representation
from ..patterns import BASS, CHORD, PATTERN_STEPS, ROLES, TOP
from ..pianoroll import ONSET, SOUNDING

log = logging.getLogger(__name__)

BASS_MAX = 52
DEFAULT_PATTERNS = 32


def bar_roles(frame: np.ndarray, rep: Representation) -> list[tuple[int, int, int, int]]:
    """A binary frame ``(frame_size,)`` -> its notes as ``(step, pitch, duration steps, role)``."""
    cube = np.asarray(frame).reshape(rep.steps_per_frame, 2, rep.n_pitches) > 0
    onset, sounding = cube[:, ONSET], cube[:, SOUNDING] | cube[:, ONSET]
    steps, pitches = np.nonzero(onset)
    notes = []
    for s, p in zip(steps, pitches):
        end = s + 1
        while end < rep.steps_per_frame and sounding[end, p] and not onset[end, p]:
            end += 1
        notes.append((int(s), int(p) + rep.lowest_pitch, int(end - s)))
    out = []
    for s in sorted(set(steps.tolist())):
        here = sorted(n for n in notes if n[0] == s)
        low = here[0]
        rest = here
        if low[1] <= BASS_MAX:
            out.append((*low, BASS))
            rest = here[1:]
        role = CHORD if len(rest) >= 2 else TOP
        out.extend((*n, role) for n in rest)
    return out


def skeletons(frames: np.ndarray, rep: Representation) -> tuple[np.ndarray, list]:
    """Frames ``(N, frame_size)`` -> skeletons ``(N, 3 * 16)`` float and each bar's role notes."""
    steps = rep.steps_per_frame
    x = np.zeros((len(frames), len(ROLES), steps))
    notes = []
    for i, frame in enumerate(frames):
        bar = bar_roles(frame, rep)
        notes.append(bar)
        for s, _, _, role in bar:
            x[i, role, s] = 1.0
    return x.reshape(len(frames), -1), notes


def kmeans(x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 50) -> np.ndarray:
    """k-means++ then Lloyd's iterations; labels ``(N,)``."""
    centers = [x[rng.integers(len(x))]]
    for _ in range(1, k):
        d = np.min(((x[:, None, :] - np.array(centers)[None]) ** 2).sum(-1), axis=1)
        centers.append(x[rng.choice(len(x), p=d / d.sum()) if d.sum() > 0 else rng.integers(len(x))])
    c = np.array(centers)
    labels = np.zeros(len(x), dtype=np.int64)
    for _ in range(iters):
        d = (x ** 2).sum(1)[:, None] - 2 * x @ c.T + (c ** 2).sum(1)[None]
        new = d.argmin(axis=1)
        if np.array_equal(new, labels) and _ > 0:
            break
        labels = new
        for j in range(k):
            if np.any(labels == j):
                c[j] = x[labels == j].mean(axis=0)
    return labels


def aggregate(labels: np.ndarray, notes: list, k: int, rep: Representation) -> dict[str, np.ndarray]:
    """Each cluster's pattern: onsets, durations, chord sizes, registers (see the module docstring)."""
    r, s = len(ROLES), PATTERN_STEPS
    onset = np.zeros((k, r, s), np.float32)
    frequency = np.zeros((k, r, s), np.float32)
    duration = np.zeros((k, r, s), np.float32)
    size = np.full((k, s), 3.0, np.float32)
    register = np.zeros((k, r), np.float32)
    every = [n for bar in notes for n in bar]
    global_register = [float(np.mean([n[1] for n in every if n[3] == role] or [60])) for role in range(r)]
    for j in range(k):
        bars = [notes[i] for i in np.flatnonzero(labels == j)]
        if not bars:
            continue
        for role in range(r):
            hits = np.zeros(s)
            durs: list[list[int]] = [[] for _ in range(s)]
            sizes: list[list[int]] = [[] for _ in range(s)]
            pitches = []
            for bar in bars:
                struck = {}
                for step, pitch, d, rl in bar:
                    if rl != role or step >= s:
                        continue
                    struck[step] = struck.get(step, 0) + 1
                    durs[step].append(d)
                    pitches.append(pitch)
                for step, count in struck.items():
                    hits[step] += 1
                    sizes[step].append(count)
            p = hits / len(bars)
            n = int(round(p.sum()))
            chosen = np.sort(np.lexsort((np.arange(s), -p))[:n]) if n else np.array([], int)
            chosen = chosen[p[chosen] > 0]
            role_durs = [d for ds in durs for d in ds] or [4]
            frequency[j, role] = p
            for step in np.flatnonzero(p > 0):
                duration[j, role, step] = max(1.0, round(float(np.median(durs[step]))))
                if role == CHORD and sizes[step]:
                    size[j, step] = float(np.clip(round(np.median(sizes[step])), 2, 4))
            for i, step in enumerate(chosen):
                nxt = chosen[i + 1] if i + 1 < len(chosen) else s
                d = float(np.median(durs[step])) if durs[step] else float(np.median(role_durs))
                onset[j, role, step] = 1.0
                duration[j, role, step] = max(1.0, min(round(d), nxt - step))   # its size: set above (p > 0)
            register[j, role] = float(np.mean(pitches)) if pitches else global_register[role]
    return {"patterns.onset": onset, "patterns.frequency": frequency, "patterns.duration": duration,
            "patterns.size": size, "patterns.register": register}


def transitions(labels: np.ndarray, next_index: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-stochastic transition matrix ``(K, K)`` over consecutive bars and the prior ``(K,)``."""
    counts = np.full((k, k), 0.5)
    has = next_index >= 0
    np.add.at(counts, (labels[has], labels[next_index[has]]), 1.0)
    prior = np.bincount(labels, minlength=k) + 0.5
    return (counts / counts.sum(1, keepdims=True)).astype(np.float32), (prior / prior.sum()).astype(np.float32)


def classifier(z: np.ndarray, labels: np.ndarray, k: int, steps: int = 300, l2: float = 1e-3,
               lr: float = 0.05) -> tuple[np.ndarray, np.ndarray, float]:
    """Softmax regression latents ``(N, L)`` -> labels; (weight ``(K, L)``, bias ``(K,)``, train accuracy).
    Inputs are standardised inside; the returned weights act on raw latents."""
    z = np.asarray(z, dtype=np.float64)
    mean, std = z.mean(0), z.std(0) + 1e-6
    x = (z - mean) / std
    n, d = x.shape
    w, b = np.zeros((d, k)), np.zeros(k)
    y = np.zeros((n, k))
    y[np.arange(n), labels] = 1.0
    m = [np.zeros_like(w), np.zeros_like(b)]
    v = [np.zeros_like(w), np.zeros_like(b)]
    for t in range(1, steps + 1):
        logits = x @ w + b
        logits -= logits.max(1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(1, keepdims=True)
        g = (p - y) / n
        grads = [x.T @ g + l2 * w, g.sum(0)]
        for i, (param, grad) in enumerate(zip((w, b), grads)):
            m[i] = 0.9 * m[i] + 0.1 * grad
            v[i] = 0.999 * v[i] + 0.001 * grad ** 2
            param -= lr * (m[i] / (1 - 0.9 ** t)) / (np.sqrt(v[i] / (1 - 0.999 ** t)) + 1e-8)
    accuracy = float(((x @ w + b).argmax(1) == labels).mean())
    weight = (w / std[:, None]).T
    bias = b - (mean / std) @ w
    return weight.astype(np.float32), bias.astype(np.float32), accuracy


def fit_patterns(encode, frames: np.ndarray, shift: np.ndarray, next_index: np.ndarray, rep: Representation,
                 k: int = DEFAULT_PATTERNS, seed: int = 0) -> tuple[dict[str, np.ndarray], dict]:
    """The texture tensors for training frames ``(N, frame_size)`` with their transpositions ``(N,)``
    and successors ``(N,)`` (indices into ``frames``, -1 at a piece's end); ``encode`` maps frames
    to encoder means. Returns (tensors, a card of what was fitted)."""
    rng = np.random.default_rng(seed)
    original = np.flatnonzero(shift == 0)
    x, notes = skeletons(frames[original], rep)
    k = int(max(2, min(k, len(original) // 8)))
    labels0 = kmeans(x, k, rng)
    tensors = aggregate(labels0, notes, k, rep)
    position = np.full(len(frames), -1)
    position[original] = np.arange(len(original))
    nxt = next_index[original]
    nxt = np.where(nxt >= 0, position[np.maximum(nxt, 0)], -1)
    tensors["patterns.transition"], tensors["patterns.prior"] = transitions(labels0, nxt, k)
    # every transposition of a bar shares its skeleton (rhythm only), so its label
    labels = np.full(len(frames), -1)
    labels[original] = labels0
    moved = np.flatnonzero(shift != 0)
    if len(moved):
        x_all, _ = skeletons(frames[moved], rep)
        centers = _centers(x, labels0, k)
        d = (centers ** 2).sum(1)[None] - 2 * x_all @ centers.T
        labels[moved] = d.argmin(1)
    z = encode(frames.astype(np.float32))
    w, b, accuracy = classifier(z, labels, k)
    tensors["patterns.classifier.weight"], tensors["patterns.classifier.bias"] = w, b
    stay = float(np.mean(np.diag(tensors["patterns.transition"])))
    card = {"patterns": k, "bars": int(len(original)), "classifier_train_accuracy": round(accuracy, 4),
            "mean_self_transition": round(stay, 4),
            "method": "k-means over key-invariant role skeletons (bass, chord, top onsets); patterns are cluster "
                      "aggregates; transitions from consecutive bars; softmax classifier from encoder means"}
    log.info("texture: %d patterns from %d bars, classifier accuracy %.3f", k, len(original), accuracy)
    return tensors, card


def _centers(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    return np.stack([x[labels == j].mean(0) if np.any(labels == j) else np.zeros(x.shape[1]) for j in range(k)])


def texture_tensors(encode, corpus, train_idx: np.ndarray, rep: Representation, k: int = DEFAULT_PATTERNS,
                    seed: int = 0, max_classifier_bars: int = 6000) -> tuple[dict[str, np.ndarray], dict]:
    """The texture tensors and card for a model (``encode``: frames -> encoder means) on the training
    frames ``train_idx`` of ``corpus`` (a :class:`bridge.training.corpus.Corpus`): every bar in its
    original key, and transposed ones up to ``max_classifier_bars`` for the classifier."""

    train_idx = np.sort(train_idx)
    position = np.full(len(corpus), -1)
    position[train_idx] = np.arange(len(train_idx))
    nxt = corpus.next_index[train_idx]
    nxt = np.where(nxt >= 0, position[np.maximum(nxt, 0)], -1)
    frames, shift = corpus.frames[train_idx], corpus.shift[train_idx]
    rng = np.random.default_rng(seed)
    keep = np.flatnonzero(shift == 0)
    moved = np.flatnonzero(shift != 0)
    extra = rng.choice(moved, size=min(len(moved), max(0, max_classifier_bars - len(keep))), replace=False)
    chosen = np.sort(np.concatenate([keep, extra]))
    remap = np.full(len(frames), -1)
    remap[chosen] = np.arange(len(chosen))
    nxt = np.where(nxt >= 0, remap[np.maximum(nxt, 0)], -1)[chosen]
    return fit_patterns(encode, frames[chosen], shift[chosen], nxt, rep, k, seed)
