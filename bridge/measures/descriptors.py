# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Key-invariant texture descriptors of a note list on a bar grid (issue 20), NumPy only.

What a musician hears as *texture* -- how many notes, how long, where they start, how the bars
follow each other -- measured without pitch classes, so a piece and its transposition get the same
figures. Notes are anything with ``pitch``, ``start`` and ``duration`` (beats), such as
:class:`bridge.pianoroll.Note`; times snap to the 16th grid (``steps_per_beat`` = 4) as the model
sees them. Bars longer than :data:`MAX_BAR_BEATS` are cut into 4-beat bars, as training does.

A note belongs to the bar of its onset (its whole duration counts, even across bar lines); a
note *sounds* in every step from its onset step to its end step (at least one step), cut at the
grid's end. ``keep`` (a bool mask over bars, default all) chooses the bars measured: the tool
measures an output on the bars where its query sounds, a corpus song on the bars that sound.

Piece descriptors (:func:`describe`, :data:`DESCRIPTORS`), over the kept bars:

* ``notes_per_bar``: notes with an onset in a kept bar, divided by the kept bars.
* ``onset_steps_per_bar``: mean number of distinct 16th steps with at least one onset.
* ``mean_duration``: mean note duration in beats.
* ``long_share``: share of notes lasting 2 beats or more.
* ``sixteenth_share``: share of notes of one 16th or less (duration rounded to steps <= 1).
* ``held_share``: share of notes longer than 4 beats.
* ``longest``: the longest note, in beats (:func:`mean_descriptors` averages it over pieces and
  adds ``longest_max``, the longest anywhere).
* ``downbeat_share``: share of notes whose onset is the bar's first step (beat 1).
* ``groove``: mean cosine of consecutive bars' onset patterns (the vector of onsets per step),
  over pairs of adjacent kept bars that both have an onset; 1 = the same rhythm bar after bar.
  NaN without such a pair (a drone).
* ``polyphony``: mean number of pitches sounding, over the steps where something sounds.
* ``pitch_span``: mean over sounding bars of (highest - lowest sounding pitch), semitones.
* ``pitch_jump``: mean over adjacent kept bars that both have onsets of |difference of the mean
  pitch of the notes starting in them|, semitones.

The share figures are NaN without notes. :func:`bar_features` gives one key-invariant vector per
bar for the two-sample test (:mod:`.twosample`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .chroma import NoteLike, count_bars

MAX_BAR_BEATS = 4.0
PATTERN_STEPS = 16        # onset patterns are padded to a 4/4 bar of 16ths
N_MIDI = 128

DESCRIPTORS = ("notes_per_bar", "onset_steps_per_bar", "mean_duration", "long_share", "sixteenth_share",
               "held_share", "longest", "downbeat_share", "groove", "polyphony", "pitch_span", "pitch_jump")
LABELS = {
    "notes_per_bar": "notes/bar", "onset_steps_per_bar": "onset steps/bar", "mean_duration": "mean dur (beats)",
    "long_share": "notes >= 2 beats", "sixteenth_share": "one-16th notes", "held_share": "notes > 4 beats",
    "longest": "longest (beats)", "downbeat_share": "onsets on beat 1", "groove": "groove",
    "polyphony": "polyphony", "pitch_span": "pitch span", "pitch_jump": "mean-pitch jump",
}
SHARES = ("long_share", "sixteenth_share", "held_share", "downbeat_share")


@dataclass(frozen=True)
class BarView:
    """A piece on its bar grid.

    Attributes:
        pitch, duration, bar, step: per note with an onset inside the grid, ``(n,)``: MIDI pitch,
            duration in beats, bar index, onset step within its bar.
        onsets: ``(n_bars, steps_per_bar)`` notes starting at each step.
        sounding: ``(n_bars, steps_per_bar, 128)`` bool, which pitches sound in each step.
    """

    pitch: np.ndarray
    duration: np.ndarray
    bar: np.ndarray
    step: np.ndarray
    onsets: np.ndarray
    sounding: np.ndarray
    steps_per_beat: int

    @property
    def n_bars(self) -> int:
        return self.onsets.shape[0]

    @property
    def steps_per_bar(self) -> int:
        return self.onsets.shape[1]


def bar_beats(beats_per_bar: float) -> float:
    """The bar length measured: ``beats_per_bar``, or 4 for longer bars (cut as training cuts them)."""
    if not beats_per_bar > 0:
        raise ValueError(f"beats_per_bar must be positive, got {beats_per_bar!r}")
    return min(float(beats_per_bar), MAX_BAR_BEATS)


def view(notes: Sequence[NoteLike], beats_per_bar: float, n_bars: int | None = None,
         steps_per_beat: int = 4) -> BarView:
    """Notes -> :class:`BarView` on ``n_bars`` bars (default: the bars covering the notes)."""
    bpb = bar_beats(beats_per_bar)
    if n_bars is None:
        n_bars = count_bars(notes, bpb)
    spb_bar = max(1, int(round(bpb * steps_per_beat)))
    total = n_bars * spb_bar
    if notes:
        pitch = np.array([int(n.pitch) for n in notes], dtype=np.int64)
        start = np.array([float(n.start) for n in notes], dtype=np.float64)
        duration = np.array([max(float(n.duration), 0.0) for n in notes], dtype=np.float64)
    else:
        pitch = np.zeros(0, np.int64)
        start = duration = np.zeros(0)
    on = np.rint(start * steps_per_beat).astype(np.int64)
    off = np.maximum(np.rint((start + duration) * steps_per_beat).astype(np.int64), on + 1)
    inside = (on >= 0) & (on < total) & (pitch >= 0) & (pitch < N_MIDI)
    pitch, duration, on, off = pitch[inside], duration[inside], on[inside], np.minimum(off[inside], total)
    bar, step = np.divmod(on, spb_bar)
    onsets = np.zeros((n_bars, spb_bar), dtype=np.int64)
    np.add.at(onsets, (bar, step), 1)
    # sounding via a difference array over (step, pitch): +1 at the onset, -1 at the end
    diff = np.zeros((total + 1, N_MIDI), dtype=np.int32)
    np.add.at(diff, (on, pitch), 1)
    np.add.at(diff, (off, pitch), -1)
    sounding = (np.cumsum(diff[:-1], axis=0) > 0).reshape(n_bars, spb_bar, N_MIDI)
    return BarView(pitch, duration, bar, step, onsets, sounding, steps_per_beat)


def _keep(v: BarView, keep: np.ndarray | None) -> np.ndarray:
    if keep is None:
        return np.ones(v.n_bars, dtype=bool)
    keep = np.asarray(keep, dtype=bool)
    if keep.shape != (v.n_bars,):
        raise ValueError(f"keep must be a bool mask of shape ({v.n_bars},), got {keep.shape}")
    return keep


def _pair_cosines(patterns: np.ndarray) -> np.ndarray:
    """Cosine of each bar's pattern with the next bar's: ``(n_bars - 1,)``, NaN where either is empty."""
    a, b = patterns[:-1].astype(np.float64), patterns[1:].astype(np.float64)
    norm = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    dots = (a * b).sum(axis=1)
    return np.divide(dots, norm, out=np.full(len(dots), np.nan), where=norm > 0)


def mean_pitches(v: BarView) -> np.ndarray:
    """Mean pitch of the notes starting in each bar: ``(n_bars,)``, NaN without an onset."""
    counts = np.bincount(v.bar, minlength=v.n_bars)
    sums = np.bincount(v.bar, weights=v.pitch.astype(np.float64), minlength=v.n_bars)
    return np.divide(sums, counts, out=np.full(v.n_bars, np.nan), where=counts > 0)


def _spans(v: BarView) -> np.ndarray:
    """Highest minus lowest sounding pitch per bar: ``(n_bars,)``, NaN when silent."""
    any_pitch = v.sounding.any(axis=1)
    sounding = any_pitch.any(axis=1)
    hi = np.where(sounding, N_MIDI - 1 - np.argmax(any_pitch[:, ::-1], axis=1), 0)
    lo = np.where(sounding, np.argmax(any_pitch, axis=1), 0)
    return np.where(sounding, hi - lo, np.nan).astype(np.float64)


def _nanmean(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else math.nan


def describe_view(v: BarView, keep: np.ndarray | None = None) -> dict[str, float]:
    """The piece descriptors of :data:`DESCRIPTORS` over the kept bars (see the module docstring)."""
    keep = _keep(v, keep)
    n_kept = int(keep.sum())
    mine = keep[v.bar]
    dur = v.duration[mine]
    n = dur.size
    steps = np.rint(dur * v.steps_per_beat)

    def share(mask: np.ndarray) -> float:
        return float(mask.mean()) if n else math.nan

    pairs = keep[:-1] & keep[1:]
    cos = _pair_cosines(v.onsets)[pairs] if v.n_bars > 1 else np.zeros(0)
    poly = v.sounding[keep].sum(axis=2)
    mp = mean_pitches(v)
    jumps = np.abs(np.diff(mp))[pairs] if v.n_bars > 1 else np.zeros(0)
    return {
        "notes_per_bar": n / n_kept if n_kept else math.nan,
        "onset_steps_per_bar": float((v.onsets[keep] > 0).sum(axis=1).mean()) if n_kept else math.nan,
        "mean_duration": float(dur.mean()) if n else math.nan,
        "long_share": share(dur >= 2.0 - 1e-9),
        "sixteenth_share": share(steps <= 1),
        "held_share": share(dur > 4.0 + 1e-9),
        "longest": float(dur.max()) if n else math.nan,
        "downbeat_share": share(v.step[mine] == 0),
        "groove": _nanmean(cos),
        "polyphony": float(poly[poly > 0].mean()) if (poly > 0).any() else math.nan,
        "pitch_span": _nanmean(_spans(v)[keep]),
        "pitch_jump": _nanmean(jumps),
    }


def describe(notes: Sequence[NoteLike], beats_per_bar: float, n_bars: int | None = None,
             keep: np.ndarray | None = None, steps_per_beat: int = 4) -> dict[str, float]:
    """Piece descriptors (:data:`DESCRIPTORS`) of ``notes`` on ``n_bars`` bars of ``beats_per_bar``."""
    return describe_view(view(notes, beats_per_bar, n_bars, steps_per_beat), keep)


def sounding_bars(v: BarView) -> np.ndarray:
    """Bool ``(n_bars,)``: bars in which something sounds."""
    return v.sounding.any(axis=(1, 2))


FEATURE_NAMES = (tuple(f"onsets_{s}" for s in range(PATTERN_STEPS))
                 + tuple(f"poly_{s}" for s in range(PATTERN_STEPS))
                 + ("notes", "onset_steps", "mean_duration", "long", "sixteenth", "held", "longest", "downbeat",
                    "tied_in", "groove_prev", "has_prev", "jump_prev", "span", "mean_pitch", "lowest", "highest",
                    "distinct_pitches")
                 + tuple(f"pc_rank_{k}" for k in range(12)) + tuple(f"interval_{k}" for k in range(1, 7)))
N_FEATURES = len(FEATURE_NAMES)


def bar_features_view(v: BarView) -> np.ndarray:
    """One key-invariant feature vector per bar: ``(n_bars, N_FEATURES)`` float64 (:data:`FEATURE_NAMES`).

    Rhythm (square roots of onsets and of sounding pitches per step, padded to 16 steps), note
    counts and durations (log2 beats), beat-1 share, notes tied in from the bar before, groove and
    mean-pitch jump against the previous bar, register (span, mean, lowest, highest pitch, in
    octaves from middle C) and harmony without pitch classes: the bar's pitch-class durations
    sorted (shares) and its interval content (circular autocorrelation of the pitch-class
    durations at 1..6 semitones, normalised).
    """
    nb, spb_bar = v.n_bars, v.steps_per_bar
    width = min(spb_bar, PATTERN_STEPS)
    out = np.zeros((nb, N_FEATURES), dtype=np.float64)
    out[:, :width] = np.sqrt(v.onsets[:, :width])
    poly = v.sounding.sum(axis=2)
    out[:, PATTERN_STEPS:PATTERN_STEPS + width] = np.sqrt(poly[:, :width])
    col = 2 * PATTERN_STEPS
    counts = np.bincount(v.bar, minlength=nb).astype(np.float64)
    has = counts > 0

    def per_bar_mean(values: np.ndarray) -> np.ndarray:
        sums = np.bincount(v.bar, weights=values.astype(np.float64), minlength=nb)
        return np.divide(sums, counts, out=np.zeros(nb), where=has)

    logdur = np.log2(np.maximum(v.duration, 1.0 / v.steps_per_beat))
    longest = np.zeros(nb)
    np.maximum.at(longest, v.bar, logdur + 2.0)        # +2: a 16th is 0, so silence (0) sorts below it
    steps = np.rint(v.duration * v.steps_per_beat)
    onset_cells = np.zeros_like(v.sounding)
    onset_cells[v.bar, v.step, v.pitch] = True
    tied_in = (v.sounding[:, 0, :] & ~onset_cells[:, 0, :]).sum(axis=1)
    groove = np.zeros(nb)
    jump = np.zeros(nb)
    has_prev = np.zeros(nb)
    mp = mean_pitches(v)
    if nb > 1:
        cos = _pair_cosines(v.onsets)
        groove[1:] = np.nan_to_num(cos)
        has_prev[1:] = np.isfinite(cos)
        jump[1:] = np.minimum(np.nan_to_num(np.abs(np.diff(mp))), 24.0) / 12.0
    any_pitch = v.sounding.any(axis=1)                              # (nb, 128)
    sounding = any_pitch.any(axis=1)
    lo = np.where(sounding, np.argmax(any_pitch, axis=1), 60)
    hi = np.where(sounding, N_MIDI - 1 - np.argmax(any_pitch[:, ::-1], axis=1), 60)
    out[:, col:col + 17] = np.stack([
        np.log1p(counts), (v.onsets > 0).sum(axis=1) / PATTERN_STEPS, per_bar_mean(logdur),
        per_bar_mean(v.duration >= 2.0 - 1e-9), per_bar_mean(steps <= 1), per_bar_mean(v.duration > 4.0 + 1e-9),
        longest, per_bar_mean(v.step == 0), np.sqrt(tied_in), groove, has_prev, jump,
        (hi - lo) / 12.0, (np.nan_to_num(mp, nan=60.0) - 60.0) / 12.0,
        (lo - 60) / 12.0, (hi - 60) / 12.0, np.sqrt(any_pitch.sum(axis=1)),
    ], axis=1)
    col += 17
    per_pitch = v.sounding.sum(axis=1).astype(np.float64)           # (nb, 128) steps sounded
    pcs = _fold(per_pitch)
    total = pcs.sum(axis=1, keepdims=True)
    shares = np.divide(pcs, total, out=np.zeros_like(pcs), where=total > 0)
    out[:, col:col + 12] = -np.sort(-shares, axis=1)
    col += 12
    energy = (shares ** 2).sum(axis=1)
    for k in range(1, 7):
        out[:, col + k - 1] = np.divide((shares * np.roll(shares, -k, axis=1)).sum(axis=1), energy,
                                        out=np.zeros(nb), where=energy > 0)
    return out


def _fold(per_pitch: np.ndarray) -> np.ndarray:
    """``(nb, 128)`` -> ``(nb, 12)`` summed by pitch class."""
    out = np.zeros((per_pitch.shape[0], 12))
    for pc in range(12):
        out[:, pc] = per_pitch[:, pc::12].sum(axis=1)
    return out


def bar_features(notes: Sequence[NoteLike], beats_per_bar: float, n_bars: int | None = None,
                 steps_per_beat: int = 4) -> np.ndarray:
    """:func:`bar_features_view` of ``notes``: ``(n_bars, N_FEATURES)``."""
    return bar_features_view(view(notes, beats_per_bar, n_bars, steps_per_beat))


def mean_descriptors(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    """Mean of each descriptor over pieces, NaNs left out, and ``longest_max``: the longest note
    in any piece."""
    out = {}
    for key in DESCRIPTORS:
        values = np.array([r.get(key, math.nan) for r in rows], dtype=np.float64)
        values = values[np.isfinite(values)]
        if not values.size:
            out[key] = math.nan
        else:
            out[key] = float(values.mean())
    longest = np.array([r.get("longest", math.nan) for r in rows], dtype=np.float64)
    out["longest_max"] = float(np.nanmax(longest)) if np.isfinite(longest).any() else math.nan
    return out
