# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import json
import subprocess
import sys

import mido
import pytest
from builders import chord_bars, edit_config, midi_file, tiny_model

from bridge.midifile import read_midi
from bridge.pianoroll import Note


def qbdi(*args, check=False):
    return subprocess.run([sys.executable, "-m", "bridge", *map(str, args)], capture_output=True, text=True,
                          check=check)


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
    assert score.length_beats == 16.0, "the query's whole bars, even where the last notes end early"


def test_same_seed_same_file_other_seed_other_file(tmp_path, query, tiny):
    outs = []
    for seed, name in ((1, "a"), (1, "b"), (2, "c")):
        path = tmp_path / f"{name}.mid"
        qbdi("improvise", query, "-o", path, "--model", tiny, "--sample", "--seed", seed, "--rate", 32, check=True)
        outs.append(path.read_bytes())
    assert outs[0] == outs[1] and outs[0] != outs[2]


def test_free_improvisation_and_json_summary(tmp_path, tiny):
    r = qbdi("improvise", "--free", "--bars", 3, "-o", tmp_path / "f.mid", "--model", tiny, "--json",
             "--threshold", "0.3", check=True)
    summary = json.loads(r.stdout)
    assert summary["bars"] == 3 and summary["settings"]["rate"] == "full"
    assert read_midi(tmp_path / "f.mid").length_beats == 12.0
    assert summary["retained"] is None and summary["copy"] is None, "nothing to keep without a query"


def test_improvise_says_what_it_kept_in_its_summary_line_and_json(tmp_path, query, tiny):
    """Retained harmony and copy of the written improvisation against its query, as `qbdi sweep` and the
    server's /qbdi/result report them (bridge.measures.metrics)."""
    from bridge.measures.metrics import compare

    out = tmp_path / "o.mid"
    r = qbdi("improvise", query, "-o", out, "--model", tiny, "--json", "--threshold", "0.3", "--seed", "4", check=True)
    summary = json.loads(r.stdout)
    score = read_midi(query)
    expected = compare(score.notes, read_midi(out).notes, score.beats_per_bar, score.length_beats)
    assert summary["retained"] == pytest.approx(expected.retained, abs=2e-3)
    assert summary["copy"] == pytest.approx(expected.copy, abs=2e-3)
    line = qbdi("improvise", query, "-o", out, "--model", tiny, "--threshold", "0.3", "--seed", "4", "--force",
                check=True).stdout
    assert f"harmony {round(100 * summary['retained'])}% · notes {round(100 * summary['copy'])}%" in line, line


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


# --- bad files, the way a user meets them: one line naming the problem, exit code 2 ----------------
def _midi_bytes(events: bytes, fmt: int = 0, tracks: int = 1) -> bytes:
    track = b"MTrk" + len(events + b"\x00\xff\x2f\x00").to_bytes(4, "big") + events + b"\x00\xff\x2f\x00"
    header = (6).to_bytes(4, "big") + fmt.to_bytes(2, "big") + tracks.to_bytes(2, "big") + (480).to_bytes(2, "big")
    return b"MThd" + header + track * tracks


def _bad_midi(kind, path):
    if kind == "truncated":
        data = midi_file(path, chord_bars()).read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "header only":
        path.write_bytes(_midi_bytes(b"")[:14])
    elif kind == "type 2":
        path.write_bytes(_midi_bytes(b"\x00\x90\x3c\x40\x60\x80\x3c\x00", fmt=2, tracks=2))
    elif kind == "over 16 MB":
        with open(path, "wb") as fh:
            fh.write(_midi_bytes(b"\x00\x90\x3c\x40\x60\x80\x3c\x00"))
            fh.truncate(17 * 1024 * 1024)        # sparse: cheap to make
    elif kind == "over 200000 notes":
        path.write_bytes(_midi_bytes(b"\x00\x90\x3c\x40\x01\x80\x3c\x00" * 200_001))
    elif kind == "over 512 bars":
        midi_file(path, [*chord_bars(), Note(60, 4 * 600.0, 1.0, 80)])
    elif kind == "a folder":
        path.mkdir()
    return path


@pytest.mark.parametrize("kind, words", [
    ("truncated", "damaged or truncated"), ("header only", "damaged or truncated"), ("type 2", "type 2"),
    ("over 16 MB", "the limit is 16 MB"), ("over 200000 notes", "more than 200000 notes"),
    ("over 512 bars", "the limit is 512"), ("a folder", "is a folder"),
])
def test_bad_midi_files_give_one_line_and_exit_2(tmp_path, tiny, kind, words):
    bad = _bad_midi(kind, tmp_path / "bad.mid")
    r = qbdi("improvise", bad, "-o", tmp_path / "out.mid", "--model", tiny)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "out.mid").exists()


_edit_config = edit_config


def _broken_model(kind, folder, marker):
    tiny_model(folder)
    if kind == "changed weights":
        data = bytearray((folder / "model.safetensors").read_bytes())
        data[-7] ^= 0x01
        (folder / "model.safetensors").write_bytes(bytes(data))
    elif kind == "format version":
        _edit_config(folder, format_version=4)
    elif kind == "missing key":
        _edit_config(folder, architecture=None)
    elif kind == "not json":
        (folder / "config.json").write_text("{ not json")
    elif kind == "no weights":
        (folder / "model.safetensors").unlink()
    elif kind == "pickle":      # a weight file that runs code when unpickled, with a matching checksum
        import hashlib
        import pickle

        class Boom:
            def __reduce__(self):
                return (open, (str(marker), "w"))

        (folder / "weights.pkl").write_bytes(pickle.dumps(Boom()))
        digest = hashlib.sha256((folder / "weights.pkl").read_bytes()).hexdigest()
        _edit_config(folder, weights={"file": "weights.pkl", "sha256": digest})
    return folder


@pytest.mark.parametrize("kind, words", [
    ("changed weights", "does not match its checksum"), ("format version", "format version 4 is not supported"),
    ("missing key", "lacks key(s) architecture"), ("not json", "not valid JSON"), ("no weights", "is missing"),
    ("pickle", "not a readable safetensors file"),
])
def test_broken_model_folders_are_refused_naming_the_problem(tmp_path, query, kind, words):
    marker = tmp_path / "unpickled"
    folder = _broken_model(kind, tmp_path / "m", marker)
    r = qbdi("improvise", query, "-o", tmp_path / "out.mid", "--model", folder)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and str(folder) in lines[0] and "Traceback" not in r.stderr, r.stderr
    assert not marker.exists()                  # nothing was unpickled
    if kind == "changed weights":               # qbdi serve refuses it the same way, before announcing
        r = qbdi("serve", "--port", "0", "--model", folder)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and words in r.stderr, r.stderr


def test_analysis_without_its_extra_says_how_to_install_it(tmp_path, query):
    code = ("import sys\nsys.modules['scipy'] = None  # as if the [analysis] extra were not installed\n"
            "from bridge.cli import main\n"
            f"sys.exit(main(['analyze', {str(query)!r}, '--out', {str(tmp_path / 'a')!r}]))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 2 and "pip install 'qbdi-bridge[analysis]'" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [["improvise", "q.mid", "-o", "out.mid"], ["sweep", "q.mid", "--out", "dir"]])
def test_the_parsed_defaults_are_the_settings_defaults(command):
    """The CLI's choices and defaults come from bridge.config, so they cannot drift from it."""
    from bridge.cli import build_parser
    from bridge.config import Settings
    from bridge.options import settings_from as _settings_from

    assert _settings_from(build_parser().parse_args(command)) == Settings()


def test_the_cli_choices_are_the_config_modes():
    from bridge import config
    from bridge.cli import build_parser

    improvise = build_parser()._subparsers._group_actions[0].choices["improvise"]
    choices = {a.dest: tuple(a.choices) for a in improvise._actions if a.choices}
    assert choices == {"z": config.Z_MODES, "allocation": config.ALLOCATIONS, "source": config.SOURCES,
                       "structure": config.STRUCTURES}


def test_the_parser_builds_without_the_training_package(monkeypatch):
    """The standalone server bundles no bridge.training (build/qbdi-server.spec): every other
    command must still parse (its entry point refuses `train` before parsing)."""
    import sys

    from bridge.cli import build_parser

    monkeypatch.setitem(sys.modules, "bridge.training", None)
    monkeypatch.setitem(sys.modules, "bridge.training.config", None)
    args = build_parser().parse_args(["serve", "--port", "0"])
    assert args.port == 0
