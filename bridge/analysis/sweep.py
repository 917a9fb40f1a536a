# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``qbdi sweep``: improvise on one or more queries at several rates and seeds, and measure what survives.

Per rate, the mean and spread (sample standard deviation) over queries and seeds of: harmony
agreement, retained harmony, copy (the query's notes replayed), the texture descriptors beside
them (notes and onset steps per bar, durations, beat-1 share, groove, polyphony, span, mean-pitch
jump: :mod:`bridge.measures.descriptors`, on the query's sounding bars), the old texture score
(corpus likeness, a report only), key agreement, chord vocabulary, note density, the share of the
query's repeated bars that repeat in the output (:mod:`bridge.measures.metrics`), and the total
VMO IR at the best threshold of
the output's surface (chroma, Tonnetz) and of its latents (the decoder's input z per bar, cosine).
Writes ``sweep.csv``, ``sweep.json``, ``sweep.png`` (each metric against rate), ``frontier.png``
(retained harmony against copy, one point per rate) and, under ``midi/``, each improvisation with
the query as a second track.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bridge.config import SWEEP_RATES

from ..measures.chroma import NoteLike, count_bars
from ..measures.metrics import compare, repeat_agreement
from .piece import analyze_latents, analyze_surface, bar_means, encode_bars, resolve_model

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
DEFAULT_RATES = SWEEP_RATES
METRICS = (
    ("agreement", "harmony agreement"),
    ("retained", "retained harmony"),
    ("copy", "copy (query notes replayed, F1)"),
    ("notes_per_bar", "notes per bar"),
    ("onset_steps_per_bar", "onset steps per bar"),
    ("mean_duration", "mean duration (beats)"),
    ("long_share", "share of notes >= 2 beats"),
    ("sixteenth_share", "share of one-16th notes"),
    ("held_share", "share of notes > 4 beats"),
    ("longest", "longest note (beats)"),
    ("downbeat_share", "share of onsets on beat 1"),
    ("groove", "groove (next bar's onsets, cosine)"),
    ("polyphony", "polyphony (sounding pitches)"),
    ("pitch_span", "pitch span (semitones)"),
    ("pitch_jump", "mean-pitch jump (semitones)"),
    ("texture", "old texture score (report only)"),
    ("key_agreement", "key agreement"),
    ("vocabulary", "chord vocabulary"),
    ("density", "note density (notes/bar)"),
    ("repeats", "repeats kept (share of the query's)"),
    ("ir_surface", "VMO IR, surface (bits)"),
    ("ir_latent", "VMO IR, latents (bits)"),
)

# improviser(rate, seed) -> (notes, latents (n_bars, L) or None)
Improviser = Callable[[int | None, int], tuple[Sequence[NoteLike], np.ndarray | None]]


def parse_rates(text: str | Sequence[Any]) -> list[int | None]:
    """``"full,1024,0"`` (or a list) -> ``[None, 1024, 0]``; ``full`` is ``None``."""
    from bridge.config import parse_rate
    from bridge.errors import QbdiError

    items = [s for s in text.split(",") if s.strip()] if isinstance(text, str) else list(text)
    if not items:
        raise QbdiError("give at least one rate, e.g. --rates full,512,0")
    return [parse_rate(item) for item in items]


def rate_label(rate: int | None) -> str:
    return "full" if rate is None else str(rate)


def measure(query: Sequence[NoteLike], output: Sequence[NoteLike], latents: np.ndarray | None,
            beats_per_bar: float, length_beats: float, steps_per_beat: int = 4,
            bank: np.ndarray | None = None) -> dict[str, float | int | None]:
    """Every sweep metric of one output against its query (``None`` where undefined); ``bank`` is
    the model's corpus texture bank (texture is ``None`` without one)."""
    values: dict[str, Any] = compare(query, output, beats_per_bar, length_beats, bank, steps_per_beat).to_dict()
    values["repeats"] = repeat_agreement(query, output, beats_per_bar, length_beats)
    surface = analyze_surface(output, beats_per_bar, steps_per_beat, length_beats, min_motif_beats=0)
    values["ir_surface"] = surface.ir_total
    values["ir_latent"] = _latent_ir(latents, beats_per_bar)
    return values


def _latent_ir(latents: np.ndarray | None, beats_per_bar: float) -> float | None:
    if latents is None or len(latents) < 2:
        return None
    return analyze_latents(latents, beats_per_bar, min_motif_bars=0).ir_total


def sweep_notes(query: Sequence[NoteLike], beats_per_bar: float, length_beats: float, rates: Sequence[int | None],
                seeds: Sequence[int], improviser: Improviser, steps_per_beat: int = 4, progress: bool = False,
                on_output: Callable[[int | None, int, Sequence[NoteLike]], None] | None = None,
                bank: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Run the improviser at every (rate, seed) and measure each output: one record per run."""
    runs = []
    pairs = [(rate, seed) for rate in rates for seed in seeds]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(pairs), desc="sweep", unit="run")
    for rate, seed in pairs:
        if bar is not None:
            bar.set_postfix_str(f"rate {rate_label(rate)} seed {seed}")
        notes, latents = improviser(rate, seed)
        notes = list(notes)
        if on_output is not None:
            on_output(rate, seed, notes)
        record = {"rate": rate_label(rate), "seed": seed, "n_notes": len(notes)}
        record.update(measure(query, notes, latents, beats_per_bar, length_beats, steps_per_beat, bank))
        runs.append(record)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return runs


def summarize(runs: Sequence[dict[str, Any]], rates: Sequence[int | None]) -> list[dict[str, Any]]:
    """Per rate (in the given order): ``<metric>_mean``, ``_std`` (ddof 1), ``_min``, ``_max``, ``n``."""
    rows = []
    for rate in rates:
        label = rate_label(rate)
        mine = [r for r in runs if r["rate"] == label]
        row: dict[str, Any] = {"rate": label, "n": len(mine)}
        for key, _ in METRICS:
            values = np.array([r[key] for r in mine if r.get(key) is not None], dtype=float)
            values = values[np.isfinite(values)]
            row[f"{key}_mean"] = _num(values.mean()) if values.size else None
            row[f"{key}_std"] = _num(values.std(ddof=1)) if values.size > 1 else (0.0 if values.size else None)
            row[f"{key}_min"] = _num(values.min()) if values.size else None
            row[f"{key}_max"] = _num(values.max()) if values.size else None
        rows.append(row)
    return rows


def format_table(rows: Sequence[dict[str, Any]], reference: dict[str, Any] | None = None) -> str:
    """Plain-text table: one line per rate, ``mean±std`` per metric."""
    heads = ["rate"] + [key for key, _ in METRICS]
    lines = [heads]
    if reference is not None:
        lines.append(["query"] + [_cell(reference.get(key), None) for key, _ in METRICS])
    for row in rows:
        lines.append([row["rate"]] + [_cell(row[f"{key}_mean"], row[f"{key}_std"]) for key, _ in METRICS])
    widths = [max(len(line[i]) for line in lines) for i in range(len(heads))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(line, widths)) for line in lines)


def _cell(mean: float | None, std: float | None) -> str:
    if mean is None:
        return "-"
    fmt = ".3f" if abs(mean) < 100 else ".1f"
    return f"{mean:{fmt}}" if std is None else f"{mean:{fmt}}±{std:{fmt}}"


def frontier_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Summary rows -> the per-rate means :mod:`.frontier` reads (``retained``, ``copy``, the
    descriptors, ...; ``longest_max`` is the longest note of any run)."""
    from ..measures.frontier import COLUMNS

    return [{"rate": r["rate"], **{k: r.get(f"{k}_mean") for k in COLUMNS}, "longest_max": r.get("longest_max")}
            for r in rows]


def write_outputs(document: dict[str, Any], out_dir: Path) -> dict[str, str]:
    """``sweep.csv`` (one row per rate), ``sweep.json`` (everything), ``sweep.png`` and ``frontier.png``."""
    from .figures import plot_frontier, plot_sweep

    out_dir.mkdir(parents=True, exist_ok=True)
    rows = document["rows"]
    with open(out_dir / "sweep.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot_sweep(rows, METRICS, out_dir / "sweep.png", document.get("query"), f"rate sweep: {document['query_name']}")
    plot_frontier(frontier_rows(rows), out_dir / "frontier.png", f"frontier: {document['query_name']}")
    files = {"csv": "sweep.csv", "json": "sweep.json", "plot": "sweep.png", "frontier": "frontier.png"}
    document["files"] = files
    (out_dir / "sweep.json").write_text(json.dumps(document, indent=1, allow_nan=False))
    return files


def run_sweep(query_path: str | Path | Sequence[str | Path], rates: Sequence[int | None] | str,
              seeds: int | Sequence[int], out_dir: str | Path, model: Any = None, settings: Any = None,
              progress: bool = True, write_midi: bool = True) -> dict[str, Any]:
    """Improvise on one or more MIDI queries at each rate and seed; write the table, plots and MIDI files.

    Args:
        query_path: one MIDI file, or several: the summary then averages over queries and seeds.
        rates: bits per frame (``None`` = full rate), or a string such as ``"full,512,0"``.
        seeds: a number of seeds (``settings.seed``, ``+1``, ...) or the seeds themselves.
        model: a loaded model, a name or folder, or ``None`` for ``settings.model`` (else the default).
        settings: base :class:`bridge.config.Settings`; ``rate`` and ``seed`` are set per run.
    Returns:
        The JSON document: ``rows`` (per-rate summary), ``runs`` (per run, with its ``query``),
        ``query`` (the reference: the query's own values, averaged over queries), ``goals``
        (issue 12's goals on the means, :func:`.frontier.check_goals`) and, with several
        queries, ``queries`` (each one's path, reference and rows).
    """
    from bridge.config import Settings
    from bridge.errors import QbdiError
    from bridge.folders import holds_report, plan_folder

    from ..measures.frontier import check_goals

    paths = [Path(query_path)] if isinstance(query_path, (str, Path)) else [Path(p) for p in query_path]
    if not paths:
        raise QbdiError("give at least one query MIDI file")
    names = [p.stem for p in paths]
    if len(set(names)) != len(names):
        raise QbdiError("two queries share a file name; rename one so their outputs do not collide")
    rates = parse_rates(rates) if isinstance(rates, str) else list(rates)
    settings = Settings() if settings is None else settings
    seed_list = [settings.seed + i for i in range(seeds)] if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seed_list:
        raise QbdiError("give at least one seed (--seeds 1 or more)")
    folder = plan_folder(out_dir, "sweep", owned=lambda p: holds_report(p / "sweep.json", "qbdi-sweep"),
                         produces=("sweep.csv", "sweep.json", "sweep.png", "frontier.png", "midi"))  # at the end
    midi_files: dict[str, bytes] = {}
    loaded = resolve_model(model if model is not None else settings.model)
    runs: list[dict[str, Any]] = []
    per_query = []
    for path in paths:
        mine, reference, bpb = _sweep_one(path, loaded, rates, seed_list, settings, midi_files, progress,
                                          write_midi)
        runs += mine
        per_query.append({"name": path.stem, "path": str(path), "beats_per_bar": bpb, "query": reference,
                          "rows": summarize(mine, rates)})
    rows = summarize(runs, rates)
    single = len(paths) == 1
    document: dict[str, Any] = {
        "format_version": FORMAT_VERSION, "kind": "qbdi-sweep",
        "query_path": str(paths[0]) if single else [str(p) for p in paths],
        "query_name": paths[0].stem if single else f"{len(paths)} queries",
        "model": getattr(loaded, "name", None), "beats_per_bar": per_query[0]["beats_per_bar"] if single else None,
        "seeds": seed_list, "settings": settings.to_dict(),
        "query": per_query[0]["query"] if single else _mean_reference([q["query"] for q in per_query]),
        "rows": rows, "runs": runs, "goals": check_goals(frontier_rows(rows)),
    }
    if not single:
        document["queries"] = per_query
    if write_midi:
        document["midi"] = "midi/"
    with folder.staged() as out:
        if midi_files:
            (out / "midi").mkdir()
        for name, data in midi_files.items():
            (out / "midi" / name).write_bytes(data)
        write_outputs(document, out)
    return document


def _sweep_one(query_path: Path, loaded: Any, rates: Sequence[int | None], seed_list: Sequence[int], settings: Any,
               midi_files: dict[str, bytes], progress: bool,
               write_midi: bool) -> tuple[list[dict[str, Any]], dict[str, Any], float]:
    """One query's runs (each tagged with ``query``), its reference values and its beats per bar; its
    MIDI files go into ``midi_files`` (name -> bytes), written with the rest at the end."""
    from bridge.errors import QbdiError
    from bridge.improvise import improvise
    from bridge.midifile import encode_midi, read_midi

    score = read_midi(query_path)
    if not score.notes:
        raise QbdiError(f"{query_path} has no notes to improvise on")
    beats_per_bar = float(settings.beats_per_bar or score.beats_per_bar)
    bars = count_bars(score.notes, beats_per_bar, score.length_beats)
    length = bars * beats_per_bar
    steps_per_beat = int(loaded.representation.steps_per_beat)
    bank = getattr(loaded, "texture_bank", None)

    def improviser(rate: int | None, seed: int) -> tuple[Sequence[NoteLike], np.ndarray | None]:
        result = improvise(loaded, score.notes, settings.replace(rate=rate, seed=seed),
                           beats_per_bar=beats_per_bar, length_beats=length)
        for warning in result.warnings:
            log.info("%s rate %s seed %d: %s", query_path.stem, rate_label(rate), seed, warning)
        return result.notes, bar_means(result.latents, result.grid.frames_per_bar)[:bars]

    def save(rate: int | None, seed: int, notes: Sequence[NoteLike]) -> None:
        if write_midi:
            name = f"{query_path.stem}_rate-{rate_label(rate)}_seed-{seed}.mid"
            midi_files[name] = encode_midi([("query", list(score.notes)),
                                            (f"qbdi rate {rate_label(rate)} seed {seed}", list(notes))],
                                           tempo_bpm=score.tempo_bpm, time_signature=tuple(score.time_signature))

    runs = sweep_notes(score.notes, beats_per_bar, length, rates, seed_list, improviser, steps_per_beat, progress,
                       save, bank)
    for run in runs:
        run["query"] = query_path.stem
    reference: dict[str, Any] = compare(score.notes, score.notes, beats_per_bar, length, bank, steps_per_beat).to_dict()
    reference["bars"] = bars
    reference["repeats"] = repeat_agreement(score.notes, score.notes, beats_per_bar, length)
    reference["ir_surface"] = analyze_surface(score.notes, beats_per_bar, steps_per_beat, length,
                                              min_motif_beats=0).ir_total
    reference["ir_latent"] = _latent_ir(encode_bars(loaded, score.notes, beats_per_bar, length), beats_per_bar)
    return runs, reference, beats_per_bar


def _mean_reference(references: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The queries' own values averaged key by key (``None`` where no query has one)."""
    out: dict[str, Any] = {}
    for key in references[0]:
        values = [r[key] for r in references if isinstance(r.get(key), (int, float)) and math.isfinite(r[key])]
        out[key] = _num(float(np.mean(values))) if values else None
    return out


def sweep(query: str | Path | Sequence[str | Path], rates: str | Sequence[int | None], seeds: int, out: str | Path,
          settings: Any = None, progress: bool = True, write_midi: bool = True) -> int:
    """``qbdi sweep``: :func:`run_sweep`, then the table on stdout; 0.

    ``query`` one path or several; ``rates`` as :func:`parse_rates` reads them; ``settings`` (from
    the shared improvisation flags) gives the model, the first seed and everything else.
    """
    from bridge.errors import QbdiError

    if seeds < 1:
        raise QbdiError(f"--seeds must be at least 1, got {seeds}")
    queries = [query] if isinstance(query, (str, Path)) else list(query)
    document = run_sweep(queries if len(queries) > 1 else queries[0], parse_rates(rates), seeds, out,
                         settings=settings, progress=progress, write_midi=write_midi)
    print(format_table(document["rows"], document["query"]))
    log.info("wrote %s", ", ".join(str(Path(out) / name) for name in document["files"].values()))
    return 0


def _num(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else round(value, 6) + 0.0  # + 0.0: no "-0.000" in the table
