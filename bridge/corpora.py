# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Corpora as files (no torch): a MIDI folder or music21's Bach chorales, read into notes per piece,
and the held-out split by song that training, the measures and the tools all share.

``corpus_files`` (the pieces of a corpus) -> ``piece_notes`` (one piece's notes, beats per bar,
length) ; ``heldout_groups`` (which songs a ``heldout`` share and ``seed`` keep out of training).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import QbdiError
from .pianoroll import Note

MIDI_SUFFIXES = (".mid", ".midi", ".smf")
BACH = "music21:bach"


def piece_group(name: str) -> str:
    """'Song - Chorus.midi' and 'Song - Verse.midi' share a group: split held-out data by song."""
    return Path(name).stem.split(" - ")[0].strip().lower()


def corpus_files(source: str) -> list[str]:
    if source == BACH:
        from music21 import corpus as m21corpus

        return sorted(str(p) for p in m21corpus.getComposer("bach") if str(p).endswith((".mxl", ".xml", ".krn")))
    root = Path(source)
    if not root.is_dir():
        raise QbdiError(f"corpus folder {source} does not exist; give a folder of .mid files or '{BACH}'")
    files = sorted(str(p) for p in root.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES)
    if not files:
        raise QbdiError(f"{source} holds no .mid/.midi files; give a folder of MIDI files")
    return files


def piece_notes(path: str) -> tuple[list[Note], float, float]:
    """-> (notes, beats per bar, length in beats); music21 scores for the Bach corpus."""
    if path.endswith((".mxl", ".xml", ".krn")):
        from music21 import converter

        score = converter.parse(path)
        sigs = list(score.recurse().getElementsByClass("TimeSignature"))
        bpb = float(sigs[0].barDuration.quarterLength) if sigs else 4.0
        notes = []
        for n in score.flatten().notes:
            for p in (n.pitches if n.isChord else [n.pitch]):
                notes.append(Note(int(p.midi), float(n.offset), float(n.quarterLength), 80))
        pickup = 0.0
        first = next(iter(score.parts[0].getElementsByClass("Measure")), None) if score.parts else None
        if first is not None and first.duration.quarterLength < bpb:
            pickup = bpb - float(first.duration.quarterLength)  # shift an anacrusis onto the bar grid
        notes = [Note(n.pitch, n.start + pickup, n.duration, n.velocity) for n in notes]
        return notes, bpb, max((n.end for n in notes), default=0.0)
    from .midifile import read_midi

    score = read_midi(path)
    return score.notes, score.beats_per_bar, score.length_beats



def heldout_groups(names: list[str], heldout: float, seed: int) -> set[str]:
    """The song groups (:func:`piece_group`) a ``heldout`` share of ``names`` keeps out of training,
    drawn by ``seed``; whole songs go to one side."""
    groups = sorted({piece_group(n) for n in names})
    rng = np.random.default_rng(seed)
    rng.shuffle(groups)
    n_held = max(1, int(round(heldout * len(groups)))) if heldout > 0 else 0
    return set(groups[:n_held])
