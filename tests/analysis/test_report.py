# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import json
from pathlib import Path

import pytest
from synth import planted, song

from bridge.analysis import piece, report


def _pieces():
    a = piece.analyze_piece(song(8), 4.0, name="a")
    a.latent = piece.analyze_latents(planted(8, 6, length=2, starts=(1, 5), seed=0), 4.0)
    b = piece.analyze_piece(song(4, seed=1), 4.0, name="a")
    return [(Path("x/a.mid"), None, a), (Path("y/a.mid"), None, b)]


def test_write_report(tmp_path: Path):
    doc = report.write_report(_pieces(), tmp_path)
    on_disk = json.loads((tmp_path / "analysis.json").read_text())
    assert on_disk == doc and doc["kind"] == "qbdi-analysis" and len(doc["files"]) == 2
    first, second = doc["files"]
    assert first["figures"]["motifs"] == "a/motifs.png" and second["figures"]["motifs"] == "a-2/motifs.png"
    for entry in doc["files"]:
        for rel in entry["figures"].values():
            assert (tmp_path / rel).stat().st_size > 1000
    assert first["latent"]["motifs"] and second["latent"] is None
    page = (tmp_path / "index.html").read_text()
    assert page.count("<img") == 6 and 'src="a-2/ir_time.png"' in page and "not analysed: no model" in page


def test_html_escapes_names():
    doc = {"files": [dict(name="<b>", path="<b>.mid", n_notes=0, n_bars=1, beats_per_bar=4.0, surface=None,
                          latent=None, latent_skipped=None, figures={k: f"{k}.png" for k in report.FIGURES})]}
    page = report.render_html(doc)
    assert "<b>" not in page.split("<h1>")[1] and "&lt;b&gt;" in page


def test_default_model_missing_skips_latents(monkeypatch):
    from bridge.errors import ModelError

    def missing(model):
        raise ModelError("no default model installed")

    monkeypatch.setattr(report, "resolve_model", missing)
    loaded, reason = report._load(None)
    assert loaded is None and "no default model installed" in reason
    with pytest.raises(ModelError):
        report._load("named-model")


def test_run_analyze_on_a_midi_file(tmp_path: Path):
    from builders import midi_file

    path = midi_file(tmp_path / "query.mid", song(8), tempo=100.0, signature=(3, 4))
    doc = report.run_analyze([path], tmp_path / "out", latents=False, progress=False)
    entry = doc["files"][0]
    assert entry["beats_per_bar"] == 3.0 and entry["tempo_bpm"] == pytest.approx(100.0)
    assert entry["time_signature"] == [3, 4] and entry["n_bars"] == 11  # 32 beats of 3/4
    assert entry["latent_skipped"] == "latent view turned off"
    assert (tmp_path / "out" / "query" / "ir_threshold.png").exists()


def test_analyze_with_a_model(tmp_path: Path):
    from builders import midi_file, tiny_model

    model = tiny_model(tmp_path / "tiny", latent=8, hidden=16)
    files = [str(midi_file(tmp_path / f"{name}.mid", song(8, seed=i))) for i, name in enumerate("ab")]
    assert report.analyze(files, tmp_path / "out", model=str(model), progress=False) == 0
    doc = json.loads((tmp_path / "out" / "analysis.json").read_text())
    assert [e["name"] for e in doc["files"]] == ["a", "b"]
    assert all(e["latent"]["n_frames"] == 8 and e["latent"]["metric"] == "cosine" for e in doc["files"])
