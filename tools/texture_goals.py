# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``python -m tools.texture_goals --model M --queries DIR``: issue 20's goal table.

Improvises on each query as ``qbdi improvise`` does (:func:`bridge.improvise.improvise_file`,
default :class:`bridge.config.Settings` except ``rate`` and ``seed``), or reads improvisations
made by anything else (``--outputs DIR``: ``DIR/<row>/<query stem>[.<anything>].mid``, one
subfolder per row, such as ``full``, ``64``, ``0``; ``--save DIR`` writes that layout). Prints
one table: the held-out corpus songs, the baselines (block chords, drone, corpus chord
retrieval) and every row, with the texture descriptors, retained harmony, copy, key cosine, the
two-sample AUC and corpus copy (:mod:`bridge.measures.goals`), then each of issue 20's goals
PASS or FAIL. The corpus is the model's training corpus, split by song exactly as training split
it (the data card's ``heldout`` share and ``seed``). ``--rolls DIR`` draws piano rolls to look at:
per query, the query on top and the first seed's output at each row below (``DIR/<query>.png``).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from pathlib import Path
from typing import Any

from bridge.config import Settings, parse_rate
from bridge.corpora import BACH
from bridge.errors import QbdiError
from bridge.measures.baselines import block_chords, chord_retrieval, drone
from bridge.measures.goals import Output, check, corpus_row, format_goals, format_table, measure
from bridge.measures.reference import Reference, load_reference

from .heldout import SPLITS, queries
from .options import base_settings

log = logging.getLogger(__name__)

POP_CORPUS = "/work/shared/datasets/pop_music_midi"
RATES = "full,256,64,16,0"


def query_files(folder: str, split: str) -> list[Path]:
    """A ``tools.heldout`` set's split, or every ``.mid`` in a plain folder."""
    root = Path(folder)
    if any((root / s).is_dir() for s in SPLITS):
        return queries(root, split)
    return sorted(p for p in root.glob("*.mid*"))


def read_query(path: Path) -> tuple[list, float, int]:
    """(notes, beats per bar, bars) of a query as ``qbdi improvise`` grids it."""
    from bridge.midifile import read_midi

    score = read_midi(path)
    bpb = score.beats_per_bar
    return score.notes, bpb, max(1, math.ceil(score.length_beats / bpb - 1e-9))


def baseline_rows(paths: list[Path], ref: Reference, method: str) -> list[dict[str, Any]]:
    profiles, bars = ref.training_bars
    made: dict[str, list[Output]] = {"block chords": [], "drone": [], "corpus retrieval": []}
    for path in paths:
        notes, bpb, n_bars = read_query(path)
        for name, fn in (("block chords", block_chords), ("drone", drone)):
            made[name].append(Output(path.stem, notes, fn(notes, bpb, n_bars), bpb, n_bars))
        made["corpus retrieval"].append(Output(path.stem, notes, chord_retrieval(notes, bpb, n_bars, profiles, bars),
                                               bpb, n_bars))
    return [measure(name, outs, ref, method) for name, outs in made.items()]


def model_outputs(model_name: str, paths: list[Path], rates: list[int | None], seeds: list[int],
                  save: Path | None, base: Settings | None = None, free: bool = False) -> dict[str, list[Output]]:
    """Each query at each rate and seed, improvised as ``qbdi improvise`` does with ``base`` (default
    settings) and ``rate`` and ``seed`` set; with ``free`` a row ``free`` too: per query and seed, a
    ``--free`` improvisation as long as the query (seed ``seed + 1000 * query index``)."""
    from bridge.improvise import free_improvise, improvise_file
    from bridge.models import load_model

    model = load_model(model_name)
    base = (base or Settings()).replace(model=model_name)
    spb = model.representation.steps_per_beat
    out: dict[str, list[Output]] = {}
    for rate in rates:
        label = "full" if rate is None else str(rate)
        rows = out.setdefault(label, [])
        for path in paths:
            for seed in seeds:
                score, result = improvise_file(path, base.replace(rate=rate, seed=seed), model=model)
                bpb = result.settings.beats_per_bar
                rows.append(Output(path.stem, score.notes, result.notes, bpb, result.grid.n_bars, spb))
                _save(save, label, path.stem, seed, result.notes, score)
    if free:
        rows = out.setdefault("free", [])
        for i, path in enumerate(paths):
            notes, bpb, n_bars = read_query(path)
            for seed in seeds:
                result = free_improvise(model, base.replace(seed=seed + 1000 * i, bars=n_bars), bpb)
                rows.append(Output(path.stem, [], result.notes, bpb, n_bars, spb, free=True))
                _save(save, "free", path.stem, seed, result.notes, None)
    return out


def _save(folder: Path | None, label: str, stem: str, seed: int, notes: list, score: Any) -> None:
    from bridge.midifile import write_midi

    if folder is None:
        return
    (folder / label).mkdir(parents=True, exist_ok=True)
    write_midi(folder / label / f"{stem}.seed{seed}.mid", [("improvisation", notes)],
               tempo_bpm=score.tempo_bpm if score else 120.0,
               time_signature=score.time_signature if score else (4, 4))


def folder_outputs(folder: Path, paths: list[Path]) -> dict[str, list[Output]]:
    """``folder/<row>/<query stem>[.<anything>].mid`` -> rows of outputs (row order: the rate dial
    from full down, then other names alphabetically). A row named ``free`` holds ``--free``
    improvisations: measured on every bar of the query's length, without harmony."""
    from bridge.midifile import read_midi

    by_stem = {p.stem: p for p in paths}
    subdirs = [d for d in folder.iterdir() if d.is_dir()] or [folder]
    out: dict[str, list[Output]] = {}
    for d in sorted(subdirs, key=_row_order):
        for f in sorted(d.glob("*.mid*")):
            stem = f.name.split(".")[0]
            if stem not in by_stem:
                raise QbdiError(f"{f} names no query in the query set (expected <query stem>[.<anything>].mid)")
            notes, bpb, n_bars = read_query(by_stem[stem])
            free = d.name == "free"
            out.setdefault(d.name, []).append(Output(stem, [] if free else notes, read_midi(f).notes, bpb, n_bars,
                                                     free=free))
    if not out:
        raise QbdiError(f"{folder} holds no .mid files; write DIR/<row>/<query stem>.mid (for example with --save)")
    return out


def _row_order(d: Path) -> tuple:
    if d.name == "full":
        return (0, 0, "")
    try:
        return (1, -parse_rate(d.name), "")
    except (ValueError, TypeError, QbdiError):
        return (2, 0, d.name)


def plot_rolls(query: Output, rows: list[tuple[str, Output]], path: Path) -> Path:
    """Piano rolls on one time axis: the query on top, then each row's output (beats x MIDI pitch)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    panels = [("query", query.query_notes)] + [(name, o.notes) for name, o in rows]
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 1.9 * len(panels)), sharex=True, squeeze=False)
    end = query.n_bars * query.beats_per_bar
    for ax, (name, notes) in zip(axes[:, 0], panels):
        kept = [n for n in notes if n.start < end]
        for n in kept:
            ax.add_patch(matplotlib.patches.Rectangle((n.start, n.pitch - 0.4), min(n.duration, end - n.start), 0.8,
                                                      color="#333333" if name == "query" else "#1f77b4", lw=0))
        pitches = [n.pitch for n in kept] or [60]
        ax.set_ylim(min(pitches) - 2, max(pitches) + 2)
        for bar in range(query.n_bars + 1):
            ax.axvline(bar * query.beats_per_bar, color="#cccccc", lw=0.6, zorder=0)
        ax.set_ylabel(name, fontsize=8)
        ax.tick_params(labelsize=7)
    axes[-1, 0].set_xlim(0, end)
    axes[-1, 0].set_xlabel("beats", fontsize=8)
    fig.suptitle(query.query, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def reference_for(model_name: str | None, corpus: str, heldout: float | None, seed: int | None) -> Reference:
    """The training corpus of ``model_name`` (``--corpus`` unless it trained on the Bach chorales),
    split with its data card's held-out share and seed (or the ones given)."""
    source, share, split_seed = corpus, 0.1, 0
    if model_name:
        from bridge.models import read_config, resolve

        card = read_config(resolve(model_name)).get("training", {})
        if card.get("corpus") == BACH:
            source = BACH
        hyper = card.get("hyperparameters", {})
        share, split_seed = float(hyper.get("heldout", share)), int(hyper.get("seed", split_seed))
    if heldout is not None:
        share = heldout
    if seed is not None:
        split_seed = seed
    return load_reference(source, share, split_seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.texture_goals", description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="model name or folder to improvise with")
    parser.add_argument("--outputs", default=None, help="or: a folder of improvisations, DIR/<row>/<query stem>*.mid")
    parser.add_argument("--queries", required=True, help="a query set built by tools.heldout, or a folder of .mid")
    parser.add_argument("--split", default="search", choices=(*SPLITS, "all"))
    parser.add_argument("--rates", default=RATES, help=f"dial steps, full first (default {RATES})")
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--corpus", default=POP_CORPUS, help="the MIDI corpus folder (Bach models use music21's)")
    parser.add_argument("--heldout", type=float, default=None, help="held-out share of songs (default: the card's)")
    parser.add_argument("--split-seed", type=int, default=None, help="split seed (default: the card's)")
    parser.add_argument("--method", default="logistic", choices=("logistic", "mlp"), help="two-sample classifier")
    parser.add_argument("--relative", action="store_true",
                        help="scale the texture goals to this corpus (default: on for a corpus other than pop)")
    parser.add_argument("--threshold", type=float, default=None, help="decoder threshold (default: the model's)")
    parser.add_argument("--sample", action="store_true", help="sample the cells (the device's Sampling = sample)")
    parser.add_argument("--temperature", type=float, default=None, help="sampling temperature")
    parser.add_argument("--free", action="store_true", help="add a row of --free improvisations (no query)")
    parser.add_argument("--save", default=None, help="write the model's improvisations here (the --outputs layout)")
    parser.add_argument("--json", default=None, help="write rows and goals here")
    parser.add_argument("--rolls", default=None, help="draw piano rolls here (query above, each row's output below)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    started = time.time()
    try:
        if (args.model is None) == (args.outputs is None):
            raise QbdiError("give --model NAME or --outputs DIR (one of them)")
        rates = [parse_rate(r) for r in args.rates.split(",") if r.strip()]
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
        paths = query_files(args.queries, args.split)
        if not paths:
            raise QbdiError(f"no queries in {args.queries}; build them with python -m tools.heldout --out DIR")
        ref = reference_for(args.model, args.corpus, args.heldout, args.split_seed)
        base = base_settings(args)
        if args.model:
            rows_out = model_outputs(args.model, paths, rates, seeds, Path(args.save) if args.save else None,
                                     base, args.free)
        else:
            rows_out = folder_outputs(Path(args.outputs), paths)
    except (ValueError, QbdiError) as exc:
        print(f"texture_goals: {exc}", file=sys.stderr)
        return 2
    relative = args.relative or ref.source == BACH
    corpus = corpus_row(ref, args.method)
    baselines = baseline_rows(paths, ref, args.method)
    model_rows = [measure(label, outs, ref, args.method) for label, outs in rows_out.items()]
    goals = check(model_rows, baselines, corpus, relative)
    what = args.model or args.outputs
    print(f"## {what}: {len(paths)} queries ({args.queries}), seeds {seeds}; corpus {ref.source}: "
          f"{corpus['n']} held-out pieces, {corpus['bars']} bars ({time.time() - started:.0f} s)")
    print(format_table([corpus, *baselines, *model_rows]))
    print(f"two-sample calibration (held-out songs half vs half, {args.method}): AUC {corpus['auc']:.2f} "
          f"± {corpus['auc_std']:.2f} (min {corpus['auc_min']:.2f}, max {corpus['auc_max']:.2f}); "
          f"every song half vs half: {corpus['auc_all']:.2f} ± {corpus['auc_all_std']:.2f}")
    print(("goals scaled to this corpus\n" if relative else "") + format_goals(goals))
    if args.rolls:
        for stem in dict.fromkeys(o.query for outs in rows_out.values() for o in outs):
            firsts = [(label, next(o for o in outs if o.query == stem)) for label, outs in rows_out.items()
                      if any(o.query == stem for o in outs)]
            plot_rolls(firsts[0][1], firsts, Path(args.rolls) / f"{stem}.png")
    if args.json:
        report = {"model": args.model, "outputs": args.outputs, "queries": [p.stem for p in paths], "seeds": seeds,
                  "corpus": corpus, "baselines": baselines, "rows": model_rows, "goals": goals, "relative": relative}
        Path(args.json).write_text(json.dumps(_plain(report), indent=1, allow_nan=False) + "\n")
    return 0


def _plain(value: Any) -> Any:
    """JSON-ready: NaN and infinities -> None, NumPy scalars -> Python numbers, tuples -> lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


if __name__ == "__main__":
    sys.exit(main())
