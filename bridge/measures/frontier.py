# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The rate dial's frontier: retained harmony against copy, one point per rate (issue 12), with
the texture descriptors beside them (issue 20).

NumPy only. :func:`run` improvises on query files exactly as ``qbdi improvise`` does
(:func:`bridge.improvise.improvise_file`, the given settings with ``rate`` and ``seed`` set) and
measures each output (:func:`bridge.measures.metrics.compare`); :func:`summarize` averages over
queries and seeds per rate; :func:`baselines` measures the trivial improvisers
(:mod:`.baselines`) on the same queries; :func:`check_goals` tests issue 12's harmony goals and
issue 20's texture goals (:func:`.goals.check_texture`) on those means, and
:func:`frontier_score` folds the harmony goals into one number for model selection. The old
``texture`` score (corpus likeness) is still averaged, as a report: it is no goal, since one
whole-bar triad per bar scores higher on it than a pad.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .descriptors import DESCRIPTORS
from .goals import check_texture
from .metrics import compare

log = logging.getLogger(__name__)

DIAL: tuple[int | None, ...] = (None, 512, 256, 128, 64, 32, 16, 8, 4, 0)   # what a user tries, full first
SEEDS = (1, 2)
COLUMNS = ("retained", "copy", "key_agreement", "agreement", "vocabulary", "density", "texture", *DESCRIPTORS)
TABLE = ("retained", "copy", "key_agreement", "notes_per_bar", "onset_steps_per_bar", "mean_duration", "long_share",
         "sixteenth_share", "held_share", "longest_max", "downbeat_share", "groove", "pitch_jump")
GOALS = {
    "full": "full rate: retained >= 0.75 with copy <= 0.25",
    "mid": "some rate: retained >= 0.60 with copy <= 0.15",
    "low": "some rate: retained >= 0.46 with copy <= 0.10",
    "zero": "0 bits: retained <= 0.05 and key agreement >= 0.78",
    "smooth": "no jump of more than 0.2 retained between neighbouring dial steps",
}


def label(rate: int | None) -> str:
    return "full" if rate is None else str(rate)


def run(model: Any, paths: Sequence[str | Path], rates: Sequence[int | None] = DIAL, seeds: Sequence[int] = SEEDS,
        base: Any = None, bank: np.ndarray | None = None) -> list[dict[str, Any]]:
    """One record per (query file, rate, seed): ``{"query", "rate", "seed", <metrics>}``.

    ``base`` is the :class:`bridge.config.Settings` (default: the defaults); ``bank`` the corpus
    texture bank (default: the model's).
    """
    from bridge.config import Settings
    from bridge.improvise import improvise_file

    base = Settings() if base is None else base
    bank = getattr(model, "texture_bank", None) if bank is None else bank
    records = []
    for path in paths:
        for rate in rates:
            for seed in seeds:
                score, result = improvise_file(path, base.replace(rate=rate, seed=seed), model=model)
                bpb = result.settings.beats_per_bar
                m = compare(score.notes, result.notes, bpb, result.grid.n_bars * bpb, bank,
                            model.representation.steps_per_beat)
                records.append({"query": Path(path).stem, "rate": label(rate), "seed": seed, **m.to_dict()})
    return records


def summarize(records: Sequence[dict[str, Any]], rates: Sequence[int | None | str] = DIAL) -> list[dict[str, Any]]:
    """Per rate (in the order given; a string is a row label as it is): the mean of each column over
    queries and seeds, NaNs left out, and ``longest_max``, the longest note of any output."""
    rows = []
    for rate in rates:
        name = rate if isinstance(rate, str) else label(rate)
        mine = [r for r in records if r["rate"] == name]
        row: dict[str, Any] = {"rate": name, "n": len(mine)}
        for key in COLUMNS:
            values = np.array([np.nan if r.get(key) is None else r[key] for r in mine], dtype=float)
            values = values[np.isfinite(values)]
            row[key] = round(float(values.mean()), 4) if values.size else None
            if key == "longest":
                row["longest_max"] = round(float(values.max()), 4) if values.size else None
        rows.append(row)
    return rows


def baselines(paths: Sequence[str | Path], retrieval: tuple[np.ndarray, Sequence] | None = None,
              steps_per_beat: int = 4) -> list[dict[str, Any]]:
    """:func:`summarize` rows (``rate`` = the baseline's name) of block chords, a drone and, given the
    training bars (:attr:`.reference.Reference.training_bars`), corpus chord retrieval, on each
    query's own grid (seed-independent: one output per query)."""
    from bridge.midifile import read_midi

    from .baselines import block_chords, chord_retrieval, drone

    makers = {"block chords": block_chords, "drone": drone}
    if retrieval is not None:
        profiles, bars = retrieval
        makers["corpus retrieval"] = lambda q, bpb, n: chord_retrieval(q, bpb, n, profiles, bars)
    records = []
    for path in paths:
        score = read_midi(path)
        bpb = score.beats_per_bar
        n_bars = max(1, int(np.ceil(score.length_beats / bpb - 1e-9)))
        for name, make in makers.items():
            m = compare(score.notes, make(score.notes, bpb, n_bars), bpb, n_bars * bpb, None, steps_per_beat)
            records.append({"query": Path(path).stem, "rate": name, "seed": 0, **m.to_dict()})
    return summarize(records, list(makers))


def check_goals(rows: Sequence[dict[str, Any]], corpus: dict[str, Any] | None = None,
                relative: bool = False) -> dict[str, dict[str, Any]]:
    """Issue 12's harmony goals and issue 20's texture goals on per-rate means (``rows`` in dial
    order: full first, 0 last). A texture goal (key ``descriptor@scope``, with its text as ``goal``)
    is checked when the rows carry its descriptor; ``corpus`` and ``relative`` scale the thresholds
    to another corpus (:func:`.goals.thresholds`)."""
    by_rate = {r["rate"]: r for r in rows}

    def hits(min_retained: float, max_copy: float) -> dict[str, Any]:
        at = [r["rate"] for r in rows if r["retained"] is not None and r["copy"] is not None
              and r["retained"] >= min_retained and r["copy"] <= max_copy]
        return {"met": bool(at), "at": at}

    full, zero = by_rate.get("full"), by_rate.get("0")
    out: dict[str, dict[str, Any]] = {
        "full": {"met": bool(full and full["retained"] >= 0.75 and full["copy"] <= 0.25),
                 "retained": full and full["retained"], "copy": full and full["copy"]},
        "mid": hits(0.60, 0.15),
        "low": hits(0.46, 0.10),
        "zero": {"met": bool(zero and zero["retained"] <= 0.05 and zero["key_agreement"] >= 0.78),
                 "retained": zero and zero["retained"], "key_agreement": zero and zero["key_agreement"]},
    }
    jumps = _jumps(rows)
    out["smooth"] = {"met": bool(jumps) and max(jumps) <= 0.2, "max_jump": round(max(jumps), 4) if jumps else None}
    for result in check_texture(rows, corpus, relative, label="rate"):
        out[result.pop("key")] = result
    return out


def _jumps(rows: Sequence[dict[str, Any]]) -> list[float]:
    retained = [r["retained"] for r in rows if r["retained"] is not None]
    return [abs(a - b) for a, b in zip(retained, retained[1:])]


def frontier_score(rows: Sequence[dict[str, Any]]) -> float:
    """One number for model selection, higher is better (0 or more: every goal met with margin).

    For each trade-off goal (full rate; 0.60 / 0.15; 0.46 / 0.10), the best over rates of
    ``min(retained - target, 2 (copy target - copy), 0.1)`` (positive only where both hold),
    summed; minus the 0-bit misses (retained above 0.05, key agreement below 0.78) and every
    jump's excess over 0.2.
    """
    def margin(min_retained: float, max_copy: float, pool: Sequence[dict[str, Any]]) -> float:
        return max(min(r["retained"] - min_retained, 2 * (max_copy - r["copy"]), 0.1) for r in pool)

    pool = [r for r in rows if r["retained"] is not None and r["copy"] is not None]
    if not pool:
        return float("-inf")
    full = [r for r in pool if r["rate"] == "full"]
    total = margin(0.75, 0.25, full or pool) + margin(0.60, 0.15, pool) + margin(0.46, 0.10, pool)
    zero = [r for r in pool if r["rate"] == "0"]
    if zero:
        total -= max(0.0, zero[0]["retained"] - 0.05) + max(0.0, 0.78 - (zero[0]["key_agreement"] or 0.0))
    total -= sum(max(0.0, j - 0.2) for j in _jumps(pool))
    return round(total, 4)


def format_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str] = TABLE) -> str:
    """Markdown table, one line per rate (or baseline)."""
    from .goals import HEADERS

    lines = ["| rate | " + " | ".join(HEADERS.get(c, c) for c in columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for row in rows:
        lines.append(f"| {row['rate']} | " + " | ".join(_cell(k, row.get(k)) for k in columns) + " |")
    return "\n".join(lines)


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key.endswith("_share"):
        return f"{100 * value:.0f}%"
    if key in ("density", "notes_per_bar", "onset_steps_per_bar", "longest", "longest_max", "polyphony",
               "pitch_span", "pitch_jump"):
        return f"{value:.1f}"
    if key == "mean_duration":
        return f"{value:.2f}"
    return f"{value:.3f}"


def format_goals(goals: dict[str, dict[str, Any]]) -> str:
    """One line per goal: MET or MISS, with the figures behind it."""
    return "\n".join(f"{'MET ' if g['met'] else 'MISS'} {g.get('goal') or GOALS[k]}: "
                     + ", ".join(f"{a}={b}" for a, b in g.items() if a not in ("met", "goal"))
                     for k, g in goals.items())
