# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import pytest

from bridge.measures import frontier


def rows(points, key=0.9):
    """(rate, retained, copy) triples -> summary rows."""
    return [{"rate": r, "retained": ret, "copy": cop, "key_agreement": key, "texture": 0.6} for r, ret, cop in points]


GOOD = rows([("full", 0.80, 0.22), ("512", 0.78, 0.20), ("256", 0.74, 0.18), ("128", 0.68, 0.16), ("64", 0.62, 0.14),
             ("32", 0.55, 0.12), ("16", 0.48, 0.09), ("8", 0.35, 0.07), ("4", 0.18, 0.06), ("0", 0.0, 0.05)])


def test_goals_met_by_a_smooth_frontier():
    goals = frontier.check_goals(GOOD)
    assert all(g["met"] for g in goals.values()), goals
    assert goals["mid"]["at"] == ["64"] and goals["low"]["at"] == ["16"]
    assert goals["smooth"]["max_jump"] == pytest.approx(0.18)
    assert frontier.frontier_score(GOOD) > 0


def test_each_goal_can_fail_on_its_own():
    copying = [dict(r, copy=r["copy"] + 0.2) for r in GOOD]
    goals = frontier.check_goals(copying)
    assert not goals["full"]["met"] and not goals["mid"]["met"] and not goals["low"]["met"]
    assert goals["zero"]["met"] and goals["smooth"]["met"]
    jumpy = [dict(r, retained=0.4) if r["rate"] == "4" else r for r in GOOD]
    assert not frontier.check_goals(jumpy)["smooth"]["met"]
    keyless = rows([(r["rate"], r["retained"], r["copy"]) for r in GOOD], key=0.7)
    assert not frontier.check_goals(keyless)["zero"]["met"]
    assert frontier.frontier_score(copying) < frontier.frontier_score(GOOD)
    assert frontier.frontier_score(jumpy) < frontier.frontier_score(GOOD)


def test_summarize_averages_over_queries_and_seeds_in_dial_order():
    records = [{"query": q, "rate": rate, "seed": s, "retained": 1.0 if rate == "full" else 0.0, "copy": 0.1 * s,
                "texture": None, "key_agreement": 1.0, "agreement": 1.0, "vocabulary": 2, "density": 3.0}
               for q in "ab" for rate in ("0", "full") for s in (1, 2)]
    out = frontier.summarize(records, [None, 0])
    assert [r["rate"] for r in out] == ["full", "0"] and out[0]["n"] == 4
    assert out[0]["retained"] == 1.0 and out[1]["copy"] == pytest.approx(0.15) and out[0]["texture"] is None
    table = frontier.format_rows(out)
    assert table.splitlines()[2].startswith("| full | 1.000 | 0.150 | 1.000 | - |")
    assert "MET " in frontier.format_goals(frontier.check_goals(out))
    assert not any("@" in key for key in frontier.check_goals(out))      # no descriptors measured: no texture goal


def test_texture_goals_on_the_descriptors_and_longest_note_anywhere():
    records = [{"query": "a", "rate": rate, "seed": s, "retained": 0.5, "copy": 0.1, "key_agreement": 0.9,
                "notes_per_bar": 12.0 if rate == "full" else 4.0, "onset_steps_per_bar": 6.0, "mean_duration": 1.0,
                "long_share": 0.1, "sixteenth_share": 0.05, "held_share": 0.0, "longest": 2.0 + s + (rate == "0") * 30,
                "downbeat_share": 0.3, "groove": 0.8, "pitch_jump": 2.0}
               for rate in ("full", "64", "0") for s in (1, 2)]
    rows = frontier.summarize(records, [None, 64, 0])
    assert [r["longest_max"] for r in rows] == [4.0, 4.0, 34.0] and rows[0]["longest"] == 3.5
    goals = frontier.check_goals(rows)
    assert goals["onset_steps_per_bar@dial"]["met"] and goals["groove@dial"]["met"]
    assert not goals["notes_per_bar@dial"]["met"] and goals["notes_per_bar@dial"]["at"] == "64"
    assert not goals["longest_max@all"]["met"] and goals["longest_max@all"]["value"] == 34.0
    assert "MISS notes/bar >= 10 (full..16 bits)" in frontier.format_goals(goals)
    # another corpus: the same margins from its own means
    bach = {"notes_per_bar": 10.0, "held_share": 0.0}
    scaled = frontier.check_goals(rows, corpus=bach, relative=True)
    assert scaled["notes_per_bar@dial"]["goal"].startswith("notes/bar >= 3 ")
    assert scaled["notes_per_bar@dial"]["met"]
    assert scaled["held_share@all"]["goal"].startswith("notes > 4 beats <= 0.01 ")


def test_baselines_are_measured_on_each_query(tmp_path):
    from builders import chord_bars, midi_file

    a = midi_file(tmp_path / "a.mid", chord_bars())
    b = midi_file(tmp_path / "b.mid", chord_bars(melody=False))
    rows = frontier.baselines([a, b])
    assert [r["rate"] for r in rows] == ["block chords", "drone"] and rows[0]["n"] == 2
    block, drone = rows
    assert block["notes_per_bar"] == 3.0 and block["mean_duration"] == 4.0 and block["groove"] == 1.0
    assert block["retained"] > 0.8 and 0 < block["copy"] < 1
    assert drone["longest_max"] == 16.0 and drone["retained"] == pytest.approx(0.0, abs=1e-9)
