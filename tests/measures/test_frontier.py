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
    assert table.splitlines()[2].startswith("| full | 1.000 | 0.150 | - |")
    assert "MET " in frontier.format_goals(frontier.check_goals(out))
