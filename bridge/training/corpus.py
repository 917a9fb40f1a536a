# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Training corpora -> cached frame arrays: MIDI folders (the pop corpus) or music21's Bach chorales.

Preprocessing runs once, in parallel (one process per core), into an ``.npz`` cache (loaded with
``allow_pickle=False``) keyed by the corpus's file list, sizes and the representation. Each
frame remembers its piece (for a held-out split by piece, never by bar) and its successor (for
next-bar prediction).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import Representation
from ..corpora import BACH, MIDI_SUFFIXES, corpus_files, heldout_groups, piece_group, piece_notes
from ..errors import QbdiError
from ..pianoroll import BarGrid, Note, to_frames

log = logging.getLogger(__name__)

@dataclass
class Corpus:
    """Frames ``(N, frame_size)`` uint8, piece index, transposition and next frame index, each
    ``(N,)`` (next is -1 at a piece's end)."""

    frames: np.ndarray
    piece: np.ndarray
    shift: np.ndarray
    next_index: np.ndarray
    names: list[str]

    def __len__(self) -> int:
        return len(self.frames)


def _frames_of(args: tuple[str, dict, tuple[int, ...]]) -> list[tuple[int, np.ndarray]]:
    path, rep_dict, shifts = args
    rep = Representation.from_dict(rep_dict)
    try:
        notes, bpb, length = piece_notes(path)
    except Exception as exc:  # a damaged file is skipped, not fatal
        log.warning("skipping %s: %s", path, exc)
        return []
    if not notes:
        return []
    if bpb > rep.beats_per_frame:     # cut long bars into frame-sized bars
        bpb = float(rep.beats_per_frame)
    grid = BarGrid.covering(length, bpb, rep)
    out = []
    for shift in shifts:
        moved = [Note(n.pitch + shift, n.start, n.duration, n.velocity) for n in notes
                 if rep.lowest_pitch <= n.pitch + shift <= rep.highest_pitch]
        frames = to_frames(moved, grid).astype(np.uint8)
        out.append((shift, frames[frames.any(axis=1)]))  # empty bars teach nothing
    return out


def load_corpus(source: str, representation: Representation | None = None, transpose: int = 0,
                cache_dir: str | os.PathLike | None = None, workers: int | None = None) -> Corpus:
    """Frames of every piece in ``source`` (a MIDI folder or ``music21:bach``).

    ``transpose`` = k adds copies shifted by -k..+k semitones (0 = none; 6 covers all 12 keys).
    """
    rep = representation or Representation()
    files = corpus_files(source)
    shifts = tuple(range(-transpose, transpose + 1)) if transpose else (0,)
    listing = json.dumps([files, [os.path.getsize(f) for f in files], rep.to_dict(), shifts])
    key = hashlib.sha256(listing.encode()).hexdigest()[:16]
    cache = Path(cache_dir or os.environ.get("QBDI_CACHE", Path.home() / ".cache" / "qbdi")) / f"corpus-{key}.npz"
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as data:
            log.info("corpus from cache %s", cache)
            return Corpus(data["frames"], data["piece"], data["shift"], data["next_index"],
                          [str(n) for n in data["names"]])
    jobs = [(f, rep.to_dict(), shifts) for f in files]
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(_frames_of, jobs, chunksize=max(1, len(jobs) // (4 * workers))))
    else:
        results = [_frames_of(job) for job in jobs]
    frames, piece, shift, nxt, names, total = [], [], [], [], [], 0
    for index, (path, versions) in enumerate(zip(files, results)):
        names.append(Path(path).name if source != BACH else Path(path).stem)
        for moved, block in versions:
            n = len(block)
            frames.append(block)
            piece.append(np.full(n, index, dtype=np.int32))
            shift.append(np.full(n, moved, dtype=np.int8))
            following = np.arange(total + 1, total + n + 1, dtype=np.int64)
            if n:
                following[-1] = -1
            nxt.append(following)
            total += n
    if not total:
        raise QbdiError(f"no notes found in {source}; check the corpus")
    corpus = Corpus(np.concatenate(frames), np.concatenate(piece), np.concatenate(shift), np.concatenate(nxt), names)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(f"{cache.stem}.{os.getpid()}.tmp.npz")  # concurrent trainers
    np.savez_compressed(tmp, frames=corpus.frames, piece=corpus.piece, shift=corpus.shift, next_index=corpus.next_index,
                        names=np.array(corpus.names))
    os.replace(tmp, cache)
    return corpus


def split_by_piece(corpus: Corpus, heldout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame indices (train, held-out); whole songs go to one side (:func:`bridge.corpora.heldout_groups`)."""
    held_groups = heldout_groups(corpus.names, heldout, seed)
    held_pieces = np.array([piece_group(n) in held_groups for n in corpus.names])
    mask = held_pieces[corpus.piece]
    return np.flatnonzero(~mask), np.flatnonzero(mask)


__all__ = ["BACH", "MIDI_SUFFIXES", "Corpus", "load_corpus", "piece_group", "split_by_piece"]
