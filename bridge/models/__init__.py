# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Model folders: safetensors weights + config.json, shipped inside this package and loaded by name.

A model folder holds ``config.json`` (format, format version, representation, architecture,
training data card, the weights' SHA-256) and ``model.safetensors``. Loading verifies all of it
and raises :class:`ModelError` naming the problem; nothing is ever unpickled.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Architecture, Representation
from ..errors import ModelError, QbdiError
from ..vae import VAE, expected_shapes

log = logging.getLogger(__name__)

FORMAT = "qbdi-vae"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
DEFAULT_MODEL = "pop"
REQUIRED_KEYS = ("format", "format_version", "name", "representation", "architecture", "weights", "training")


@dataclass
class Model:
    """A loaded, verified model: its VAE plus what the config says about it."""

    name: str
    path: Path
    config: dict[str, Any]
    representation: Representation
    architecture: Architecture
    vae: VAE
    prior_mean: np.ndarray = field(repr=False, default=None)   # (latent,) training-set mean of z
    prior_var: np.ndarray = field(repr=False, default=None)    # (latent,) aggregate posterior variance
    texture_bank: np.ndarray | None = field(repr=False, default=None)  # (k, texture_size) corpus bars' texture counts

    @property
    def max_rate(self) -> int:
        """Bits per frame past which the output no longer changes audibly (the dial's top)."""
        return int(self.config.get("max_rate", 2048))

    @property
    def card(self) -> dict[str, Any]:
        return self.config.get("training", {})

    @property
    def description(self) -> str:
        return str(self.config.get("description", ""))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def installed_root() -> Path:
    """The folder of shipped models (inside the package, or inside a PyInstaller bundle)."""
    return Path(str(resources.files(__name__)))


def installed_names() -> list[str]:
    root = installed_root()
    return sorted(p.name for p in root.iterdir() if (p / CONFIG_FILE).is_file())


def resolve(name_or_path: str | os.PathLike | None) -> Path:
    """A model name or a path (folder or its config.json) -> the model folder."""
    if name_or_path is None or str(name_or_path) == "":
        name_or_path = os.environ.get("QBDI_MODEL") or DEFAULT_MODEL
    text = str(name_or_path)
    if text in installed_names():
        return installed_root() / text
    path = Path(text).expanduser()
    if path.is_file() and path.name == CONFIG_FILE:
        path = path.parent
    if path.is_dir():
        return path
    if os.sep in text or "/" in text or path.suffix:
        raise ModelError(f"no model folder at {text}; give a folder holding {CONFIG_FILE} and {WEIGHTS_FILE}")
    err = QbdiError(f"unknown model '{text}'; installed: {', '.join(installed_names()) or 'none'} "
                    "(or give the path to a model folder)", code="unknown_model")
    raise err


def load_model(name_or_path: str | os.PathLike | None = None) -> Model:
    """Load and verify a model by name or path; cached, so the second call is free."""
    folder = resolve(name_or_path).resolve()
    cfg = folder / CONFIG_FILE
    weights = folder / WEIGHTS_FILE
    stamp = tuple((p.stat().st_mtime_ns, p.stat().st_size) if p.exists() else None for p in (cfg, weights))
    return _load(folder, stamp)


@functools.lru_cache(maxsize=8)
def _load(folder: Path, _stamp: tuple) -> Model:
    config = read_config(folder)
    rep = Representation.from_dict(config["representation"])
    arch = Architecture.from_dict(config["architecture"])
    if rep.frame_size != arch.input_size:
        raise ModelError(f"{folder}: representation frame size {rep.frame_size} does not match the "
                         f"architecture's input size {arch.input_size}; the config is inconsistent")
    weights = folder / config["weights"].get("file", WEIGHTS_FILE)
    if not weights.is_file():
        raise ModelError(f"{folder}: weight file {weights.name} is missing; reinstall or retrain the model")
    expected = config["weights"].get("sha256")
    if not expected:
        raise ModelError(f"{folder}: config.json has no weights.sha256 checksum; re-save the model with qbdi train")
    actual = sha256_of(weights)
    if actual != expected:
        raise ModelError(f"{folder}: {weights.name} does not match its checksum (expected {expected[:12]}..., "
                         f"got {actual[:12]}...); the file is corrupt or was changed, reinstall or retrain")
    tensors = _read_tensors(weights)
    wanted = expected_shapes(arch)
    missing = sorted(set(wanted) - set(tensors))
    if missing:
        raise ModelError(f"{folder}: weights lack tensor(s) {', '.join(missing)}; "
                         "the file does not fit this architecture")
    for name, shape in wanted.items():
        if tuple(tensors[name].shape) != shape:
            raise ModelError(f"{folder}: tensor {name} has shape {tuple(tensors[name].shape)}, expected {shape}")
        if not np.all(np.isfinite(tensors[name])):
            raise ModelError(f"{folder}: tensor {name} holds NaN or infinite values; retrain the model")
    vae = VAE({k: tensors[k] for k in wanted}, arch)
    latent = arch.latent_size
    prior_mean = np.asarray(config.get("latent_stats", {}).get("mean", np.zeros(latent)), dtype=np.float64)
    prior_var = np.asarray(config.get("latent_stats", {}).get("var", np.ones(latent)), dtype=np.float64)
    if prior_mean.shape != (latent,) or prior_var.shape != (latent,):
        raise ModelError(f"{folder}: latent_stats do not have {latent} entries; the config is inconsistent")
    bank = _texture_bank(folder, config, rep)
    model = Model(str(config["name"]), folder, config, rep, arch, vae, prior_mean, prior_var, bank)
    log.info("loaded model %s from %s (latent %d, max rate %d)", model.name, folder, latent, model.max_rate)
    return model


def _texture_bank(folder: Path, config: dict[str, Any], rep: Representation) -> np.ndarray | None:
    """config.json's optional ``texture_bank`` (corpus bars' texture counts, see
    :mod:`bridge.analysis.texture`) as a ``(k, rep.texture_size)`` int array, checked."""
    if "texture_bank" not in config:
        return None
    width = rep.texture_size
    try:
        bank = np.asarray(config["texture_bank"], dtype=np.float64)
    except (TypeError, ValueError):
        bank = np.zeros((0, 0))
    if bank.ndim != 2 or bank.shape[1] != width or not len(bank) or not np.all(np.isfinite(bank)) \
            or np.any(bank < 0) or np.any(bank != np.round(bank)):
        raise ModelError(f"{folder}: texture_bank must be a list of rows of {width} non-negative whole numbers; "
                         "retrain the model or remove the key")
    return bank.astype(np.int64)


def read_config(folder: Path) -> dict[str, Any]:
    """Parse and check config.json's format, version and required keys."""
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise ModelError(f"{folder}: no {CONFIG_FILE}; a model folder holds {CONFIG_FILE} and {WEIGHTS_FILE}")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} is not valid JSON ({exc}); reinstall or retrain the model") from None
    if not isinstance(config, dict):
        raise ModelError(f"{path} must hold a JSON object")
    missing = [k for k in REQUIRED_KEYS if k not in config]
    if missing:
        raise ModelError(f"{path} lacks key(s) {', '.join(missing)}; it is not a complete qbdi model config")
    if config["format"] != FORMAT:
        raise ModelError(f"{path}: format is {config['format']!r}, expected {FORMAT!r}")
    if config["format_version"] != FORMAT_VERSION:
        raise ModelError(f"{path}: format version {config['format_version']!r} is not supported "
                         f"(this qbdi reads version {FORMAT_VERSION}); upgrade qbdi or retrain the model")
    if not isinstance(config["weights"], dict):
        raise ModelError(f"{path}: 'weights' must be an object with 'file' and 'sha256'")
    return config


def _read_tensors(path: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file  # safetensors: a plain tensor container, no code execution

    try:
        return load_file(str(path))
    except Exception as exc:  # the library raises several types for a damaged header
        raise ModelError(f"{path} is not a readable safetensors file ({exc}); reinstall or retrain") from None


def save_model(folder: str | os.PathLike, tensors: dict[str, np.ndarray], config: dict[str, Any],
               dtype: str = "float32") -> Path:
    """Write weights (``float32`` or ``float16`` on disk; always float32 in memory) and config
    (with format, version and checksum) into ``folder``."""
    from safetensors.numpy import save_file

    if dtype not in ("float32", "float16"):
        raise ValueError(f"weights are stored as float32 or float16, not {dtype}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / WEIGHTS_FILE
    save_file({k: np.ascontiguousarray(v, dtype=dtype) for k, v in sorted(tensors.items())}, str(weights))
    config = {"format": FORMAT, "format_version": FORMAT_VERSION, **config}
    config["weights"] = {"file": WEIGHTS_FILE, "sha256": sha256_of(weights), "dtype": dtype}
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return folder


def list_models() -> list[dict[str, Any]]:
    """One summary per installed model, default first."""
    out = []
    for name in installed_names():
        try:
            config = read_config(installed_root() / name)
        except ModelError as exc:
            out.append({"name": name, "error": str(exc)})
            continue
        card = config.get("training", {})
        out.append({
            "name": name, "default": name == DEFAULT_MODEL, "description": config.get("description", ""),
            "latent_size": config["architecture"].get("latent_size"), "max_rate": config.get("max_rate", 2048),
            "corpus": card.get("corpus", ""), "bars": card.get("bars"), "onset_f1": card.get("heldout_onset_f1"),
        })
    out.sort(key=lambda m: (not m.get("default"), m["name"]))
    return out
