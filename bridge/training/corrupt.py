# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Denoising corruption of the encoder's input (torch): destroy a bar's surface, keep its harmony.

The encoder sees a corrupted bar and the decoder must still produce the clean corpus bar, so the
latent learns what survives corruption (which pitch classes sound in the bar, roughly when) and
the decoder learns to supply the corpus's own surface (rhythm, voicing) for it. Each operation
acts on whole pitch rows of a bar (every step of one pitch in one frame), so notes move as notes:

* ``note_dropout``: a pitch row is dropped;
* ``octave``: a pitch row moves an octave up or down (half the share each way), revoicing the bar;
* ``jitter``: a pitch row is shifted in time, circularly within the bar, by up to +-``jitter``
  steps (uniform), so onsets no longer sit where they were;
* ``cell_dropout``: single cells are dropped (the older ``input_dropout``).

Frames are ``(batch, steps * 2 * pitches)`` laid out per step as ``[sounding, onset]``. Random
draws use torch's global generator, seeded once per run by ``qbdi train --seed``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import Representation


@dataclass(frozen=True)
class Corruption:
    """How hard the encoder's input is corrupted (all zero: the clean bar)."""

    note_dropout: float = 0.0
    octave: float = 0.0
    jitter: int = 0
    cell_dropout: float = 0.0

    @property
    def active(self) -> bool:
        return bool(self.note_dropout or self.octave or self.jitter or self.cell_dropout)

    def check(self) -> None:
        """Raise ValueError naming the bad field."""
        for name in ("note_dropout", "octave", "cell_dropout"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name.replace('_', '-')} must be at least 0 and below 1, got {value}")
        if not 0 <= self.jitter <= 8:
            raise ValueError(f"jitter must be 0 to 8 steps, got {self.jitter}")


def _octave_shift(cube: torch.Tensor, octaves: int) -> torch.Tensor:
    """Move every pitch ``12 * octaves`` semitones along the last axis; what falls off is lost."""
    k = 12 * octaves
    out = torch.zeros_like(cube)
    if k > 0:
        out[..., k:] = cube[..., :-k]
    elif k < 0:
        out[..., :k] = cube[..., -k:]
    else:
        out = cube
    return out


def corrupt(x: torch.Tensor, c: Corruption, rep: Representation) -> torch.Tensor:
    """Frames ``(B, frame_size)`` -> corrupted frames of the same shape (a new tensor)."""
    if not c.active:
        return x
    b = x.shape[0]
    cube = x.view(b, rep.steps_per_frame, 2, rep.n_pitches)
    if c.jitter:
        shift = torch.randint(-c.jitter, c.jitter + 1, (b, 1, 1, rep.n_pitches), device=x.device)
        moved = torch.zeros_like(cube)
        for d in range(-c.jitter, c.jitter + 1):
            moved = moved + torch.roll(cube * (shift == d), d, dims=1)
        cube = moved
    if c.octave:
        u = torch.rand((b, 1, 1, rep.n_pitches), device=x.device)
        up, down = u < c.octave / 2, (u >= c.octave / 2) & (u < c.octave)
        stay = ~(up | down)
        cube = torch.maximum(cube * stay, torch.maximum(_octave_shift(cube * up, 1), _octave_shift(cube * down, -1)))
    if c.note_dropout:
        cube = cube * (torch.rand((b, 1, 1, rep.n_pitches), device=x.device) >= c.note_dropout)
    out = cube.reshape(b, rep.frame_size)
    if c.cell_dropout:
        out = out * (torch.rand_like(out) >= c.cell_dropout)
    return out
