# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""tools.morph_table: the descriptors it reports, and the table it prints for a pair of files."""

import json

import numpy as np
from builders import A_MINOR, C_MAJOR, F_MAJOR, G_MAJOR, chord_bars, midi_file, tiny_model

from tools import morph_table


def test_descriptors_of_known_bars():
    counts = np.zeros((3, 39), dtype=np.int64)
    counts[0, [0, 4, 8, 12]] = 3           # four chords of three notes, each held four 16ths
    counts[0, 16:32] = 3
    counts[1, 0] = 1                        # one note held the whole bar
    counts[1, 16:32] = 1                    # the third bar is silent: left out
    d = morph_table.descriptors(counts)
    assert d["notes_per_bar"] == (12 + 1) / 2 and d["onset_steps"] == (4 + 1) / 2
    assert d["mean_length"] == (48 + 16) / 13 and d["polyphony"] == (3 + 1) / 2


def test_the_table_moves_from_a_to_b(tmp_path, capsys):
    model = tiny_model(tmp_path / "tiny", sparse=True)
    a = midi_file(tmp_path / "a.mid", chord_bars((C_MAJOR, A_MINOR, F_MAJOR, G_MAJOR)))
    b = midi_file(tmp_path / "b.mid", chord_bars((G_MAJOR, F_MAJOR)))
    out = tmp_path / "t.json"
    assert morph_table.main([str(a), str(b), "--model", str(model), "--steps", "3", "--rates", "full",
                             "--seeds", "1", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "**a -> b, rate full, path slerp**" in printed and "| pop corpus |" in printed
    rows = json.loads(out.read_text())["pairs"][0]["rows"]
    assert [r["t"] for r in rows] == [0.0, 0.5, 1.0]
