# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``qbdi analyze``: oracles of MIDI files written as PNG figures, one HTML page and a JSON file.

Layout of ``out_dir``::

    analysis.json            every number (see PieceAnalysis.to_dict), figure paths
    index.html               the figures and key numbers of each file
    <stem>/ir_threshold.png  IR vs threshold, best marked (paper's figure 5)
    <stem>/ir_time.png       IR over time at the best threshold (figure 6)
    <stem>/motifs.png        repeated motifs over the piano roll (figure 4)
"""

from __future__ import annotations

import html
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..measures.chroma import end_beats
from .piece import PieceAnalysis, analyze_piece, check_length, resolve_model

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
KIND = "qbdi-analysis"
FIGURES = ("ir_threshold", "ir_time", "motifs")


def run_analyze(paths: Sequence[str | Path], out_dir: str | Path, model: Any = None, latents: bool = True,
                progress: bool = True) -> dict[str, Any]:
    """Analyse MIDI files and write the report; returns the JSON document as a dict.

    Args:
        paths: MIDI files.
        out_dir: created if missing.
        model: a loaded model, a model name or folder, or ``None`` for the default model. When the
            default model cannot be loaded the latent view is skipped with a warning; a model that
            was asked for by name must load.
        latents: ``False`` skips the latent view (no model is loaded).
        progress: tqdm bars on stderr.
    """
    from bridge.folders import holds_report, plan_folder
    from bridge.midifile import read_midi

    folder = plan_folder(out_dir, "analysis report", owned=lambda p: holds_report(p / "analysis.json", KIND),
                         produces=("analysis.json", "index.html"))   # checked first; written whole at the end
    scores = [(Path(p), read_midi(p)) for p in paths]  # bad files fail before any work
    loaded, skipped = _load(model) if latents else (None, "latent view turned off")
    steps_per_beat = 4 if loaded is None else int(loaded.representation.steps_per_beat)
    for path, score in scores:  # and so do pieces too long to analyse, before anything is written
        check_length(max(score.length_beats, end_beats(score.notes)), score.beats_per_bar, steps_per_beat, str(path))
    pieces: list[tuple[Path, Any, PieceAnalysis]] = []
    for path, score in _progress(scores, progress, "files"):
        started = time.perf_counter()
        piece = analyze_piece(score.notes, score.beats_per_bar, score.length_beats, loaded, path.stem, progress)
        if skipped and piece.latent is None:
            piece.latent_skipped = skipped
        log.info("analysed %s in %.2f s", path, time.perf_counter() - started)
        pieces.append((path, score, piece))
    with folder.staged() as staging:
        return write_report(pieces, staging)


def analyze(files: Sequence[str | Path], out: str | Path, model: Any = None, latents: bool = True,
            progress: bool = True) -> int:
    """``qbdi analyze``: :func:`run_analyze`, then one log line per file and the report's path; 0."""
    document = run_analyze(files, out, model=model, latents=latents, progress=progress)
    for entry in document["files"]:
        views = [f"{key}: best threshold {entry[key]['best_threshold']:.4g}, IR {entry[key]['ir_total']:.4g} bits"
                 for key in ("surface", "latent") if entry[key] is not None]
        log.info("%s: %s", entry["path"], "; ".join(views))
    log.info("report: %s", Path(out) / "index.html")
    return 0


def write_report(pieces: Sequence[tuple[Path, Any, PieceAnalysis]], out_dir: Path) -> dict[str, Any]:
    """Write figures, ``analysis.json`` and ``index.html`` for analysed pieces.

    Args:
        pieces: (source path, score or ``None``, analysis) per file; the score gives tempo and metre.
    """
    from . import figures

    out_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    used: set[str] = set()
    for path, score, piece in pieces:
        folder = _unique(Path(path).stem or "piece", used)
        paths = {
            "ir_threshold": figures.plot_ir_threshold(piece, out_dir / folder / "ir_threshold.png"),
            "ir_time": figures.plot_ir_time(piece, out_dir / folder / "ir_time.png"),
            "motifs": figures.plot_motifs(piece, out_dir / folder / "motifs.png"),
        }
        entry = {"path": str(path), **piece.to_dict(),
                 "figures": {k: p.relative_to(out_dir).as_posix() for k, p in paths.items()}}
        if score is not None:
            entry["tempo_bpm"] = getattr(score, "tempo_bpm", None)
            signature = getattr(score, "time_signature", None)
            entry["time_signature"] = list(signature) if signature else None
        entries.append(entry)
    document = {"format_version": FORMAT_VERSION, "kind": KIND, "files": entries}
    (out_dir / "analysis.json").write_text(json.dumps(document, indent=1, allow_nan=False))
    (out_dir / "index.html").write_text(render_html(document))
    return document


def render_html(document: dict[str, Any]) -> str:
    """One self-contained page (images referenced by relative path) for an analysis document."""
    parts = [_HEAD]
    for entry in document["files"]:
        name = html.escape(entry["name"] or entry["path"])
        parts.append(f"<section><h2>{name}</h2><p class=meta>{html.escape(entry['path'])}: "
                     f"{entry['n_notes']} notes, {entry['n_bars']} bars of {entry['beats_per_bar']:g} beats</p>")
        parts.append("<table><tr><th>view</th><th>frames</th><th>best threshold</th><th>total IR (bits)</th>"
                     "<th>mean IR</th><th>clusters</th><th>motifs</th><th>top motifs (bar: start, length)</th></tr>")
        for key in ("surface", "latent"):
            view = entry[key]
            if view is None:
                reason = html.escape(entry.get("latent_skipped") or "skipped")
                parts.append(f"<tr><td>{key}</td><td colspan=7>not analysed: {reason}</td></tr>")
                continue
            parts.append(f"<tr><td>{key}</td><td>{view['n_frames']}</td><td>{view['best_threshold']:.4g}</td>"
                         f"<td>{view['ir_total']:.4g}</td><td>{view['ir_mean']:.3g}</td><td>{view['n_clusters']}</td>"
                         f"<td>{len(view['motifs'])}</td>"
                         f"<td>{html.escape(_motif_text(view, entry['beats_per_bar']))}</td></tr>")
        parts.append("</table>")
        for figure in FIGURES:
            src = html.escape(entry["figures"][figure])
            parts.append(f'<figure><img src="{src}" alt="{figure}"></figure>')
        parts.append("</section>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _motif_text(view: dict[str, Any], beats_per_bar: float, limit: int = 3) -> str:
    items = []
    for motif in view["motifs"][:limit]:
        starts = ", ".join(f"{s / beats_per_bar:g}" for s in motif["start_beats"][:6])
        more = "..." if motif["count"] > 6 else ""
        items.append(f"[{starts}{more}] x {motif['length_beats'] / beats_per_bar:g} bars")
    return "; ".join(items) or "none"


def _load(model: Any) -> tuple[Any, str | None]:
    """The model to encode with, or ``(None, reason)`` when the default one is not available."""
    if model is not None:
        return resolve_model(model), None
    from bridge.errors import QbdiError

    try:
        return resolve_model(None), None
    except QbdiError as error:
        log.warning("latent view skipped: the default model could not be loaded (%s)", error)
        return None, f"default model not available: {error}"


def _unique(stem: str, used: set[str]) -> str:
    name, n = stem, 2
    while name in used:
        name, n = f"{stem}-{n}", n + 1
    used.add(name)
    return name


def _progress(items: list, enabled: bool, desc: str):
    if not enabled or len(items) < 2:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="file")


_HEAD = """<!doctype html><html><head><meta charset="utf-8"><title>qbdi analysis</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px;text-align:left}.meta{color:#666}
img{max-width:100%;border:1px solid #eee}figure{margin:1em 0}</style></head><body>
<h1>Music information dynamics</h1>
<p>Variable Markov Oracle analysis: information rate (IR) against the similarity threshold, IR over time
at the best threshold, and the repeated motifs found there. Surface: chroma per 16th step compared
with the Tonnetz distance. Latents: the encoder's per-bar means compared with the cosine distance.</p>"""
