# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import numpy as np
import pytest
from synth import planted

from bridge.analysis import motifs, oracle


def _symbolic(text: str) -> oracle.Oracle:
    return oracle.build(np.array([[float(ord(c))] for c in text]), 0.5)


def _found(text: str, min_length: int = 1) -> set[tuple[int, tuple[int, ...]]]:
    return {(m.length, m.starts) for m in motifs.find_motifs(_symbolic(text), min_length)}


@pytest.mark.parametrize("text, expected", [
    ("abcdXabcdYabcdZ", {(4, (0, 5, 10))}),
    ("ABCDEFGHabcdIJKLabcdMNOPabcdQRST", {(4, (8, 16, 24))}),
    ("xyzabcdQRabcdSTUxyzVW", {(4, (3, 9)), (3, (0, 16))}),
    ("abcdefXYabcdefQQabcd", {(6, (0, 8)), (4, (0, 8, 16)), (1, (14, 15))}),
    ("abcabcXabcabc", {(6, (0, 7)), (3, (0, 3, 7, 10))}),
    ("aaaaaaaa", {(4, (0, 4))}),
    ("abababab", {(4, (0, 4))}),
    ("abcdefgh", set()),
])
def test_motifs_at_the_right_places_and_lengths(text, expected):
    assert _found(text) == expected


def test_min_length_filters_short_motifs():
    assert _found("abcdefXYabcdefQQabcd", min_length=2) == {(6, (0, 8)), (4, (0, 8, 16))}
    assert _found("abcdXabcdYabcdZ", min_length=5) == set()


def test_sorted_by_coverage_and_capped():
    found = motifs.find_motifs(_symbolic("abcdefXYabcdefQQabcd"))
    assert [m.coverage for m in found] == sorted((m.coverage for m in found), reverse=True)
    assert len(motifs.find_motifs(_symbolic("abcdefXYabcdefQQabcd"), max_motifs=1)) == 1


def test_motifs_in_continuous_frames():
    x = planted(200, 6, length=12, starts=(20, 90, 160), noise=0.01, seed=3)
    found = motifs.find_motifs(oracle.build(x, 0.2), min_length=8)
    assert found[0].length == 12 and found[0].starts == (20, 90, 160)


def _overlapping(m: motifs.Motif) -> bool:
    return any(b - a < m.length for a, b in zip(m.starts, m.starts[1:]))


def test_agrees_with_vmo_find_repeated_patterns():
    """Every motif vmo reports (without overlapping occurrences) is ours, with at least its occurrences."""
    pytest.importorskip("vmo")
    rng = np.random.default_rng(0)
    exact = 0
    for _ in range(60):
        seq = list(rng.integers(0, 30, 60))
        motif = list(rng.integers(100, 130, rng.integers(3, 9)))
        for p in sorted(rng.choice(np.arange(0, 55, 10), 3, replace=False))[::-1]:
            seq[p:p] = motif
        o = oracle.build(np.array(seq, float)[:, None], 0.5)
        ours = motifs.find_motifs(o, 2)
        theirs = motifs.vmo_patterns(o, 2)
        exact += {(m.length, m.starts) for m in ours} == {(m.length, m.starts) for m in theirs}
        for ref in theirs:
            if not _overlapping(ref):
                assert any(m.length == ref.length and set(ref.starts) <= set(m.starts) for m in ours), (seq, ref)
        # the planted motif is found in full
        assert any(m.length >= len(motif) and m.count >= 3 for m in ours)
    assert exact >= 45  # identical output on most sequences


def test_motif_dict():
    m = motifs.Motif(4, (0, 8))
    assert m.to_dict() == {"length": 4, "starts": [0, 8], "count": 2} and m.coverage == 8
