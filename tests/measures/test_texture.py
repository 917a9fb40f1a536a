# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import json
import math

import numpy as np
import pytest
from synth import Note, progression, song

from bridge.config import Representation
from bridge.errors import ModelError
from bridge.measures import metrics, texture
from bridge.pianoroll import BarGrid, to_frames

REP = Representation()


def frames_of(notes, bars):
    return to_frames(list(notes), BarGrid(4.0, bars, REP))


def shifted(notes, beats):
    return [Note(n.pitch, n.start + beats, n.duration, n.velocity) for n in notes]


# copy ---------------------------------------------------------------------------------------------

def test_copy_of_the_query_is_one_and_disjoint_notes_are_zero():
    q = song(8)
    assert texture.copy_score(q, list(q)) == 1.0
    assert texture.copy_score(q, [Note(n.pitch + 1, n.start, n.duration) for n in q]) == 0.0


def test_copy_is_zero_when_every_note_moves_one_step():
    q = progression(bars=4)
    assert texture.copy_score(q, shifted(q, 0.25)) == 0.0
    assert texture.copy_score(q, shifted(q, 0.04)) == 1.0  # within the same 16th step


def test_copy_ignores_durations_and_velocities_but_not_onsets():
    q = [Note(60, 0.0, 4.0, 80), Note(64, 1.0, 1.0, 80)]
    assert texture.copy_score(q, [Note(60, 0.0, 0.25, 20), Note(64, 1.0, 3.0, 127)]) == 1.0


def test_copy_is_the_f1_of_onset_pairs():
    q = [Note(60, 0, 1), Note(62, 1, 1), Note(64, 2, 1), Note(65, 3, 1)]
    out = [Note(60, 0, 1), Note(62, 1, 1), Note(67, 2, 1)]       # 2 shared of 4 and 3
    assert texture.copy_score(q, out) == pytest.approx(2 * 2 / (4 + 3))
    assert texture.copy_score([], []) == 1.0 and texture.copy_score(q, []) == 0.0


def test_copy_ignores_output_past_the_end():
    q = progression(bars=2)
    assert texture.copy_score(q, q + shifted(q, 8.0), end_beats=8.0) == 1.0
    assert texture.copy_score(q, q + shifted(q, 8.0)) < 1.0


def test_compare_reports_copy():
    q = song(8)
    assert metrics.compare(q, list(q), 4.0).copy == 1.0
    assert metrics.compare(q, shifted(q, 0.25), 4.0).copy == 0.0


# texture profiles ---------------------------------------------------------------------------------

def test_profile_counts_of_a_bar_built_by_hand():
    notes = [Note(24, 0.0, 4.0), Note(60, 0.0, 1.0), Note(64, 0.0, 1.0), Note(67, 2.0, 0.5)]
    counts = texture.profile_counts(frames_of(notes, 1))
    assert counts.shape == (1, REP.texture_size) == (1, 39)
    onsets, sounding, bands = counts[0, :16], counts[0, 16:32], counts[0, 32:]
    assert onsets.tolist() == [3] + [0] * 7 + [1] + [0] * 7
    assert sounding.tolist() == [3] * 4 + [1] * 4 + [2] * 2 + [1] * 6
    # MIDI 24 sounds 16 steps in band 0; 60, 64 four each and 67 two in band 3 (60-71)
    assert bands.tolist() == [16, 0, 0, 10, 0, 0, 0]


def test_profiles_round_trip_notes_to_frames_to_counts():
    q = song(4)
    counts = texture.profile_counts(frames_of(q, 4))
    per_bar = [sum(1 for n in q if b * 4 <= n.start < b * 4 + 4) for b in range(4)]
    assert counts[:, :16].sum(axis=1).tolist() == per_bar       # every note has one onset
    p = texture.profiles(counts)
    np.testing.assert_allclose(p[:, :32] ** 2, counts[:, :32])
    np.testing.assert_allclose(p[:, 32:] ** 2 * 16, counts[:, 32:])


def test_corpus_likeness_is_zero_for_a_copy_and_one_for_a_corpus_bar():
    q = progression(bars=4)                                          # whole-bar triads
    corpus_bar = [Note(36 + (k % 2) * 7, k * 0.5, 0.5) for k in range(8)]  # an eighth-note bass line
    bank = texture.profile_counts(frames_of(corpus_bar, 1))
    qf = frames_of(q, 4)
    assert texture.corpus_likeness(qf, qf, bank) == 0.0
    out = frames_of([Note(n.pitch, n.start + b * 4, n.duration) for b in range(4) for n in corpus_bar], 4)
    assert texture.corpus_likeness(qf, out, bank) == 1.0
    halfway = texture.corpus_likeness(qf, frames_of(progression(bars=2) + shifted(corpus_bar, 8)
                                                    + shifted(corpus_bar, 12), 4), bank)
    assert halfway == pytest.approx(0.5)


def test_corpus_likeness_edge_cases():
    q = frames_of(progression(bars=2), 2)
    assert math.isnan(texture.corpus_likeness(np.zeros_like(q), q, texture.profile_counts(q)))
    assert math.isnan(texture.corpus_likeness(q, q, np.zeros((0, 39))))
    # output and query bars both equal to a bank bar: equally near, 0.5
    assert texture.corpus_likeness(q, q, texture.profile_counts(q)) == 0.5


def test_compare_reports_texture_only_with_a_bank():
    q = song(4)
    assert metrics.compare(q, q, 4.0).to_dict()["texture"] is None
    bank = texture.profile_counts(frames_of(progression(bars=1), 1))
    assert metrics.compare(q, q, 4.0, bank=bank).texture == 0.0


def test_texture_bank_is_seeded_distinct_and_capped():
    rng = np.random.default_rng(0)
    notes = [Note(int(rng.integers(40, 90)), float(rng.integers(0, 128)) / 4, 0.5) for _ in range(300)]
    frames = frames_of(notes, 32)
    a = texture.texture_bank(frames, np.random.default_rng(3), size=5)
    b = texture.texture_bank(frames, np.random.default_rng(3), size=5)
    assert a.shape == (5, 39) and np.array_equal(a, b)
    assert len(np.unique(a, axis=0)) == 5
    everything = texture.texture_bank(frames, np.random.default_rng(0), size=10_000)
    assert len(everything) == len(np.unique(texture.profile_counts(frames), axis=0))


# the bank in a model folder -----------------------------------------------------------------------

def _with_bank(folder, bank):
    """Re-save a model folder with ``bank`` as its weight file's texture.bank tensor."""
    from safetensors.numpy import load_file

    from bridge.models import TEXTURE_BANK, load_model, save_model

    config = json.loads((folder / "config.json").read_text())
    tensors = load_file(folder / "model.safetensors")
    tensors[TEXTURE_BANK] = np.asarray(bank, dtype=np.float32)
    save_model(folder, tensors, config, "float32")
    return load_model(folder)


def test_a_model_folder_carries_a_checked_texture_bank(tmp_path):
    from builders import tiny_model

    from bridge.models import load_model

    assert load_model(tiny_model(tmp_path / "plain")).texture_bank is None
    model = _with_bank(tiny_model(tmp_path / "good"), [[1] * 39, [0] * 38 + [2]])
    assert model.texture_bank.shape == (2, 39) and model.texture_bank.dtype.kind == "i"
    for bad in ([[1] * 38], [[-1] * 39], [[0.5] * 39], np.zeros((0, 39)), [1] * 39, [[np.nan] * 39]):
        with pytest.raises(ModelError, match="texture.bank"):
            _with_bank(tiny_model(tmp_path / f"bad{len(str(bad))}"), bad)
