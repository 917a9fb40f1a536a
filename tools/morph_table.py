# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``python -m tools.morph_table --model pop A.mid B.mid [C.mid D.mid ...]``: the morph's path table.

For each pair of query files, runs :func:`bridge.interpolate.interpolate` exactly as ``qbdi
interpolate`` does (default settings except ``--rate``, ``--steps``, ``--path``; ``--own-patterns``
lets every inner step choose its own patterns) for every seed, and prints per step the mean over
seeds of: retained harmony and copy against A and against B (:func:`bridge.measures.metrics.compare`,
each clip looped to the morph's length) and issue 20's texture descriptors of the output
(:mod:`bridge.measures.descriptors`: notes per bar, onset steps per bar, mean duration, long-note
share, downbeat share, groove, polyphony) next to the pop corpus's
(:data:`bridge.measures.goals.POP_CORPUS`) and the goals'. ``--paths slerp,lerp,coded`` compares the
paths (docs/ENGINE.md, "Morph"); ``--json OUT`` writes every figure; ``--roll OUT.png`` draws the first
pair's morph (first rate, first seed) as piano rolls, the clips above and below their ends (needs matplotlib).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bridge.config import Settings, parse_rate
from bridge.errors import QbdiError
from bridge.interpolate import PATHS, interpolate, loop_notes
from bridge.measures.descriptors import describe
from bridge.measures.goals import POP_CORPUS, TEXTURE_GOALS
from bridge.measures.metrics import compare
from bridge.measures.texture import profile_counts
from bridge.midifile import read_midi
from bridge.models import Model, load_model
from bridge.pianoroll import to_frames

log = logging.getLogger(__name__)

DESCRIPTORS = ("notes_per_bar", "onset_steps", "mean_length", "polyphony")   # of texture counts: the path choice
SHOWN = ("notes_per_bar", "onset_steps_per_bar", "mean_duration", "long_share", "downbeat_share", "groove",
         "polyphony")                                                            # bridge.measures.descriptors


def descriptors(counts: np.ndarray, steps: int = 16) -> dict[str, float]:
    """Texture descriptors of bars from their texture counts ``(n, 2 * steps + bands)``
    (:func:`bridge.measures.texture.profile_counts`), mean over the sounding bars: notes struck per
    bar, steps with an onset per bar, mean note length in steps (sounding cells per onset) and
    notes sounding per step."""
    c = np.asarray(counts, dtype=np.float64)
    c = c[c[:, steps:2 * steps].sum(axis=1) > 0]
    if not len(c):
        return {k: 0.0 for k in DESCRIPTORS}
    onsets = c[:, :steps].sum(axis=1)
    sounding = c[:, steps:2 * steps].sum(axis=1)
    return {"notes_per_bar": float(onsets.mean()), "onset_steps": float((c[:, :steps] > 0).sum(axis=1).mean()),
            "mean_length": float(sounding.sum() / max(onsets.sum(), 1.0)), "polyphony": float(sounding.mean() / steps)}


def measure_pair(model: Model, a: Path, b: Path, steps: int, settings: Settings, seeds: Sequence[int],
                 path: str, shared_patterns: bool = True) -> list[dict[str, Any]]:
    """Per step, the mean over ``seeds`` of every figure (see the module docstring)."""
    score_a, score_b = read_midi(a), read_midi(b)
    if score_a.beats_per_bar != score_b.beats_per_bar:
        raise QbdiError(f"{a.name} and {b.name} have different meters")
    bpb = score_a.beats_per_bar
    per_seed = []
    for seed in seeds:   # as interpolate_files runs it, with the path as a choice
        morph = interpolate(model, score_a.notes, score_b.notes, steps, settings.replace(seed=seed),
                            beats_per_bar=bpb, length_a=score_a.length_beats, length_b=score_b.length_beats, path=path,
                            shared_patterns=shared_patterns)
        grid = morph.grid
        length = grid.length_beats
        qa = loop_notes(score_a.notes, morph.bars_a, grid.n_bars, bpb)
        qb = loop_notes(score_b.notes, morph.bars_b, grid.n_bars, bpb)
        rows = []
        for t, imp in zip(morph.t, morph.improvisations):
            ma = compare(qa, imp.notes, bpb, length, model.texture_bank)
            mb = compare(qb, imp.notes, bpb, length, model.texture_bank)
            rep = model.representation
            counts = profile_counts(to_frames(imp.notes, grid), rep.steps_per_frame, rep.n_pitches)
            d = describe(imp.notes, bpb, grid.n_bars)
            rows.append({"t": float(t), "retained_a": ma.retained, "retained_b": mb.retained, "copy_a": ma.copy,
                         "copy_b": mb.copy, "texture": ma.texture if t < 0.5 else mb.texture,
                         "key_a": ma.key_agreement, "key_b": mb.key_agreement, **descriptors(counts),
                         **{f"d_{k}": d[k] for k in SHOWN}})
        per_seed.append(rows)
    with warnings.catch_warnings():    # a model without a texture bank: texture is NaN for every seed
        warnings.simplefilter("ignore", RuntimeWarning)
        return [{k: float(np.nanmean([rows[i][k] for rows in per_seed])) for k in per_seed[0][i]}
                for i in range(steps)]


def corpus_row(model: Model) -> dict[str, float]:
    """The descriptors of the model's corpus bank (the texture the steps should keep)."""
    if model.texture_bank is None:
        return {k: math.nan for k in DESCRIPTORS}
    return descriptors(model.texture_bank, model.representation.steps_per_frame)


def format_table(name: str, rows: Sequence[dict[str, float]]) -> str:
    """One pair's table: per step, harmony and copy against both clips, then the descriptors; the pop
    corpus's descriptors and issue 20's goals below."""
    head = ("| step | retained A | retained B | copy A | copy B | notes/bar | onset steps/bar | mean dur (beats) "
            "| notes >= 2 beats | on beat 1 | groove | polyphony |")
    lines = [f"**{name}**", "", head, "|" + "---|" * 12]

    def cells(values: dict[str, float]) -> str:
        return " | ".join("" if not math.isfinite(values.get(k, math.nan)) else
                          f"{values[k]:.1f}" if k in ("notes_per_bar", "onset_steps_per_bar") else f"{values[k]:.2f}"
                          for k in SHOWN)

    for i, r in enumerate(rows):
        lines.append(f"| {i + 1} | {r['retained_a']:.3f} | {r['retained_b']:.3f} | {r['copy_a']:.3f} | "
                     f"{r['copy_b']:.3f} | {cells({k: r['d_' + k] for k in SHOWN})} |")
    lines.append(f"| pop corpus | | | | | {cells(POP_CORPUS)} |")
    goals = {k: f"{op} {v:g}" for k, op, v, scope in TEXTURE_GOALS if scope == "dial"}
    lines.append("| goal | | | | | " + " | ".join(goals.get(k, "") for k in SHOWN) + " |")
    return "\n".join(lines)


def path_summary(rows: Sequence[dict[str, float]], corpus: dict[str, float]) -> dict[str, float]:
    """How a path's inner steps (not the ends) fare: mean texture likeness, the largest relative gap
    of a descriptor from the mean of the two ends' (a dip or bulge in the middle: mush), and the
    share of adjacent steps where retained A falls and retained B rises."""
    inner = rows[1:-1]
    ends = (rows[0], rows[-1])
    bulge = max(abs(r[k] - 0.5 * (ends[0][k] + ends[1][k])) / max(abs(0.5 * (ends[0][k] + ends[1][k])), 1e-9)
                for r in inner for k in DESCRIPTORS)
    moves = [(b["retained_a"] <= a["retained_a"]) + (b["retained_b"] >= a["retained_b"])
             for a, b in zip(rows, rows[1:])]
    return {"texture": float(np.mean([r["texture"] for r in inner])), "bulge": float(bulge),
            "monotone": float(np.sum(moves) / (2 * len(moves))),
            "retained_mid": float(np.mean([0.5 * (r["retained_a"] + r["retained_b"]) for r in inner]))}


def plot_rolls(model: Model, a: Path, b: Path, steps: int, settings: Settings, path: Path, bars: int = 4) -> Path:
    """Piano rolls of one morph's first ``bars`` bars: clip A, every step, clip B (one row each)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    score_a, score_b = read_midi(a), read_midi(b)
    bpb = score_a.beats_per_bar
    morph = interpolate(model, score_a.notes, score_b.notes, steps, settings, beats_per_bar=bpb,
                        length_a=score_a.length_beats, length_b=score_b.length_beats)
    end = bars * bpb
    rows = [(f"A: {a.stem}", loop_notes(score_a.notes, morph.bars_a, morph.grid.n_bars, bpb))]
    rows += [(f"step {k + 1}", imp.notes) for k, imp in enumerate(morph.improvisations)]
    rows.append((f"B: {b.stem}", loop_notes(score_b.notes, morph.bars_b, morph.grid.n_bars, bpb)))
    fig, axes = plt.subplots(1, len(rows), figsize=(1.3 * len(rows), 3.2), sharey=True)
    for ax, (title, notes) in zip(axes, rows):
        for n in notes:
            if n.start < end:
                ax.add_patch(plt.Rectangle((n.start, n.pitch - 0.4), min(n.duration, end - n.start), 0.8,
                                           color="0.15" if title.startswith("step") else "0.55", linewidth=0))
        ax.set_xlim(0, end)
        ax.set_ylim(28, 96)
        ax.set_title(title, fontsize=7)
        ax.set_xticks([bpb * i for i in range(bars + 1)])
        ax.tick_params(labelsize=6)
        ax.grid(axis="x", linewidth=0.3)
    axes[0].set_ylabel("MIDI pitch", fontsize=7)
    fig.suptitle(f"qbdi interpolate, {steps} steps, model {model.name}, rate {settings.rate_label}, seed "
                 f"{settings.seed}: the first {bars} bars (beats across)", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.morph_table", description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", help="MIDI files, in pairs: A1 B1 A2 B2 ...")
    parser.add_argument("--model", default="pop")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--rates", default="full,64", help="comma-separated rates, 'full' for the full rate")
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--paths", default="slerp", help=f"comma-separated, of {', '.join(PATHS)}")
    parser.add_argument("--own-patterns", action="store_true",
                        help="each inner step chooses its own patterns (default: the nearer end's, as qbdi does)")
    parser.add_argument("--json", default=None, help="write every figure here")
    parser.add_argument("--roll", default=None, help="draw the first pair's morph as piano rolls into this PNG")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if len(args.files) % 2:
        parser.error("give the files in pairs (A B)")
    try:
        model = load_model(args.model)
        corpus = corpus_row(model)
        seeds = [int(s) for s in args.seeds.split(",")]
        out: dict[str, Any] = {"corpus": corpus, "pairs": []}
        for a, b in zip(args.files[::2], args.files[1::2]):
            a, b = Path(a), Path(b)
            for rate in (parse_rate(r) for r in args.rates.split(",")):
                for path in args.paths.split(","):
                    settings = Settings(rate=rate)
                    rows = measure_pair(model, a, b, args.steps, settings, seeds, path, not args.own_patterns)
                    summary = path_summary(rows, corpus)
                    name = f"{a.stem} -> {b.stem}, rate {settings.rate_label}, path {path}"
                    print(format_table(name, rows))
                    print(f"inner steps: texture {summary['texture']:.3f}, largest descriptor bulge "
                          f"{summary['bulge']:.2f}, monotone {summary['monotone']:.2f}, "
                          f"retained (mean of A and B) {summary['retained_mid']:.3f}\n")
                    out["pairs"].append({"a": a.stem, "b": b.stem, "rate": settings.rate_label, "path": path,
                                         "rows": rows, "summary": summary})
    except QbdiError as err:
        print(f"morph_table: {err}", file=sys.stderr)
        return 2
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")
    if args.roll:
        settings = Settings(rate=parse_rate(args.rates.split(",")[0]), seed=seeds[0])
        plot_rolls(model, Path(args.files[0]), Path(args.files[1]), args.steps, settings, Path(args.roll))
    return 0


if __name__ == "__main__":
    sys.exit(main())
