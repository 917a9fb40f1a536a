# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""How much of the query's harmony an improvisation keeps (issue 5's definitions), how much of
its surface it replays (issue 12: copy, :mod:`.texture`) and what its texture is (issue 20: the
key-invariant descriptors of :mod:`.descriptors`, measured on the query's sounding bars).

All comparisons use pitch-class duration profiles per bar (:func:`chroma.bar_profiles`):
(n_bars, 12) arrays of beats sounded per pitch class. The query's bar grid is used for both
pieces; output bars past the query's end are ignored, missing ones count as silent.

Conventions for silence: the cosine with a silent (all-zero) profile is 0, and bars where the
query is silent are left out, since there is no harmony there to agree with.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .chroma import NoteLike, bar_profiles, count_bars, top_pitch_classes
from .descriptors import bar_beats, describe_view, sounding_bars, view
from .texture import copy_score, corpus_likeness

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HarmonyMetrics:
    """One output compared with its query.

    Attributes:
        agreement: mean over bars of cos(query bar profile, output bar profile).
        retained: share of the query's bar-specific harmony the output keeps: 1 for a copy,
            about 0 when only the key survives; NaN when the query's bars all sound alike.
        key_agreement: cos of the two whole-piece pitch-class profiles.
        vocabulary: distinct bar-level top-3 pitch-class sets in the output.
        density: output notes per bar.
        copy: F1 of the (pitch, onset step) pairs: 1 = the query replayed, 0 = all new notes.
        texture: issue 12's corpus likeness of the bars' rhythm and voicing, 0 = the query's,
            1 = the corpus's (NaN without a corpus texture bank). A report only, not a target:
            one whole-bar triad per bar scores higher on it than a pad, a drone nearly as high.
        notes_per_bar ... pitch_jump: the output's texture descriptors (:data:`.descriptors.DESCRIPTORS`)
            over the bars where the query sounds; compare them with a corpus's (issue 20).
    """

    agreement: float
    retained: float
    key_agreement: float
    vocabulary: int
    density: float
    copy: float = math.nan
    texture: float = math.nan
    notes_per_bar: float = math.nan
    onset_steps_per_bar: float = math.nan
    mean_duration: float = math.nan
    long_share: float = math.nan
    sixteenth_share: float = math.nan
    held_share: float = math.nan
    longest: float = math.nan
    downbeat_share: float = math.nan
    groove: float = math.nan
    polyphony: float = math.nan
    pitch_span: float = math.nan
    pitch_jump: float = math.nan

    def to_dict(self) -> dict[str, float | int | None]:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


def cosine_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of ``a`` (m, d) with every row of ``b`` (n, d): (m, n).

    Pairs involving an all-zero row get 0.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    dots = a @ b.T
    denom = np.outer(na, nb)
    return np.divide(dots, denom, out=np.zeros_like(dots), where=denom > 0)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two vectors; 0 when either is all zeros."""
    return float(cosine_matrix(np.atleast_2d(a), np.atleast_2d(b))[0, 0])


def bar_specificity(query: np.ndarray, output: np.ndarray) -> tuple[float, float]:
    """(matching, off) cosines between bar profiles (n_bars, 12) over the query's sounding bars.

    ``matching`` is the mean of cos(q_i, o_i); ``off`` the mean of cos(q_i, o_j) over i != j.
    Both are NaN with no sounding bar; ``off`` is NaN with fewer than two.
    """
    sounding = np.flatnonzero(query.sum(axis=1) > 0)
    if sounding.size == 0:
        return math.nan, math.nan
    sims = cosine_matrix(query[sounding], output[sounding])
    matching = float(np.mean(np.diag(sims)))
    m = sounding.size
    if m < 2:
        return matching, math.nan
    off = float((sims.sum() - np.trace(sims)) / (m * (m - 1)))
    return matching, off


def harmony_agreement(query: np.ndarray, output: np.ndarray) -> float:
    """Mean over the query's sounding bars of cos(query bar, output bar); inputs (n_bars, 12)."""
    return bar_specificity(query, output)[0]


def retained_harmony(query: np.ndarray, output: np.ndarray) -> float:
    """(matching - off) for the output divided by the same for the query against itself.

    Inputs are (n_bars, 12) profiles on the same bar grid. NaN when the query has fewer than
    two sounding bars or they all have the same harmony (nothing bar-specific to keep).
    """
    matching, off = bar_specificity(query, output)
    self_matching, self_off = bar_specificity(query, query)
    scale = self_matching - self_off
    if not math.isfinite(scale) or scale <= 1e-9:
        return math.nan
    return (matching - off) / scale


@dataclass(frozen=True)
class Kept:
    """What an improvisation kept of its query: ``retained`` harmony and ``copy`` (as :class:`HarmonyMetrics`;
    NaN where undefined), the two figures ``qbdi sweep`` plots, cheap enough for every served request."""

    retained: float
    copy: float


def kept(query: Sequence[NoteLike], output: Sequence[NoteLike], beats_per_bar: float,
         length_beats: float | None = None, steps_per_beat: int = 4) -> Kept:
    """Retained harmony and copy of ``output`` against ``query`` on the query's bar grid, exactly as
    :func:`compare` computes them (its other metrics left out): two (n_bars, 12) profiles and one F1."""
    bars = count_bars(query, beats_per_bar, length_beats)
    q = bar_profiles(query, beats_per_bar, bars)
    o = bar_profiles(output, beats_per_bar, bars)
    return Kept(retained=retained_harmony(q, o), copy=copy_score(query, output, steps_per_beat, bars * beats_per_bar))


def key_agreement(query: np.ndarray, output: np.ndarray) -> float:
    """Cosine of the whole-piece pitch-class profiles (the bar profiles summed): (n_bars, 12) inputs."""
    return cosine(query.sum(axis=0), output.sum(axis=0))


def chord_vocabulary(profiles: np.ndarray, k: int = 3) -> int:
    """Number of distinct top-``k`` pitch-class sets over the sounding bars of (n_bars, 12) profiles."""
    return len({top_pitch_classes(p, k) for p in profiles if p.sum() > 0})


def note_density(notes: Sequence[NoteLike], n_bars: int) -> float:
    """Notes per bar."""
    return len(notes) / max(n_bars, 1)


def repeat_agreement(query: Sequence[NoteLike], output: Sequence[NoteLike], beats_per_bar: float,
                     length_beats: float | None = None, similarity: float = 0.9) -> float | None:
    """Share of the query's repeated bars whose output bar repeats the same earlier bar.

    Repeats are found as the structure lock finds them (:func:`bridge.structure.repeat_sources`,
    cosine of the bars' piano rolls >= ``similarity``); ``None`` when the query repeats nothing.
    """
    from bridge.pianoroll import BarGrid, Note, to_roll
    from bridge.structure import repeat_sources

    bars = count_bars(query, beats_per_bar, length_beats)
    grid = BarGrid(beats_per_bar, bars)

    def bar_rows(notes: Sequence[NoteLike]) -> np.ndarray:
        plain = [Note(int(n.pitch), float(n.start), float(n.duration)) for n in notes]
        return to_roll(plain, grid.n_steps).reshape(bars, -1).astype(np.float64)

    q_src = repeat_sources(bar_rows(query), similarity)
    repeated = np.flatnonzero(q_src != np.arange(bars))
    if not len(repeated):
        return None
    out = bar_rows(output)
    norms = np.linalg.norm(out, axis=1)
    kept = 0
    for t in repeated:
        a, b = out[t], out[q_src[t]]
        both_silent = norms[t] == 0 and norms[q_src[t]] == 0
        both_sound = norms[t] > 0 and norms[q_src[t]] > 0
        if both_silent or both_sound and a @ b / (norms[t] * norms[q_src[t]]) >= similarity:
            kept += 1
    return kept / len(repeated)


def texture_of(query: Sequence[NoteLike], output: Sequence[NoteLike], beats_per_bar: float, bars: int,
               bank: np.ndarray | None, steps_per_beat: int = 4) -> float:
    """Corpus likeness (:func:`.texture.corpus_likeness`) on the model's frames of the query's
    bar grid; NaN without a bank."""
    if bank is None or not len(bank):
        return math.nan
    from bridge.config import Representation
    from bridge.pianoroll import BarGrid, Note, to_frames

    rep = Representation(steps_per_beat=steps_per_beat)
    grid = BarGrid(beats_per_bar, bars, rep)

    def frames(notes: Sequence[NoteLike]) -> np.ndarray:
        plain = [Note(int(n.pitch), float(n.start), float(n.duration)) for n in notes]
        return to_frames(plain, grid)

    return corpus_likeness(frames(query), frames(output), np.asarray(bank), rep.steps_per_frame, rep.n_pitches)


def texture_descriptors(query: Sequence[NoteLike], output: Sequence[NoteLike], beats_per_bar: float, bars: int,
                        steps_per_beat: int = 4) -> dict[str, float]:
    """The output's descriptors (:func:`.descriptors.describe_view`) over the query's sounding bars, on
    the query's grid (bars of more than 4 beats cut into 4-beat bars, as training cuts them)."""
    bpb = bar_beats(beats_per_bar)
    n = max(1, math.ceil(bars * beats_per_bar / bpb - 1e-9))
    keep = sounding_bars(view(query, bpb, n, steps_per_beat))
    return describe_view(view(output, bpb, n, steps_per_beat), keep)


def compare(query: Sequence[NoteLike], output: Sequence[NoteLike], beats_per_bar: float,
            length_beats: float | None = None, bank: np.ndarray | None = None,
            steps_per_beat: int = 4) -> HarmonyMetrics:
    """All harmony, copy and texture measures of ``output`` against ``query`` on the query's bar grid.

    Args:
        beats_per_bar: the query's bar length in beats.
        length_beats: the query's length (default: where its last note ends).
        bank: the model's corpus texture counts ``(k, 39)`` for ``texture`` (NaN without).
    """
    bars = count_bars(query, beats_per_bar, length_beats)
    q = bar_profiles(query, beats_per_bar, bars)
    o = bar_profiles(output, beats_per_bar, bars)
    kept = [n for n in output if n.start < bars * beats_per_bar]
    return HarmonyMetrics(
        agreement=harmony_agreement(q, o),
        retained=retained_harmony(q, o),
        key_agreement=key_agreement(q, o),
        vocabulary=chord_vocabulary(o),
        density=note_density(kept, bars),
        copy=copy_score(query, output, steps_per_beat, bars * beats_per_bar),
        texture=texture_of(query, output, beats_per_bar, bars, bank, steps_per_beat),
        **texture_descriptors(query, output, beats_per_bar, bars, steps_per_beat),
    )
