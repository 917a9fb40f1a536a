# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import numpy as np
import pytest
from builders import chord_bars, tiny_model

from bridge.config import Settings
from bridge.errors import QbdiError
from bridge.improvise import free_improvise, improvise
from bridge.models import load_model
from bridge.pianoroll import Note


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return load_model(tiny_model(tmp_path_factory.mktemp("m") / "tiny", predictor=8))


def key(notes):
    return [(n.pitch, n.start, n.duration, n.velocity) for n in notes]


@pytest.mark.parametrize("settings", [
    Settings(seed=5),
    Settings(seed=5, rate=16, z="sample"),
    Settings(seed=5, rate=8, sampling="sample", temperature=0.7, allocation="frame"),
    Settings(seed=5, rate=8, source="empirical", structure="lock", continue_bars=2),
])
def test_same_seed_same_notes(model, settings):
    query = chord_bars()
    a = improvise(model, query, settings)
    b = improvise(model, query, settings)
    assert key(a.notes) == key(b.notes) and np.array_equal(a.latents, b.latents)


def test_another_seed_another_output(model):
    query = chord_bars()
    runs = [improvise(model, query, Settings(seed=s, rate=8, sampling="sample")) for s in (1, 2)]
    assert key(runs[0].notes) != key(runs[1].notes)


def test_zero_rate_sends_one_latent_for_every_bar(model):
    result = improvise(model, chord_bars(), Settings(rate=0))
    assert np.allclose(result.latents, result.latents[0])
    assert result.bits.sum() == 0
    assert np.allclose(result.latents[0], result.query_latents.mean(0), atol=1e-6)


def test_full_rate_decodes_the_encoder_means(model):
    result = improvise(model, chord_bars(), Settings())
    assert result.bits is None and np.allclose(result.latents, result.query_latents)


def test_output_keeps_length_grid_and_query_dynamics(model):
    query = [Note(n.pitch, n.start, n.duration, 40 if n.start < 8 else 110) for n in chord_bars()]
    result = improvise(model, query, Settings(threshold=0.3), beats_per_bar=4, length_beats=20)
    assert result.grid.n_bars == 5
    assert all(n.start >= 0 and n.end <= 20 for n in result.notes)
    soft = [n.velocity for n in result.notes if n.start < 8]
    loud = [n.velocity for n in result.notes if 8 <= n.start < 16]
    assert soft and loud and max(soft) < min(loud)
    assert len({n.velocity for n in result.notes}) > 1


def test_three_four_query_stays_in_three_four(model):
    result = improvise(model, chord_bars(beats_per_bar=3.0), Settings(threshold=0.3), beats_per_bar=3)
    assert result.grid.n_bars == 4 and result.settings.beats_per_bar == 3
    assert all(n.end <= 12 for n in result.notes)


def _onsets(notes, bar):
    # notes struck inside the bar (a note sounding over the bar line may merge with the one before)
    return sorted((n.pitch, n.start - 4 * bar) for n in notes if 4 * bar < n.start < 4 * (bar + 1))


def test_structure_lock_repeats_where_the_query_repeats(model):
    chords = [(60, 64, 67), (57, 60, 64), (60, 64, 67), (57, 60, 64)]
    query = chord_bars(chords)
    settings = Settings(rate=6, sampling="sample", seed=3, structure="lock")
    out = improvise(model, query, settings)
    assert np.array_equal(out.latents[0], out.latents[2]) and np.array_equal(out.latents[1], out.latents[3])
    assert _onsets(out.notes, 0) == _onsets(out.notes, 2) and _onsets(out.notes, 1) == _onsets(out.notes, 3)
    free = improvise(model, query, settings.replace(structure="free"))
    assert not np.array_equal(free.latents[0], free.latents[2])
    assert _onsets(free.notes, 0) != _onsets(free.notes, 2)


def test_continue_adds_bars(model):
    out = improvise(model, chord_bars(), Settings(continue_bars=3, threshold=0.3))
    assert out.grid.n_bars == 7 and out.latents.shape[0] == 7


def test_free_improvisation(model):
    out = free_improvise(model, Settings(bars=3, seed=1, threshold=0.3))
    again = free_improvise(model, Settings(bars=3, seed=1, threshold=0.3))
    assert out.grid.n_bars == 3 and key(out.notes) == key(again.notes)


def test_bad_queries_raise_clear_errors(model):
    with pytest.raises(QbdiError, match="no notes"):
        improvise(model, [], Settings())
    with pytest.raises(QbdiError, match="limit"):
        improvise(model, [Note(60, 4 * 600, 1)], Settings())
    with pytest.raises(QbdiError, match="start"):
        improvise(model, [Note(60, float("nan"), 1)], Settings())
    with pytest.raises(QbdiError, match="rate"):
        Settings(rate=-3)


def test_huge_requests_are_refused_before_they_fill_memory(model):
    from bridge.improvise import MAX_FRAMES

    with pytest.raises(QbdiError, match="frames"):
        improvise(model, [Note(60, 0, 1)], Settings(continue_bars=512, beats_per_bar=32.0), length_beats=32 * 300)
    with pytest.raises(QbdiError, match="frames"):
        free_improvise(model, Settings(bars=512, beats_per_bar=32.0))
    with pytest.raises(QbdiError, match="notes; the limit") as err:
        free_improvise(model, Settings(bars=MAX_FRAMES // 2, threshold=0.01))
    assert err.value.code == "too_large"
