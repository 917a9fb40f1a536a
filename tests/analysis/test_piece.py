# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import json

import numpy as np
import pytest
from synth import planted, song

from bridge.analysis import piece


def test_surface_analysis_of_a_song():
    notes = song(16)
    result = piece.analyze_piece(notes, 4.0, name="song")
    assert result.latent is None and result.latent_skipped == "no model"
    surface = result.surface
    assert surface.n_frames == 16 * 16 and surface.beats_per_frame == 0.25
    assert surface.ir_total > 0
    assert surface.motifs and all(m.length >= 8 for m in surface.motifs)  # half a bar at least
    doc = result.to_dict()
    json.dumps(doc, allow_nan=False)
    assert doc["n_bars"] == 16 and doc["surface"]["best_threshold"] == pytest.approx(surface.result.best_threshold)
    assert len(doc["surface"]["ir_over_time"]) == 256
    first = doc["surface"]["motifs"][0]
    assert first["start_beats"] == [s / 4 for s in first["starts"]]


def test_length_beats_pads_the_surface():
    result = piece.analyze_surface(song(2), 4.0, length_beats=16.0, min_motif_beats=0)
    assert result.n_frames == 64 and result.motifs == []


def test_silence_is_no_motif():
    assert piece.analyze_surface([], 4.0, length_beats=16.0).motifs == []


def test_latent_view_finds_repeated_bars():
    latents = planted(32, 16, length=8, starts=(0, 8, 20), noise=0.01, seed=1)
    view = piece.analyze_latents(latents, 4.0)
    assert view.name == "latent" and view.metric == "cosine" and view.beats_per_frame == 4.0
    assert [(m.length, m.starts) for m in view.motifs] == [(8, (0, 8, 20))]
    assert view.to_dict()["motifs"][0]["length_beats"] == 32.0


class FakeModel:
    class representation:
        steps_per_beat = 4


def test_latent_view_with_a_model(monkeypatch):
    latents = planted(8, 5, length=2, starts=(1, 5), seed=2)
    monkeypatch.setattr(piece, "encode_bars", lambda *args: latents)
    result = piece.analyze_piece(song(8), 4.0, model=FakeModel())
    assert result.latent is not None and result.latent.n_frames == 8


def test_a_one_bar_piece_skips_the_latent_view(monkeypatch):
    monkeypatch.setattr(piece, "encode_bars", lambda *args: np.ones((1, 5)))
    result = piece.analyze_piece(song(1), 4.0, model=FakeModel())
    assert result.latent is None and "too short" in result.latent_skipped


def test_bar_means():
    z = np.arange(12.0).reshape(6, 2)
    np.testing.assert_array_equal(piece.bar_means(z, 1), z)
    np.testing.assert_array_equal(piece.bar_means(z, 2), [[1, 2], [5, 6], [9, 10]])


def test_encode_bars_with_a_model(tmp_path):
    from builders import tiny_model

    from bridge.models import load_model

    model = load_model(tiny_model(tmp_path / "tiny", latent=6))
    mu = piece.encode_bars(model, song(4), 4.0)
    assert mu.shape == (4, 6) and mu.dtype == np.float64
    assert piece.encode_bars(model, song(4), 4.0, length_beats=24.0).shape == (6, 6)
    assert piece.encode_bars(model, song(4), 8.0).shape == (2, 6)  # an 8-beat bar spans two frames
    result = piece.analyze_piece(song(4), 4.0, model=model)
    assert result.latent is not None and result.latent.n_frames == 4
