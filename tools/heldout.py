# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``python -m tools.heldout --out DIR``: the held-out, out-of-style query set, built reproducibly.

Queries that no model trains on, in other styles than both shipped corpora (pop clips, Bach
chorales): excerpts of music21's bundled public-domain scores (Mozart, Joplin, Beethoven, Beach,
Schumann, lead sheets realised for piano, ...) and pieces built in code (:mod:`tools.pieces`).
Nothing by Bach and no pop-corpus song is in it. Weighted toward 4/4 piano textures, with some
chamber music for variety; 2/4 scores are re-barred as 4/4 (two bars in one, notes unchanged).

Three parts: ``search`` (what training choices are tuned on), ``confirm`` (looked at after the
choices, for the figures reported) and ``fresh`` (added once the shipped models were final, for a
last look; tune nothing on it). Writes ``DIR/<part>/*.mid`` and
``DIR/manifest.json`` (source, style, bars, split of every query). Needs the ``corpora`` extra
(music21) for the score excerpts; ``--built-only`` skips them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from bridge.midifile import write_midi
from bridge.pianoroll import Note

from . import pieces

log = logging.getLogger(__name__)

SPLITS = ("search", "confirm", "fresh")   # fresh: built after the shipped models were final, for one last look


@dataclass(frozen=True)
class Excerpt:
    """Bars ``[first_bar, first_bar + bars)`` (4/4 bars after re-barring) of a music21 corpus score."""

    name: str
    path: str          # music21 corpus path
    split: str
    first_bar: int
    bars: int
    style: str
    lead_sheet: bool = False   # realise its chord symbols as a left-hand part


@dataclass(frozen=True)
class Built:
    """A piece from :mod:`tools.pieces`."""

    name: str
    style: str
    split: str
    tonic: int
    seed: int
    bars: int = 16
    humanized: bool = False


EXCERPTS = (
    Excerpt("mozart_k545", "mozart/k545/movement1_exposition", "search", 0, 12, "classical piano sonata"),
    Excerpt("joplin_maple_leaf", "joplin/maple_leaf_rag", "search", 0, 16, "ragtime piano"),
    Excerpt("foster_brown_hair", "leadSheet/fosterBrownHair", "search", 1, 16, "song, lead sheet", True),
    Excerpt("beethoven_op59_1", "beethoven/opus59no1/movement1", "search", 0, 16, "string quartet"),
    Excerpt("beach_prayer", "beach/prayer_of_a_tired_child", "confirm", 0, 16, "romantic song with piano"),
    Excerpt("aloha_oe", "liliuokalani/aloha_oe", "confirm", 0, 16, "song, voices and piano"),
    Excerpt("berlin_ragtime", "leadSheet/berlinAlexandersRagtime", "confirm", 1, 16, "ragtime song, lead sheet",
            True),
    Excerpt("mozart_k458_adagio", "mozart/k458/movement3", "confirm", 0, 12, "string quartet"),
    Excerpt("schumann_dichterliebe", "schumann_robert/dichterliebe_no2", "confirm", 0, 8, "lied, voice and piano"),
    Excerpt("haydn_op74_1", "haydn/opus74no1/movement1", "fresh", 4, 16, "string quartet"),
    Excerpt("mozart_k155", "mozart/k155/movement1", "fresh", 0, 16, "string quartet"),
    Excerpt("mozart_k156_finale", "mozart/k156/movement4", "fresh", 0, 12, "string quartet"),
    Excerpt("haydn_op1_1_finale", "haydn/opus1no1/movement5", "fresh", 0, 16, "string quartet, 2/4"),
    Excerpt("schumann_op41_1", "schumann_robert/opus41no1/movement4", "fresh", 0, 16, "string quartet"),
)

BUILT = (
    Built("alberti_c", "alberti", "search", 0, 1),
    Built("anime_ballad_d", "anime_ballad", "search", 2, 2),
    Built("anime_opening_a", "anime_opening", "search", 9, 3),
    Built("stride_f", "stride", "search", 5, 4),
    Built("jazz_bb", "jazz_comp", "search", 10, 5),
    Built("hymn_g", "hymn", "search", 7, 6),
    Built("boogie_e", "boogie", "search", 4, 7, bars=12),
    Built("etude_eb", "etude", "search", 3, 8),
    Built("alberti_f", "alberti", "confirm", 5, 11, humanized=True),
    Built("anime_ballad_ab", "anime_ballad", "confirm", 8, 12, humanized=True),
    Built("anime_opening_e", "anime_opening", "confirm", 4, 13),
    Built("nocturne_c_minor", "nocturne", "confirm", 0, 14),
    Built("march_bb", "march", "confirm", 10, 15),
    Built("bossa_g", "bossa", "confirm", 7, 16),
    Built("stride_d", "stride", "confirm", 2, 17, humanized=True),
    Built("alberti_d", "alberti", "fresh", 2, 21),
    Built("anime_ballad_b", "anime_ballad", "fresh", 11, 22, humanized=True),
    Built("jazz_db", "jazz_comp", "fresh", 1, 23),
    Built("hymn_eb", "hymn", "fresh", 3, 24, humanized=True),
    Built("boogie_a", "boogie", "fresh", 9, 25, bars=12),
    Built("etude_gb", "etude", "fresh", 6, 26, humanized=True),
    Built("nocturne_g_minor", "nocturne", "fresh", 7, 27),
)


def score_notes(path: str, lead_sheet: bool = False) -> tuple[list[Note], float]:
    """A music21 corpus score -> (notes in beats with an anacrusis moved onto the bar grid, beats per bar)."""
    from music21 import corpus, harmony

    score = corpus.parse(path).stripTies()
    sigs = list(score.recurse().getElementsByClass("TimeSignature"))
    bpb = float(sigs[0].barDuration.quarterLength) if sigs else 4.0
    notes = []
    for n in score.flatten().notes:
        if isinstance(n, harmony.ChordSymbol) or float(n.quarterLength) <= 0:
            continue
        velocity = int(n.volume.velocity) if n.volume.velocity else 80
        for p in n.pitches if n.isChord else [n.pitch]:
            notes.append(Note(int(p.midi), float(n.getOffsetInHierarchy(score)), float(n.quarterLength), velocity))
    if lead_sheet:
        notes += realise_chords(score)
    first = next(iter(score.parts[0].getElementsByClass("Measure")), None) if score.parts else None
    pickup = 0.0
    if first is not None and 0 < first.duration.quarterLength < bpb:
        pickup = bpb - float(first.duration.quarterLength)
    return [Note(n.pitch, n.start + pickup, n.duration, n.velocity) for n in notes], bpb


def realise_chords(score) -> list[Note]:
    """Lead-sheet chord symbols -> a left hand: the root low on beat 1, the chord on beats 2-4."""
    from music21 import harmony

    symbols = sorted(((float(c.getOffsetInHierarchy(score)), c) for c in
                      score.recurse().getElementsByClass(harmony.ChordSymbol)), key=lambda x: x[0])
    end = float(score.highestTime)
    out = []
    for i, (start, symbol) in enumerate(symbols):
        stop = symbols[i + 1][0] if i + 1 < len(symbols) else end
        pcs = [p.pitchClass for p in symbol.pitches]
        root = symbol.root().pitchClass
        beat = start
        while beat < stop - 1e-9:
            if beat % 4 == 0:
                out.append(Note(36 + (root - 36) % 12, beat, 1.0, 72))
            else:
                out += [Note(53 + (pc - 53) % 12, beat, 1.0, 62) for pc in sorted(set(pcs))]
            beat += 1.0
    return out


def excerpt_notes(excerpt: Excerpt) -> list[Note]:
    """The excerpt's notes, moved to start at beat 0, in 4/4 bars."""
    notes, bpb = score_notes(excerpt.path, excerpt.lead_sheet)
    if bpb not in (2.0, 4.0):
        raise ValueError(f"{excerpt.path} is in {bpb} beats per bar; only 4/4 and 2/4 are re-barred")
    t0, t1 = excerpt.first_bar * 4.0, (excerpt.first_bar + excerpt.bars) * 4.0
    out = []
    for n in notes:
        if t0 <= n.start < t1 and 24 <= n.pitch <= 101:
            out.append(Note(n.pitch, round(n.start - t0, 6), round(min(n.duration, t1 - n.start), 6), n.velocity))
    return sorted(out, key=lambda n: (n.start, n.pitch))


def build_set(out: Path, built_only: bool = False) -> list[dict]:
    """Write every query and the manifest; returns the manifest's entries."""
    entries = []
    for split in SPLITS:
        (out / split).mkdir(parents=True, exist_ok=True)
    for piece in BUILT:
        notes = pieces.build(piece.style, piece.tonic, piece.seed, piece.bars, piece.humanized)
        entries.append(_write(out, piece.name, piece.split, notes, {"source": "tools.pieces", **asdict(piece)}))
    if not built_only:
        for excerpt in EXCERPTS:
            notes = excerpt_notes(excerpt)
            info = {"source": "music21 corpus", **asdict(excerpt)}
            entries.append(_write(out, excerpt.name, excerpt.split, notes, info))
    (out / "manifest.json").write_text(json.dumps({"queries": entries}, indent=1) + "\n")
    return entries


def _write(out: Path, name: str, split: str, notes: list[Note], info: dict) -> dict:
    path = out / split / f"{name}.mid"
    write_midi(path, [("piano", notes)], tempo_bpm=96.0, time_signature=(4, 4))
    bars = int(-(-max(n.end for n in notes) // 4))
    log.info("%s: %d notes, %d bars", path, len(notes), bars)
    return {**info, "file": f"{split}/{name}.mid", "notes": len(notes), "bars_written": bars}


def queries(folder: str | Path, split: str = "search") -> list[Path]:
    """The query files of one split (``search``, ``confirm`` or ``all``) of a built set."""
    folder = Path(folder)
    names = SPLITS if split == "all" else (split,)
    return sorted(p for s in names for p in (folder / s).glob("*.mid"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.heldout", description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="folder to write the query set into")
    parser.add_argument("--built-only", action="store_true", help="only the pieces built in code (no music21)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        entries = build_set(Path(args.out), args.built_only)
    except ImportError as exc:
        print(f"heldout: the score excerpts need music21 ({exc}); pip install '.[corpora]' or use --built-only",
              file=sys.stderr)
        return 2
    for split in SPLITS:
        mine = [e for e in entries if e["split"] == split]
        print(f"{split}: {len(mine)} queries, {sum(e['bars_written'] for e in mine)} bars")
    return 0


if __name__ == "__main__":
    sys.exit(main())
