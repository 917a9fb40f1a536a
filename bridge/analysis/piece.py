# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Analysis of one piece: oracles on its surface (chroma, Tonnetz) and on its latents (cosine).

The surface view has one frame per 16th step: the step's chroma projected onto the tonal
centroid (:mod:`.tonnetz`), compared with the Euclidean distance. The latent view has one
frame per bar: the encoder's mean, compared with the cosine distance.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..measures.chroma import NoteLike, chroma, count_bars, end_beats
from ..measures.tonnetz import tonal_centroid
from . import oracle as vmo_oracle
from .motifs import Motif, find_motifs

log = logging.getLogger(__name__)

MAX_MOTIFS = 50
DIGITS = 6
# The longest surface analysed, in steps (16ths at the default 4 steps per beat): 4,096 bars of 4/4.
# Time grows about linearly, memory stays bounded; 4,000 bars took about 5 minutes on a loaded
# 2-core machine (docs/ANALYSIS.md, "Scale"). The one length cap of `qbdi analyze`.
MAX_STEPS = 65_536


@dataclass
class ViewAnalysis:
    """An oracle view of a piece at its best threshold.

    Attributes:
        name: ``'surface'`` or ``'latent'``.
        metric: frame distance (``'euclidean'`` on tonal centroids, ``'cosine'`` on latents).
        beats_per_frame: frame length in beats (1/4 for 16th steps, a bar for latents).
        result: the threshold sweep, best oracle and IR over time.
        motifs: repeated motifs at the best threshold (positions in frames).
    """

    name: str
    metric: str
    beats_per_frame: float
    result: vmo_oracle.OracleAnalysis
    motifs: list[Motif] = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        return self.result.oracle.n_frames

    @property
    def ir_total(self) -> float:
        return self.result.ir_total

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        bpf = self.beats_per_frame
        return {
            "name": self.name,
            "metric": self.metric,
            "n_frames": self.n_frames,
            "beats_per_frame": bpf,
            "best_threshold": _round(r.best_threshold),
            "ir_total": _round(r.ir_total),
            "ir_mean": _round(r.ir_total / max(self.n_frames, 1)),
            "n_clusters": r.oracle.n_clusters,
            "n_builds": r.sweep.n_builds,
            "thresholds": _round(r.sweep.thresholds),
            "ir_by_threshold": _round(r.sweep.ir_totals),
            "ir_over_time": _round(r.ir),
            "motifs": [dict(m.to_dict(), start_beats=[_round(s * bpf) for s in m.starts],
                            length_beats=_round(m.length * bpf)) for m in self.motifs],
        }


@dataclass
class PieceAnalysis:
    """Both views of one piece; ``latent`` is ``None`` when no model was available."""

    name: str
    notes: list[NoteLike]
    beats_per_bar: float
    length_beats: float
    surface: ViewAnalysis
    latent: ViewAnalysis | None = None
    latent_skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "beats_per_bar": self.beats_per_bar,
            "length_beats": _round(self.length_beats),
            "n_notes": len(self.notes),
            "n_bars": count_bars(self.notes, self.beats_per_bar, self.length_beats),
            "surface": self.surface.to_dict(),
            "latent": None if self.latent is None else self.latent.to_dict(),
            "latent_skipped": self.latent_skipped,
        }


def surface_steps(length_beats: float, steps_per_beat: int = 4) -> int:
    """Frames of the surface view of a piece ``length_beats`` long."""
    return max(1, int(np.ceil(length_beats * steps_per_beat - 1e-9)))


def check_length(length_beats: float, beats_per_bar: float, steps_per_beat: int = 4, name: str = "the piece") -> None:
    """QbdiError (one line, with the fix) when a piece is longer than :data:`MAX_STEPS` to analyse."""
    steps = surface_steps(length_beats, steps_per_beat)
    if steps > MAX_STEPS:
        from bridge.errors import QbdiError

        bars = count_bars([], beats_per_bar, length_beats)
        longest = MAX_STEPS // steps_per_beat / beats_per_bar
        raise QbdiError(f"{name} is {bars:,} bars long ({steps:,} analysis steps); qbdi analyze takes at most "
                        f"{MAX_STEPS:,} steps ({longest:,.0f} bars of {beats_per_bar:g} beats), beyond which the "
                        "oracle sweep takes many minutes; cut the file into parts and analyse each", code="too_large")


def surface_features(notes: Sequence[NoteLike], steps_per_beat: int = 4,
                     length_beats: float | None = None) -> np.ndarray:
    """Tonal centroid per step: (n_steps, 6); the steps cover ``length_beats`` or the notes."""
    n_steps = None if length_beats is None else surface_steps(length_beats, steps_per_beat)
    return tonal_centroid(chroma(notes, steps_per_beat, n_steps).T)


def analyze_surface(notes: Sequence[NoteLike], beats_per_bar: float, steps_per_beat: int = 4,
                    length_beats: float | None = None, thresholds: Sequence[float] | None = None,
                    min_motif_beats: float | None = None, progress: bool = False) -> ViewAnalysis:
    """Oracle on the chroma surface (Tonnetz distance).

    Args:
        min_motif_beats: shortest motif reported, in beats (default: half a bar); 0 for no motifs.
    """
    features = surface_features(notes, steps_per_beat, length_beats)
    result = vmo_oracle.analyze(features, "euclidean", thresholds, progress=progress, desc="surface oracle")
    beats_per_frame = 1.0 / steps_per_beat
    view = ViewAnalysis("surface", "euclidean", beats_per_frame, result)
    silent = ~features.any(axis=1)
    view.motifs = [m for m in _motifs(view, beats_per_bar / 2 if min_motif_beats is None else min_motif_beats)
                   if not silent[m.starts[0]:m.starts[0] + m.length].all()]  # repeated silence is no motif
    return view


def analyze_latents(latents: np.ndarray, beats_per_bar: float, thresholds: Sequence[float] | None = None,
                    min_motif_bars: int | None = 1, progress: bool = False) -> ViewAnalysis:
    """Oracle on per-bar latents (n_bars, L), cosine distance; ``min_motif_bars=0`` for no motifs."""
    latents = np.asarray(latents, dtype=np.float64)
    result = vmo_oracle.analyze(latents, "cosine", thresholds, progress=progress, desc="latent oracle")
    view = ViewAnalysis("latent", "cosine", float(beats_per_bar), result)
    view.motifs = _motifs(view, (min_motif_bars or 0) * beats_per_bar)
    return view


def _motifs(view: ViewAnalysis, min_beats: float) -> list[Motif]:
    if min_beats <= 0:
        return []
    min_frames = max(1, int(round(min_beats / view.beats_per_frame)))
    return find_motifs(view.result.oracle, min_frames, MAX_MOTIFS)


def bar_means(latents: np.ndarray, frames_per_bar: int) -> np.ndarray:
    """Per-frame latents (n_bars * frames_per_bar, L) -> per-bar means (n_bars, L), float64.

    A bar longer than one model frame (e.g. 6/4 in a 4/4 model) spans several frames.
    """
    z = np.asarray(latents, dtype=np.float64)
    if frames_per_bar <= 1:
        return z
    n_bars = len(z) // frames_per_bar
    return z[:n_bars * frames_per_bar].reshape(n_bars, frames_per_bar, -1).mean(axis=1)


def encode_bars(model: Any, notes: Sequence[NoteLike], beats_per_bar: float,
                length_beats: float | None = None) -> np.ndarray:
    """Encoder means of each bar of ``notes``: (n_bars, L) float64. Needs the engine."""
    from bridge.pianoroll import BarGrid, length_of, to_frames

    notes = list(notes)
    grid = BarGrid.covering(max(length_beats or 0.0, length_of(notes)), beats_per_bar, model.representation)
    mu, _ = model.vae.encode(to_frames(notes, grid))
    return bar_means(mu, grid.frames_per_bar)


def resolve_model(model: Any) -> Any:
    """A loaded model, or a name/path (``None``: the default) loaded with :func:`bridge.models.load_model`."""
    if model is None or isinstance(model, str):
        from bridge.models import load_model

        return load_model(model)
    return model


def analyze_piece(notes: Sequence[NoteLike], beats_per_bar: float, length_beats: float | None = None,
                  model: Any = None, name: str = "", progress: bool = False,
                  thresholds: Sequence[float] | None = None) -> PieceAnalysis:
    """Surface and (when ``model`` is a loaded model) latent analysis of one piece.

    Args:
        model: a loaded model, or ``None`` to skip the latent view.
        thresholds: one grid for both views (default: 100 values up to each view's largest distance).
    """
    notes = list(notes)
    if length_beats is None:
        length_beats = count_bars(notes, beats_per_bar) * beats_per_bar
    steps_per_beat = 4 if model is None else int(model.representation.steps_per_beat)
    check_length(max(length_beats, end_beats(notes)), beats_per_bar, steps_per_beat, name or "the piece")
    surface = analyze_surface(notes, beats_per_bar, steps_per_beat, length_beats, thresholds, progress=progress)
    piece = PieceAnalysis(name, notes, float(beats_per_bar), float(length_beats), surface)
    if model is None:
        piece.latent_skipped = "no model"
    else:
        latents = encode_bars(model, notes, beats_per_bar, length_beats)
        if len(latents) < 2:
            piece.latent_skipped = f"{len(latents)} bar(s): too short for a latent oracle"
        else:
            piece.latent = analyze_latents(latents, beats_per_bar, thresholds, progress=progress)
    return piece


def _round(value: Any) -> Any:
    """Floats and arrays rounded to :data:`DIGITS` for compact JSON."""
    if isinstance(value, np.ndarray):
        return [round(float(v), DIGITS) for v in value.ravel()]
    return round(float(value), DIGITS)
