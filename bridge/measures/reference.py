# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The corpus a model's texture is judged against (issue 20): its songs, split as training split them.

:func:`load_reference` reads every piece of a training corpus (a MIDI folder, or ``music21:bach``)
as notes and splits the songs exactly as ``qbdi train`` does
(:func:`bridge.corpora.heldout_groups` with the model's ``heldout`` share and ``seed``):
*held-out* songs are what outputs are compared with (descriptors, the two-sample test), *training*
songs what they must not replay (corpus copy). The notes are cached in ``QBDI_CACHE`` (default
``~/.cache/qbdi``) keyed by the file list and sizes, so the Bach chorales are parsed once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .corpuscopy import CopyIndex, bar_keys
from .descriptors import BarView, bar_beats, bar_features_view, describe_view, sounding_bars, view

log = logging.getLogger(__name__)

CACHE_VERSION = 1


@dataclass
class Reference:
    """Every note of a corpus, per piece, and which pieces training held out.

    Attributes:
        names: piece names as training names them (file name; stem for the Bach chorales).
        heldout: ``(n_pieces,)`` bool, the songs training never saw.
        beats_per_bar, length: ``(n_pieces,)`` each piece's bar length and length, in beats.
        pitch, start, duration, velocity, piece: ``(n_notes,)`` every note.
    """

    source: str
    names: list[str]
    heldout: np.ndarray
    beats_per_bar: np.ndarray
    length: np.ndarray
    pitch: np.ndarray
    start: np.ndarray
    duration: np.ndarray
    velocity: np.ndarray
    piece: np.ndarray
    _views: dict[int, BarView] = field(default_factory=dict, repr=False)

    def notes(self, i: int) -> list:
        """Piece ``i`` as :class:`bridge.pianoroll.Note`."""
        from bridge.pianoroll import Note

        sel = np.flatnonzero(self.piece == i)
        return [Note(int(self.pitch[j]), float(self.start[j]), float(self.duration[j]), int(self.velocity[j]))
                for j in sel]

    def view(self, i: int) -> BarView:
        """Piece ``i`` on its bar grid (cached)."""
        if i not in self._views:
            bpb = bar_beats(float(self.beats_per_bar[i]))
            n_bars = max(1, int(np.ceil(float(self.length[i]) / bpb - 1e-9)))
            self._views[i] = view(self.notes(i), bpb, n_bars)
        return self._views[i]

    def pieces(self, heldout: bool) -> list[int]:
        """Indices of the held-out (True) or training (False) pieces that have notes."""
        has = np.bincount(self.piece, minlength=len(self.names)) > 0
        return [int(i) for i in np.flatnonzero((self.heldout == heldout) & has)]

    def group(self, i: int) -> str:
        from bridge.corpora import piece_group

        return piece_group(self.names[i])

    @cached_property
    def held_descriptors(self) -> list[dict[str, float]]:
        """Descriptors of each held-out song over its sounding bars."""
        return [describe_view(self.view(i), sounding_bars(self.view(i))) for i in self.pieces(True)]

    def bar_features(self, heldout: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Features of every sounding bar of the held-out (or training) songs ``(n, N_FEATURES)`` and
        each bar's song ``(n,)`` (group names: sections of one song share a group)."""
        feats, groups = [], []
        for i in self.pieces(heldout):
            v = self.view(i)
            keep = sounding_bars(v)
            feats.append(bar_features_view(v)[keep])
            groups += [self.group(i)] * int(keep.sum())
        return np.concatenate(feats), np.array(groups)

    @cached_property
    def all_bar_features(self) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`bar_features` of every song, held-out and training."""
        held, train = self.bar_features(True), self.bar_features(False)
        return np.concatenate([held[0], train[0]]), np.concatenate([held[1], train[1]])

    def bar_keys(self, heldout: bool) -> list[np.ndarray]:
        """Onset keys (:func:`.corpuscopy.bar_keys`) of every bar with an onset of the chosen songs."""
        out = []
        for i in self.pieces(heldout):
            v = self.view(i)
            keys = bar_keys(v.pitch, v.step, v.bar, v.n_bars)
            out += [k for k in keys if len(k)]
        return out

    @cached_property
    def copy_index(self) -> CopyIndex:
        """The training songs' bars, indexed for corpus copy."""
        return CopyIndex.build(self.bar_keys(heldout=False))

    @cached_property
    def training_bars(self) -> tuple[np.ndarray, list[list[tuple[int, float, float, int]]]]:
        """For chord retrieval: pitch-class duration profiles ``(n, 12)`` of the training songs' bars
        with onsets, and each bar's notes as (pitch, start in the bar, duration cut at the bar's
        end, velocity)."""
        profiles, bars = [], []
        for i in self.pieces(heldout=False):
            v = self.view(i)
            bpb = v.steps_per_bar / v.steps_per_beat
            sel = np.flatnonzero(self.piece == i)
            starts = self.start[sel]
            bar_of = np.floor(np.rint(starts * v.steps_per_beat) / v.steps_per_bar).astype(np.int64)
            per_pitch = v.sounding.sum(axis=1)
            for b in range(v.n_bars):
                mine = sel[bar_of == b]
                if not len(mine):
                    continue
                prof = np.zeros(12)
                np.add.at(prof, np.arange(128) % 12, per_pitch[b])
                profiles.append(prof)
                t0 = b * bpb
                bars.append([(int(self.pitch[j]), float(self.start[j] - t0),
                              float(min(self.duration[j], t0 + bpb - self.start[j])), int(self.velocity[j]))
                             for j in mine])
        return np.array(profiles).reshape(-1, 12), bars


def _names(source: str, files: list[str]) -> list[str]:
    from bridge.corpora import BACH

    return [Path(f).stem if source == BACH else Path(f).name for f in files]


def _read(path: str) -> tuple[list, float, float]:
    from bridge.corpora import piece_notes

    try:
        return piece_notes(path)
    except Exception as exc:  # a damaged file is skipped, as training skips it
        log.warning("skipping %s: %s", path, exc)
        return [], 4.0, 0.0


def heldout_mask(names: list[str], heldout: float, seed: int) -> np.ndarray:
    """``(n_pieces,)`` bool: the pieces :func:`bridge.corpora.heldout_groups` holds out."""
    from bridge.corpora import heldout_groups, piece_group

    held = heldout_groups(names, heldout, seed)
    mask = np.array([piece_group(n) in held for n in names], dtype=bool)
    return mask


def load_reference(source: str, heldout: float = 0.1, seed: int = 0, cache_dir: str | os.PathLike | None = None,
                   workers: int | None = None) -> Reference:
    """Every piece of ``source`` (a MIDI folder or ``music21:bach``), split by song with ``heldout``
    and ``seed`` as training split it."""
    from bridge.corpora import corpus_files

    files = corpus_files(source)
    names = _names(source, files)
    listing = json.dumps([CACHE_VERSION, files, [os.path.getsize(f) for f in files]])
    key = hashlib.sha256(listing.encode()).hexdigest()[:16]
    cache = Path(cache_dir or os.environ.get("QBDI_CACHE", Path.home() / ".cache" / "qbdi")) / f"reference-{key}.npz"
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    else:
        arrays = _parse(files, workers)
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(f"{cache.stem}.{os.getpid()}.tmp.npz")
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, cache)
    return Reference(source, names, heldout_mask(names, heldout, seed), arrays["beats_per_bar"], arrays["length"],
                     arrays["pitch"], arrays["start"], arrays["duration"], arrays["velocity"], arrays["piece"])


def _parse(files: list[str], workers: int | None) -> dict[str, np.ndarray]:
    workers = workers or min(len(files), os.cpu_count() or 1)
    if workers > 1 and len(files) > 20:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(_read, files, chunksize=max(1, len(files) // (4 * workers))))
    else:
        results = [_read(f) for f in files]
    cols: dict[str, list[Any]] = {k: [] for k in ("pitch", "start", "duration", "velocity", "piece")}
    bpbs, lengths = [], []
    for i, (notes, bpb, length) in enumerate(results):
        bpbs.append(bpb)
        lengths.append(length)
        cols["pitch"] += [n.pitch for n in notes]
        cols["start"] += [n.start for n in notes]
        cols["duration"] += [n.duration for n in notes]
        cols["velocity"] += [n.velocity for n in notes]
        cols["piece"] += [i] * len(notes)
    return {"pitch": np.array(cols["pitch"], np.int64), "start": np.array(cols["start"], np.float64),
            "duration": np.array(cols["duration"], np.float64), "velocity": np.array(cols["velocity"], np.int64),
            "piece": np.array(cols["piece"], np.int64), "beats_per_bar": np.array(bpbs, np.float64),
            "length": np.array(lengths, np.float64)}
