# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``qbdi interpolate``: real subprocesses on MIDI files built in code."""
import json
import subprocess
import sys

import mido
import pytest
from builders import A_MINOR, C_MAJOR, F_MAJOR, G_MAJOR, chord_bars, midi_file, tiny_model

from bridge.config import Settings
from bridge.interpolate import interpolate
from bridge.midifile import read_midi
from bridge.models import load_model
from bridge.pianoroll import Note


def qbdi(*args, check=False):
    return subprocess.run([sys.executable, "-m", "bridge", *map(str, args)], capture_output=True, text=True,
                          check=check)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("m") / "tiny", sparse=True)


@pytest.fixture
def clips(tmp_path):
    a = midi_file(tmp_path / "a.mid", chord_bars((C_MAJOR, A_MINOR, F_MAJOR, G_MAJOR)), tempo=90.0)
    b = midi_file(tmp_path / "b.mid", chord_bars((G_MAJOR, F_MAJOR), velocity=60))
    return a, b


def key(notes):
    return [(n.pitch, round(n.start, 3), round(n.duration, 3), n.velocity) for n in notes]


def test_one_file_holds_the_steps_in_sequence_as_the_engine_makes_them(tmp_path, clips, tiny):
    out = tmp_path / "morph.mid"
    r = qbdi("interpolate", *clips, "--steps", 4, "-o", out, "--model", tiny, "--rate", 8, "--seed", 5, "--json",
             check=True)
    summary = json.loads(r.stdout)
    assert summary["steps"] == 4 and summary["bars_per_step"] == 4 and (summary["bars_a"], summary["bars_b"]) == (4, 2)
    score = read_midi(out)
    assert score.tempo_bpm == pytest.approx(90.0, abs=0.01)
    assert score.length_beats == 4 * 16.0
    assert [t.name for t in mido.MidiFile(out).tracks][1:] == ["morph"]
    morph = interpolate(load_model(tiny), read_midi(clips[0]).notes, read_midi(clips[1]).notes, 4,
                        Settings(rate=8, seed=5))
    for k, imp in enumerate(morph.improvisations):
        mine = [Note(n.pitch, n.start - 16 * k, n.duration, n.velocity) for n in score.notes
                if 16 * k <= n.start < 16 * (k + 1)]
        assert key(mine) == key(imp.notes) and imp.notes
    assert summary["notes"] == [len(i.notes) for i in morph.improvisations]


def test_split_writes_one_file_per_step_and_the_same_seed_the_same_files(tmp_path, clips, tiny):
    folder = tmp_path / "steps"
    qbdi("interpolate", *clips, "--steps", 3, "-o", folder, "--split", "--model", tiny, "--sample", "--seed", 2,
         check=True)
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["step1.mid", "step2.mid", "step3.mid"]
    assert [t.name for t in mido.MidiFile(folder / "step2.mid").tracks][1:] == ["step 2 of 3"]
    assert [read_midi(folder / n).length_beats for n in names] == [16.0] * 3    # whole bars: clips loop in time
    first = [(folder / n).read_bytes() for n in names]
    r = qbdi("interpolate", *clips, "--steps", 3, "-o", folder, "--split", "--model", tiny, "--sample", "--seed", 2)
    assert r.returncode == 2 and "--force" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    qbdi("interpolate", *clips, "--steps", 3, "-o", folder, "--split", "--force", "--model", tiny, "--sample",
         "--seed", 2, check=True)
    assert [(folder / n).read_bytes() for n in names] == first
    qbdi("interpolate", *clips, "--steps", 3, "-o", folder, "--split", "--force", "--model", tiny, "--sample",
         "--seed", 3, check=True)
    assert [(folder / n).read_bytes() for n in names] != first


def test_bad_inputs_are_one_line_and_exit_2(tmp_path, clips, tiny):
    a, b = clips
    waltz = midi_file(tmp_path / "waltz.mid", chord_bars(beats_per_bar=3.0), signature=(3, 4))
    empty = midi_file(tmp_path / "empty.mid", [])
    out = tmp_path / "o.mid"
    out_exists = midi_file(tmp_path / "exists.mid", [Note(60, 0, 1)])
    cases = [
        ((a, waltz, "-o", out), "one meter"),
        ((a, empty, "-o", out), "has no notes"),
        ((a, b, "--steps", 1, "-o", out), "from 2 to 16"),
        ((a, b, "--steps", 17, "-o", out), "from 2 to 16"),
        ((a, b, "-o", out_exists), "exists"),
        ((a, b, "-o", a), None),
        ((a, tmp_path / "missing.mid", "-o", out), "missing.mid"),
        ((a, b, "-o", "-", "--json"), "--json"),
        ((a, b, "-o", "-", "--split"), "folder"),
    ]
    for args, words in cases:
        r = qbdi("interpolate", *args, "--model", tiny)
        assert r.returncode == 2, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
        if words:
            assert words in r.stderr, (words, r.stderr)
    assert not out.exists() and read_midi(out_exists).notes == [Note(60, 0, 1)]
    qbdi("interpolate", a, waltz, "-o", out, "--beats-per-bar", 4, "--model", tiny, check=True)   # one meter for both
