# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Frozen configuration: the piano-roll representation, the VAE architecture, improvisation settings.

Every shape in the project derives from :class:`Representation`; every knob a user can turn is a
field of :class:`Settings` (plus :class:`StreamSettings` when playing along). All round-trip
through JSON (``to_dict``/``from_dict``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .errors import QbdiError

SAMPLING_MODES = ("threshold", "sample")
Z_MODES = ("mean", "sample")
ALLOCATIONS = ("query", "frame")
SOURCES = ("posterior", "empirical", "prior")
STRUCTURES = ("free", "lock")
STREAM_MODES = ("echo", "ahead")     # play along: improvise the bar just played, or the one predicted next

INT32_MAX = 2**31 - 1  # OSC int32, and Max's ints: seeds, request ids, counts
MAX_SEED = INT32_MAX
MAX_BARS = 512
MAX_NOTES = 20_000   # notes in one query and in one improvisation (the OSC protocol's cap too)
MAX_RATE = 1_000_000
SWEEP_RATES = "full,1024,512,256,128,64,32,0"   # qbdi sweep's default dial steps
MAX_SWEEP_SEEDS = 1000
MIN_BEATS_PER_BAR, MAX_BEATS_PER_BAR = 0.25, 32.0
METER_STEP = 0.25     # a bar is a whole number of 16ths: every such meter has an exact MIDI time signature
MAX_WORKERS = 64      # server improvisation threads
MIDI_PITCHES = 128
# model folders (bridge.models.schema): what a representation and an architecture may be
MAX_STEPS_PER_BEAT = 24
MAX_BEATS_PER_FRAME = 32
MAX_FRAME_SIZE = 8192          # steps x 2 x pitches (the reference: 16 x 2 x 78 = 2496)
MAX_HIDDEN = 8192
MAX_LATENT = 4096
MAX_MODEL_NAME = 64
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MIN_INTERPOLATE_STEPS, MAX_INTERPOLATE_STEPS = 2, 16   # clips a morph writes, both ends included
MAX_INTERPOLATE_BARS = MAX_BARS                       # steps x bars of one morph: its output's bars
MAX_STREAM_WINDOW = 16   # bars of recent playing the stream's channel statistics come from


@dataclass(frozen=True)
class Representation:
    """A bar frame: ``steps_per_bar`` x ``n_pitches`` x 2 planes (sounding, onset).

    Flattened per step as ``[sounding x n_pitches, onset x n_pitches]``: the reference layout.
    """

    steps_per_beat: int = 4
    beats_per_frame: int = 4
    lowest_pitch: int = 24
    n_pitches: int = 78

    @property
    def steps_per_frame(self) -> int:
        return self.steps_per_beat * self.beats_per_frame

    @property
    def highest_pitch(self) -> int:
        return self.lowest_pitch + self.n_pitches - 1

    @property
    def step_size(self) -> int:
        return 2 * self.n_pitches

    @property
    def frame_size(self) -> int:
        return self.steps_per_frame * self.step_size

    @property
    def octave_bands(self) -> int:
        """Octave bands of the pitch range (12 pitches each, the last may be shorter)."""
        return -(-self.n_pitches // 12)

    @property
    def texture_size(self) -> int:
        """Length of a bar's texture profile (bridge.measures.texture): onsets and sounding
        notes per step, sounding per octave band."""
        return 2 * self.steps_per_frame + self.octave_bands

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Representation:
        return _from_dict(cls, data)


@dataclass(frozen=True)
class Architecture:
    """Reference VAE: frame -> hidden ReLU -> (mean, log-variance) -> hidden ReLU -> frame logits."""

    input_size: int = 2496
    hidden_size: int = 500
    latent_size: int = 500
    predictor_hidden: int = 0  # > 0 when trained with a next-bar predictor (gamma > 0)
    patterns: int = 0          # > 0: texture patterns (bridge.patterns), format 3

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Architecture:
        return _from_dict(cls, data)


@dataclass(frozen=True)
class Settings:
    """Everything one improvisation depends on; the same seed and settings give the same notes.

    ``rate`` is bits per frame, or ``None`` for full rate (the channel is bypassed).
    """

    model: str | None = None
    rate: int | None = None
    sampling: str = "threshold"
    threshold: float = 0.5
    temperature: float = 1.0
    z: str = "mean"
    seed: int = 0
    allocation: str = "query"
    source: str = "empirical"
    beats_per_bar: float | None = None
    length_beats: float | None = None   # the query's length (a clip may end in silent bars)
    bars: int = 8
    structure: str = "free"
    continue_bars: int = 0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`QbdiError` naming the first bad field and its allowed values."""
        if self.rate is not None:
            if isinstance(self.rate, bool) or not isinstance(self.rate, int):
                raise QbdiError(f"rate must be a whole number of bits or 'full', got {self.rate!r}")
            if self.rate < 0 or self.rate > MAX_RATE:
                raise QbdiError(f"rate must be between 0 and {MAX_RATE} bits per frame, or 'full'; got {self.rate}")
        for name, allowed in (("sampling", SAMPLING_MODES), ("z", Z_MODES), ("allocation", ALLOCATIONS),
                              ("source", SOURCES), ("structure", STRUCTURES)):
            value = getattr(self, name)
            if value not in allowed:
                raise QbdiError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
        if not _finite(self.threshold) or not 0.0 < self.threshold < 1.0:
            raise QbdiError(f"threshold must be between 0 and 1 (exclusive), got {self.threshold!r}; try 0.5")
        if not _finite(self.temperature) or not 0.01 <= self.temperature <= 10.0:
            raise QbdiError(f"temperature must be between 0.01 and 10, got {self.temperature!r}; try 1.0")
        _whole("seed", self.seed, 0, MAX_SEED)
        if self.beats_per_bar is not None:
            check_beats_per_bar(self.beats_per_bar)
        if self.length_beats is not None and (not _finite(self.length_beats)
                                              or not 0 <= self.length_beats <= MAX_BARS * 32):
            raise QbdiError(f"length must be between 0 and {MAX_BARS * 32} beats, got {self.length_beats!r}")
        _whole("bars", self.bars, 1, MAX_BARS)
        _whole("continue", self.continue_bars, 0, MAX_BARS, unit="bars")

    def replace(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rate"] = "full" if self.rate is None else self.rate
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Settings:
        data = dict(data)
        if "rate" in data:
            data["rate"] = parse_rate(data["rate"])
        return _from_dict(cls, data)

    @property
    def rate_label(self) -> str:
        return "full" if self.rate is None else str(self.rate)


def check_beats_per_bar(value: Any) -> float:
    """A bar length in quarter-note beats: 0.25 to 32, a whole number of 16ths (so a MIDI meter holds it)."""
    if not _finite(value) or not MIN_BEATS_PER_BAR <= value <= MAX_BEATS_PER_BAR:
        raise QbdiError(f"beats per bar must be between {MIN_BEATS_PER_BAR:g} and {MAX_BEATS_PER_BAR:g}, got {value!r}")
    if not (value / METER_STEP).is_integer():
        raise QbdiError(f"beats per bar must be a whole number of 16ths (a multiple of {METER_STEP:g}), so that a MIDI "
                        f"time signature holds it; got {value!r} (e.g. 3.25 is 13/16, 3.5 is 7/8)")
    return float(value)


@dataclass(frozen=True)
class ServeConfig:
    """What ``qbdi serve`` is started with; ``None`` takes the default (bridge.protocol, bridge.serve.workers)."""

    host: str | None = None
    port: int | None = None
    model: str | None = None
    notify_port: int | None = None
    workers: int | None = None
    log_level: str | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`QbdiError` naming the first bad field and its allowed values."""
        if self.host is not None and (not isinstance(self.host, str) or not 0 < len(self.host) <= 253
                                      or not all(c.isprintable() and not c.isspace() for c in self.host)):
            raise QbdiError(f"host must be an address or host name such as 127.0.0.1, got {self.host!r}")
        _check_int("port", self.port, 0, 65535, "0 picks a free one")
        _check_int("notify port", self.notify_port, 1, 65535, "a local UDP port")
        _check_int("workers", self.workers, 0, MAX_WORKERS, "0 improvises in the receive thread")
        if self.model is not None and (not isinstance(self.model, str) or not self.model or "\0" in self.model):
            raise QbdiError(f"model must be an installed model's name or a model folder, got {self.model!r}")
        if self.log_level is not None and str(self.log_level).upper() not in LOG_LEVELS:
            raise QbdiError(f"unknown log level {self.log_level!r}; use {', '.join(LOG_LEVELS[:-1])} or ERROR")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServeConfig:
        return _from_dict(cls, data)


def _whole(name: str, value: Any, lo: int, hi: int, unit: str = "", hint: str = "") -> None:
    """Raise :class:`QbdiError` unless ``value`` is an int (not a bool) from ``lo`` to ``hi``."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise QbdiError(f"{name} must be a whole number{' of ' + unit if unit else ''} from {lo} to {hi}"
                        f"{f' ({hint})' if hint else ''}, got {value!r}")


def _check_int(name: str, value: Any, lo: int, hi: int, hint: str) -> None:
    """:func:`_whole` for an optional field (``None``: the default)."""
    if value is not None:
        _whole(name, value, lo, hi, hint=hint)


@dataclass(frozen=True)
class StreamSettings:
    """How a play-along stream answers (bridge.stream); the improvisation itself follows :class:`Settings`.

    ``mode``: ``echo`` improvises the bar just played (heard one bar later), ``ahead`` the bar the
    model predicts next from the recent bars. ``window``: how many recent bars the channel's
    statistics (and the prediction) come from.
    """

    mode: str = "echo"
    window: int = 8

    def __post_init__(self) -> None:
        if self.mode not in STREAM_MODES:
            raise QbdiError(f"mode must be one of {', '.join(STREAM_MODES)}; got {self.mode!r}")
        _whole("window", self.window, 1, MAX_STREAM_WINDOW, unit="bars")

    def replace(self, **changes: Any) -> StreamSettings:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StreamSettings:
        return _from_dict(cls, data)


def parse_rate(value: Any) -> int | None:
    """``'full'``, ``None`` or a negative sentinel -1 -> ``None``; a number of bits -> int."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("full", "inf", "none", ""):
            return None
        try:
            value = float(text)
        except ValueError:
            raise QbdiError(f"rate must be a whole number of bits or 'full', got {value!r}") from None
    if isinstance(value, bool):
        raise QbdiError(f"rate must be a whole number of bits or 'full', got {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise QbdiError(f"rate must be a whole number of bits or 'full', got {value!r}")
        value = int(value)
    if value == -1:
        return None
    return value


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _from_dict(cls, data: Mapping[str, Any]):
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise QbdiError(f"unknown {cls.__name__.lower()} field(s): {', '.join(unknown)}; "
                        f"known: {', '.join(sorted(names))}")
    return cls(**dict(data))
