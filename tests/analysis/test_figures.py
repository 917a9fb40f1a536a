# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
from pathlib import Path

from synth import planted, song

from bridge.analysis import figures, piece
from bridge.analysis.sweep import METRICS

PNG = b"\x89PNG"


def _piece(with_latents: bool = True) -> piece.PieceAnalysis:
    result = piece.analyze_piece(song(8), 4.0, name="song")
    if with_latents:
        result.latent = piece.analyze_latents(planted(8, 6, length=2, starts=(1, 5), seed=0), 4.0)
    return result


def test_piece_figures_are_pngs(tmp_path: Path):
    p = _piece()
    for plot in (figures.plot_ir_threshold, figures.plot_ir_time, figures.plot_motifs):
        path = plot(p, tmp_path / f"{plot.__name__}.png")
        assert path.read_bytes()[:4] == PNG


def test_figures_without_latents_or_motifs(tmp_path: Path):
    p = _piece(with_latents=False)
    p.surface.motifs = []
    assert figures.plot_motifs(p, tmp_path / "m.png").exists()
    assert figures.plot_ir_time(p, tmp_path / "t.png").exists()


def test_sweep_plot(tmp_path: Path):
    rows = []
    for rate in ("full", "256", "0"):
        row = {"rate": rate}
        for key, _ in METRICS:
            row[f"{key}_mean"], row[f"{key}_std"] = (None, None) if key == "ir_latent" else (0.5, 0.1)
        rows.append(row)
    path = figures.plot_sweep(rows, METRICS, tmp_path / "s.png", reference={"density": 3.0, "ir_latent": None})
    assert path.read_bytes()[:4] == PNG
