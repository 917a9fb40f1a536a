# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``python -m tools.frontier --model M --queries DIR``: a model's harmony/copy frontier, and the goals.

Evaluates exactly as a user runs ``qbdi improvise``: each query is a MIDI file on disk read by
:func:`bridge.improvise.improvise_file` with the default :class:`bridge.config.Settings` except
``rate`` and ``seed`` (and whatever ``--threshold`` / ``--source`` / ``--sample`` override, for
the search). Per rate, the mean over queries and seeds of retained harmony, copy, key agreement
and the texture descriptors (:func:`bridge.measures.metrics.compare`), printed under the same
measures of the baselines on the same queries (block chords, a drone and, with ``--corpus``,
corpus chord retrieval: :func:`bridge.measures.frontier.baselines`), then issue 12's harmony
goals and issue 20's texture goals checked on those means. ``--json OUT`` writes everything, per
query too. Issue 20's full goal table (two-sample test, corpus copy) is ``tools.texture_goals``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bridge.config import parse_rate
from bridge.errors import QbdiError
from bridge.measures.frontier import (
    DIAL,
    baselines,
    check_goals,
    format_goals,
    format_rows,
    frontier_score,
    run,
    summarize,
)
from bridge.measures.texture import texture_bank
from bridge.models import Model, load_model
from bridge.models.schema import seal

from .heldout import queries
from .options import base_settings

log = logging.getLogger(__name__)


def corpus_bank(corpus: str, model: Model, seed: int = 0) -> np.ndarray:
    """A texture bank from a training corpus (for models trained before banks were recorded)."""
    from bridge.training.corpus import load_corpus

    data = load_corpus(corpus, model.representation)
    rep = model.representation
    return texture_bank(data.frames[data.shift == 0], np.random.default_rng(seed), steps=rep.steps_per_frame,
                        n_pitches=rep.n_pitches)


def write_card(model: Model, split: str, paths: Sequence[Path], seeds: Sequence[int], rows, goals,
               baseline_rows=None) -> None:
    """Record a frontier (and the baselines on the same queries) in the model's data card
    (config.json ``training.frontier.<split>``); the weights and their checksum are untouched."""
    path = Path(model.path) / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    frontier = config.setdefault("training", {}).setdefault("frontier", {})
    frontier[split] = {"queries": [p.stem for p in paths], "seeds": list(seeds),
                       "settings": "qbdi improvise defaults (threshold 0.5, z mean, source empirical)",
                       "rows": rows, "goals": goals, "score": frontier_score(rows)}
    if baseline_rows is not None:
        frontier[split]["baselines"] = baseline_rows
    path.write_text(json.dumps(seal(config), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    log.warning("recorded the %s frontier in %s", split, path)


def per_query(records: Sequence[dict[str, Any]], rate: str) -> list[tuple[str, float, float, float]]:
    """(query, retained, copy, texture) at one rate, mean over seeds."""
    out = []
    for name in sorted({r["query"] for r in records}):
        mine = [r for r in records if r["query"] == name and r["rate"] == rate]
        out.append((name, *(float(np.nanmean([np.nan if r[k] is None else r[k] for r in mine]))
                             for k in ("retained", "copy", "texture"))))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.frontier", description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", required=True, help="model name or folder (repeatable)")
    parser.add_argument("--queries", required=True, help="a query set built by tools.heldout")
    parser.add_argument("--split", default="search", choices=("search", "confirm", "fresh", "all"))
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--rates", default=None, help="dial steps, full first (default: "
                        + ",".join("full" if r is None else str(r) for r in DIAL) + ")")
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--source", default=None)
    parser.add_argument("--allocation", default=None)
    parser.add_argument("--sample", action="store_true")
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--bank-corpus", default=None, help="corpus for the texture bank of a model without one")
    parser.add_argument("--corpus", default=None,
                        help="the training corpus (a MIDI folder or music21:bach): adds the corpus-retrieval baseline")
    parser.add_argument("--per-query", default=None, metavar="RATE", help="also print each query at this rate")
    parser.add_argument("--json", default=None, help="write records, rows and goals here")
    parser.add_argument("--write-card", action="store_true",
                        help="record the rows and goals in each model folder's config.json (training.frontier.SPLIT)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
        rates = DIAL if args.rates is None else tuple(parse_rate(r) for r in args.rates.split(",") if r.strip())
        base = base_settings(args)
        paths = queries(args.queries, args.split)
        if not paths:
            raise QbdiError(f"no queries in {args.queries}/{args.split}; build them with python -m tools.heldout")
    except (ValueError, QbdiError) as exc:
        print(f"frontier: {exc}", file=sys.stderr)
        return 2
    retrieval = None
    if args.corpus:
        from bridge.measures.reference import load_reference

        try:
            retrieval = load_reference(args.corpus).training_bars
        except QbdiError as exc:
            print(f"frontier: {exc}", file=sys.stderr)
            return 2
    baseline_rows = baselines(paths, retrieval)
    report: dict[str, Any] = {"baselines": baseline_rows}
    for name in args.model:
        model = load_model(name)
        bank = model.texture_bank
        if bank is None and args.bank_corpus:
            bank = corpus_bank(args.bank_corpus, model)
        started = time.time()
        records = run(model, paths, rates, seeds, base, bank)
        rows = summarize(records, rates)
        goals = check_goals(rows)
        print(f"## {name} ({args.split}: {len(paths)} queries, seeds {seeds}, {time.time() - started:.0f} s)")
        print(format_rows(baseline_rows + rows))
        print(format_goals(goals))
        print(f"score {frontier_score(rows)}")
        if args.per_query:
            for q, ret, cop, tex in per_query(records, args.per_query):
                print(f"  {q:<24} retained {ret:.3f} copy {cop:.3f} texture {tex:.3f}")
        report[name] = {"rows": rows, "goals": goals, "score": frontier_score(rows), "records": records}
        if args.write_card:
            write_card(model, args.split, paths, seeds, rows, goals, baseline_rows)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, allow_nan=False, default=_nan))
    return 0


def _nan(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


if __name__ == "__main__":
    sys.exit(main())
