# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The hyperparameters of one training run: a frozen dataclass (no torch here), recorded in the
data card, validated in one place, and the source of ``qbdi train``'s options (bridge.cli builds
them from these fields: flag, type, default, range and help)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from ..config import INT32_MAX, MAX_HIDDEN, MAX_LATENT, MAX_SEED, Representation
from ..errors import QbdiError


def _opt(default: Any, help: str, lo: float | None = None, hi: float | None = None, *, hi_open: bool = False,
         lo_open: bool = False, cli: bool = True, metavar: str | None = None) -> Any:
    return field(default=default, metadata={"help": help, "lo": lo, "hi": hi, "lo_open": lo_open,
                                            "hi_open": hi_open, "cli": cli, "metavar": metavar})


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one training run (recorded in the data card)."""

    corpus: str
    out: str
    name: str = _opt("", "model name (default: the folder's name)")
    epochs: int = _opt(60, "passes over the corpus", 1, 100_000)
    batch_size: int = _opt(64, "frames per optimiser step", 1, 65_536)
    learning_rate: float = _opt(1e-3, "Adam(W) learning rate", 0, 10, lo_open=True)
    weight_decay: float = _opt(0.0, "AdamW's decoupled weight decay (0 = plain Adam)", 0, 10)
    beta: float = _opt(1.0, "KL weight", 0, 1000)
    gamma: float = _opt(0.0, "next-bar predictive information weight", 0, 1000)
    transpose: int = _opt(0, "augment with shifts -K..+K semitones", 0, 12, metavar="K")
    hidden: int = _opt(500, "hidden layer size", 1, MAX_HIDDEN)
    latent: int = _opt(500, "latent size", 1, MAX_LATENT)
    predictor_hidden: int = _opt(256, "next-bar predictor's hidden size (a probe when gamma = 0; 0 = none)",
                                 0, MAX_HIDDEN)
    heldout: float = _opt(0.1, "share of songs held out", 0, 1, hi_open=True)
    seed: int = _opt(0, "random seed", 0, MAX_SEED)
    weights_dtype: str = _opt("float16", "on disk: half the size, same notes in practice", cli=False)
    input_dropout: float = _opt(0.0, "denoising: share of input cells dropped (the target stays clean)",
                                0, 1, hi_open=True)
    note_dropout: float = _opt(0.0, "denoising (bridge.training.corrupt): share of a bar's pitches the encoder "
                               "does not see", 0, 1, hi_open=True)
    octave: float = _opt(0.0, "denoising: share of a bar's pitches the encoder sees an octave up or down",
                         0, 1, hi_open=True)
    jitter: int = _opt(0, "denoising: the encoder sees each pitch shifted in time by up to +-STEPS 16ths", 0, 8,
                       metavar="STEPS")
    free_bits: float = _opt(0.0, "KL per latent dimension below NATS (batch mean) is not penalised", 0, 16,
                            metavar="NATS")
    kl_anneal: int = _opt(0, "raise beta linearly from 0 over EPOCHS epochs (0: off)", 0, 100_000,
                          metavar="EPOCHS")
    select_queries: str = _opt("", "keep the epoch whose frontier on these out-of-style MIDI queries scores best",
                               metavar="DIR")
    select_every: int = _opt(1, "with --select-queries: epochs between evaluations", 1, 100_000, metavar="EPOCHS")
    onset_threshold: float = _opt(0.5, "calibrate: an onset the trained decoder gives probability P decodes at "
                                  "threshold 0.5 in the shipped model (output biases shifted by -logit)", 0.05, 0.95,
                                  metavar="P")
    sounding_threshold: float = _opt(0.5, "calibrate: the same for the sounding plane", 0.05, 0.95, metavar="P")
    patterns: int = _opt(32, "texture patterns (bridge.patterns) fitted after training; 0 = none (cell decoder)", 0,
                         256, metavar="K")
    max_steps: int = _opt(0, "> 0 stops early (tests)", 0, INT32_MAX)
    description: str = _opt("", "one line for the data card")

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`QbdiError` naming the first option out of its range."""
        for f in fields(self):
            lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
            if lo is None:
                continue
            value = getattr(self, f.name)
            whole = f.type in ("int", int)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (whole and not isinstance(value, int)):
                raise QbdiError(f"{flag(f.name)} must be a {'whole number' if whole else 'number'}, got {value!r}")
            low_bad = value <= lo if f.metadata["lo_open"] else value < lo
            high_bad = value >= hi if f.metadata["hi_open"] else value > hi
            if not math.isfinite(value) or low_bad or high_bad:
                left = "(" if f.metadata["lo_open"] else "["
                right = ")" if f.metadata["hi_open"] else "]"
                raise QbdiError(f"{flag(f.name)} must be in {left}{lo:g}, {hi:g}{right}, got {value!r}; "
                                f"the default is {f.default!r}")
        if self.kl_anneal > self.epochs:
            raise QbdiError(f"--kl-anneal must be 0 to --epochs ({self.epochs}) epochs, got {self.kl_anneal}")
        if self.weights_dtype not in ("float16", "float32"):
            raise QbdiError(f"weights are stored as float16 or float32, not {self.weights_dtype!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise QbdiError(f"unknown training option(s): {', '.join(unknown)}")
        return cls(**data)


def flag(name: str) -> str:
    """``batch_size`` -> ``--batch-size``."""
    return "--" + name.replace("_", "-")


def cli_fields() -> list:
    """The fields ``qbdi train`` offers as ``--options`` (not corpus/out, which are positional/required)."""
    return [f for f in fields(TrainConfig) if f.name not in ("corpus", "out") and f.metadata.get("cli", True)]


def calibration_shift(rep: Representation, thresholds: tuple[float, float]) -> np.ndarray:
    """What the decoder's output bias ``(steps * 2 * n_pitches,)`` loses so that a cell the trained
    decoder gives probability ``thresholds`` = (sounding, onset) decodes at 0.5: ``logit(P)`` on
    each plane (float64; zero at 0.5, 0.5)."""
    shift = np.zeros((rep.steps_per_frame, 2, rep.n_pitches), dtype=np.float64)
    for plane, p in enumerate(thresholds):
        shift[:, plane] = math.log(p / (1 - p))
    return shift.ravel()
