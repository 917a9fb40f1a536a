# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Model folders: safetensors weights + config.json, shipped inside this package and loaded by name.

A model folder holds ``config.json`` (format, format version, representation, architecture,
training data card, the weights' SHA-256 and, from format 2, the config's own checksum) and
``model.safetensors``. A folder is untrusted input: loading checks the whole config against its
schema (:mod:`bridge.models.schema`) and the weights against the config, reading each file once,
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
from ..folders import OutputFolder, plan_folder
from ..paths import read_input, shown, write_file
from ..patterns import Texture, check_patterns
from ..vae import VAE, expected_shapes
from .schema import CHECKSUM_KEY, FORMAT, FORMAT_VERSION, REQUIRED_KEYS, ModelSpec, check_config, parse_config, seal

__all__ = ["CHECKSUM_KEY", "CONFIG_FILE", "DEFAULT_MODEL", "FORMAT", "FORMAT_VERSION", "REQUIRED_KEYS",
           "WEIGHTS_FILE", "Model", "ModelSpec", "installed_names", "installed_root", "list_models", "load_model",
           "plan_model_folder", "read_config", "read_spec", "resolve", "save_model", "sha256_of", "upgrade_model"]

log = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
DEFAULT_MODEL = "pop"
HEADER_SLACK = 1 << 20          # bytes a weight file may hold beyond its tensors (header, metadata)
TEXTURE_BANK = "texture.bank"   # optional tensor: corpus bars' texture counts (bridge.measures.texture)
MAX_BANK_ROWS = 4096


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
    spec: ModelSpec | None = field(repr=False, default=None)
    texture_bank: np.ndarray | None = field(repr=False, default=None)  # (k, texture_size) corpus bars' texture counts
    texture: Texture | None = field(repr=False, default=None)          # texture patterns (format 3), else None

    @property
    def max_rate(self) -> int:
        """Bits per frame past which the output no longer changes audibly (the dial's top)."""
        return self.spec.max_rate if self.spec else int(self.config.get("max_rate", 2048))

    @property
    def card(self) -> dict[str, Any]:
        return self.spec.card if self.spec else self.config.get("training", {})

    @property
    def description(self) -> str:
        return self.spec.description if self.spec else str(self.config.get("description", ""))


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
    """The names of the models installed with the package (``pop``, ``bach``, ...), sorted."""
    root = installed_root()
    return sorted(p.name for p in root.iterdir() if (p / CONFIG_FILE).is_file())


def resolve(name_or_path: str | os.PathLike | None) -> Path:
    """A model name or a path (folder or its config.json) -> the model folder."""
    if name_or_path is None or str(name_or_path) == "":
        name_or_path = os.environ.get("QBDI_MODEL") or DEFAULT_MODEL
    text = os.fspath(name_or_path) if not isinstance(name_or_path, str) else name_or_path
    if "\0" in text:
        raise ModelError(f"the model {shown(text)} holds a NUL character; give a model name or folder")
    if text in installed_names():
        return installed_root() / text
    try:
        path = Path(text).expanduser()
    except RuntimeError:          # ~user with no such user, or no home
        path = Path(text)
    try:
        if path.is_file() and path.name == CONFIG_FILE:
            path = path.parent
        if path.is_dir():
            return path
    except OSError as exc:        # a name too long, a loop of links
        raise ModelError(f"cannot read the model folder {shown(text)} ({exc.strerror})") from None
    if os.sep in text or "/" in text or path.suffix:
        raise ModelError(f"no model folder at {shown(text)}; give a folder holding {CONFIG_FILE} and {WEIGHTS_FILE}")
    raise QbdiError(f"unknown model '{shown(text)}'; installed: {', '.join(installed_names()) or 'none'} "
                    "(or give the path to a model folder)", code="unknown_model")


def load_model(name_or_path: str | os.PathLike | None = None) -> Model:
    """Load and verify a model by name or path; cached, so the second call is free."""
    folder = resolve(name_or_path).resolve()
    return _load(folder, _stamp(folder))


def _stamp(folder: Path) -> tuple:
    """What changes when a file of the folder changes (the cache key's second half)."""
    try:
        return tuple(sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in os.scandir(folder)
                            if e.is_file()))
    except OSError:
        return ()


@functools.lru_cache(maxsize=8)
def _load(folder: Path, _stamp: tuple) -> Model:
    spec = read_spec(folder)
    model = _build(folder, spec)
    if spec.format_version < FORMAT_VERSION:
        log.warning("%s is a model in format %d, whose config.json is not under a checksum; it loads, and "
                    "qbdi models --upgrade %s re-saves it in format %d", shown(folder), spec.format_version,
                    shown(folder), FORMAT_VERSION)
    log.info("loaded model %s from %s (latent %d, max rate %d)", model.name, folder, spec.architecture.latent_size,
             model.max_rate)
    return model


def read_spec(folder: Path, verify_checksum: bool = True) -> ModelSpec:
    """Read and check config.json (the whole schema, and its checksum in format 2)."""
    where = shown(folder / CONFIG_FILE)
    try:
        data = read_input(folder / CONFIG_FILE, "model config", 4 << 20)
    except QbdiError as exc:
        if not (folder / CONFIG_FILE).exists():
            raise ModelError(f"{shown(folder)}: no {CONFIG_FILE}; a model folder holds {CONFIG_FILE} and "
                             f"{WEIGHTS_FILE}") from None
        raise ModelError(str(exc)) from None
    return check_config(parse_config(data, where), where, verify_checksum)


def read_config(folder: Path) -> dict[str, Any]:
    """config.json as checked JSON (see :func:`read_spec`)."""
    return read_spec(folder).config


def _build(folder: Path, spec: ModelSpec) -> Model:
    """Check the weights against the config (size, checksum, tensors, shapes, finiteness) -> Model."""
    arch = spec.architecture
    wanted = expected_shapes(arch)
    limit = (sum(4 * int(np.prod(s)) for s in wanted.values()) + 4 * MAX_BANK_ROWS * spec.representation.texture_size
             + HEADER_SLACK)
    path = folder / spec.weights_file
    try:
        data = read_input(path, "weight file", limit)
    except QbdiError as exc:
        if not path.exists():
            raise ModelError(f"{shown(folder)}: weight file {shown(spec.weights_file)} is missing; reinstall or "
                             "retrain the model") from None
        raise ModelError(f"{shown(folder)}: {exc}") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != spec.weights_sha256:
        raise ModelError(f"{shown(folder)}: {shown(spec.weights_file)} does not match its checksum (expected "
                         f"{spec.weights_sha256[:12]}..., got {actual[:12]}...); the file is corrupt or was changed, "
                         "reinstall or retrain")
    tensors = _read_tensors(data, path)
    missing = sorted(set(wanted) - set(tensors))
    if missing:
        raise ModelError(f"{shown(folder)}: weights lack tensor(s) {', '.join(missing)}; "
                         "the file does not fit this architecture")
    for name, shape in wanted.items():
        tensor = tensors[name]
        if tuple(tensor.shape) != shape:
            raise ModelError(f"{shown(folder)}: tensor {name} has shape {tuple(tensor.shape)}, expected {shape}")
        if tensor.dtype.kind != "f":
            raise ModelError(f"{shown(folder)}: tensor {name} holds {tensor.dtype} values, not floats; "
                             "retrain the model")
        if not np.all(np.isfinite(tensor)):
            raise ModelError(f"{shown(folder)}: tensor {name} holds NaN or infinite values; retrain the model")
    vae = VAE({k: tensors[k] for k in wanted}, arch)
    bank = _texture_bank(folder, tensors.get(TEXTURE_BANK), spec.representation)
    texture = None
    if arch.patterns:
        pattern_tensors = {k: tensors[k] for k in wanted if k.startswith("patterns.")}
        problem = check_patterns(pattern_tensors)
        if problem:
            raise ModelError(f"{shown(folder)}: {problem}; retrain the model")
        texture = Texture(pattern_tensors)
    return Model(spec.name, folder, spec.config, spec.representation, arch, vae, spec.latent_mean, spec.latent_var,
                 spec, bank, texture)


def _texture_bank(folder: Path, tensor: np.ndarray | None, rep: Representation) -> np.ndarray | None:
    """The weight file's optional ``texture.bank`` tensor as a ``(k, rep.texture_size)`` int array, checked."""
    if tensor is None:
        return None
    bank = np.asarray(tensor, dtype=np.float64)
    if bank.ndim != 2 or bank.shape[1] != rep.texture_size or not 0 < len(bank) <= MAX_BANK_ROWS \
            or not np.all(np.isfinite(bank)) or np.any(bank < 0) or np.any(bank != np.round(bank)):
        raise ModelError(f"{shown(folder)}: tensor {TEXTURE_BANK} must be 1 to {MAX_BANK_ROWS} rows of "
                         f"{rep.texture_size} non-negative whole numbers; retrain the model")
    return bank.astype(np.int64)


def _read_tensors(data: bytes, path: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load  # safetensors: a plain tensor container, no code execution

    try:
        return load(data)
    except Exception as exc:  # the library raises several types for a damaged header
        raise ModelError(f"{shown(path)} is not a readable safetensors file ({str(exc)[:120]}); "
                         "reinstall or retrain") from None


def plan_model_folder(folder: str | os.PathLike) -> OutputFolder:
    """Check a folder to save a model into, before any work: new, empty, or a model folder."""
    return plan_folder(folder, "model folder", owned=lambda p: (p / CONFIG_FILE).is_file(),
                       produces=(CONFIG_FILE, WEIGHTS_FILE))


def save_model(folder: str | os.PathLike, tensors: dict[str, np.ndarray], config: dict[str, Any],
               dtype: str = "float32") -> Path:
    """Write weights (``float32`` or ``float16`` on disk; always float32 in memory) and config
    (format, version, checksums) into ``folder``: a new folder appears whole; in an existing one
    each file is replaced atomically, the config last. The config is checked before anything is
    written."""
    from safetensors.numpy import save

    if dtype not in ("float32", "float16"):
        raise ValueError(f"weights are stored as float32 or float16, not {dtype}")
    data = save({k: np.ascontiguousarray(v, dtype=dtype) for k, v in sorted(tensors.items())})
    config = dict(config)
    config["weights"] = {"file": WEIGHTS_FILE, "sha256": hashlib.sha256(data).hexdigest(), "dtype": dtype}
    config = seal(config)
    check_config(config, f"the config for {shown(folder)}")
    text = (json.dumps(config, indent=2, allow_nan=False) + "\n").encode("utf-8")
    target = plan_model_folder(folder)
    if target.exists:
        write_file(target.path / WEIGHTS_FILE, data)
        write_file(target.path / CONFIG_FILE, text)
        return Path(folder)
    with target.staged() as staging:
        (staging / WEIGHTS_FILE).write_bytes(data)
        (staging / CONFIG_FILE).write_bytes(text)
    return Path(folder)


def upgrade_model(folder: str | os.PathLike) -> tuple[int, int]:
    """Re-save a model folder's config in the current format (weights untouched), after checking the
    whole folder loads; ``(old version, new version)``. Also re-seals a config edited on purpose."""
    path = resolve(folder).resolve()
    spec = read_spec(path, verify_checksum=False)
    _build(path, spec)
    config = seal(spec.config)
    if spec.format_version == FORMAT_VERSION and spec.config.get(CHECKSUM_KEY) == config[CHECKSUM_KEY]:
        return spec.format_version, FORMAT_VERSION
    text = (json.dumps(config, indent=2, allow_nan=False) + "\n").encode("utf-8")
    write_file(path / CONFIG_FILE, text)
    _load.cache_clear()
    return spec.format_version, FORMAT_VERSION


def list_models() -> list[dict[str, Any]]:
    """One summary per installed model, default first (its config checked; its weights are checked
    when it loads)."""
    out = []
    for name in installed_names():
        try:
            spec = read_spec(installed_root() / name)
        except ModelError as exc:
            out.append({"name": name, "error": str(exc)})
            continue
        card = spec.card
        out.append({
            "name": name, "default": name == DEFAULT_MODEL, "description": spec.description,
            "latent_size": spec.architecture.latent_size, "max_rate": spec.max_rate,
            "corpus": card.get("corpus", ""), "bars": card.get("bars"), "onset_f1": card.get("heldout_onset_f1"),
            "format_version": spec.format_version,
        })
    out.sort(key=lambda m: (not m.get("default"), m["name"]))
    return out
