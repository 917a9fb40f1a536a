# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Held-out evaluation of a model (NumPy only): reconstruction F1 on held-out corpus songs (the
"grid onset F1", reported, not a target), the rate dial's useful top, next-bar prediction
quality and, given out-of-style queries, the frontier: retained harmony, copy and texture per
rate (:mod:`bridge.measures.frontier`). Recorded in each model's data card by ``qbdi train``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..channel import allocate_bits, transmit
from ..config import Settings
from ..models import Model
from ..pianoroll import ONSET
from .corpus import Corpus

RATES = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192)


def f1(pred: np.ndarray, truth: np.ndarray) -> float:
    """F1 of two boolean arrays of the same shape (1.0 when both are empty)."""
    tp = np.logical_and(pred, truth).sum()
    fp = np.logical_and(pred, ~truth).sum()
    fn = np.logical_and(~pred, truth).sum()
    return 1.0 if tp + fp + fn == 0 else float(2 * tp / (2 * tp + fp + fn))


def planes(frames: np.ndarray, model: Model, plane: int) -> np.ndarray:
    """Frames ``(n, frame_size)`` -> one plane ``(n, steps, pitches)``."""
    rep = model.representation
    return frames.reshape(len(frames), rep.steps_per_frame, 2, rep.n_pitches)[:, :, plane]


def reconstruction_f1(model: Model, frames: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Full rate, z = mean: note-onset and sounding F1 of decode(encode(x)) > threshold."""
    mu, _ = model.vae.encode(frames.astype(np.float32))
    pred = model.vae.decode(mu) > threshold
    truth = frames.astype(bool)
    return {"onset_f1": round(f1(planes(pred, model, ONSET), planes(truth, model, ONSET)), 4),
            "sounding_f1": round(f1(planes(pred, model, 0), planes(truth, model, 0)), 4)}


def useful_max_rate(model: Model, pieces: list[np.ndarray], agreement: float = 0.98, seed: int = 0) -> int:
    """Smallest tested rate whose decoded onsets agree with the full-rate output (F1 >= agreement),
    with the default channel settings: the top of the device's rate dial."""
    from ..improvise import channel_stats

    rng = np.random.default_rng(seed)
    for rate in RATES:
        scores = []
        for frames in pieces:
            mu, logvar = model.vae.encode(frames.astype(np.float32))
            full = model.vae.decode(mu) > 0.5
            stats = channel_stats(model, mu, mu, logvar, Settings())
            z = transmit(mu, stats, allocate_bits(stats.var, rate), rng.standard_normal(mu.shape))
            scores.append(f1(planes(model.vae.decode(z) > 0.5, model, ONSET), planes(full, model, ONSET)))
        if np.mean(scores) >= agreement:
            return rate
    return RATES[-1]


def prediction_quality(model: Model, corpus: Corpus, idx: np.ndarray) -> dict[str, float]:
    """Next-bar latent prediction on held-out pairs: R^2 of the predictor vs the copy baseline."""
    idx = idx[corpus.next_index[idx] >= 0]
    if not len(idx) or not model.vae.has_predictor:
        return {}
    mu, _ = model.vae.encode(corpus.frames[idx].astype(np.float32))
    target, _ = model.vae.encode(corpus.frames[corpus.next_index[idx]].astype(np.float32))
    pred = model.vae.predict_next(mu)
    total = ((target - target.mean(0)) ** 2).sum()
    r2 = 1 - ((pred - target) ** 2).sum() / total
    copy = 1 - ((mu - target) ** 2).sum() / total
    onset = f1(planes(model.vae.decode(pred) > 0.5, model, ONSET),
               planes(corpus.frames[corpus.next_index[idx]].astype(bool), model, ONSET))
    return {"next_bar_r2": round(float(r2), 4), "copy_baseline_r2": round(float(copy), 4),
            "next_bar_onset_f1": round(onset, 4)}


def latent_information_rate(model: Model, pieces: list[np.ndarray],
                            information_rate: Callable[[np.ndarray], float] | None) -> float | None:
    """Mean information rate (bits per bar) of the held-out pieces' latent sequences (encoder means);
    ``information_rate(latents)`` ``(n_bars, latent) -> bits`` is the VMO's (the [analysis] extra: the
    command line passes :func:`bridge.analysis.oracle.analyze`'s, cosine distance, best threshold);
    None without it."""
    if information_rate is None:
        return None
    rates = []
    for frames in pieces:
        if len(frames) < 4:
            continue
        mu, _ = model.vae.encode(frames.astype(np.float32))
        rates.append(information_rate(mu.astype(np.float64)) / len(frames))
    return round(float(np.mean(rates)), 4) if rates else None


def frontier_card(model: Model, paths: list, name: str = "") -> dict:
    """The frontier on out-of-style query files, as the data card records it: per-rate means
    over queries and seeds 1, 2 (default settings), the goals and the selection score."""
    from ..measures.frontier import SEEDS, check_goals, frontier_score, run, summarize

    rows = summarize(run(model, paths))
    return {"queries": name, "files": [str(p.name) for p in paths], "seeds": list(SEEDS),
            "rows": rows, "goals": check_goals(rows), "score": frontier_score(rows)}


def evaluate(model: Model, corpus: Corpus, held_idx: np.ndarray,
             information_rate: Callable[[np.ndarray], float] | None = None) -> dict[str, float]:
    """Data-card figures on held-out frames (the latent information rate with ``information_rate``)."""
    frames = corpus.frames[held_idx]
    rec = reconstruction_f1(model, frames)
    pieces = [corpus.frames[held_idx[corpus.piece[held_idx] == p]] for p in np.unique(corpus.piece[held_idx])]
    out = {"heldout_onset_f1": rec["onset_f1"], "heldout_sounding_f1": rec["sounding_f1"],
           "max_rate": useful_max_rate(model, pieces)}
    out.update(prediction_quality(model, corpus, held_idx))
    ir = latent_information_rate(model, pieces, information_rate)
    if ir is not None:
        out["heldout_latent_ir_per_bar"] = ir
    return out
