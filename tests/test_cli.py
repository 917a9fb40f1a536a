import json
import subprocess
import sys

import mido
import pytest

from bridge.midifile import read_midi

from builders import chord_bars, midi_file, tiny_model


def qbdi(*args, check=False):
    return subprocess.run([sys.executable, "-m", "bridge", *map(str, args)], capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("m") / "tiny")


@pytest.fixture
def query(tmp_path):
    return midi_file(tmp_path / "query.mid", chord_bars() * 1, tempo=97.0)


def test_improvise_writes_midi_with_query_track_and_no_torch(tmp_path, query, tiny):
    out = tmp_path / "out.mid"
    code = ("import sys\nfrom bridge.cli import main\n"
            f"rc = main(['improvise', {str(query)!r}, '-o', {str(out)!r}, '--model', {str(tiny)!r}, "
            "'--with-query', '--threshold', '0.3', '--rate', '64', '--seed', '3'])\n"
            "assert rc == 0, rc\nassert 'torch' not in sys.modules, 'torch was imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
    mid = mido.MidiFile(out)
    names = [t.name for t in mid.tracks]
    assert names[1:] == ["query", "improvisation"]
    score = read_midi(out)
    assert score.tempo_bpm == pytest.approx(97.0, abs=0.01)
    assert score.length_beats <= 16.0


def test_same_seed_same_file_other_seed_other_file(tmp_path, query, tiny):
    outs = []
    for seed, name in ((1, "a"), (1, "b"), (2, "c")):
        path = tmp_path / f"{name}.mid"
        qbdi("improvise", query, "-o", path, "--model", tiny, "--sample", "--seed", seed, "--rate", 32, check=True)
        outs.append(path.read_bytes())
    assert outs[0] == outs[1] and outs[0] != outs[2]


def test_free_improvisation_and_json_summary(tmp_path, tiny):
    r = qbdi("improvise", "--free", "--bars", 3, "-o", tmp_path / "f.mid", "--model", tiny, "--json", "--threshold", "0.3", check=True)
    summary = json.loads(r.stdout)
    assert summary["bars"] == 3 and summary["settings"]["rate"] == "full"


@pytest.mark.parametrize("make, args, words", [
    (None, ["improvise", "{tmp}/absent.mid", "-o", "{tmp}/o.mid"], "no such file"),
    ("text", ["improvise", "{tmp}/bad.mid", "-o", "{tmp}/o.mid"], "not a MIDI file"),
    ("empty", ["improvise", "{tmp}/bad.mid", "-o", "{tmp}/o.mid"], "empty"),
    ("query", ["improvise", "{tmp}/q.mid", "-o", "{tmp}/o.mid", "--model", "nosuchmodel"], "unknown model"),
    ("query", ["improvise", "{tmp}/q.mid", "-o", "{tmp}/o.mid", "--rate", "-5"], "rate"),
    ("query", ["improvise", "{tmp}/q.mid", "-o", "{tmp}/o.mid", "--threshold", "1.5"], "threshold"),
    ("query", ["improvise", "{tmp}/q.mid", "-o", "{tmp}/q.mid"], "query file"),
    ("query", ["improvise", "{tmp}/q.mid", "-o", "{tmp}/nofolder/o.mid"], "does not exist"),
    ("query", ["improvise", "-o", "{tmp}/o.mid"], "query MIDI file"),
    (None, ["bogus"], "invalid choice"),
])
def test_bad_input_gives_one_line_and_exit_2(tmp_path, make, args, words):
    if make == "text":
        (tmp_path / "bad.mid").write_text("not midi at all")
    elif make == "empty":
        (tmp_path / "bad.mid").write_bytes(b"")
    elif make == "query":
        midi_file(tmp_path / "q.mid", chord_bars())
    r = qbdi(*[a.format(tmp=tmp_path) for a in args])
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in r.stderr


def test_existing_output_is_never_overwritten_without_force(tmp_path, query, tiny):
    out = tmp_path / "keep.mid"
    out.write_bytes(b"user's work")
    r = qbdi("improvise", query, "-o", out, "--model", tiny)
    assert r.returncode == 2 and "--force" in r.stderr and out.read_bytes() == b"user's work"
    qbdi("improvise", query, "-o", out, "--model", tiny, "--force", check=True)
    assert out.read_bytes().startswith(b"MThd")


def test_models_lists_the_shipped_models():
    r = qbdi("models", "--json", check=True)
    names = [m["name"] for m in json.loads(r.stdout)]
    assert names[0] == "pop" and len(names) >= 2
