# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The schema of a model folder's ``config.json``: every field's type and range, checked before use.

A config is untrusted input. :func:`parse_config` reads the JSON strictly (no NaN or Infinity, no
duplicate keys, bounded size, depth and number length); :func:`check_config` checks every field
the code reads, and their consistency (the representation keeps every pitch within MIDI 0..127;
the architecture's input is the representation's frame), and returns a typed :class:`ModelSpec`.
Fields it does not know are kept and ignored. Format 2 puts the config itself under a checksum
(``config_sha256``, over the canonical JSON of everything else, :func:`config_digest`); format 1
folders have none and still load (see docs/FAULTS.md). Format 3 adds the texture patterns
(``architecture.patterns`` and the ``patterns.*`` tensors, :mod:`bridge.patterns`); a model
without them decodes cell by cell as before.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import config as C
from ..config import Architecture, Representation
from ..errors import ModelError

FORMAT = "qbdi-vae"
FORMAT_VERSION = 3
OLDEST_FORMAT_VERSION = 1
PATTERNS_VERSION = 3          # texture patterns (bridge.patterns) arrived with format 3
MAX_PATTERNS = 256
CHECKSUM_KEY = "config_sha256"
REQUIRED_KEYS = ("format", "format_version", "name", "representation", "architecture", "weights", "training")
WEIGHT_DTYPES = ("float32", "float16")
MAX_CONFIG_BYTES = 4 << 20
MAX_NAME = C.MAX_MODEL_NAME
MAX_TEXT = 1000
DEFAULT_MAX_RATE = 2048
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ModelSpec:
    """What a checked config says, typed; ``config`` is the parsed JSON as it was."""

    name: str
    format_version: int
    representation: Representation
    architecture: Architecture
    weights_file: str
    weights_sha256: str
    weights_dtype: str | None
    latent_mean: np.ndarray = field(repr=False)     # (latent,)
    latent_var: np.ndarray = field(repr=False)      # (latent,)
    max_rate: int = DEFAULT_MAX_RATE
    description: str = ""
    card: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict, repr=False)


def parse_config(data: bytes, where: str) -> dict[str, Any]:
    """The bytes of config.json -> a JSON object; :class:`ModelError` naming what is wrong."""
    if len(data) > MAX_CONFIG_BYTES:
        raise ModelError(f"{where} is {len(data)} bytes; a model config is at most {MAX_CONFIG_BYTES >> 20} MB")

    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    def finite(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"{text[:20]} is too large a number")
        return value

    def bounded_int(text: str) -> int:
        if len(text.lstrip("-")) > 20:
            raise ValueError(f"a number of {len(text)} digits")
        return int(text)

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise ValueError(f"key {key[:40]!r} is given twice")
            out[key] = value
        return out

    try:
        config = json.loads(data.decode("utf-8"), parse_constant=no_constant, parse_float=finite, parse_int=bounded_int,
                            object_pairs_hook=unique)
    except UnicodeDecodeError:
        raise ModelError(f"{where} is not UTF-8 text; reinstall or retrain the model") from None
    except RecursionError:
        raise ModelError(f"{where} nests too deeply to be a model config; reinstall or retrain the model") from None
    except ValueError as exc:
        raise ModelError(f"{where} is not valid JSON ({str(exc)[:120]}); reinstall or retrain the model") from None
    if not isinstance(config, dict):
        raise ModelError(f"{where} must hold a JSON object, not {_type(config)}")
    return config


def config_digest(config: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces, ASCII) of ``config`` without its checksum."""
    body = {k: v for k, v in config.items() if k != CHECKSUM_KEY}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def seal(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` in the current format, with its checksum."""
    out = {k: v for k, v in config.items() if k != CHECKSUM_KEY}
    out["format"], out["format_version"] = FORMAT, FORMAT_VERSION
    out[CHECKSUM_KEY] = config_digest(out)
    return out


def check_config(config: dict[str, Any], where: str, verify_checksum: bool = True) -> ModelSpec:
    """Check every field of a parsed config; :class:`ModelError` names the first wrong one and the fix."""
    missing = [k for k in REQUIRED_KEYS if k not in config]
    if missing:
        raise ModelError(f"{where} lacks key(s) {', '.join(missing)}; it is not a complete qbdi model config")
    if config["format"] != FORMAT:
        raise ModelError(f"{where}: format is {_show(config['format'])}, expected {FORMAT!r}")
    version = config["format_version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < OLDEST_FORMAT_VERSION:
        raise ModelError(f"{where}: format version {_show(version)} is not a qbdi model format version")
    if version > FORMAT_VERSION:
        raise ModelError(f"{where}: format version {version} is not supported (this qbdi reads versions "
                         f"{OLDEST_FORMAT_VERSION} to {FORMAT_VERSION}); upgrade qbdi or retrain the model")
    if verify_checksum and version >= 2:
        stated = config.get(CHECKSUM_KEY)
        if not isinstance(stated, str) or not _SHA256.fullmatch(stated):
            raise ModelError(f"{where}: {CHECKSUM_KEY} must be the config's SHA-256 (64 hex digits); re-save the "
                             "model with qbdi models --upgrade FOLDER")
        if stated != config_digest(config):
            raise ModelError(f"{where} does not match its checksum ({CHECKSUM_KEY}): it was edited or damaged; "
                             "reinstall or retrain, or if you edited it on purpose, re-save it with "
                             "qbdi models --upgrade FOLDER")
    name = _text(config["name"], f"{where}: name", MAX_NAME, empty=False)
    rep = _representation(config["representation"], where)
    arch = _architecture(config["architecture"], rep, where, version)
    weights = _object(config["weights"], f"{where}: weights")
    file = weights.get("file", "model.safetensors")
    if (not isinstance(file, str) or not file or file in (".", "..") or any(c in file for c in "/\\\0:")
            or len(file.encode("utf-8", "replace")) > 255 or not file.isprintable()):
        raise ModelError(f"{where}: weights.file must be a file name inside the model folder, got {_show(file)}")
    sha = weights.get("sha256")
    if not isinstance(sha, str) or not _SHA256.fullmatch(sha.lower()):
        raise ModelError(f"{where}: weights.sha256 must be the weights' SHA-256 (64 hex digits), got {_show(sha)}; "
                         "re-save the model with qbdi train")
    dtype = weights.get("dtype")
    if dtype is not None and dtype not in WEIGHT_DTYPES:
        raise ModelError(f"{where}: weights.dtype must be one of {', '.join(WEIGHT_DTYPES)}, got {_show(dtype)}")
    mean, var = _latent_stats(config.get("latent_stats"), arch.latent_size, where)
    max_rate = config.get("max_rate", DEFAULT_MAX_RATE)
    if isinstance(max_rate, bool) or not isinstance(max_rate, int) or not 1 <= max_rate <= C.MAX_RATE:
        raise ModelError(f"{where}: max_rate must be a whole number of bits from 1 to {C.MAX_RATE}, "
                         f"got {_show(max_rate)}")
    description = _text(config.get("description", ""), f"{where}: description", MAX_TEXT)
    card = _card(config["training"], where)
    return ModelSpec(name, version, rep, arch, file, sha.lower(), dtype, mean, var, max_rate, description, card,
                     config)


def _representation(value: Any, where: str) -> Representation:
    data = _object(value, f"{where}: representation")
    names = ("steps_per_beat", "beats_per_frame", "lowest_pitch", "n_pitches")
    _exact_keys(data, names, f"{where}: representation")
    spb = _int(data, "steps_per_beat", 1, C.MAX_STEPS_PER_BEAT, f"{where}: representation")
    bpf = _int(data, "beats_per_frame", 1, C.MAX_BEATS_PER_FRAME, f"{where}: representation")
    low = _int(data, "lowest_pitch", 0, C.MIDI_PITCHES - 1, f"{where}: representation")
    n = _int(data, "n_pitches", 1, C.MIDI_PITCHES, f"{where}: representation")
    if low + n > C.MIDI_PITCHES:
        raise ModelError(f"{where}: representation.lowest_pitch {low} with {n} pitches reaches pitch {low + n - 1}; "
                         f"MIDI pitches end at {C.MIDI_PITCHES - 1}, so the model would make notes MIDI cannot hold")
    rep = Representation(spb, bpf, low, n)
    if rep.frame_size > C.MAX_FRAME_SIZE:
        raise ModelError(f"{where}: the representation's frame is {rep.frame_size} values ({rep.steps_per_frame} steps "
                         f"x 2 x {n} pitches); the limit is {C.MAX_FRAME_SIZE}")
    return rep


def _architecture(value: Any, rep: Representation, where: str, version: int) -> Architecture:
    data = _object(value, f"{where}: architecture")
    names = ("input_size", "hidden_size", "latent_size", "predictor_hidden", "patterns")
    _exact_keys(data, names, f"{where}: architecture", optional=("predictor_hidden", "patterns"))
    at = f"{where}: architecture"
    arch = Architecture(_int(data, "input_size", 1, C.MAX_FRAME_SIZE, at),
                        _int(data, "hidden_size", 1, C.MAX_HIDDEN, at), _int(data, "latent_size", 1, C.MAX_LATENT, at),
                        _int(data, "predictor_hidden", 0, C.MAX_HIDDEN, at) if "predictor_hidden" in data else 0,
                        _int(data, "patterns", 0, MAX_PATTERNS, at) if "patterns" in data else 0)
    if arch.patterns and version < PATTERNS_VERSION:
        raise ModelError(f"{where}: architecture.patterns needs format version {PATTERNS_VERSION}, the config says "
                         f"{version}; retrain the model")
    if arch.input_size != rep.frame_size:
        raise ModelError(f"{where}: architecture.input_size {arch.input_size} is not the representation's frame size "
                         f"{rep.frame_size}; the config is inconsistent")
    return arch


def _latent_stats(value: Any, latent: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    if value is None:
        return np.zeros(latent), np.ones(latent)
    data = _object(value, f"{where}: latent_stats")
    out = []
    for key in ("mean", "var"):
        items = data.get(key)
        if (not isinstance(items, list) or len(items) != latent
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in items)):
            raise ModelError(f"{where}: latent_stats.{key} must be a list of {latent} numbers (one per latent "
                             "component); the config is inconsistent")
        out.append(np.asarray(items, dtype=np.float64))
    if (out[1] < 0).any():
        raise ModelError(f"{where}: latent_stats.var holds a negative variance; retrain the model")
    return out[0], out[1]


def _card(value: Any, where: str) -> dict[str, Any]:
    """The training data card is free-form; the fields the code reads are typed."""
    card = _object(value, f"{where}: training")
    if "corpus" in card:
        _text(card["corpus"], f"{where}: training.corpus", MAX_TEXT)
    for key in ("bars", "pieces"):
        if card.get(key) is not None and (isinstance(card[key], bool) or not isinstance(card[key], int)
                                          or card[key] < 0):
            raise ModelError(f"{where}: training.{key} must be a whole number >= 0, got {_show(card[key])}")
    f1 = card.get("heldout_onset_f1")
    if f1 is not None and (isinstance(f1, bool) or not isinstance(f1, (int, float)) or not 0 <= f1 <= 1):
        raise ModelError(f"{where}: training.heldout_onset_f1 must be a number from 0 to 1, got {_show(f1)}")
    return card


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ModelError(f"{what} must be a JSON object, not {_type(value)}")
    return value


def _exact_keys(data: dict[str, Any], names: tuple[str, ...], what: str, optional: tuple[str, ...] = ()) -> None:
    missing = [k for k in names if k not in data and k not in optional]
    unknown = sorted(set(data) - set(names))
    if missing or unknown:
        parts = ([f"lacks {', '.join(missing)}"] if missing else []) + (
            [f"has unknown key(s) {', '.join(_show(k) for k in unknown[:5])}"] if unknown else [])
        raise ModelError(f"{what} {' and '.join(parts)}; it takes {', '.join(names)}")


def _int(data: dict[str, Any], key: str, lo: int, hi: int, what: str) -> int:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ModelError(f"{what}.{key} must be a whole number from {lo} to {hi}, got {_show(value)}")
    return value


def _text(value: Any, what: str, limit: int, empty: bool = True) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise ModelError(f"{what} must be {'a' if empty else 'a non-empty'} string, got {_show(value)}")
    if len(value) > limit or not all(c.isprintable() for c in value):
        raise ModelError(f"{what} must be printable text of at most {limit} characters (no control characters)")
    return value


def _type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    plain = isinstance(value, (str, int, float, bool, type(None)))
    text = json.dumps(value, ensure_ascii=True) if plain else _type(value)
    return text if len(text) <= 40 else text[:37] + "..."
