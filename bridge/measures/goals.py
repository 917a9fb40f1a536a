# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Issue 20's goal table: texture, two-sample AUC, corpus copy and harmony of any improviser.

A *row* is a set of improvisations (:class:`Output`: a query and what was played on it) measured
together: the mean over outputs of the piece descriptors (:mod:`.descriptors`, on the bars where
the query sounds), of retained harmony, copy and key agreement (:func:`.metrics.compare`), the
two-sample AUC of its bars against the held-out corpus songs' bars (``auc``; :mod:`.twosample`,
grouped by query and by song) and against every corpus song's bars (``auc_all``: the held-out
songs are few -- 7 pop songs, 195 bars -- and alone give the test little power: today's pad
scores 0.89 against them, 0.98 against every song), and corpus copy (:mod:`.corpuscopy`: share
of its bars with onsets that replay a training bar, F1 >= 0.9 in any key). :func:`corpus_row`
measures the held-out songs themselves the same way (its AUC is the half-vs-half calibration).
:func:`check` tests issue 20's goals; :func:`format_table` prints one markdown table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .chroma import NoteLike
from .corpuscopy import COPY_F1, bar_keys, copy_share
from .descriptors import (
    DESCRIPTORS,
    LABELS,
    bar_beats,
    bar_features_view,
    describe_view,
    mean_descriptors,
    sounding_bars,
    view,
)
from .metrics import compare
from .reference import Reference
from .twosample import calibrate, classifier_auc

# the pop corpus as issue 20 measured it (all 126 clips): what the absolute goals were set against
POP_CORPUS = {"notes_per_bar": 17.0, "onset_steps_per_bar": 6.7, "mean_duration": 1.27, "long_share": 0.11,
              "sixteenth_share": 0.05, "held_share": 0.01, "downbeat_share": 0.29, "groove": 0.88,
              "pitch_jump": 1.9}
# (descriptor, ">=" or "<=", threshold, scope): "dial" = every rate from full to 16 bits, "all" = every row
TEXTURE_GOALS = (
    ("notes_per_bar", ">=", 10.0, "dial"), ("onset_steps_per_bar", ">=", 5.0, "dial"),
    ("mean_duration", "<=", 1.9, "dial"), ("long_share", "<=", 0.22, "dial"), ("sixteenth_share", "<=", 0.10, "dial"),
    ("downbeat_share", "<=", 0.39, "dial"), ("groove", ">=", 0.75, "dial"), ("pitch_jump", "<=", 2.9, "dial"),
    ("longest_max", "<=", 8.0, "all"), ("held_share", "<=", 0.02, "all"), ("notes_per_bar", ">=", 10.0, "all"),
)
MAX_AUC = 0.90
MIN_BLOCK_AUC = 0.95
MAX_CORPUS_COPY = 0.30
COLUMNS = (*DESCRIPTORS, "longest_max", "retained", "copy", "key_agreement", "auc", "auc_all", "corpus_copy",
           "corpus_f1", "seeds_differ")
HEADERS = {**LABELS, "longest_max": "longest anywhere", "retained": "retained", "copy": "copy",
           "key_agreement": "key cos", "auc": "AUC held-out", "auc_all": "AUC all songs",
           "corpus_copy": "corpus copy", "corpus_f1": "corpus F1", "seeds_differ": "seeds differ"}


@dataclass(frozen=True)
class Output:
    """One improvisation: its query's notes and grid, and the notes played (times in beats).

    ``free``: played without a query (``--free``): every bar is measured, and there is no
    harmony to compare; ``query`` then only names its group for the two-sample test.
    """

    query: str
    query_notes: Sequence[NoteLike]
    notes: Sequence[NoteLike]
    beats_per_bar: float
    n_bars: int
    steps_per_beat: int = 4
    free: bool = False


def _grid(o: Output) -> tuple[float, int]:
    """The measuring grid: bars of at most 4 beats covering the query's bars."""
    bpb = bar_beats(o.beats_per_bar)
    return bpb, max(1, math.ceil(o.n_bars * o.beats_per_bar / bpb - 1e-9))


def _mean(values: Sequence[float]) -> float:
    a = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    a = a[np.isfinite(a)]
    return float(a.mean()) if a.size else math.nan


def seeds_differ(outputs: Sequence[Output]) -> float:
    """Share of the queries with several outputs (seeds) whose outputs are all different; NaN
    when no query has two."""
    by: dict[str, list[tuple]] = {}
    for o in outputs:
        notes = sorted((int(n.pitch), round(float(n.start), 6), round(float(n.duration), 6)) for n in o.notes)
        by.setdefault(o.query, []).append(tuple(notes))
    several = [v for v in by.values() if len(v) > 1]
    return sum(len(set(v)) == len(v) for v in several) / len(several) if several else math.nan


def measure(name: str, outputs: Sequence[Output], ref: Reference, method: str = "logistic",
            seed: int = 0) -> dict[str, Any]:
    """One row: every column of :data:`COLUMNS` (means over ``outputs``) plus ``n`` and ``bars``."""
    descs, harmony, feats, groups, keys = [], [], [], [], []
    for o in outputs:
        bpb, n_bars = _grid(o)
        v = view(o.notes, bpb, n_bars, o.steps_per_beat)
        keep = np.ones(n_bars, dtype=bool) if o.free else sounding_bars(view(o.query_notes, bpb, n_bars,
                                                                             o.steps_per_beat))
        descs.append(describe_view(v, keep))
        if not o.free:
            harmony.append(compare(o.query_notes, o.notes, o.beats_per_bar, o.n_bars * o.beats_per_bar,
                                   steps_per_beat=o.steps_per_beat))
        feats.append(bar_features_view(v)[keep])
        groups += [o.query] * int(keep.sum())
        bar_k = bar_keys(v.pitch, v.step, v.bar, v.n_bars)
        keys += [k for k, kept in zip(bar_k, keep) if kept and len(k)]
    row: dict[str, Any] = {"row": name, "n": len(outputs)}
    row.update(mean_descriptors(descs))
    row["retained"] = _mean([m.retained for m in harmony])
    row["copy"] = _mean([m.copy for m in harmony])
    row["key_agreement"] = _mean([m.key_agreement for m in harmony])
    held_x, held_g = ref.bar_features(heldout=True)
    x = np.concatenate(feats) if feats else np.zeros((0, held_x.shape[1]))
    test = classifier_auc(x, np.array(groups), held_x, held_g, seed=seed, method=method)
    row["auc"] = test.auc
    all_x, all_g = ref.all_bar_features
    row["auc_all"] = classifier_auc(x, np.array(groups), all_x, all_g, seed=seed, method=method).auc
    row["bars"] = len(x)
    f1 = ref.copy_index.best_f1(keys)
    row["corpus_copy"] = copy_share(f1, COPY_F1)
    row["corpus_f1"] = float(f1.mean()) if f1.size else math.nan
    row["seeds_differ"] = seeds_differ(outputs)
    return row


def corpus_row(ref: Reference, method: str = "logistic", seed: int = 0, repeats: int = 10) -> dict[str, Any]:
    """The held-out songs measured as a row (no harmony); ``auc`` is the half-vs-half calibration's
    mean, with ``auc_std``, ``auc_min``, ``auc_max`` beside it, and ``auc_all`` (the same on every
    song, training songs included: more songs, a tighter spread). Descriptors: the held-out songs."""
    row: dict[str, Any] = {"row": "corpus (held-out songs)", "n": len(ref.pieces(True))}
    row.update(mean_descriptors(ref.held_descriptors))
    row.update({"retained": math.nan, "copy": math.nan, "key_agreement": math.nan})
    x, g = ref.bar_features(heldout=True)
    cal = calibrate(x, g, repeats, seed, method)
    row.update({"auc": cal["mean"], "auc_std": cal["std"], "auc_min": cal["min"], "auc_max": cal["max"]})
    cal_all = calibrate(*ref.all_bar_features, repeats, seed, method)
    row.update({"auc_all": cal_all["mean"], "auc_all_std": cal_all["std"]})
    row["bars"] = len(x)
    f1 = ref.copy_index.best_f1(ref.bar_keys(heldout=True))
    row["corpus_copy"] = copy_share(f1, COPY_F1)
    row["corpus_f1"] = float(f1.mean()) if f1.size else math.nan
    return row


def thresholds(corpus: dict[str, Any] | None = None, relative: bool = False) -> list[tuple[str, str, float, str]]:
    """:data:`TEXTURE_GOALS`, or with ``relative`` each threshold moved by the corpus's difference
    from the pop corpus: ``threshold + corpus[key] - POP_CORPUS[key]`` (the same margin from its
    own corpus that pop's goals allow from pop's; a ratio would make a share the corpus never
    shows, such as Bach's notes > 4 beats, a goal of zero). ``longest_max`` stays absolute."""
    if not relative or corpus is None:
        return list(TEXTURE_GOALS)
    out = []
    for key, op, value, scope in TEXTURE_GOALS:
        if key in POP_CORPUS and corpus.get(key) is not None and math.isfinite(corpus[key]):
            value = round(max(value + corpus[key] - POP_CORPUS[key], 0.0), 3)
        out.append((key, op, value, scope))
    return out


def _rate_of(label: str) -> int | None | str:
    if label == "full":
        return None
    try:
        return int(label)
    except ValueError:
        return "other"


def _fine(v: Any) -> bool:
    return v is not None and isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_texture(rows: Sequence[dict[str, Any]], corpus: dict[str, Any] | None = None, relative: bool = False,
                  label: str = "row") -> list[dict[str, Any]]:
    """Issue 20's texture goals (:func:`thresholds`) on per-rate rows (``rows[i][label]`` = "full" or
    a rate in bits; other labels count as full-rate rows). Each result: ``key`` (descriptor@scope),
    ``goal``, ``met``, ``value`` (the worst among the rows in scope) and ``at`` (its row). A goal
    whose descriptor no row carries is left out (rows measured before issue 20)."""
    out = []
    for key, op, value, scope in thresholds(corpus, relative):
        if not any(r.get(key) is not None for r in rows):
            continue
        pool = [r for r in rows if scope == "all" or _rate_of(r[label]) in (None, "other")
                or (isinstance(_rate_of(r[label]), int) and _rate_of(r[label]) >= 16)]
        vals = [(r.get(key), r[label]) for r in pool]
        text = f"{HEADERS.get(key, key)} {op} {value:g} ({'every rate' if scope == 'all' else 'full..16 bits'})"
        bad = [(v, at) for v, at in vals if not _fine(v)]
        if not pool:
            worst: tuple[Any, Any] = (None, None)
        else:
            worst = bad[0] if bad else (min(vals) if op == ">=" else max(vals))
        met = bool(pool) and not bad and all((v >= value) if op == ">=" else (v <= value) for v, _ in vals)
        out.append({"key": f"{key}@{scope}", "goal": text, "met": met, "value": worst[0], "at": worst[1]})
    return out


def check(model_rows: Sequence[dict[str, Any]], baseline_rows: Sequence[dict[str, Any]] = (),
          corpus: dict[str, Any] | None = None, relative: bool = False) -> list[dict[str, Any]]:
    """Issue 20's goals on the model's rows (``row`` = "full" or a rate in bits; other labels count
    as full-rate rows), in the order given: the texture goals (:func:`check_texture`), the
    two-sample test, corpus copy and harmony. Each result: ``goal``, ``met``, ``value`` (the worst
    value among the rows in scope, or the figure tested) and ``at`` (where it was worst or met)."""
    fine = _fine
    out = check_texture(model_rows, corpus, relative)
    by = {r["row"]: r for r in model_rows}
    full = by.get("full") or (model_rows[0] if model_rows else None)
    aucs = (full.get("auc"), full.get("auc_all")) if full else (None, None)
    out.append({"goal": f"two-sample AUC <= {MAX_AUC:g} at full rate (against held-out songs and every song)",
                "met": all(fine(a) and a <= MAX_AUC for a in aucs), "value": aucs, "at": full and full["row"]})
    block = next((r for r in baseline_rows if r["row"] == "block chords"), None)
    if block is not None:
        aucs = (block.get("auc"), block.get("auc_all"))
        out.append({"goal": f"block chords AUC >= {MIN_BLOCK_AUC:g} (the test can see texture)",
                    "met": all(fine(a) and a >= MIN_BLOCK_AUC for a in aucs), "value": aucs,
                    "at": "block chords"})
    copies = [(r["corpus_copy"], r["row"]) for r in model_rows]
    worst = max(copies, key=lambda c: c[0] if fine(c[0]) else math.inf) if copies else (None, None)
    out.append({"goal": f"corpus copy <= {MAX_CORPUS_COPY:.0%} of bars at every rate",
                "met": bool(copies) and all(fine(c) and c <= MAX_CORPUS_COPY for c, _ in copies),
                "value": worst[0], "at": worst[1]})
    differ = [(r.get("seeds_differ"), r["row"]) for r in model_rows if _fine(r.get("seeds_differ"))]
    if differ:
        worst = min(differ)
        out.append({"goal": "every seed a different improvisation at every rate (Re-roll does something)",
                    "met": worst[0] >= 1.0, "value": worst[0], "at": worst[1]})
    out.append({"goal": "full rate: retained >= 0.75 with copy <= 0.25",
                "met": bool(full) and fine(full["retained"]) and full["retained"] >= 0.75 and full["copy"] <= 0.25,
                "value": full and (full["retained"], full["copy"]), "at": full and full["row"]})
    hits = [r["row"] for r in model_rows if fine(r["retained"]) and fine(r["copy"])
            and r["retained"] >= 0.46 and r["copy"] <= 0.13]
    out.append({"goal": "some rate: retained >= 0.46 with copy <= 0.13", "met": bool(hits), "value": None,
                "at": hits or None})
    zero = by.get("0")
    out.append({"goal": "0 bits: retained <= 0.05 and key cos >= 0.78",
                "met": bool(zero) and fine(zero["retained"]) and zero["retained"] <= 0.05
                and fine(zero["key_agreement"]) and zero["key_agreement"] >= 0.78,
                "value": zero and (zero["retained"], zero["key_agreement"]), "at": zero and "0"})
    dial = [r for r in model_rows if _rate_of(r["row"]) != "other" and fine(r["retained"])]
    jumps = [abs(a["retained"] - b["retained"]) for a, b in zip(dial, dial[1:])]
    out.append({"goal": "no jump > 0.2 retained between neighbouring rates measured",
                "met": bool(jumps) and max(jumps) <= 0.2, "value": max(jumps) if jumps else None, "at": None})
    return out


def _cell(key: str, v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if key in ("long_share", "sixteenth_share", "held_share", "downbeat_share", "corpus_copy"):
        return f"{100 * v:.0f}%"
    if key in ("notes_per_bar", "onset_steps_per_bar", "longest", "longest_max", "polyphony", "pitch_span",
               "pitch_jump"):
        return f"{v:.1f}"
    return f"{v:.2f}"


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] = COLUMNS) -> str:
    """Markdown table, one line per row."""
    lines = ["| | " + " | ".join(HEADERS.get(c, c) for c in columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for r in rows:
        lines.append(f"| {r['row']} | " + " | ".join(_cell(c, r.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def format_goals(results: Sequence[dict[str, Any]]) -> str:
    """One line per goal: PASS or FAIL, the value tested and where."""
    def show(v: Any) -> str:
        if isinstance(v, tuple):
            return ", ".join(show(x) for x in v)
        if isinstance(v, float):
            return f"{v:.3f}"
        return str(v)

    return "\n".join(f"{'PASS' if g['met'] else 'FAIL'} {g['goal']}: {show(g['value'])}"
                     + (f" ({show(g['at'])})" if g.get("at") not in (None, []) else "") for g in results)
