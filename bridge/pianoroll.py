# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Notes <-> piano roll <-> bar frames, the representation the VAE learns.

A roll is ``(n_steps, n_pitches, 2)`` bool with planes (sounding, onset); a frame is one bar
flattened per step as ``[sounding x n_pitches, onset x n_pitches]`` -> ``frame_size`` values.
Times are in beats (quarter notes); one step is ``1 / steps_per_beat`` beats.

A bar that holds fewer steps than a frame (3/4 in a 4/4 model) is padded with silence; a bar
that holds more spans several frames. Grid-aligned notes round-trip exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .config import Representation
from .errors import QbdiError

SOUNDING, ONSET = 0, 1
STEP_SNAP = 1024   # positions are snapped to 1/1024 of a step before they are rounded to steps


def step_position(beats: float, steps_per_beat: int) -> float:
    """A time in beats -> its position in steps, snapped to 1/STEP_SNAP of a step.

    A time exactly halfway between two steps rounds half to even; float noise (a float32 round
    trip through OSC, a start plus a duration in ticks) must not decide which way, so a
    position within 1/2048 of a step of the halfway point counts as on it.
    """
    return round(beats * steps_per_beat * STEP_SNAP) / STEP_SNAP


@dataclass(frozen=True, order=True)
class Note:
    """One note: MIDI pitch, start and duration in beats, MIDI velocity 1..127."""

    pitch: int
    start: float
    duration: float
    velocity: int = 100

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass
class RollReport:
    """What the codec changed on the way in, so callers can warn the user."""

    out_of_range: int = 0      # dropped (or folded, when ``folded`` > 0)
    folded: int = 0
    zero_length: int = 0       # given one step
    overlaps: int = 0          # same pitch re-struck while sounding: the new onset cuts the old note
    notes: int = 0

    def warnings(self) -> list[str]:
        out = []
        if self.out_of_range - self.folded:
            out.append(f"{self.out_of_range - self.folded} note(s) outside the model's pitch range were dropped "
                       "(fold them by octaves with --fold)")
        if self.folded:
            out.append(f"{self.folded} note(s) outside the model's pitch range were folded by octaves")
        if self.zero_length:
            out.append(f"{self.zero_length} zero-length note(s) were given one step")
        return out


@dataclass(frozen=True)
class BarGrid:
    """How a piece's bars map onto model frames; all counts derive from beats per bar."""

    beats_per_bar: float
    n_bars: int
    representation: Representation = field(default_factory=Representation)

    @property
    def steps_per_bar(self) -> int:
        return max(1, int(round(self.beats_per_bar * self.representation.steps_per_beat)))

    @property
    def frames_per_bar(self) -> int:
        return -(-self.steps_per_bar // self.representation.steps_per_frame)

    @property
    def n_steps(self) -> int:
        return self.n_bars * self.steps_per_bar

    @property
    def n_frames(self) -> int:
        return self.n_bars * self.frames_per_bar

    @property
    def length_beats(self) -> float:
        return self.n_steps / self.representation.steps_per_beat

    @classmethod
    def covering(cls, length_beats: float, beats_per_bar: float,
                 representation: Representation | None = None) -> BarGrid:
        """The smallest whole number of bars (at least one) that holds ``length_beats``."""
        rep = representation or Representation()
        n = max(1, math.ceil(length_beats / beats_per_bar - 1e-9))
        return cls(beats_per_bar, n, rep)

    def step_to_frame(self) -> tuple[np.ndarray, np.ndarray]:
        """Per global step: (frame index, step within frame), shape ``(n_steps,)`` each."""
        spf = self.representation.steps_per_frame
        s = np.arange(self.n_steps)
        bar, k = np.divmod(s, self.steps_per_bar)
        return bar * self.frames_per_bar + k // spf, k % spf


def to_roll(notes: Iterable[Note], n_steps: int, representation: Representation | None = None,
            fold: bool = False, report: RollReport | None = None) -> np.ndarray:
    """Notes -> bool roll ``(n_steps, n_pitches, 2)``; starts and ends snap to the nearest step
    (:func:`step_position`, half to even)."""
    rep = representation or Representation()
    report = report if report is not None else RollReport()
    roll = np.zeros((n_steps, rep.n_pitches, 2), dtype=bool)
    for note in notes:
        report.notes += 1
        pitch = int(note.pitch)
        if not rep.lowest_pitch <= pitch <= rep.highest_pitch:
            report.out_of_range += 1
            if not fold:
                continue
            report.folded += 1
            while pitch < rep.lowest_pitch:
                pitch += 12
            while pitch > rep.highest_pitch:
                pitch -= 12
        start = int(round(step_position(note.start, rep.steps_per_beat)))
        end = int(round(step_position(note.start + max(note.duration, 0.0), rep.steps_per_beat)))
        if note.duration <= 0:
            report.zero_length += 1
        end = max(end, start + 1)
        if start >= n_steps or end <= 0:
            continue
        start, end = max(start, 0), min(end, n_steps)
        p = pitch - rep.lowest_pitch
        if roll[start, p, SOUNDING] and not roll[start, p, ONSET]:
            report.overlaps += 1
        roll[start:end, p, SOUNDING] = True
        roll[start, p, ONSET] = True
    return roll


def from_roll(roll: np.ndarray, representation: Representation | None = None,
              velocities: np.ndarray | None = None, max_notes: int | None = None) -> list[Note]:
    """Bool roll ``(n_steps, n_pitches, 2)`` -> notes, sorted by start then pitch.

    A note starts at an onset, or where a pitch begins sounding without one, and lasts while it
    sounds and is not struck again. An onset with no sounding lasts one step. ``velocities`` is an
    optional ``(n_steps, n_pitches)`` int array read at each note's start (default 100). More than
    ``max_notes`` notes raise :class:`QbdiError` before any is built.
    """
    rep = representation or Representation()
    n_steps, n_pitches = roll.shape[:2]
    if n_steps == 0:
        return []
    onset = roll[:, :, ONSET].T.astype(bool)                       # (P, T)
    sounding = roll[:, :, SOUNDING].T.astype(bool) | onset
    prev = np.zeros_like(sounding)
    prev[:, 1:] = sounding[:, :-1]
    starts = onset | (sounding & ~prev)
    breaks = ~sounding | onset
    # Row-wise "next break after t": flatten rows with a sentinel break at the end of each row.
    width = n_steps + 1
    breaks_padded = np.ones((n_pitches, width), dtype=bool)
    breaks_padded[:, :n_steps] = breaks
    break_flat = np.flatnonzero(breaks_padded)
    p_idx, t_idx = np.nonzero(starts)
    if max_notes is not None and len(p_idx) > max_notes:
        raise QbdiError(f"the improvisation has {len(p_idx)} notes; the limit is {max_notes} "
                        "(raise the threshold or shorten the query)", code="too_large")
    start_flat = p_idx * width + t_idx
    ends = break_flat[np.searchsorted(break_flat, start_flat, side="right")] - p_idx * width
    if velocities is None:
        vel = np.full(len(p_idx), 100, dtype=int)
    else:
        vel = np.clip(np.asarray(velocities)[t_idx, p_idx], 1, 127).astype(int)
    spb = rep.steps_per_beat
    order = np.lexsort((p_idx, t_idx))
    return [Note(int(p_idx[i]) + rep.lowest_pitch, float(t_idx[i]) / spb,
                 float(ends[i] - t_idx[i]) / spb, int(vel[i])) for i in order]


def roll_to_frames(roll: np.ndarray, grid: BarGrid) -> np.ndarray:
    """Roll ``(grid.n_steps, P, 2)`` -> frames ``(grid.n_frames, frame_size)`` float32."""
    rep = grid.representation
    frames = np.zeros((grid.n_frames, rep.steps_per_frame, 2, rep.n_pitches), dtype=np.float32)
    fi, si = grid.step_to_frame()
    frames[fi, si] = roll[: grid.n_steps].transpose(0, 2, 1)
    return frames.reshape(grid.n_frames, rep.frame_size)


def frames_to_roll(frames: np.ndarray, grid: BarGrid) -> np.ndarray:
    """Frames ``(grid.n_frames, frame_size)`` (values or probabilities) -> roll ``(n_steps, P, 2)``.

    Padding steps of a short bar are dropped. The dtype of ``frames`` is kept.
    """
    rep = grid.representation
    cube = np.asarray(frames).reshape(grid.n_frames, rep.steps_per_frame, 2, rep.n_pitches)
    fi, si = grid.step_to_frame()
    return cube[fi, si].transpose(0, 2, 1)


def to_frames(notes: Sequence[Note], grid: BarGrid, fold: bool = False,
              report: RollReport | None = None) -> np.ndarray:
    """Notes -> frames ``(grid.n_frames, frame_size)`` float32 of 0/1."""
    return roll_to_frames(to_roll(notes, grid.n_steps, grid.representation, fold, report), grid)


def from_frames(frames: np.ndarray, grid: BarGrid, velocities: np.ndarray | None = None) -> list[Note]:
    """Binary frames ``(grid.n_frames, frame_size)`` -> notes (see :func:`from_roll`)."""
    return from_roll(frames_to_roll(frames, grid) > 0.5, grid.representation, velocities)


def length_of(notes: Iterable[Note]) -> float:
    """End of the last note in beats (0 for no notes)."""
    return max((n.start + max(n.duration, 0.0) for n in notes), default=0.0)


def check_output_notes(notes: Sequence[Note], max_beats: float | None = None, code: str = "bad_request") -> None:
    """Raise :class:`QbdiError` unless every note is one MIDI and the protocol can carry (see
    :func:`check_output_flat`). The last guard before notes are written or sent, whatever made them."""
    try:
        flat = [x for n in notes for x in (n.pitch, n.start, n.duration, n.velocity)]
    except AttributeError:
        raise QbdiError("the notes are not (pitch, start, duration, velocity) numbers", code=code) from None
    check_output_flat(flat, max_beats, code)


def check_output_flat(flat: Sequence[float], max_beats: float | None = None, code: str = "bad_request") -> None:
    """Flat ``[pitch, start, duration, velocity, ...]`` (the wire layout, ``(4 n,)``): a whole pitch
    in 0..127, a whole velocity in 1..127, a finite start >= 0 and duration >= 0 (ending by
    ``max_beats`` when given), else :class:`QbdiError` naming the first bad note."""
    if not len(flat):
        return
    try:
        a = np.asarray(flat, dtype=np.float64).reshape(-1, 4)
    except (TypeError, ValueError):
        raise QbdiError("the notes are not (pitch, start, duration, velocity) numbers", code=code) from None
    pitch, start, duration, velocity = a.T
    with np.errstate(invalid="ignore"):
        ok = ((pitch >= 0) & (pitch <= 127) & (pitch == np.floor(pitch)) & (velocity >= 1) & (velocity <= 127)
              & (velocity == np.floor(velocity)) & (start >= 0) & (duration >= 0) & np.isfinite(start + duration))
        if max_beats is not None:
            ok &= start + duration <= max_beats
    if not ok.all():
        bad = np.flatnonzero(~ok)
        p, s, d, v = a[bad[0]]
        raise QbdiError(f"note {bad[0]} (pitch {p:g}, start {s:g}, duration {d:g}, velocity {v:g}) is not one MIDI "
                        "can hold: pitches 0..127, velocities 1..127, finite times"
                        + (f" within {max_beats:g} beats" if max_beats is not None else "")
                        + f"; {len(bad)} such note(s), so none was written or sent", code=code)
