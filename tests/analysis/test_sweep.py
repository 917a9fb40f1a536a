# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from synth import Note, progression, song

from bridge.analysis import sweep
from bridge.errors import QbdiError
from bridge.measures.chroma import bar_profiles

QUERY = song(8)


def _key_only(notes, bars=8):
    key = bar_profiles(notes, 4.0, bars).sum(axis=0)
    return [Note(60 + pc, b * 4.0, 4.0 * key[pc] / key.max()) for b in range(bars) for pc in np.flatnonzero(key)]


def fake_improviser(rate, seed):
    """Full rate copies the query, 0 bits keeps only its key, 64 bits keeps the first half."""
    rng = np.random.default_rng(seed)
    if rate is None:
        notes = [n for n in QUERY if rng.random() > 0.05]
    elif rate == 0:
        notes = _key_only(QUERY)
    else:
        notes = [n for n in QUERY if n.start < 16] + [n for n in _key_only(QUERY) if n.start >= 16]
    latents = rng.normal(size=(8, 4)) if rate == 0 else np.tile(np.eye(4), (2, 1)) + 0.01 * rng.normal(size=(8, 4))
    return notes, latents


def test_parse_rates():
    assert sweep.parse_rates("full,1024, 0") == [None, 1024, 0]
    assert sweep.parse_rates(["full", 512]) == [None, 512]
    with pytest.raises(QbdiError):
        sweep.parse_rates("full,lots")
    with pytest.raises(QbdiError):
        sweep.parse_rates(",")


def test_sweep_notes_and_summary():
    rates = [None, 64, 0]
    written = []
    runs = sweep.sweep_notes(QUERY, 4.0, 32.0, rates, [0, 1, 2], fake_improviser,
                             on_output=lambda r, s, notes: written.append((r, s, len(notes))))
    assert len(runs) == 9 and len(written) == 9
    assert {r["rate"] for r in runs} == {"full", "64", "0"}
    rows = sweep.summarize(runs, rates)
    assert [r["rate"] for r in rows] == ["full", "64", "0"] and all(r["n"] == 3 for r in rows)
    retained = [r["retained_mean"] for r in rows]
    assert retained[0] > 0.8 and retained[0] > retained[1] > retained[2] and abs(retained[2]) < 1e-6
    assert rows[0]["agreement_std"] > 0 and rows[2]["agreement_std"] == 0
    assert rows[2]["key_agreement_mean"] == pytest.approx(1.0) and rows[2]["vocabulary_mean"] == 1
    assert rows[0]["ir_latent_mean"] > rows[2]["ir_latent_mean"]  # repeating latents vs noise
    assert all(r["ir_surface_mean"] is not None for r in rows)


def test_table_and_outputs(tmp_path: Path):
    runs = sweep.sweep_notes(QUERY, 4.0, 32.0, [None, 0], [0, 1], fake_improviser)
    rows = sweep.summarize(runs, [None, 0])
    table = sweep.format_table(rows, {"vocabulary": 4, "density": 12.0})
    lines = table.splitlines()
    assert len(lines) == 4 and lines[0].split()[0] == "rate" and lines[1].split()[0] == "query"
    assert "±" in lines[2] and lines[3].split()[0] == "0"
    doc = {"query_name": "q", "query": {"density": 12.0}, "rows": rows, "runs": runs}
    files = sweep.write_outputs(doc, tmp_path)
    assert json.loads((tmp_path / files["json"]).read_text())["rows"] == rows
    with open(tmp_path / files["csv"]) as handle:
        table_rows = list(csv.DictReader(handle))
    assert [r["rate"] for r in table_rows] == ["full", "0"] and "retained_std" in table_rows[0]
    assert (tmp_path / files["plot"]).read_bytes()[:4] == b"\x89PNG"


def test_run_sweep_with_a_small_model(tmp_path: Path, capsys):
    import mido
    from builders import chord_bars, midi_file, tiny_model

    model = tiny_model(tmp_path / "tiny", latent=8, hidden=16)
    query = midi_file(tmp_path / "query.mid", chord_bars() * 1)
    from bridge.config import Settings

    assert sweep.sweep(str(query), "full,0", 2, tmp_path / "out", Settings(model=str(model), seed=7),
                       progress=False) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[0] == "rate" and [line.split()[0] for line in table[1:]] == ["query", "full", "0"]
    doc = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert doc["seeds"] == [7, 8] and len(doc["runs"]) == 4 and doc["model"] == "tiny"
    midis = sorted((tmp_path / "out" / "midi").glob("*.mid"))
    assert [m.name for m in midis] == ["query_rate-0_seed-7.mid", "query_rate-0_seed-8.mid",
                                       "query_rate-full_seed-7.mid", "query_rate-full_seed-8.mid"]
    names = [t.name for t in mido.MidiFile(midis[0]).tracks]
    assert "query" in names and "qbdi rate 0 seed 7" in names
    with pytest.raises(QbdiError):
        sweep.sweep(str(query), "full,0", 0, tmp_path / "out", Settings(model=str(model)), progress=False)


@pytest.mark.slow
def test_retained_harmony_falls_from_full_rate_to_zero_bits(tmp_path: Path):
    """Needs PyTorch (the [train] extra): trains a small model on chord progressions (a few seconds)."""
    pytest.importorskip("torch")
    from builders import midi_file

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    chords = [(0, 4, 7), (9, 0, 4), (5, 9, 0), (7, 11, 2), (2, 5, 9), (4, 7, 11)]
    rng = np.random.default_rng(0)
    for i in range(12):
        order = [chords[j] for j in rng.permutation(len(chords))] + [chords[j] for j in rng.integers(0, 6, 6)]
        midi_file(corpus / f"song{i}.mid", progression(order, bars=12, root=48 + i % 3))
    model = tmp_path / "model"
    env = {**os.environ, "QBDI_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "bridge", "train", str(corpus), "--out", str(model), "--epochs", "60",
                        "--batch-size", "8", "--learning-rate", "3e-3", "--hidden", "64", "--latent", "16",
                        "--heldout", "0.1", "--no-progress"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    query = midi_file(tmp_path / "query.mid", progression([chords[k] for k in (0, 3, 1, 2, 4, 5, 0, 3)], bars=8))
    doc = sweep.run_sweep(query, [None, 0], 3, tmp_path / "out", model=str(model), progress=False, write_midi=False)
    full, zero = (row["retained_mean"] for row in doc["rows"])
    assert full > 0.5 and zero < 0.2 and full > zero + 0.4, doc["rows"]


def test_sweep_averages_over_several_queries_and_draws_the_frontier(tmp_path: Path, capsys):
    from builders import chord_bars, midi_file, tiny_model

    from bridge.config import Settings

    model = tiny_model(tmp_path / "tiny", latent=8, hidden=16)
    a = midi_file(tmp_path / "a.mid", chord_bars())
    moved = [Note(n.pitch + 2, n.start + 16, n.duration) for n in chord_bars()]
    b = midi_file(tmp_path / "b.mid", chord_bars() + moved)
    assert sweep.sweep([str(a), str(b)], "full,0", 2, tmp_path / "out", Settings(model=str(model), seed=1),
                       progress=False, write_midi=False) == 0
    doc = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert doc["query_name"] == "2 queries" and [q["name"] for q in doc["queries"]] == ["a", "b"]
    assert len(doc["runs"]) == 8 and {r["query"] for r in doc["runs"]} == {"a", "b"}
    assert all(row["n"] == 4 for row in doc["rows"]) and "copy_mean" in doc["rows"][0]
    mean_of_each = np.mean([q["rows"][0]["copy_mean"] for q in doc["queries"]])
    assert doc["rows"][0]["copy_mean"] == pytest.approx(mean_of_each, abs=1e-6)
    assert {"full", "mid", "low", "zero", "smooth", "notes_per_bar@dial", "longest_max@all"} <= set(doc["goals"])
    assert "onset steps/bar" in doc["goals"]["onset_steps_per_bar@dial"]["goal"]
    assert all(f"{key}_mean" in doc["rows"][0] for key in ("notes_per_bar", "mean_duration", "groove", "pitch_jump"))
    assert (tmp_path / "out" / "frontier.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(QbdiError, match="share a file name"):
        sweep.run_sweep([a, a], [None], 1, tmp_path / "dup", model=str(model), progress=False, write_midi=False)
