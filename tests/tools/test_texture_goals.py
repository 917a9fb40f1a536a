# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""tools.texture_goals (issue 20's goal table) end to end: a MIDI corpus, queries and a model built
in code, run as a real subprocess; then the same improvisations read back from a folder."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from builders import midi_file, performance, tiny_model

from bridge.measures.reference import heldout_mask, load_reference
from tools import pieces

ROOT = Path(__file__).resolve().parents[2]


def run_tool(*args, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "QBDI_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tools.texture_goals", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("goals")
    corpus = base / "corpus"
    corpus.mkdir()
    for i in range(12):
        for part in ("Verse", "Chorus"):
            midi_file(corpus / f"Song {i} - {part}.mid", performance(8, seed=10 * i + len(part)))
    queries = base / "queries"
    queries.mkdir()
    for style, tonic, seed in (("alberti", 2, 1), ("hymn", 7, 2), ("stride", 5, 3)):
        midi_file(queries / f"{style}.mid", pieces.build(style, tonic, seed, bars=8))
    model = tiny_model(base / "tiny", sparse=True)
    return base, corpus, queries, model


def test_the_table_for_a_model_and_the_same_outputs_read_back(world):
    base, corpus, queries, model = world
    common = ["--queries", queries, "--corpus", corpus, "--heldout", "0.25", "--rates", "full,0", "--seeds", "1,2"]
    first = run_tool("--model", model, *common, "--free", "--save", base / "saved", "--json", base / "a.json",
                     cache=base)
    assert first.returncode == 0, first.stderr
    assert "| block chords |" in first.stdout and "| corpus retrieval |" in first.stdout
    assert "two-sample AUC <= 0.9" in first.stdout
    a = json.loads((base / "a.json").read_text())
    assert [r["row"] for r in a["rows"]] == ["full", "0", "free"]
    assert a["rows"][2]["retained"] is None and a["rows"][2]["notes_per_bar"] > 0     # no query: no harmony
    assert a["rows"][0]["seeds_differ"] in (0.0, 1 / 3, 2 / 3, 1.0) and a["rows"][2]["seeds_differ"] == 1.0
    assert [r["row"] for r in a["baselines"]] == ["block chords", "drone", "corpus retrieval"]
    assert all(r["n"] == 6 for r in a["rows"])                     # 3 queries x 2 seeds
    names = sorted(p.name for p in corpus.glob("*.mid"))
    assert a["corpus"]["n"] == int(heldout_mask(names, 0.25, 0).sum()) == 6   # three songs, two sections each
    by = {r["row"]: r for r in a["baselines"]}
    assert by["corpus retrieval"]["corpus_copy"] == 1.0                # training bars, replayed
    assert by["block chords"]["auc"] > 0.9 and by["block chords"]["notes_per_bar"] == 3.0
    assert by["drone"]["longest_max"] == 32.0
    goals = {g["goal"].split(" (")[0] for g in a["goals"]}
    assert goals >= {"notes/bar >= 10", "corpus copy <= 30% of bars at every rate",
                     "every seed a different improvisation at every rate"}
    assert len(list((base / "saved" / "full").glob("*.mid"))) == 6

    second = run_tool("--outputs", base / "saved", *common, "--json", base / "b.json", "--rolls", base / "rolls",
                      cache=base)
    assert second.returncode == 0, second.stderr
    assert sorted(p.name for p in (base / "rolls").iterdir()) == ["alberti.png", "hymn.png", "stride.png"]
    assert (base / "rolls" / "hymn.png").read_bytes()[:4] == b"\x89PNG"
    b = json.loads((base / "b.json").read_text())
    assert [r["row"] for r in b["rows"]] == ["full", "0", "free"]
    for ra, rb in zip(a["rows"], b["rows"]):
        for key in ("notes_per_bar", "mean_duration", "groove", "retained", "copy", "corpus_copy", "auc",
                    "seeds_differ"):
            assert rb[key] == pytest.approx(ra[key], abs=1e-9, nan_ok=True), key


def test_bad_input_is_one_line_and_exit_2(world):
    base, corpus, queries, model = world
    both = run_tool("--queries", queries, "--corpus", corpus, cache=base)
    assert both.returncode == 2 and both.stderr.count("\n") == 1 and "--model" in both.stderr
    stray = base / "stray" / "full"
    stray.mkdir(parents=True)
    midi_file(stray / "nocturne.mid", pieces.build("hymn", 0, 1, bars=2))
    unknown = run_tool("--outputs", base / "stray", "--queries", queries, "--corpus", corpus, cache=base)
    assert unknown.returncode == 2 and "names no query" in unknown.stderr


def test_the_reference_splits_songs_as_training_does(world):
    from bridge.training.corpus import load_corpus, piece_group, split_by_piece

    base, corpus, _, _ = world
    ref = load_reference(str(corpus), 0.25, 0, cache_dir=base)
    frames = load_corpus(str(corpus), cache_dir=base)
    _, held = split_by_piece(frames, 0.25, 0)
    held_names = {frames.names[i] for i in set(frames.piece[held].tolist())}
    assert {ref.names[i] for i in ref.pieces(True)} == held_names
    assert not {piece_group(n) for n in held_names} & {ref.group(i) for i in ref.pieces(False)}
