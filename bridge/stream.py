# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Play along: an improviser fed one bar at a time, as it is played, answering with the next bar.

:class:`StreamImproviser` runs the steps of :mod:`bridge.improvise` on one bar (``grid`` of one
bar; a long bar spans several frames) and keeps what the next bars need:

* **echo** answers bar ``t`` with bar ``t`` improvised, to be heard during bar ``t + 1``;
  **ahead** answers with the bar the model predicts after the recent ones
  (:func:`bridge.structure.continue_latents`, the engine's ``--continue``), decoded the same way.
* **Channel statistics** come from a sliding window of the last ``window`` bars received
  (:func:`bridge.improvise.channel_stats` over the window). The default empirical source needs two
  frames to have a spread: on the first bar (and always with ``window 1``) it codes against the
  model's corpus statistics instead, so the Rate dial acts from the first bar and rate 0 answers
  with the corpus's average bar rather than a copy of the bar played.
* **Structure lock**: a bar that repeats one of the last REPEAT_MEMORY_FRAMES frames (the rule of
  :func:`bridge.structure.repeat_sources`) gets that bar's channel and sampling noise.
* **Draws** for bar ``t`` come from generators keyed by ``(seed, t, draw)``; a locked repeat
  regenerates its source bar's draws instead of storing them. So the same seed and the same
  bars give the same answers bit for bit, whatever their timing, and a lost bar does not shift
  the noise of the bars after it.
* **Memory** is bounded: the window, the repeat memory, and one running velocity mean.

Times are beats from the start of the bar (tempo never enters). A bar's notes may start before
it: a note held over the bar line is sent again with a negative start (no onset in this bar),
and a note struck just before the line (by less than half a step) lands on the downbeat, as in
``improvise``. Answers use the same convention: notes cut at the end of the bar, and a note that
continues one of the previous answer comes with a negative start (its real start) and the
previous answer's velocity; :func:`merge_bars` joins the parts, :func:`split_bars` cuts a
performance into the bars a client sends.

**Echo at full rate equals improvise** (threshold sampling, ``z mean``): every answer holds the
notes, velocities included, that :func:`bridge.improvise.improvise` gives for that bar of the
same performance (tests/test_stream.py checks it on the shipped model). One exception by
necessity: improvise gives a bar without struck notes the whole piece's mean velocity, which a
live stream cannot know; the stream uses the mean of the notes struck so far.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from .channel import ChannelStats, allocate_bits, transmit
from .config import MAX_NOTES, Settings, StreamSettings
from .errors import QbdiError
from .improvise import (
    DEFAULT_VELOCITY,
    cells_to_notes,
    channel_stats,
    encoder_latents,
    noise_scale,
    note_cells,
    texture_notes,
    velocity_profile,
)
from .models import Model
from .patterns import TextureState
from .pianoroll import ONSET, BarGrid, Note, RollReport, frames_to_roll, roll_to_frames, step_position, to_roll
from .structure import REPEAT_SIMILARITY, continue_latents

REPEAT_MEMORY_FRAMES = 64     # frames (4/4 bars) a repeat is looked for in: ~2 minutes at 120 BPM
Z_DRAW, CHANNEL_DRAW, NOTE_DRAW = 0, 1, 2
TIE_TOLERANCE = 1e-9          # beats: notes this close count as the same start (merge_bars)


@dataclass
class NextBar:
    """The answer to one played bar: ``notes`` in beats from the start of bar ``bar``."""

    bar: int                  # the bar to play the notes in: the played bar + 1
    played: int               # the bar it answers
    notes: list[Note]
    latents: np.ndarray       # (frames, L) what the decoder received
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Played:
    z_e: np.ndarray           # (frames, L) what the encoder sent
    mu: np.ndarray
    logvar: np.ndarray
    z_d: np.ndarray           # (frames, L) what the channel delivered


class StreamImproviser:
    """One play-along session's engine: :meth:`play` one bar, get the next bar's notes.

    ``settings.beats_per_bar`` (default 4) must be a whole number of model steps (sixteenths);
    ``settings.bars``, ``length_beats`` and ``continue_bars`` do not apply to a stream.
    Not thread-safe: one caller at a time.
    """

    def __init__(self, model: Model, settings: Settings | None = None, stream: StreamSettings | None = None) -> None:
        self.model = model
        settings = settings or Settings()
        bpb = float(settings.beats_per_bar or 4.0)
        steps = bpb * model.representation.steps_per_beat
        if steps != int(steps):
            raise QbdiError(f"beats per bar must be a whole number of sixteenths to play along (4 for 4/4, "
                            f"3.5 for 7/8); got {bpb:g}")
        self.grid = BarGrid(bpb, 1, model.representation)
        self.settings = settings.replace(model=model.name, beats_per_bar=bpb)
        self.stream = stream or StreamSettings()
        self._window: deque[_Played] = deque(maxlen=self.stream.window)
        self._memory = _Repeats(REPEAT_MEMORY_FRAMES, model.representation.frame_size)
        self._velocity_sum, self._velocity_count = 0.0, 0
        self._open: dict[int, tuple[float, int]] = {}     # pitch -> (start, velocity) sounding at the end
        self._answered: int | None = None                 # the bar the last answer was for
        self._warned: set[str] = set()
        self._texture = TextureState()                     # the texture layer's voice leading and groove
        self._patterns: dict[int, int] = {}               # source bar -> its pattern (structure lock)
        self.last_bar = -1                                 # the last bar played (-1: none yet)

    @property
    def beats_per_bar(self) -> float:
        return self.grid.beats_per_bar

    def retune(self, settings: Settings, stream: StreamSettings | None = None) -> None:
        """New dials for the bars to come, keeping the history (window, repeats, dynamics).
        The model and the meter cannot change: start another stream for those."""
        bpb = float(settings.beats_per_bar or self.beats_per_bar)
        if (settings.model or self.model.name) != self.model.name or bpb != self.beats_per_bar:
            raise QbdiError("a stream keeps its model and meter; open a new stream to change them")
        self.settings = settings.replace(model=self.model.name, beats_per_bar=bpb)
        if stream is not None and stream != self.stream:
            self.stream = stream
            self._window = deque(self._window, maxlen=stream.window)

    def play(self, bar: int, notes: Sequence[Note]) -> NextBar | None:
        """Bar ``bar``'s notes (beats from its start) -> the answer for bar ``bar + 1``.

        A bar that is not later than the last one played (late, or a duplicate) is skipped:
        None. A gap in the bar numbers is fine (the bars between are simply missing)."""
        if isinstance(bar, bool) or not isinstance(bar, int) or bar < 0:
            raise QbdiError(f"the bar index must be a whole number >= 0, got {bar!r}")
        if bar <= self.last_bar:
            return None
        notes = self._checked(notes)
        report = RollReport()
        frames = bar_frames(notes, self.grid, bar, report)
        self.last_bar = bar
        model, settings = self.model, self.settings
        mu, logvar = model.vae.encode(frames)
        z_e = mu if settings.z == "mean" else encoder_latents(mu, logvar, settings, self._rng(bar, Z_DRAW))
        sources = self._remember(bar, frames)
        played = _Played(z_e, mu, logvar, z_e)
        self._window.append(played)
        played.z_d = self._code(z_e, sources)
        z = played.z_d
        if self.stream.mode == "ahead":
            z = continue_latents(model, np.concatenate([p.z_d for p in self._window]), len(frames))
        if model.texture is not None:
            source = sources[0][0]
            out = texture_notes(model, z, self.grid, settings, self._velocity(notes), [source], self._texture,
                                self._patterns)[0]
            self._forget_patterns()
            self._open, self._answered = {}, bar + 1      # a texture bar's notes end in the bar: nothing to tie
            return NextBar(bar + 1, bar, out, z, self._new_warnings(report.warnings()))
        on, probs = note_cells(model, z, settings, lambda shape: self._draws(sources, NOTE_DRAW, shape))
        out = cells_to_notes(on, probs, self.grid, self._velocity(notes))
        out = self._tie(bar + 1, out, frames_to_roll(on, self.grid)[0, :, ONSET])
        return NextBar(bar + 1, bar, out, z, self._new_warnings(report.warnings()))

    # --- the steps ---------------------------------------------------------------------------
    def _forget_patterns(self) -> None:
        """Keep the patterns of the bars the repeat memory can still name (bounded memory)."""
        if len(self._patterns) > REPEAT_MEMORY_FRAMES:
            alive = {bar for bar, _ in self._memory.sources[:len(self._memory)]}
            self._patterns = {bar: k for bar, k in self._patterns.items() if bar in alive}

    def _checked(self, notes: Sequence[Note]) -> list[Note]:
        notes = list(notes)
        if len(notes) > MAX_NOTES:
            raise QbdiError(f"the bar has {len(notes)} notes; the limit is {MAX_NOTES}", code="too_large")
        for n in notes:
            if not (math.isfinite(n.start) and math.isfinite(n.duration)) or n.duration < 0:
                raise QbdiError(f"note {n.pitch} at {n.start} has a bad start or duration; "
                                "both must be finite and the duration >= 0")
        return notes

    def _rng(self, bar: int, draw: int) -> np.random.Generator:
        return np.random.default_rng([self.settings.seed, bar, draw])

    def _remember(self, bar: int, frames: np.ndarray) -> list[tuple[int, int]]:
        """Per frame, the (bar, frame) whose noise it takes: its earliest repeat under structure
        lock, else itself. Every frame is remembered, so switching the lock on works at once."""
        sources = []
        for row, frame in enumerate(frames):
            source = self._memory.find(frame) or (bar, row)
            self._memory.add(frame, source)
            sources.append(source if self.settings.structure == "lock" else (bar, row))
        return sources

    def _draws(self, sources: list[tuple[int, int]], draw: int, shape: tuple[int, ...]) -> np.ndarray:
        """``shape`` ``(frames, D)`` draws, each row from its source bar's generator: standard
        normals (float64) for the channel, uniforms (float32) for note sampling."""
        made: dict[int, np.ndarray] = {}
        rows = []
        for bar, row in sources:
            if bar not in made:
                rng = self._rng(bar, draw)
                made[bar] = rng.standard_normal(shape) if draw == CHANNEL_DRAW else rng.random(shape, dtype=np.float32)
            rows.append(made[bar][row])
        return np.stack(rows)

    def _code(self, z_e: np.ndarray, sources: list[tuple[int, int]]) -> np.ndarray:
        """The played bar's latents ``(frames, L)`` through the channel, coded against the window."""
        settings = self.settings
        if settings.rate is None:
            return z_e.astype(np.float32)
        z_w = np.concatenate([p.z_e for p in self._window])
        if settings.source == "empirical" and len(z_w) < 2:   # no spread yet: the corpus's statistics
            var = self.model.prior_var
            stats = ChannelStats(self.model.prior_mean,
                                 np.broadcast_to(var, z_w.shape) if settings.allocation == "frame" else var)
        else:
            stats = channel_stats(self.model, z_w, np.concatenate([p.mu for p in self._window]),
                                  np.concatenate([p.logvar for p in self._window]), settings)
        n = len(z_e)
        scale = noise_scale(stats, settings)
        bits = allocate_bits(stats.var[-n:] if stats.var.ndim == 2 else stats.var, settings.rate)
        scale = ChannelStats(scale.mean, scale.var[-n:] if scale.var.ndim == 2 else scale.var)
        return transmit(z_e, scale, bits, self._draws(sources, CHANNEL_DRAW, z_e.shape))

    def _velocity(self, notes: list[Note]) -> np.ndarray:
        """The bar's dynamics ``(1,)``: the mean velocity of the notes struck in it, else of all
        the notes struck so far (improvise takes the whole piece's mean there)."""
        length, spb = self.grid.length_beats, self.grid.representation.steps_per_beat
        struck = [n for n in notes if 0 <= step_position(n.start, spb) / spb < length]
        if struck:
            self._velocity_sum += float(sum(n.velocity for n in struck))
            self._velocity_count += len(struck)
            return velocity_profile(struck, self.grid)
        mean = self._velocity_sum / self._velocity_count if self._velocity_count else DEFAULT_VELOCITY
        return np.array([mean], dtype=np.float32)

    def _tie(self, bar: int, notes: list[Note], onset: np.ndarray) -> list[Note]:
        """Give a note that sounds on from the previous answer (no onset at step 0) its real
        start and velocity; remember the notes sounding at the end for the next answer."""
        length = self.grid.length_beats
        lowest = self.grid.representation.lowest_pitch
        if self._answered is None or bar != self._answered + 1:
            self._open = {}
        out = []
        for n in notes:
            if n.start == 0 and not onset[n.pitch - lowest] and n.pitch in self._open:
                start, velocity = self._open[n.pitch]
                start -= length
                n = Note(n.pitch, start, n.end - start, velocity)
            out.append(n)
        self._open = {n.pitch: (n.start, n.velocity) for n in out if n.end == length}
        self._answered = bar
        return sorted(out, key=lambda n: (n.start, n.pitch))

    def _new_warnings(self, warnings: list[str]) -> list[str]:
        """Each kind of warning once per stream, not once per bar (its count, the first word, varies)."""
        fresh = [w for w in warnings if w.split(" ", 1)[-1] not in self._warned]
        self._warned.update(w.split(" ", 1)[-1] for w in fresh)
        return fresh


class _Repeats:
    """The last ``size`` frames a stream played, to find the earliest one a new frame repeats:
    the rule of :func:`bridge.structure.repeat_sources` (cosine of the binary frames >= 0.9, a
    silent frame repeats only a silent one), counted exactly (the dot products of 0/1 frames are
    whole numbers). ``size x frame_size`` bytes."""

    def __init__(self, size: int, width: int) -> None:
        self.frames = np.zeros((size, width), dtype=np.uint8)
        self.ones = np.zeros(size)
        self.sources: list[tuple[int, int]] = [(0, 0)] * size
        self.count = self.next = 0

    def __len__(self) -> int:
        return self.count

    def find(self, frame: np.ndarray) -> tuple[int, int] | None:
        """The resolved source of the earliest remembered frame ``frame`` repeats, or None."""
        if not self.count:
            return None
        f = (np.asarray(frame) > 0).astype(np.float32)
        ones, k = self.ones[:self.count], float(f.sum())
        if k == 0:
            hit = ones == 0
        else:
            common = self.frames[:self.count].astype(np.float32) @ f
            hit = (ones > 0) & (common / np.sqrt(np.maximum(ones, 1.0) * k) >= REPEAT_SIMILARITY)
        rows = np.flatnonzero(hit)
        if not len(rows):
            return None
        age = (rows - self.next) % len(self.frames) if self.count == len(self.frames) else rows
        return self.sources[int(rows[np.argmin(age)])]

    def add(self, frame: np.ndarray, source: tuple[int, int]) -> None:
        i = self.next
        self.frames[i] = np.asarray(frame) > 0
        self.ones[i] = float(self.frames[i].sum())
        self.sources[i] = source
        self.next = (i + 1) % len(self.frames)
        self.count = min(self.count + 1, len(self.frames))


def bar_frames(notes: Sequence[Note], grid: BarGrid, bar: int, report: RollReport | None = None) -> np.ndarray:
    """One bar's notes (beats from its start; negative for notes begun before) -> its frames
    ``(grid.frames_per_bar, frame_size)``, exactly the frames ``improvise`` makes of that bar.

    The notes are rolled with one or two bars of lead-in that are then dropped: a note begun
    there has no onset in the bar. Two when a bar has an odd number of steps and ``bar`` is
    even, so that steps round (half to even) as they do counted from the start of the piece.
    """
    steps, length = grid.steps_per_bar, grid.length_beats
    lead = 1 if steps % 2 == 0 or bar % 2 else 2
    shifted = [Note(n.pitch, n.start + lead * length, n.duration, n.velocity) for n in notes]
    roll = to_roll(shifted, (lead + 1) * steps, grid.representation, report=report)
    return roll_to_frames(roll[lead * steps:], grid)


def split_bars(notes: Sequence[Note], beats_per_bar: float, n_bars: int | None = None,
               steps_per_beat: int = 4) -> list[list[Note]]:
    """A performance (beats from bar 0) -> per bar, the notes a stream client sends for it.

    Bar ``b`` gets every note struck in it, sounding in it, or sounding in its steps once
    rounded to the grid of ``steps_per_beat``, in beats from the bar's start: a note begun
    earlier has a negative start; durations are cut at the bar's end. ``n_bars`` defaults to the
    bars the notes reach (as many as ``improvise`` covers, or one more where a last note rounds
    past the end).
    """
    length = float(beats_per_bar)
    pieces = [piece for n in notes for piece in _pieces(n, length, steps_per_beat)]
    if n_bars is None:
        reach = max((n.start + max(n.duration, 0.0) for n in notes), default=0.0)
        n_bars = max([math.ceil(reach / length - 1e-9)] + [b + 1 for b, _ in pieces])
    bars: list[list[Note]] = [[] for _ in range(n_bars)]
    for b, piece in pieces:
        if b < n_bars:
            bars[b].append(piece)
    return bars


def bar_notes(notes: Sequence[Note], bar: int, beats_per_bar: float, steps_per_beat: int = 4) -> list[Note]:
    """One bar of :func:`split_bars`: what a client sends for bar ``bar`` of ``notes``."""
    return [piece for n in notes for b, piece in _pieces(n, float(beats_per_bar), steps_per_beat) if b == bar]


def _pieces(n: Note, length: float, steps_per_beat: int) -> Iterator[tuple[int, Note]]:
    """(bar, the note as that bar sends it) for every bar the note belongs to."""
    steps = int(round(length * steps_per_beat))
    first = int(round(step_position(n.start, steps_per_beat)))
    end = n.start + max(n.duration, 0.0)
    last = max(int(round(step_position(end, steps_per_beat))), first + 1)
    struck = int(step_position(n.start, steps_per_beat) / steps_per_beat // length)
    lowest, highest = max(0, min(struck, first // steps)), max(struck, (last - 1) // steps, math.ceil(end / length) - 1)
    for b in range(lowest, highest + 1):
        sounds = first < (b + 1) * steps and last > b * steps
        if b != struck and not sounds and not (n.start < (b + 1) * length and end > b * length):
            continue
        start = n.start - b * length
        cut = min(end, (b + 1) * length) - b * length
        yield b, Note(n.pitch, start, max(cut - start, 0.0), n.velocity)


def merge_bars(bars: Sequence[Sequence[Note]], beats_per_bar: float, first_bar: int = 0) -> list[Note]:
    """Per-bar notes (beats from each bar's start; ``bars[0]`` is bar ``first_bar``) -> one note
    list in beats from bar 0, the inverse of :func:`split_bars`: a note with a negative start
    continues the note of that pitch and start from an earlier bar. Sorted by start, then pitch."""
    length = float(beats_per_bar)
    merged: dict[tuple[int, int], Note] = {}
    for offset, notes in enumerate(bars):
        origin = (first_bar + offset) * length
        for n in notes:
            start = n.start + origin
            key = (n.pitch, round(start / TIE_TOLERANCE))
            earlier = merged.get(key)
            if n.start < 0 and earlier is not None:
                start = earlier.start
            end = max(start + n.duration, earlier.end if earlier is not None else start)
            velocity = earlier.velocity if earlier is not None and n.start < 0 else n.velocity
            merged[key] = Note(n.pitch, start, end - start, velocity)
    return sorted(merged.values(), key=lambda n: (n.start, n.pitch))
