# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""PNG figures (matplotlib, Agg backend): IR vs threshold, IR over time, motifs over a piano roll,
the sweep's metrics against rate, and the frontier (retained harmony against copy). Each function
writes one file and returns its path.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .piece import PieceAnalysis, ViewAnalysis

log = logging.getLogger(__name__)

DPI = 110
MOTIF_LANES = 8
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
TITLES = {"surface": "surface (chroma, Tonnetz distance)", "latent": "latents (per-bar means, cosine distance)"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _views(piece: PieceAnalysis) -> list[ViewAnalysis]:
    return [v for v in (piece.surface, piece.latent) if v is not None]


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    _pyplot().close(fig)
    log.debug("wrote %s", path)
    return path


def plot_ir_threshold(piece: PieceAnalysis, path: Path) -> Path:
    """Total IR against the similarity threshold, best threshold marked (paper's figure 5)."""
    plt = _pyplot()
    views = _views(piece)
    fig, axes = plt.subplots(1, len(views), figsize=(5.5 * len(views), 3.6), squeeze=False)
    for ax, view in zip(axes[0], views):
        sweep = view.result.sweep
        ax.plot(sweep.thresholds, sweep.ir_totals, color="#1f77b4", lw=1.5)
        best = sweep.best_index
        ax.axvline(sweep.thresholds[best], color="#d62728", ls="--", lw=1)
        ax.plot([sweep.thresholds[best]], [sweep.ir_totals[best]], "o", color="#d62728",
                label=f"best {sweep.thresholds[best]:.3g}: IR {sweep.ir_totals[best]:.4g}")
        ax.set_xlabel("threshold")
        ax.set_ylabel("total IR (bits)")
        ax.set_title(TITLES[view.name], fontsize=10)
        ax.legend(fontsize=8, loc="best")
    fig.suptitle(f"{piece.name}: information rate vs threshold", fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def plot_ir_time(piece: PieceAnalysis, path: Path) -> Path:
    """IR of each frame at the best threshold, against bars (paper's figure 6)."""
    plt = _pyplot()
    views = _views(piece)
    fig, axes = plt.subplots(len(views), 1, figsize=(10, 2.6 * len(views)), squeeze=False, sharex=True)
    for ax, view in zip(axes[:, 0], views):
        bars = np.arange(view.n_frames) * view.beats_per_frame / piece.beats_per_bar
        if view.name == "latent":
            ax.bar(bars, view.result.ir, width=0.9, align="edge", color="#2ca02c")
        else:
            ax.fill_between(bars, view.result.ir, step="post", color="#1f77b4", alpha=0.8)
        ax.set_ylabel("IR (bits)")
        ax.set_title(f"{TITLES[view.name]}, threshold {view.result.best_threshold:.3g}", fontsize=10)
    axes[-1, 0].set_xlabel("bar")
    axes[-1, 0].set_xlim(0, piece.length_beats / piece.beats_per_bar)
    fig.suptitle(f"{piece.name}: information rate over time", fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def plot_motifs(piece: PieceAnalysis, path: Path) -> Path:
    """The piano roll with the repeated motifs of each view in lanes beneath it (paper's figure 4)."""
    plt = _pyplot()
    from matplotlib.collections import PolyCollection

    views = _views(piece)
    lanes = [(view, k, motif) for view in views for k, motif in enumerate(view.motifs[:MOTIF_LANES])]
    ratios = [3.0, max(0.6, 0.25 * len(lanes))]
    fig, (roll, lane_ax) = plt.subplots(2, 1, figsize=(11, 4.5 + 0.25 * len(lanes)), sharex=True,
                                        gridspec_kw={"height_ratios": ratios})
    bpb = piece.beats_per_bar
    boxes = [[(n.start / bpb, n.pitch - 0.4), ((n.start + n.duration) / bpb, n.pitch - 0.4),
              ((n.start + n.duration) / bpb, n.pitch + 0.4), (n.start / bpb, n.pitch + 0.4)] for n in piece.notes]
    roll.add_collection(PolyCollection(boxes, facecolors="#333333", edgecolors="none"))
    pitches = [n.pitch for n in piece.notes] or [60]
    roll.set_ylim(min(pitches) - 2, max(pitches) + 2)
    roll.set_ylabel("MIDI pitch")
    for index, (view, k, motif) in enumerate(lanes):
        color = COLORS[k % len(COLORS)]
        width = motif.length * view.beats_per_frame / bpb
        label = f"{view.name[0].upper()}{k + 1}"
        for start in motif.starts:
            x = start * view.beats_per_frame / bpb
            lane_ax.broken_barh([(x, width)], (index - 0.4, 0.8), facecolors=color, edgecolors="white",
                                linewidth=0.8, alpha=0.85)
            if k < 3:
                roll.axvspan(x, x + width, color=color, alpha=0.08 if view.name == "surface" else 0.05)
        lane_ax.text(-0.01, index, label, transform=lane_ax.get_yaxis_transform(), ha="right", va="center", fontsize=7)
    lane_ax.set_ylim(max(len(lanes), 1) - 0.5, -0.5)
    lane_ax.set_yticks([])
    lane_ax.set_xlabel("bar")
    if not lanes:
        lane_ax.text(0.5, 0.5, "no repeated motifs at the best threshold", transform=lane_ax.transAxes,
                     ha="center", va="center", fontsize=9)
    roll.set_xlim(0, piece.length_beats / bpb)
    roll.set_title(f"{piece.name}: repeated motifs (S = surface, L = latents; longest coverage first)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def plot_sweep(rows: Sequence[dict[str, Any]], metrics: Sequence[tuple[str, str]], path: Path,
               reference: dict[str, float] | None = None, title: str = "") -> Path:
    """Each metric's mean (with its spread over seeds as error bars) against rate.

    Args:
        rows: one dict per rate with ``rate`` and ``<metric>_mean`` / ``<metric>_std`` keys.
        metrics: (key, label) pairs to plot.
        reference: the query's own value of some metrics, drawn as a dashed line.
    """
    plt = _pyplot()
    cols = 4
    nrows = -(-len(metrics) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 2.7 * nrows), squeeze=False)
    x = np.arange(len(rows))
    labels = [str(r["rate"]) for r in rows]
    for ax, (key, label) in zip(axes.ravel(), metrics):
        mean = np.array([np.nan if r[f"{key}_mean"] is None else r[f"{key}_mean"] for r in rows], dtype=float)
        std = np.array([np.nan if r[f"{key}_std"] is None else r[f"{key}_std"] for r in rows], dtype=float)
        ax.errorbar(x, mean, yerr=np.nan_to_num(std), marker="o", ms=4, capsize=3, lw=1.2)
        if reference and reference.get(key) is not None:
            ax.axhline(reference[key], color="#7f7f7f", ls="--", lw=1, label="query")
            ax.legend(fontsize=7)
        ax.set_title(label, fontsize=9)
        ax.set_xticks(x, labels, rotation=45, fontsize=7)
        ax.set_xlabel("rate (bits/frame)", fontsize=8)
    for ax in axes.ravel()[len(metrics):]:
        ax.set_visible(False)
    fig.suptitle(title or "rate sweep", fontsize=11)
    fig.tight_layout()
    return _save(fig, path)




def plot_frontier(rows: Sequence[dict[str, Any]], path: Path, title: str = "") -> Path:
    """Retained harmony (x) against copy (y), one point per rate joined in dial order.

    Args:
        rows: one dict per rate with ``rate``, ``retained`` and ``copy`` (means; ``None`` skipped).
    Only the user's data: no fixed reference point, since another measurement on other music
    would not be comparable. Up and left: more of the query's notes replayed for less of its
    harmony; down and right: its harmony kept with new notes.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 4.4))
    pts = [(r["retained"], r["copy"], str(r["rate"])) for r in rows
           if r.get("retained") is not None and r.get("copy") is not None]
    if pts:
        xs, ys, labels = zip(*pts)
        ax.plot(xs, ys, "-o", color="#1f77b4", ms=5, lw=1.2, label="qbdi, one point per rate")
        for x, y, text in pts:
            ax.annotate(text, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xlabel("retained harmony (1 = the query's, 0 = the key only)")
    ax.set_ylabel("copy (F1 of the query's notes replayed)")
    ax.set_xlim(-0.05, 1.05)
    top = max([0.3] + [y for _, y, _ in pts]) if pts else 0.3
    ax.set_ylim(-0.02, min(1.02, top + 0.08))
    if pts:
        ax.legend(fontsize=7, loc="upper left")
    else:
        ax.text(0.5, 0.5, "no rate gave both measures", ha="center", va="center", transform=ax.transAxes, fontsize=8)
    ax.set_title(title or "harmony against copy", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
