# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""How long the server's retained/copy readout (``bridge.measures.metrics.kept``) takes, before and after.

``python -m tools.kept_bench [--bars 8,64] [--repeat 7]`` improvises a query of each length (a held-out
style progression looped, ``pop`` at rate 256, seed 1) and times, interleaved run by run in one process,
``kept`` with the pitch-class profiles of :mod:`bridge.measures.chroma` as shipped (vectorised) and with
:func:`loop_accumulate`, the per-note loop it replaced (kept here as the reference the tests compare to).
Prints the median and best of ``--repeat`` runs of each, and the median of the improvisation itself.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Iterable
from unittest import mock

import numpy as np

from bridge.measures import chroma
from bridge.measures.chroma import N_PITCH_CLASSES, NoteLike


def loop_accumulate(notes: Iterable[NoteLike], cell_beats: float, n_cells: int) -> np.ndarray:
    """The per-note loop ``bridge.measures.chroma._accumulate`` was: shape (12, n_cells)."""
    out = np.zeros((N_PITCH_CLASSES, n_cells), dtype=np.float64)
    for note in notes:
        if note.duration <= 0:
            continue
        s0 = note.start / cell_beats
        s1 = (note.start + note.duration) / cell_beats
        first = max(int(math.floor(s0)), 0)
        last = min(int(math.ceil(s1)), n_cells)
        if last <= first:
            continue
        cells = np.arange(first, last, dtype=np.float64)
        overlap = np.minimum(s1, cells + 1.0) - np.maximum(s0, cells)
        out[int(note.pitch) % N_PITCH_CLASSES, first:last] += np.clip(overlap, 0.0, None)
    return out


def query(bars: int) -> list:
    """A 4-bar I-vi-IV-V progression in block chords, bass and an eighth-note melody, looped to ``bars``."""
    from bridge.pianoroll import Note

    chords = ((60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62))
    notes = []
    for bar in range(bars):
        chord = chords[bar % 4]
        t0 = 4.0 * bar
        notes += [Note(p, t0, 4.0, 70) for p in chord] + [Note(chord[0] - 24, t0 + b, 1.0, 80) for b in range(4)]
        notes += [Note(chord[i % 3] + 12, t0 + 0.5 * i, 0.5, 90) for i in range(8)]
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.kept_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--bars", default="8,64")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    from bridge.config import Settings
    from bridge.improvise import improvise
    from bridge.measures.metrics import kept
    from bridge.models import load_model

    model = load_model("pop")
    print("| query | notes (query + result) | improvise: median | kept, per-note loop: median / best "
          "| kept, vectorised: median / best | retained, copy (both ways) |")
    print("|---|---|---|---|---|---|")
    for bars in (int(b) for b in args.bars.split(",")):
        q = query(bars)
        runs = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = improvise(model, q, Settings(rate=256, seed=1)).notes
            runs.append(time.perf_counter() - started)
        ways = {"loop": loop_accumulate, "vectorised": chroma._accumulate}
        times: dict[str, list[float]] = {name: [] for name in ways}
        figures = {}
        for _ in range(args.repeat):
            for name, accumulate in ways.items():
                with mock.patch.object(chroma, "_accumulate", accumulate):
                    started = time.perf_counter()
                    figures[name] = kept(q, result, 4.0, 4.0 * bars)
                    times[name].append(time.perf_counter() - started)
        ms = {k: (1000 * statistics.median(v), 1000 * min(v)) for k, v in times.items()}
        print(f"| {bars} bars | {len(q)} + {len(result)} | {1000 * statistics.median(runs):.0f} ms "
              f"| {ms['loop'][0]:.1f} / {ms['loop'][1]:.1f} ms | "
              f"{ms['vectorised'][0]:.1f} / {ms['vectorised'][1]:.1f} ms | "
              + ("differ!" if figures["loop"] != figures["vectorised"] else
                 f"{figures['loop'].retained:.4f}, {figures['loop'].copy:.4f}") + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
