# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Morph between two clips: ``steps`` improvisations that walk the latent path from clip A to clip B.

The steps are :mod:`bridge.improvise`'s own (:func:`~bridge.improvise.encoder_latents`,
:func:`~bridge.improvise.channel_stats`, :func:`~bridge.improvise.noise_scale`,
:func:`~bridge.improvise.velocity_profile`, :func:`~bridge.improvise.decode_latents`), so a morph
decodes exactly as ``improvise`` does, whatever decoder the model has.

* **Bar pairing by position, looped**: the shorter clip's bars repeat to the longer's length
  (:func:`loop_notes`), as two clips of different lengths sound when both loop in Live. Every
  step has the longer clip's length.
* **The path**: per bar, spherical interpolation of the encoder's latents (:data:`PATHS`; the
  choice and its measurements are in docs/ENGINE.md, "Morph").
* **One channel for every step**: its statistics come from both clips' latents pooled, so every
  step gets the same bits, and at low rates all steps drift towards the same coded mean together.
  Every step draws its noise from a generator seeded with ``settings.seed`` in improvise's order
  (latent sampling, channel noise, note sampling): the steps share their random numbers, so they
  differ by the path alone, and step 1 and step N at full rate are ``improvise`` of A and of B
  (looped to the common length) bit for bit.
* **Structure lock**: a bar repeats an earlier one where the blend of the two clips' bars
  (``(1 - t) A + t B`` on their piano-roll frames) does, by :func:`bridge.structure.repeat_sources`;
  at the ends that is A's or B's own structure.
* **Dynamics**: the bar velocities are the same blend of A's and B's.
* **Patterns** (a texture model): the ends choose their patterns from their own latents, as
  ``improvise`` does; every inner step plays, bar by bar, the patterns of the nearer end, so the
  steps on each half differ in harmony alone (a step choosing its own moved the measured harmony
  back and forth where a bar's pattern flipped; docs/ENGINE.md, "Morph").
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .channel import ChannelStats, allocate_bits, transmit
from .config import MAX_INTERPOLATE_BARS, MAX_INTERPOLATE_STEPS, MIN_INTERPOLATE_STEPS, Settings
from .errors import QbdiError
from .improvise import (
    MAX_FRAMES,
    Improvisation,
    channel_stats,
    checked_query,
    decode_latents,
    encoder_latents,
    noise_scale,
    velocity_profile,
)
from .models import Model
from .pianoroll import BarGrid, Note, RollReport, length_of, to_frames
from .structure import repeat_sources

log = logging.getLogger(__name__)

PATHS = ("slerp", "lerp", "coded")   # spherical, linear, spherical in the channel's standardised coordinates
DEFAULT_PATH = "slerp"


@dataclass
class Morph:
    """A morph's steps (``improvisations[0]`` is A's end, ``[-1]`` B's) and how they were paired."""

    improvisations: list[Improvisation]
    t: np.ndarray                     # (steps,) position on the path, 0 (A) to 1 (B)
    grid: BarGrid                     # every step's grid: the longer clip's bars
    bars_a: int
    bars_b: int
    path: str
    warnings: list[str] = field(default_factory=list)

    @property
    def steps(self) -> int:
        return len(self.improvisations)


def check_steps(steps: object) -> int:
    """The number of clips a morph writes: a whole number from 2 to 16 (the config's caps)."""
    lo, hi = MIN_INTERPOLATE_STEPS, MAX_INTERPOLATE_STEPS
    if isinstance(steps, bool) or not isinstance(steps, int) or not lo <= steps <= hi:
        raise QbdiError(f"steps must be a whole number from {lo} to {hi} (clips from A to B, both included), "
                        f"got {steps!r}")
    return steps


def loop_notes(notes: Sequence[Note], bars: int, n_bars: int, beats_per_bar: float) -> list[Note]:
    """A clip of ``bars`` bars repeated to ``n_bars`` bars (the last repeat cut at the bar line)."""
    length = bars * beats_per_bar
    end = n_bars * beats_per_bar
    out = []
    for k in range(-(-n_bars // bars)):
        for n in notes:
            start = n.start + k * length
            if start < end - 1e-9:
                out.append(Note(n.pitch, start, min(n.duration, end - start), n.velocity))
    return out


def interpolate(model: Model, clip_a: Sequence[Note], clip_b: Sequence[Note], steps: int, settings: Settings,
                beats_per_bar: float | None = None, length_a: float | None = None,
                length_b: float | None = None, fold: bool = False, path: str = DEFAULT_PATH,
                shared_patterns: bool = True) -> Morph:
    """Morph from ``clip_a`` to ``clip_b`` in ``steps`` improvisations (both ends included).

    Both clips share ``beats_per_bar`` (default ``settings.beats_per_bar`` then 4); ``length_a``
    and ``length_b`` are their lengths in beats (default: the end of the last note), rounded up
    to whole bars. ``settings.continue_bars`` must be 0 (a morph has no continuation).
    ``shared_patterns``: a texture model's inner steps play the patterns (rhythm and voicing) the
    nearer end chose bar by bar, so only the harmony moves between them (off: each step chooses
    its own from its latents; ``tools.morph_table --own-patterns`` measures both).
    """
    steps = check_steps(steps)
    if path not in PATHS:
        raise QbdiError(f"path must be one of {', '.join(PATHS)}; got {path!r}")
    if settings.continue_bars:
        raise QbdiError("a morph has no continuation; set continue to 0")
    clips = [checked_query(clip, f"clip {name}", "give two clips with notes")
             for name, clip in zip("AB", (clip_a, clip_b))]
    bpb = float(beats_per_bar or settings.beats_per_bar or 4.0)
    settings = settings.replace(model=model.name, beats_per_bar=bpb)
    rep = model.representation
    bars = [BarGrid.covering(max(length or 0.0, length_of(notes)), bpb, rep).n_bars
            for notes, length in zip(clips, (length_a, length_b))]
    grid = BarGrid(bpb, max(bars), rep)
    if steps * grid.n_bars > MAX_INTERPOLATE_BARS:
        raise QbdiError(f"the morph would write {steps} steps x {grid.n_bars} bars = {steps * grid.n_bars} bars; the "
                        f"limit is {MAX_INTERPOLATE_BARS}: use fewer steps or shorter clips", code="too_large")
    if grid.n_frames > MAX_FRAMES:
        raise QbdiError(f"each step would span {grid.n_frames} model frames; the limit is {MAX_FRAMES}: "
                        "shorten the clips", code="too_large")
    looped = [loop_notes(notes, b, grid.n_bars, bpb) for notes, b in zip(clips, bars)]
    report = RollReport()
    frames = [to_frames(notes, grid, fold=fold, report=report) for notes in looped]
    encoded = [model.vae.encode(f) for f in frames]
    velocity = [velocity_profile(notes, grid) for notes in looped]
    stats = _pooled_stats(model, encoded, settings)
    t_all = np.linspace(0.0, 1.0, steps)
    ends = ({}, {})
    first = _step(model, 0.0, grid, settings, frames, encoded, velocity, stats, path, ends[0])
    last = _step(model, 1.0, grid, settings, frames, encoded, velocity, stats, path, ends[1])
    out = [first]
    for t in t_all[1:-1]:
        chosen = _patterns_at(float(t), ends, shared_patterns)
        out.append(_step(model, float(t), grid, settings, frames, encoded, velocity, stats, path, chosen))
    out.append(last)
    warnings = report.warnings()
    silent = [i + 1 for i, imp in enumerate(out) if not imp.notes]
    if silent:
        warnings.append(f"step(s) {', '.join(map(str, silent))} are silent; lower the threshold or raise the rate")
    return Morph(out, t_all, grid, bars[0], bars[1], path, warnings)


def _pooled_stats(model: Model, encoded, settings: Settings) -> ChannelStats:
    """The channel both clips go through: statistics of A's and B's latents together, the
    per-frame variances (``allocation='frame'``) averaged over the pair at each bar."""
    (mu_a, lv_a), (mu_b, lv_b) = encoded
    z_a = encoder_latents(mu_a, lv_a, settings, np.random.default_rng(settings.seed))
    z_b = encoder_latents(mu_b, lv_b, settings, np.random.default_rng(settings.seed))
    stats = channel_stats(model, np.concatenate([z_a, z_b]), np.concatenate([mu_a, mu_b]),
                          np.concatenate([lv_a, lv_b]), settings)
    if stats.var.ndim == 2:
        n = len(mu_a)
        stats = ChannelStats(stats.mean, 0.5 * (stats.var[:n] + stats.var[n:]))
    return stats


def _patterns_at(t: float, ends: tuple[dict[int, int], dict[int, int]], shared: bool) -> dict[int, int] | None:
    """A texture model's patterns for the step at ``t``: the nearer end's (``ends``: A's and B's,
    source bar -> pattern), or None (``shared`` off: the step chooses its own from its latents)."""
    if not shared:
        return None
    return dict(ends[0] if t < 0.5 else ends[1])


def _step(model: Model, t: float, grid: BarGrid, settings: Settings, frames, encoded, velocity,
          stats: ChannelStats, path: str, chosen: dict[int, int] | None = None) -> Improvisation:
    """One clip of the morph at ``t``; draws in improvise's order from a fresh generator."""
    (mu_a, lv_a), (mu_b, lv_b) = encoded
    rng = np.random.default_rng(settings.seed)
    z_a = encoder_latents(mu_a, lv_a, settings, np.random.default_rng(settings.seed))
    z_b = encoder_latents(mu_b, lv_b, settings, rng)       # the same draws as z_a's; rng moves on from there
    z_e = walk(z_a, z_b, t, path, noise_scale(stats, settings))
    repeat_of = None
    if settings.structure == "lock":
        repeat_of = repeat_sources(_blend(frames[0], frames[1], t))
    bits = None
    z_d = z_e.astype(np.float32)
    if settings.rate is not None:
        bits = allocate_bits(stats.var, settings.rate)
        noise = rng.standard_normal(z_e.shape)
        if repeat_of is not None:
            noise = noise[repeat_of]
        z_d = transmit(z_e, noise_scale(stats, settings), bits, noise)
    notes = decode_latents(model, z_d, grid, settings, rng, _blend(velocity[0], velocity[1], t), repeat_of, chosen)
    return Improvisation(notes, settings, model.name, grid, z_d, _blend(mu_a, mu_b, t), bits,
                         [] if notes else ["the improvisation is silent; lower the threshold or raise the rate"])


def _blend(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    if t == 0.0:
        return a
    if t == 1.0:
        return b
    return ((1.0 - t) * a + t * b).astype(a.dtype)


def walk(z_a: np.ndarray, z_b: np.ndarray, t: float, path: str = DEFAULT_PATH,
         stats: ChannelStats | None = None) -> np.ndarray:
    """The point at ``t`` (0 = ``z_a``, 1 = ``z_b``) on the path between latents ``(T, L)``, bar by bar.

    ``lerp``: the straight line. ``slerp``: the great circle through the origin, each bar's
    norm moving linearly (latents of a prior N(0, I) live near a sphere; the straight line's
    middle falls inside it). ``coded``: ``slerp`` of the latents standardised by ``stats`` (mean
    ``(L,)``, variances ``(L,)``: the channel's own coordinates).
    """
    if t == 0.0:
        return np.array(z_a, dtype=np.float32)
    if t == 1.0:
        return np.array(z_b, dtype=np.float32)
    a = np.asarray(z_a, dtype=np.float64)
    b = np.asarray(z_b, dtype=np.float64)
    if path == "lerp":
        return ((1.0 - t) * a + t * b).astype(np.float32)
    if path == "coded":
        mean = np.asarray(stats.mean, np.float64)
        var = np.asarray(stats.var, np.float64)
        std = np.sqrt(np.maximum(var.mean(axis=0) if var.ndim == 2 else var, 1e-6))
        return (_slerp((a - mean) / std, (b - mean) / std, t) * std + mean).astype(np.float32)
    return _slerp(a, b, t).astype(np.float32)


def _slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Row-wise spherical interpolation of ``(T, L)`` arrays, norms interpolated linearly."""
    na = np.linalg.norm(a, axis=1, keepdims=True)
    nb = np.linalg.norm(b, axis=1, keepdims=True)
    ua = a / np.where(na > 0, na, 1.0)
    ub = b / np.where(nb > 0, nb, 1.0)
    omega = np.arccos(np.clip((ua * ub).sum(axis=1, keepdims=True), -1.0, 1.0))
    s = np.sin(omega)
    straight = s < 1e-6          # (anti)parallel or zero rows: the straight line
    s = np.where(straight, 1.0, s)
    wa = np.where(straight, 1.0 - t, np.sin((1.0 - t) * omega) / s)
    wb = np.where(straight, t, np.sin(t * omega) / s)
    direction = wa * ua + wb * ub
    norm = (1.0 - t) * na + t * nb
    dn = np.linalg.norm(direction, axis=1, keepdims=True)
    return np.where(straight, (1.0 - t) * a + t * b, direction / np.where(dn > 0, dn, 1.0) * norm)


def interpolate_files(path_a: str | os.PathLike, path_b: str | os.PathLike, steps: int, settings: Settings,
                      model: Model | None = None, fold: bool = False):
    """Read two MIDI files and morph between them; returns ``(score_a, score_b, morph)``.

    Both files must have one meter (``settings.beats_per_bar`` overrides both)."""
    from .midifile import read_midi
    from .models import load_model
    from .paths import shown

    check_steps(steps)
    score_a, score_b = read_midi(path_a), read_midi(path_b)   # the files' problems first
    bpb = settings.beats_per_bar
    if bpb is None:
        if score_a.beats_per_bar != score_b.beats_per_bar:
            sa, sb = score_a.time_signature, score_b.time_signature
            raise QbdiError(f"{shown(path_a)} is in {sa[0]}/{sa[1]} and {shown(path_b)} in {sb[0]}/{sb[1]}; a morph "
                            "pairs bars, so both clips need one meter (or give --beats-per-bar to read both in one)")
        bpb = score_a.beats_per_bar
    for path, score in ((path_a, score_a), (path_b, score_b)):
        if not score.notes:
            raise QbdiError(f"{shown(path)} has no notes; a morph needs two clips with notes")
    model = model or load_model(settings.model)
    morph = interpolate(model, score_a.notes, score_b.notes, steps, settings, beats_per_bar=bpb,
                        length_a=score_a.length_beats, length_b=score_b.length_beats, fold=fold)
    morph.warnings[:0] = [f"A: {w}" for w in score_a.warnings] + [f"B: {w}" for w in score_b.warnings]
    return score_a, score_b, morph


def in_sequence(morph: Morph) -> list[Note]:
    """Every step's notes end to end (step k from ``k * grid.length_beats``): the morph as one clip."""
    length = morph.grid.length_beats
    return [Note(n.pitch, n.start + k * length, n.duration, n.velocity)
            for k, imp in enumerate(morph.improvisations) for n in imp.notes]
