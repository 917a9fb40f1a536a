# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The held-out query set's tools: pieces built in code, the split, no corpus music in it."""

import json

import pytest

from tools import heldout, pieces


def test_every_built_style_is_4_4_in_range_deterministic_and_changes_harmony():
    from bridge.measures.chroma import bar_profiles

    for style in pieces.GENERATORS:
        a = pieces.build(style, 3, seed=1)
        assert a == pieces.build(style, 3, seed=1), style
        assert all(24 <= n.pitch <= 101 and n.start >= 0 and n.duration > 0 for n in a), style
        assert max(n.end for n in a) <= 16 * 4 + 1e-9, style
        profiles = bar_profiles(a, 4.0, 16)
        assert len({tuple((p > 0).tolist()) for p in profiles}) >= 3, style   # not one chord throughout


def test_humanized_pieces_move_off_the_grid_a_little():
    plain = pieces.build("alberti", 0, seed=2)
    played = pieces.build("alberti", 0, seed=2, humanized=True)
    assert len(plain) == len(played)
    assert any(abs(n.start * 4 - round(n.start * 4)) > 1e-6 for n in played)


def test_the_set_holds_no_bach_and_no_pop_and_both_splits():
    for e in heldout.EXCERPTS:
        assert "bach" not in e.path.lower(), e.path
    assert {e.split for e in heldout.EXCERPTS} == {b.split for b in heldout.BUILT} == set(heldout.SPLITS)
    names = [e.name for e in heldout.EXCERPTS] + [b.name for b in heldout.BUILT]
    assert len(names) == len(set(names))


def test_build_writes_midi_files_and_a_manifest(tmp_path):
    entries = heldout.build_set(tmp_path, built_only=True)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["queries"] == entries and len(entries) == len(heldout.BUILT)
    search, confirm = heldout.queries(tmp_path, "search"), heldout.queries(tmp_path, "confirm")
    fresh = heldout.queries(tmp_path, "fresh")
    assert search and confirm and fresh and not set(search) & set(confirm) and not set(fresh) & set(search + confirm)
    assert sorted(heldout.queries(tmp_path, "all")) == sorted(search + confirm + fresh)
    from bridge.midifile import read_midi

    score = read_midi(search[0])
    assert score.time_signature == (4, 4) and score.notes


@pytest.mark.slow
def test_score_excerpts_are_re_barred_to_4_4():
    pytest.importorskip("music21")
    rag = next(e for e in heldout.EXCERPTS if e.name == "joplin_maple_leaf")
    notes = heldout.excerpt_notes(rag)
    assert notes and max(n.start for n in notes) < rag.bars * 4
