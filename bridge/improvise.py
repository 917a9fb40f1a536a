# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Query -> improvisation: encode the query's bars, pass the latents through the rate-limited
channel, decode, and turn note probabilities into notes. The Python API that the CLI, the
server and the analysis share.

Every random draw comes from one ``numpy.random.Generator`` seeded by ``settings.seed``, drawn
in a fixed order (latent sampling, channel noise, note sampling), so the same seed and settings
give the same notes bit for bit.

The steps are public functions (:func:`encoder_latents`, :func:`channel_stats`,
:func:`noise_scale`, :func:`note_cells`, :func:`cells_to_notes`, :func:`velocity_profile`,
:func:`decode_latents`) because the play-along stream (:mod:`bridge.stream`) runs the same steps
one bar at a time and the morph (:mod:`bridge.interpolate`) along a latent path.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .channel import ChannelStats, allocate_bits, transmit
from .config import MAX_BARS, MAX_NOTES, Settings
from .errors import QbdiError
from .models import Model, load_model
from .patterns import TextureState, choose_pattern, harmony, realize_bar
from .pianoroll import BarGrid, Note, RollReport, frames_to_roll, from_roll, length_of, step_position, to_frames
from .structure import continue_latents, repeat_sources
from .vae import sigmoid

log = logging.getLogger(__name__)

MAX_FRAMES = 1024   # query plus continuation; bounds memory (~10 MB per frame array)
DEFAULT_VELOCITY = 90
FREE_MEMORY = np.float32(0.8)   # free improvisation: correlation of consecutive frames' latents
FREE_INNOVATION = np.float32(np.sqrt(1.0 - FREE_MEMORY ** 2))   # the new draw's weight: each frame stays N(0, I)
TEXTURE_DRAW = 3      # the texture layer's generators are keyed (seed, bar, TEXTURE_DRAW)


@dataclass
class Improvisation:
    """The notes, plus everything needed to explain and analyse them."""

    notes: list[Note]
    settings: Settings             # the effective settings (model name and beats per bar filled in)
    model: str
    grid: BarGrid
    latents: np.ndarray            # (n_frames, latent) what the decoder received
    query_latents: np.ndarray      # (n_query_frames, latent) encoder means of the query (empty if free)
    bits: np.ndarray | None        # (latent,) or (n_frames, latent) bits per component; None at full rate
    warnings: list[str] = field(default_factory=list)
    sections: list[tuple[float, float, int]] = field(default_factory=list)  # meter changes: (start, beats/bar, bars)

    @property
    def bits_per_frame(self) -> float | None:
        if self.bits is None:
            return None
        return float(self.bits.sum(axis=-1).mean())


def checked_query(notes: Sequence[Note], name: str = "the query",
                  fix: str = "give a clip or file with notes (or use free improvisation)") -> list[Note]:
    """The notes of a query (or a morph's clip ``name``) as a list, refused with one line when empty,
    over ``MAX_NOTES`` or holding a start or duration that is not finite (or a negative start)."""
    notes = list(notes)
    where = "" if name == "the query" else f"{name}: "
    if not notes:
        raise QbdiError(f"{name} has no notes; {fix}")
    if len(notes) > MAX_NOTES:
        raise QbdiError(f"{name} has {len(notes)} notes; the limit is {MAX_NOTES}", code="too_large")
    for n in notes:
        if not (np.isfinite(n.start) and np.isfinite(n.duration)) or n.start < 0:
            raise QbdiError(f"{where}note {n.pitch} at {n.start} has a bad start or duration; starts must be >= 0")
    return notes


def improvise(model: Model, notes: Sequence[Note], settings: Settings,
              beats_per_bar: float | None = None, length_beats: float | None = None,
              fold: bool = False, first_bar: int = 0) -> Improvisation:
    """Improvise on a query note list; the output keeps its length and bar grid.

    ``beats_per_bar`` defaults to ``settings.beats_per_bar`` then 4; ``length_beats`` to
    ``settings.length_beats`` then the end of the last note; either way rounded up to whole bars.
    ``first_bar``: the query's first bar in a longer piece (a section after a meter change): its
    draws are those of that bar, not of bar 0.
    """
    notes = checked_query(notes)
    bpb = float(beats_per_bar or settings.beats_per_bar or 4.0)
    settings = settings.replace(model=model.name, beats_per_bar=bpb)
    length_beats = length_beats if length_beats is not None else settings.length_beats
    grid = BarGrid.covering(max(length_beats or 0.0, length_of(notes)), bpb, model.representation)
    if grid.n_bars > MAX_BARS:
        raise QbdiError(f"the query is {grid.n_bars} bars long; the limit is {MAX_BARS}", code="too_large")
    _check_frames(grid.n_frames)
    rep = model.representation
    folded_all = not fold and not any(rep.lowest_pitch <= n.pitch <= rep.highest_pitch for n in notes)
    report = RollReport()
    frames = to_frames(notes, grid, fold=fold or folded_all, report=report)
    rng = np.random.default_rng(settings.seed if not first_bar else [settings.seed, first_bar])
    mu, logvar = model.vae.encode(frames)
    z_e = encoder_latents(mu, logvar, settings, rng)
    repeat_of = repeat_sources(frames) if settings.structure == "lock" else None
    z_d, bits = _channel(model, z_e, mu, logvar, settings, rng, repeat_of)
    if settings.continue_bars:
        _check_frames(grid.n_frames + settings.continue_bars * grid.frames_per_bar)
        z_d, grid, repeat_of = _continue(model, z_d, grid, settings, repeat_of)
    velocity = velocity_profile(notes, grid)
    out = _notes_from_latents(model, z_d, grid, settings, rng, velocity, repeat_of, first_bar)
    warnings = report.warnings()
    if folded_all:            # dropping them would leave nothing to improvise on
        warnings = [w for w in warnings if "folded by octaves" not in w]
        warnings.insert(0, f"every note of the query lies outside the model's pitch range ({rep.lowest_pitch}-"
                           f"{rep.highest_pitch}); all {len(notes)} were folded into it by octaves")
    if not out:
        warnings.append("the improvisation is silent; lower the threshold or raise the rate")
    return Improvisation(out, settings, model.name, grid, z_d, mu, bits, warnings)


def free_improvise(model: Model, settings: Settings, beats_per_bar: float | None = None) -> Improvisation:
    """No query: ``settings.bars`` bars with latents drawn from the prior N(0, I), as a walk: each
    frame's latent keeps FREE_MEMORY of the one before (AR(1), so every frame is still N(0, I))."""
    bpb = float(beats_per_bar or settings.beats_per_bar or 4.0)
    settings = settings.replace(model=model.name, beats_per_bar=bpb)
    grid = BarGrid(bpb, settings.bars, model.representation)
    _check_frames(grid.n_frames)
    rng = np.random.default_rng(settings.seed)
    z = rng.standard_normal((grid.n_frames, model.architecture.latent_size), dtype=np.float32)
    for t in range(1, len(z)):      # a walk through the prior (each frame still N(0, I)): a piece, not random bars
        z[t] = FREE_MEMORY * z[t - 1] + FREE_INNOVATION * z[t]
    velocity = np.full(grid.n_bars, DEFAULT_VELOCITY, dtype=np.float32)
    out = _notes_from_latents(model, z, grid, settings, rng, velocity, None)
    return Improvisation(out, settings, model.name, grid, z, np.zeros((0, z.shape[1]), np.float32), None,
                         [] if out else ["the improvisation is silent; lower the threshold"])


def _check_frames(n_frames: int) -> None:
    if n_frames > MAX_FRAMES:
        raise QbdiError(f"the improvisation would span {n_frames} model frames (bars x frames per bar, continuation "
                        f"included); the limit is {MAX_FRAMES}: shorten the query, the continuation or the bars",
                        code="too_large")


def encoder_latents(mu: np.ndarray, logvar: np.ndarray, settings: Settings, rng: np.random.Generator) -> np.ndarray:
    """What the encoder sends (``settings.z``): the posterior means ``(T, L)``, or one sample of
    the posterior per frame (``T x L`` float32 standard normals from ``rng``)."""
    if settings.z == "mean":
        return mu
    return mu + np.exp(0.5 * logvar) * rng.standard_normal(mu.shape, dtype=np.float32)


def channel_stats(model: Model, z_e: np.ndarray, mu: np.ndarray, logvar: np.ndarray,
                  settings: Settings) -> ChannelStats:
    """Where ``mu_i`` and ``s_i^2`` come from (``settings.source``); variances per frame for
    ``allocation='frame'``. Shapes: mean ``(L,)``, var ``(L,)`` or ``(T, L)``."""
    if settings.source == "prior":
        mean, var = np.zeros(mu.shape[1]), np.ones(mu.shape[1])
        return ChannelStats(mean, np.broadcast_to(var, mu.shape) if settings.allocation == "frame" else var)
    mean = z_e.mean(axis=0).astype(np.float64)
    if settings.source == "posterior":   # the reference: time-averaged posterior variance
        per_frame = np.exp(logvar.astype(np.float64))
    else:                                # empirical: how the query's latent means move over time
        per_frame = (mu.astype(np.float64) - mu.mean(axis=0)) ** 2
    return ChannelStats(mean, per_frame if settings.allocation == "frame" else per_frame.mean(axis=0))


def noise_scale(stats: ChannelStats, settings: Settings) -> ChannelStats:
    """The statistics :func:`bridge.channel.transmit` scales its noise by: ``stats`` itself, except
    that per-frame empirical variances (which rank a frame's components for bits) give way to
    their average over the frames."""
    if stats.var.ndim == 2 and settings.source == "empirical":
        return ChannelStats(stats.mean, stats.var.mean(axis=0))
    return stats


def _channel(model: Model, z_e, mu, logvar, settings: Settings, rng, repeat_of):
    if settings.rate is None:
        return z_e.astype(np.float32), None
    stats = channel_stats(model, z_e, mu, logvar, settings)
    bits = allocate_bits(stats.var, settings.rate)
    noise = rng.standard_normal(z_e.shape)
    if repeat_of is not None:
        noise = noise[repeat_of]
    return transmit(z_e, noise_scale(stats, settings), bits, noise), bits


def _continue(model: Model, z_d, grid: BarGrid, settings: Settings, repeat_of):
    """Append ``continue_bars`` bars of latents predicted from the last one (see bridge.structure)."""
    extra = continue_latents(model, z_d, settings.continue_bars * grid.frames_per_bar)
    grid = BarGrid(grid.beats_per_bar, grid.n_bars + settings.continue_bars, grid.representation)
    if repeat_of is not None:
        repeat_of = np.concatenate([repeat_of, np.arange(len(repeat_of), len(repeat_of) + len(extra))])
    return np.concatenate([z_d, extra]).astype(np.float32), grid, repeat_of


def _notes_from_latents(model: Model, z: np.ndarray, grid: BarGrid, settings: Settings, rng,
                        bar_velocity: np.ndarray, repeat_of, first_bar: int = 0,
                        chosen: dict[int, int] | None = None) -> list[Note]:
    if model.texture is not None:
        sources = np.arange(grid.n_bars)
        if repeat_of is not None:
            sources = np.asarray(repeat_of)[::grid.frames_per_bar] // grid.frames_per_bar
        sources = sources + first_bar
        notes = []
        for bar, bar_notes in enumerate(texture_notes(model, z, grid, settings, bar_velocity, sources,
                                                      TextureState(), {} if chosen is None else chosen)):
            origin = bar * grid.beats_per_bar
            notes.extend(Note(n.pitch, n.start + origin, n.duration, n.velocity) for n in bar_notes)
        if len(notes) > MAX_NOTES:
            raise QbdiError(f"the improvisation has {len(notes)} notes; the limit is {MAX_NOTES} "
                            "(shorten the query)", code="too_large")
        return notes

    def uniform(shape: tuple[int, ...]) -> np.ndarray:
        u = rng.random(shape, dtype=np.float32)
        return u if repeat_of is None else u[repeat_of]

    on, probs = note_cells(model, z, settings, uniform)
    return cells_to_notes(on, probs, grid, bar_velocity)


def decode_latents(model: Model, z: np.ndarray, grid: BarGrid, settings: Settings, rng: np.random.Generator,
                   bar_velocity: np.ndarray, repeat_of: np.ndarray | None = None,
                   chosen: dict[int, int] | None = None) -> list[Note]:
    """The decoding stage :func:`improvise` uses: decoder latents ``(grid.n_frames, L)`` -> notes,
    with velocities from ``bar_velocity`` ``(n_bars,)`` and any sampling draws from ``rng``
    (``repeat_of`` ``(n_frames,)``: the structure lock's sources, or None). For engines built on
    improvise's steps (bridge.interpolate), so they decode exactly as it does. ``chosen``: a texture
    model's pattern per bar (source bar -> pattern), played where given; the bars' patterns chosen
    here are added to it (a dict the caller keeps)."""
    return _notes_from_latents(model, z, grid, settings, rng, bar_velocity, repeat_of, chosen=chosen)


def texture_notes(model: Model, z: np.ndarray, grid: BarGrid, settings: Settings, bar_velocity: np.ndarray,
                  sources: Sequence[int], state: TextureState, chosen: dict[int, int]) -> list[list[Note]]:
    """A texture model's bars (:mod:`bridge.patterns`): latents ``(grid.n_frames, L)`` -> one note
    list per bar (beats from the bar's start). Bar ``b`` draws from the generator keyed by
    ``(seed, sources[b])`` and plays the pattern ``chosen[sources[b]]`` when there is one (structure
    lock); ``state`` and ``chosen`` carry over to later calls (the stream's bars)."""
    texture, rep = model.texture, model.representation
    logits = model.vae.decode_logits(z)
    probs = sigmoid(logits / settings.temperature if settings.sampling == "sample" else logits)
    roll = frames_to_roll(probs, grid)
    steps = grid.steps_per_bar
    z_bar = np.asarray(z, dtype=np.float32).reshape(grid.n_bars, grid.frames_per_bar, -1).mean(axis=1)
    scores = texture.scores(z_bar)
    out = []
    for bar in range(grid.n_bars):
        source = int(sources[bar])
        rng = np.random.default_rng([settings.seed, source, TEXTURE_DRAW])
        found = harmony(roll[bar * steps:(bar + 1) * steps, :, 0], rep, settings, rng)
        if found is None:
            out.append([])
            continue
        k = choose_pattern(texture, scores[bar], state.pattern, settings, rng, steps)
        k = chosen.setdefault(source, k)
        chord, bass, weight = found
        out.append(realize_bar(texture, k, chord, bass, weight, state, roll[bar * steps:(bar + 1) * steps, :, 0],
                               roll[bar * steps:(bar + 1) * steps, :, 1], rep, rng,
                               float(bar_velocity[bar]), settings.threshold))
    return out


def note_cells(model: Model, z: np.ndarray, settings: Settings,
               uniform: Callable[[tuple[int, ...]], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Latents ``(T, L)`` -> cells that are on ``(T, F)`` bool and their probabilities ``(T, F)``.

    ``threshold``: on where the probability exceeds the threshold; ``sample``: on where
    ``uniform(shape)`` (float32 in [0, 1), called only when sampling) falls below
    ``sigmoid(logits / temperature)``."""
    logits = model.vae.decode_logits(z)
    if settings.sampling == "threshold":
        probs = sigmoid(logits)
        return probs > settings.threshold, probs
    probs = sigmoid(logits / settings.temperature)
    return uniform(probs.shape) < probs, probs


def cells_to_notes(on: np.ndarray, probs: np.ndarray, grid: BarGrid, bar_velocity: np.ndarray) -> list[Note]:
    """Cells ``(grid.n_frames, F)`` -> notes on ``grid``, velocities from ``bar_velocity`` ``(n_bars,)``
    (:func:`note_velocities`). More than MAX_NOTES notes raise ``too_large``."""
    roll = frames_to_roll(on, grid)
    velocity = note_velocities(frames_to_roll(probs, grid), grid, bar_velocity)
    return from_roll(roll, grid.representation, velocity, max_notes=MAX_NOTES)


def velocity_profile(notes: Sequence[Note], grid: BarGrid) -> np.ndarray:
    """Mean query velocity per bar ``(n_bars,)``; bars without notes take the piece's mean."""
    spb = grid.representation.steps_per_beat
    starts = np.array([step_position(n.start, spb) / spb for n in notes])    # snapped as to_roll snaps
    bars = np.minimum((starts // grid.beats_per_bar).astype(int), grid.n_bars - 1)
    vel = np.array([n.velocity for n in notes], dtype=np.float64)
    total = np.bincount(bars, weights=vel, minlength=grid.n_bars)
    count = np.bincount(bars, minlength=grid.n_bars)
    mean = vel.mean() if len(vel) else DEFAULT_VELOCITY
    out = np.where(count > 0, total / np.maximum(count, 1), mean)
    return out.astype(np.float32)


def note_velocities(probs_roll: np.ndarray, grid: BarGrid, bar_velocity: np.ndarray) -> np.ndarray:
    """Velocity per (step, pitch) ``(n_steps, P)``: the query's dynamics per bar, shaped by the
    model's confidence in the onset and a metric accent (downbeat strongest, offbeats softest)."""
    n_bars = grid.n_bars
    base = np.zeros(grid.n_steps, dtype=np.float32)
    base[: n_bars * grid.steps_per_bar] = np.repeat(np.resize(bar_velocity, n_bars), grid.steps_per_bar)
    k = np.arange(grid.n_steps) % grid.steps_per_bar
    spb = grid.representation.steps_per_beat
    accent = np.where(k == 0, 1.08, np.where(k % spb == 0, 1.0, np.where(k % (spb // 2 or 1) == 0, 0.94, 0.88)))
    confidence = 0.8 + 0.2 * probs_roll[:, :, 1]
    vel = base[:, None] * accent[:, None].astype(np.float32) * confidence
    return np.clip(np.rint(vel), 1, 127).astype(np.int64)


def improvise_file(path: str | os.PathLike, settings: Settings, model: Model | None = None,
                   fold: bool = False):
    """Read a MIDI file and improvise on it; returns ``(score, improvisation)``."""
    from .midifile import read_midi

    score = read_midi(path)  # the file's problems first: they are the likelier mistake
    model = model or load_model(settings.model)
    if score.meters and not settings.beats_per_bar:
        return score, _improvise_sections(model, score, settings, fold)
    bpb = settings.beats_per_bar or score.beats_per_bar
    result = improvise(model, score.notes, settings, beats_per_bar=bpb, length_beats=score.length_beats, fold=fold)
    result.warnings[:0] = score.warnings
    return score, result


def _improvise_sections(model: Model, score, settings: Settings, fold: bool) -> Improvisation:
    """A piece whose meter changes: each section improvised on its own bar grid (its notes from its
    start, cut at its end), bar numbers running on, and the results joined. The result's ``grid``
    is the first meter's with the total number of bars; ``sections`` lists the meters."""
    notes, latents, queries, bits, sections, warnings = [], [], [], [], [], list(score.warnings)
    first_bar, last = 0, None
    for start, end, bpb in score.sections():
        part = [Note(n.pitch, n.start - start, min(n.end, end) - n.start, n.velocity) for n in score.notes
                if start <= n.start < end]
        length = end - start
        if length <= 0:
            continue
        if not part:
            part_result = None
            n_bars = max(1, math.ceil(length / bpb - 1e-9))
        else:
            part_result = improvise(model, part, settings, beats_per_bar=bpb, length_beats=length, fold=fold,
                                    first_bar=first_bar)
            n_bars = part_result.grid.n_bars
            notes += [Note(n.pitch, n.start + start, min(n.end, length) - n.start, n.velocity)
                      for n in part_result.notes if n.start < length]
            latents.append(part_result.latents)
            queries.append(part_result.query_latents)
            if part_result.bits is not None:
                bits.append(np.atleast_2d(part_result.bits).mean(axis=0))
            warnings += [w for w in part_result.warnings if w not in warnings]
            last = part_result
        sections.append((start, bpb, n_bars))
        first_bar += n_bars
    if last is None:
        raise QbdiError("the query has no notes; give a clip or file with notes (or use free improvisation)")
    first = sections[0][1]
    grid = BarGrid(first, sum(s[2] for s in sections), model.representation)
    out_settings = last.settings.replace(beats_per_bar=first)
    return Improvisation(sorted(notes, key=lambda n: (n.start, n.pitch)), out_settings, model.name, grid,
                         np.concatenate(latents), np.concatenate(queries), np.stack(bits) if bits else None, warnings,
                         sections)
