# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Tiny inputs built in code: note lists, MIDI files and random-weight models for tests."""

from __future__ import annotations

import atexit
import json
import os
import random
import socket
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from bridge.config import Architecture, Representation
from bridge.midifile import write_midi
from bridge.models import save_model
from bridge.models.schema import CHECKSUM_KEY, config_digest
from bridge.pianoroll import Note
from bridge.vae import expected_shapes

C_MAJOR, A_MINOR, F_MAJOR, G_MAJOR = (60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62)

# Ports for a program started by a test that must be told its port before it binds it (Pure Data's
# [netsend]): from below every OS's ephemeral range, where no bind(0) goes, each reserved by a lock
# file that parallel runs respect (the same folder and scheme as tests/max_patches/helpers/udp.js).
PORT_LOCKS = Path(tempfile.gettempdir()) / "qbdi-test-ports"
PORT_LOW, PORT_HIGH = 20000, 32767
_held: list[Path] = []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _reserve(port: int) -> bool:
    lock = PORT_LOCKS / str(port)
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        try:
            owner = int(lock.read_text() or 0)
        except (OSError, ValueError):
            return False
        if owner == os.getpid() or _alive(owner):
            return False
        lock.unlink(missing_ok=True)            # left by a killed run
        return _reserve(port)
    with os.fdopen(fd, "w") as handle:
        handle.write(str(os.getpid()))
    if not _held:
        atexit.register(lambda: [p.unlink(missing_ok=True) for p in _held])
    _held.append(lock)
    return True


def reserved_udp_port() -> int:
    """A UDP port on 127.0.0.1, free now, that no bind(0) and no parallel test run will take."""
    PORT_LOCKS.mkdir(parents=True, exist_ok=True)
    for _ in range(200):
        port = random.randint(PORT_LOW, PORT_HIGH)
        if not _reserve(port):
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free UDP port in {PORT_LOW}-{PORT_HIGH} (locks in {PORT_LOCKS})")


def chord_bars(chords=(C_MAJOR, A_MINOR, F_MAJOR, G_MAJOR), beats_per_bar: float = 4.0,
               melody: bool = True, velocity: int = 80) -> list[Note]:
    """One chord per bar (whole-bar notes) plus an eighth-note melody on the chord tones."""
    notes = []
    for bar, chord in enumerate(chords):
        t0 = bar * beats_per_bar
        notes += [Note(p, t0, beats_per_bar, velocity) for p in chord]
        if melody:
            for i in range(int(beats_per_bar * 2)):
                notes.append(Note(chord[i % 3] + 12, t0 + i * 0.5, 0.5, velocity + 10))
    return notes


def tiny_model(folder: Path, latent: int = 16, hidden: int = 32, seed: int = 0, predictor: int = 0,
               name: str = "tiny", sparse: bool = False, patterns: int = 0) -> Path:
    """A random-weight model in the real format (config.json + safetensors with checksum).

    ``sparse``: a negative decoder output bias, so output is about as dense as music (~30 notes
    per 4/4 bar) instead of the near-silence of small random weights. ``patterns``: that many
    random (valid) texture patterns (bridge.patterns).
    """
    rep = Representation()
    arch = Architecture(rep.frame_size, hidden, latent, predictor, patterns)
    rng = np.random.default_rng(seed)
    scale = 1.0 if sparse else 0.5
    tensors = {k: (rng.standard_normal(shape) * (scale / np.sqrt(shape[-1]))).astype(np.float32)
               for k, shape in expected_shapes(arch).items()}
    if patterns:
        tensors.update(random_patterns(patterns, latent, rng))
    if sparse:
        tensors["decoder.out.bias"] = (-3.5 + 1.5 * rng.standard_normal(rep.frame_size)).astype(np.float32)
    config = {
        "name": name, "description": "random weights for tests",
        "representation": rep.to_dict(), "architecture": arch.to_dict(),
        "latent_stats": {"mean": [0.0] * latent, "var": [1.0] * latent},
        "max_rate": 512 if sparse else 256, "training": {"corpus": "none", "bars": 0},
    }
    return save_model(folder, tensors, config)


def random_patterns(k: int, latent: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Valid texture tensors (bridge.patterns) for ``k`` random patterns: eighth-ish onsets,
    two-step notes, three-tone chords, registers bass 45 / chord 62 / top 72."""
    onset = (rng.random((k, 3, 16)) < 0.3).astype(np.float32)
    onset[:, :, 0] = 1.0
    transition = rng.random((k, k)) + 0.1
    prior = rng.random(k) + 0.1
    return {"patterns.onset": onset, "patterns.frequency": onset * 0.8, "patterns.duration": onset * 2,
            "patterns.size": np.full((k, 16), 3.0, np.float32),
            "patterns.register": np.tile(np.array([45.0, 62.0, 72.0], np.float32), (k, 1)),
            "patterns.transition": (transition / transition.sum(1, keepdims=True)).astype(np.float32),
            "patterns.prior": (prior / prior.sum()).astype(np.float32),
            "patterns.classifier.weight": rng.standard_normal((k, latent)).astype(np.float32),
            "patterns.classifier.bias": np.zeros(k, np.float32)}


NULL = object()     # edit_config(folder, key=NULL) writes JSON null; None deletes the key


def edit_config(folder: Path, reseal: bool = True, **changes) -> dict:
    """Change keys of a model folder's config.json (``None`` deletes one, ``NULL`` writes null).
    ``reseal`` writes the config's checksum again, as a consistent (if wrong) folder would have;
    without it the edit shows as tampering."""
    path = folder / "config.json"
    config = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = None if value is NULL else value
    if reseal:
        config[CHECKSUM_KEY] = config_digest(config)
    path.write_text(json.dumps(config))
    return config


def old_format_model(folder: Path, **kwargs) -> Path:
    """A model folder as qbdi 0.1 wrote it: format 1, no checksum over the config."""
    tiny_model(folder, **kwargs)
    edit_config(folder, reseal=False, format_version=1, config_sha256=None)
    return folder


def midi_file(path: Path, notes: list[Note], tempo: float = 100.0, signature=(4, 4)) -> Path:
    write_midi(path, [("piano", notes)], tempo_bpm=tempo, time_signature=signature)
    return path


def performance(bars: int = 16, seed: int = 0, beats_per_bar: float = 4.0) -> list[Note]:
    """A played-in performance: chords, bass and melody (bridge.bench.realistic_query) with human
    timing on a 1/96-beat grid (some notes a little before the bar line, so they land on the
    downbeat), velocities that vary, and bass notes held across one or two bar lines."""
    import random

    from bridge.bench import realistic_query

    rng = random.Random(seed)
    out = []
    for n in realistic_query(bars, beats_per_bar=int(beats_per_bar), seed=seed):
        start = max(0.0, n.start + rng.randint(-5, 5) / 96)
        duration = max(1 / 96, n.duration + rng.randint(-8, 8) / 96)
        if n.pitch < 52 and int(n.start // beats_per_bar) % 3 == 0:
            duration = beats_per_bar * rng.choice((1.5, 2.25))          # a bass note held over the bar line
        out.append(Note(n.pitch, start, duration, max(1, min(127, n.velocity + rng.randint(-20, 20)))))
    return out


REPOSITORY = Path(__file__).resolve().parents[1]
POP_CORPUS = Path("datasets") / "pop_music_midi"     # inside the shared folder


def shared_folder() -> Path:
    """The project's shared folder: ``../shared`` beside this repository, or, in a git worktree,
    beside its main checkout (never an absolute path). It may not exist: tests that need it skip."""
    beside = REPOSITORY.parent / "shared"
    if beside.is_dir():
        return beside
    try:
        common = subprocess.run(["git", "rev-parse", "--git-common-dir"], cwd=REPOSITORY, capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return beside
    main = (REPOSITORY / common).resolve().parent if common else REPOSITORY
    return main.parent / "shared" if (main.parent / "shared").is_dir() else beside


def shared_corpus() -> Path:
    """The pop corpus (126 clips) in the shared folder: ``../shared/datasets/pop_music_midi``."""
    return shared_folder() / POP_CORPUS
