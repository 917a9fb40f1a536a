# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""What a new user meets first (issue 23): the help of every option, warnings in the form errors
take, progress bars only on a terminal, a query wholly out of the model's range, ``--free --bpm``,
``qbdi analyze``'s report folder, and ``qbdi sweep`` on degenerate queries and with one seed. Real
MIDI files built in code, the real CLI (in process or as a subprocess), the shipped model."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from builders import midi_file

from bridge.cli import build_parser, main
from bridge.midifile import read_midi
from bridge.pianoroll import Note

ROOT = Path(__file__).resolve().parents[2]
PY = [sys.executable, "-m", "bridge"]
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING ")


def run(*argv, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([*PY, *map(str, argv)], capture_output=True, text=True, timeout=300, env=env, cwd=cwd)


def rc_of(argv) -> int:
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:           # argparse's own refusals
        return exc.code


def options(parser: argparse.ArgumentParser, name: str = "qbdi"):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, subparser in action.choices.items():
                yield from options(subparser, sub)
        elif not isinstance(action, argparse._HelpAction):
            yield name, action


def test_every_option_of_every_subcommand_has_a_help_line():
    missing = [f"{name} {'/'.join(a.option_strings) or a.dest}" for name, a in options(build_parser())
               if not a.help]           # argparse.SUPPRESS (a hidden test option) is a deliberate choice
    assert missing == []
    assert sum(1 for _ in options(build_parser())) > 80


def test_sweep_takes_its_rates_from_rates_only(tmp_path, capsys):
    query = midi_file(tmp_path / "q.mid", [Note(60, 0, 4, 80)])
    for given in (["--rate", "64"], ["--rates", "full,0", "--rate", "64"]):
        assert rc_of(["sweep", query, *given, "--out", tmp_path / "out"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "give --rates 64 (or a list" in err[0], err
    assert not (tmp_path / "out").exists()
    assert "--rate " not in build_parser()._subparsers._group_actions[0].choices["sweep"].format_help()


# --- warnings and progress ----------------------------------------------------------------------
def test_warnings_read_like_errors_and_carry_a_time_only_with_log_level(tmp_path):
    query = midi_file(tmp_path / "high.mid", [Note(120, 0, 1, 80), Note(124, 1, 1, 80), Note(127, 2, 2, 80)])
    plain = run("improvise", query, "-o", tmp_path / "a.mid")
    assert plain.returncode == 0, plain.stderr
    lines = plain.stderr.splitlines()
    assert lines and all(line.startswith("qbdi: warning: ") for line in lines), plain.stderr
    timed = run("--log-level", "WARNING", "improvise", query, "-o", tmp_path / "b.mid")
    assert timed.returncode == 0 and timed.stderr.splitlines()
    assert all(TIMESTAMP.match(line) for line in timed.stderr.splitlines()), timed.stderr


def test_no_progress_bar_fragments_when_stderr_is_not_a_terminal(tmp_path):
    query = midi_file(tmp_path / "q.mid", [Note(60 + (i % 5), i, 1, 80) for i in range(16)])
    done = run("analyze", query, "--out", tmp_path / "report", "--no-latents")
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr and "%|" not in done.stderr, repr(done.stderr[:300])


# --- a query wholly outside the model's pitch range ---------------------------------------------
def test_a_query_wholly_out_of_range_is_folded_by_octaves_with_a_warning(tmp_path):
    query = midi_file(tmp_path / "high.mid", [Note(120, 0, 1, 80), Note(124, 1, 1, 80), Note(127, 2, 2, 80)])
    done = run("improvise", query, "-o", tmp_path / "out.mid", "--threshold", "0.2")
    assert done.returncode == 0, done.stderr
    assert "qbdi: warning: every note of the query lies outside the model's pitch range" in done.stderr
    assert "folded into it by octaves" in done.stderr and "dropped" not in done.stderr
    assert read_midi(tmp_path / "out.mid").notes, "never an empty file"


def test_a_partly_out_of_range_query_still_drops_and_says_fold(tmp_path):
    from bridge.config import Settings
    from bridge.improvise import improvise
    from bridge.models import load_model

    model = load_model("pop")
    result = improvise(model, [Note(60, 0, 4, 80), Note(127, 0, 4, 80)], Settings(seed=1))
    assert any("dropped (fold them by octaves with --fold)" in w for w in result.warnings)


# --- --free --bpm -------------------------------------------------------------------------------
def test_free_writes_the_tempo_given_with_bpm_and_120_without(tmp_path, capsys):
    assert main(["improvise", "--free", "--bars", "2", "-o", str(tmp_path / "a.mid"), "--bpm", "93.5"]) == 0
    assert main(["improvise", "--free", "--bars", "2", "-o", str(tmp_path / "b.mid")]) == 0
    assert read_midi(tmp_path / "a.mid").tempo_bpm == pytest.approx(93.5, abs=0.01)
    assert read_midi(tmp_path / "b.mid").tempo_bpm == pytest.approx(120.0)
    query = midi_file(tmp_path / "q.mid", [Note(60, 0, 4, 80)], tempo=100.0)
    capsys.readouterr()
    assert rc_of(["improvise", query, "-o", tmp_path / "c.mid", "--bpm", "90"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--bpm sets the tempo of a free improvisation" in err[0]


def test_continue_help_says_the_file_holds_the_whole_query_and_the_new_bars(tmp_path):
    help_text = build_parser()._subparsers._group_actions[0].choices["improvise"].format_help()
    assert "improvisation over the whole query and then the N predicted bars" in " ".join(help_text.split())
    query = midi_file(tmp_path / "q.mid", [Note(60, b * 4, 4, 80) for b in range(2)])
    assert main(["improvise", str(query), "-o", str(tmp_path / "c.mid"), "--continue", "2", "--json"]) == 0
    # what the help promises: 2 query bars + 2 more in one file
    assert read_midi(tmp_path / "c.mid").length_beats <= 16 + 1e-6


# --- qbdi analyze -------------------------------------------------------------------------------
def test_analyze_says_where_the_report_is_and_replaces_one_only_with_force(tmp_path, capsys):
    a = midi_file(tmp_path / "a.mid", [Note(60 + (i % 3), i, 1, 80) for i in range(8)])
    b = midi_file(tmp_path / "b.mid", [Note(64 + (i % 4), i, 1, 80) for i in range(8)])
    out = tmp_path / "report"
    assert main(["analyze", str(a), "--out", str(out), "--no-latents"]) == 0
    said = capsys.readouterr().out
    assert f"open {out / 'index.html'}" in said and (out / "index.html").is_file()
    mask = os.umask(0o022)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~mask, "the folder's mode is what mkdir gives, as the files'"
    before = sorted(p.name for p in out.iterdir())
    assert "a" in before
    assert rc_of(["analyze", b, "--out", out, "--no-latents"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already holds a qbdi analysis report; add --force" in err[0]
    assert sorted(p.name for p in out.iterdir()) == before, "refused: nothing changed"
    assert main(["analyze", str(b), "--out", str(out), "--no-latents", "--force"]) == 0
    after = sorted(p.name for p in out.iterdir())
    assert "b" in after and "a" not in after, "replaced whole: the old piece's figures are gone"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".qbdi")] == []


# --- qbdi sweep ---------------------------------------------------------------------------------
def smpte_file(path: Path) -> Path:
    """A type 0 file timed in SMPTE (25 fps x 40 ticks = 1000 ticks a second): a C chord, then G."""
    def vlq(n: int) -> bytes:
        out = [n & 0x7F]
        n >>= 7
        while n:
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        return bytes(reversed(out))

    events = sorted([(s, bytes([0x90, p, 80])) for p, s in ((60, 0), (64, 0), (67, 2000))]
                    + [(s + 2000, bytes([0x80, p, 0])) for p, s in ((60, 0), (64, 0), (67, 2000))])
    body, now = b"", 0
    for when, event in events:
        body += vlq(when - now) + event
        now = when
    body += b"\x00\xff\x2f\x00"
    header = b"MThd" + (6).to_bytes(4, "big") + bytes([0, 0, 0, 1, 0xE7, 40])     # 0xE7: -25 fps
    path.write_bytes(header + b"MTrk" + len(body).to_bytes(4, "big") + body)
    return path


@pytest.mark.parametrize("kind", ["single note", "single bar", "range ends", "smpte"])
def test_sweep_on_a_degenerate_query_reports_what_it_could(tmp_path, kind, capsys):
    path = tmp_path / "q.mid"
    if kind == "smpte":
        smpte_file(path)
    else:
        notes = {"single note": [Note(60, 0, 1, 80)],
                 "single bar": [Note(60, 0, 4, 80), Note(64, 0, 4, 80), Note(67, 0, 4, 80)],
                 "range ends": [Note(0, 0, 4, 80), Note(127, 0, 4, 80), Note(1, 4, 4, 80), Note(126, 4, 4, 80)]}[kind]
        midi_file(path, notes)
    rc = rc_of(["sweep", path, "--rates", "full,0", "--seeds", "1", "--no-midi", "--out", tmp_path / "out"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "Traceback" not in err and out.splitlines()[0].split()[0] == "rate"
    doc = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert [r["rate"] for r in doc["rows"]] == ["full", "0"] and doc["goals"]["full"]["met"] in (True, False)


def test_one_seed_shows_means_without_a_spread(tmp_path, capsys):
    query = midi_file(tmp_path / "q.mid", [Note(60, 0, 4, 80), Note(64, 4, 4, 80), Note(67, 8, 4, 80)])
    assert main(["sweep", str(query), "--rates", "full,64", "--seeds", "1", "--no-midi", "--out",
                 str(tmp_path / "one")]) == 0
    assert "±" not in capsys.readouterr().out
    assert main(["sweep", str(query), "--rates", "full,64", "--seeds", "2", "--no-midi", "--out",
                 str(tmp_path / "two")]) == 0
    assert "±" in capsys.readouterr().out


def test_frontier_png_draws_the_users_points_and_no_fixed_reference(tmp_path):
    from matplotlib.image import imread

    from bridge.analysis.figures import plot_frontier

    rows = [{"rate": "full", "retained": 0.9, "copy": 0.2}, {"rate": "0", "retained": 0.05, "copy": 0.01}]
    image = imread(plot_frontier(rows, tmp_path / "frontier.png"))[..., :3]

    def has(rgb: str) -> bool:
        want = np.array([int(rgb[i:i + 2], 16) / 255 for i in (1, 3, 5)])
        return bool((np.abs(image - want).max(axis=-1) < 0.03).any())

    assert has("#1f77b4"), "the user's points are drawn"
    assert not has("#d62728"), "no red star at a fixed point (the paper's result on its own query)"
    assert not has("#2ca02c"), "no green goal corners (an internal development target)"


def test_the_readme_main_job_writes_nothing_git_status_would_show(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r"pip install \. && (qbdi improvise [^\n]+)", readme).group(1)
    target = command.split(" -o ")[1].split()[0]
    git = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", target], capture_output=True)
    if git.returncode == 128:
        pytest.skip("not a git checkout")
    assert git.returncode == 0 or Path(target).expanduser().is_absolute(), \
        f"the README's main job writes {target} into the checkout, and .gitignore does not ignore it"

