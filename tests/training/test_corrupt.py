# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import numpy as np
import pytest

from bridge.config import Representation
from bridge.pianoroll import BarGrid, Note, to_frames

torch = pytest.importorskip("torch")
from bridge.training.corrupt import Corruption, corrupt  # noqa: E402

REP = Representation()


def bars(n=8, seed=0):
    """Random bars of whole notes and eighths, MIDI 40..80: ``(n, frame_size)`` float32."""
    rng = np.random.default_rng(seed)
    notes = []
    for b in range(n):
        notes += [Note(int(p), b * 4.0, 4.0) for p in rng.choice(np.arange(48, 72), 3, replace=False)]
        notes += [Note(int(rng.integers(40, 80)), b * 4.0 + k * 0.5, 0.5) for k in range(8)]
    return torch.from_numpy(to_frames(notes, BarGrid(4.0, n, REP)))


def cube(x):
    return x.view(len(x), REP.steps_per_frame, 2, REP.n_pitches)


def test_no_corruption_is_the_identity():
    x = bars()
    assert corrupt(x, Corruption(), REP) is x


def test_jitter_moves_notes_in_time_but_keeps_each_pitch_and_its_length():
    torch.manual_seed(0)
    x = bars()
    y = corrupt(x, Corruption(jitter=3), REP)
    assert y.shape == x.shape and not torch.equal(x, y)
    # per bar and pitch: the same number of sounding and onset cells (a circular shift)
    assert torch.equal(cube(x).sum(1), cube(y).sum(1))


def test_octave_displacement_keeps_pitch_classes():
    torch.manual_seed(1)
    x = bars()
    y = corrupt(x, Corruption(octave=0.9), REP)
    assert not torch.equal(x, y)

    def chroma(t):
        per_pitch = cube(t)[:, :, 0].sum(1)                           # (n, pitches)
        return torch.stack([per_pitch[:, k::12].sum(1) for k in range(12)], 1) > 0

    assert torch.equal(chroma(x), chroma(y))


def test_note_dropout_removes_whole_pitch_rows():
    torch.manual_seed(2)
    x = bars()
    y = corrupt(x, Corruption(note_dropout=0.5), REP)
    kept = cube(y).sum((1, 2)) > 0
    np.testing.assert_array_equal(cube(y)[kept.unsqueeze(1).unsqueeze(1).expand_as(cube(y))].numpy(),
                                  cube(x)[kept.unsqueeze(1).unsqueeze(1).expand_as(cube(x))].numpy())
    assert 0.2 < 1 - kept.sum().item() / (cube(x).sum((1, 2)) > 0).sum().item() < 0.8


def test_same_seed_same_corruption_and_bad_settings_are_named():
    x = bars()
    c = Corruption(note_dropout=0.2, octave=0.3, jitter=2, cell_dropout=0.1)
    torch.manual_seed(5)
    a = corrupt(x, c, REP)
    torch.manual_seed(5)
    assert torch.equal(a, corrupt(x, c, REP))
    for bad, word in ((Corruption(octave=1.0), "octave"), (Corruption(jitter=9), "jitter"),
                      (Corruption(note_dropout=-0.1), "note-dropout")):
        with pytest.raises(ValueError, match=word):
            bad.check()
