# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Every option of every subcommand with values it must refuse: NaN, infinities, negatives, zero,
huge, empty, wrong types, paths that are folders, devices, links or inside files. Each gives one
line on stderr naming the problem, exit code 2, and nothing is created. Then the output promises
through real processes: -o -, devices and FIFOs, racing runs, and a user without permissions."""

import io
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import mido
import pytest
from builders import chord_bars, midi_file, old_format_model, tiny_model

from bridge.cli import main

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("m") / "tiny", sparse=True)


@pytest.fixture
def place(tmp_path, tiny):
    """A folder with a query, a file, a folder, a link and a device, and what was there to begin with."""
    midi_file(tmp_path / "q.mid", chord_bars())
    (tmp_path / "file.txt").write_text("user's file")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "user.txt").write_text("user's")
    (tmp_path / "link.mid").symlink_to(tmp_path / "file.txt")
    try:
        os.mknod(tmp_path / "zero", stat.S_IFCHR | 0o600, os.makedev(1, 5))
    except (OSError, AttributeError):
        pass
    return tmp_path


def _listing(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): (p.lstat().st_mode, p.lstat().st_size, p.lstat().st_mtime_ns)
            for p in root.rglob("*")}


def _refused(capsys, argv, words, root=None):
    before = _listing(root) if root else None
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:            # argparse's own refusals
        rc = exc.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert rc == 2, err
    assert len(lines) == 1 and words in lines[0], err
    if root is not None:
        assert _listing(root) == before, "something was created or changed"


IMPROVISE_BAD = [
    (["--rate", "nan"], "rate"), (["--rate", "-inf"], "rate"), (["--rate", "-5"], "rate"), (["--rate", "1.5"], "rate"),
    (["--rate", "1e30"], "rate must be between 0 and 1000000"), (["--rate", "abc"], "rate"),
    (["--threshold", "nan"], "threshold"), (["--threshold", "inf"], "threshold"), (["--threshold", "0"], "threshold"),
    (["--threshold", "1"], "threshold"), (["--threshold", "-1"], "threshold"), (["--threshold", ""], "threshold"),
    (["--threshold", "x"], "threshold"),
    (["--temperature", "nan"], "temperature"), (["--temperature", "0"], "temperature"),
    (["--temperature", "-1"], "temperature"), (["--temperature", "1e9"], "temperature"),
    (["--seed", "-1"], "seed"), (["--seed", str(2 ** 31)], "seed"), (["--seed", "1.5"], "seed"),
    (["--seed", ""], "seed"),
    (["--continue", "-1"], "continue"), (["--continue", "100000"], "continue"), (["--continue", "x"], "continue"),
    (["--beats-per-bar", "0"], "beats per bar"), (["--beats-per-bar", "-4"], "beats per bar"),
    (["--beats-per-bar", "nan"], "beats per bar"), (["--beats-per-bar", "inf"], "beats per bar"),
    (["--beats-per-bar", "0.1"], "beats per bar"), (["--beats-per-bar", "3.3"], "whole number of 16ths"),
    (["--beats-per-bar", "33"], "beats per bar"), (["--beats-per-bar", ""], "beats-per-bar"),
    (["--z", "bogus"], "invalid choice"), (["--allocation", "x"], "invalid choice"),
    (["--source", ""], "invalid choice"),
    (["--structure", "7"], "invalid choice"),
    (["--model", ""], "needs a model name or folder"), (["--model", "nosuchmodel"], "unknown model"),
    (["--model", "/nonexistent/folder"], "no model folder"), (["--model", "{p}/q.mid"], "no model folder"),
    (["--bars", "4"], "--bars sets the length of a free improvisation"),
]


@pytest.mark.parametrize("extra, words", IMPROVISE_BAD)
def test_improvise_refuses_bad_settings(capsys, place, tiny, extra, words):
    model = [] if "--model" in extra else ["--model", tiny]
    extra = [e.format(p=place) for e in extra]
    _refused(capsys, ["improvise", place / "q.mid", "-o", place / "out.mid", *model, *extra], words, place)


@pytest.mark.parametrize("bars, words", [("0", "bars"), ("-5", "bars"), ("100000", "bars"), ("nan", "bars"),
                                         ("", "bars"), ("1.5", "bars")])
def test_free_improvisation_refuses_bad_bar_counts(capsys, place, tiny, bars, words):
    _refused(capsys, ["improvise", "--free", "--bars", bars, "-o", place / "out.mid", "--model", tiny], words, place)


@pytest.mark.parametrize("args, words", [
    (["--free", "{p}/q.mid"], "not both"), ([], "give a query MIDI file"),
    (["--free", "--with-query"], "--with-query works on a query"), (["--free", "--fold"], "--fold works on a query"),
    (["--free", "--continue", "2"], "--continue works on a query"), (["{p}/q.mid", "--json", "-o", "-"], "--json"),
])
def test_improvise_refuses_options_that_mean_nothing_together(capsys, place, tiny, args, words):
    args = [a.format(p=place) for a in args]
    out = [] if "-o" in args else ["-o", place / "out.mid"]
    _refused(capsys, ["improvise", *args, *out, "--model", tiny], words, place)


@pytest.mark.parametrize("output, force, words", [
    ("", False, "needs an output file"), (".", True, "names a folder"), ("{p}/dir", True, "is a folder"),
    ("{p}/new/", True, "names a folder"), ("{p}/nofolder/o.mid", True, "does not exist"),
    ("{p}/file.txt/o.mid", True, "is a file, not a folder"), ("{p}/link.mid", True, "symbolic link"),
    ("{p}/zero", True, "character device"), ("{p}/file.txt", False, "exists; choose another -o or add --force"),
    ("{p}/q.mid", True, "is the query file"), ("{p}/" + "n" * 300 + ".mid", True, "file names end at"),
    ("/proc/qbdi-test.mid", True, "cannot write"),
])
def test_improvise_refuses_bad_outputs_and_changes_nothing(capsys, place, tiny, output, force, words):
    if output.endswith("zero") and not (place / "zero").exists():
        pytest.skip("no device node here")
    if output.startswith("/proc") and not Path("/proc/self").exists():
        pytest.skip("no /proc")
    force_flag = ["--force"] if force else []
    argv = ["improvise", place / "q.mid", "-o", output.format(p=place), "--model", tiny, *force_flag]
    _refused(capsys, argv, words, place)
    assert (place / "file.txt").read_text() == "user's file" and (place / "link.mid").is_symlink()


@pytest.mark.parametrize("query, words", [
    ("", "needs a query MIDI file"), ("{p}/dir", "is a folder"), ("{p}/absent.mid", "no such file"),
    ("{p}/file.txt/q.mid", "is a file, not a folder"), ("{p}/zero", "character device"),
    ("{p}/file.txt", "not a MIDI file"),
])
def test_improvise_refuses_bad_queries(capsys, place, tiny, query, words):
    if query.endswith("zero") and not (place / "zero").exists():
        pytest.skip("no device node here")
    _refused(capsys, ["improvise", query.format(p=place), "-o", place / "out.mid", "--model", tiny], words, place)


TRAIN_BAD = [
    (["--epochs", "0"], "--epochs"), (["--epochs", "-1"], "--epochs"), (["--epochs", str(10 ** 9)], "--epochs"),
    (["--batch-size", "0"], "--batch-size"), (["--learning-rate", "nan"], "--learning-rate"),
    (["--learning-rate", "0"], "--learning-rate"), (["--learning-rate", "-1"], "--learning-rate"),
    (["--learning-rate", "inf"], "--learning-rate"), (["--weight-decay", "-1"], "--weight-decay"),
    (["--beta", "nan"], "--beta"), (["--gamma", "inf"], "--gamma"), (["--transpose", "-1"], "--transpose"),
    (["--transpose", "13"], "--transpose"), (["--input-dropout", "1"], "--input-dropout"),
    (["--input-dropout", "nan"], "--input-dropout"), (["--latent", "0"], "--latent"),
    (["--latent", "5000"], "--latent"),
    (["--hidden", "0"], "--hidden"), (["--heldout", "1"], "--heldout"), (["--heldout", "-0.5"], "--heldout"),
    (["--seed", "-1"], "--seed"), (["--name", "a\nb"], "--name"), (["--name", "x" * 65], "--name"),
    (["--description", "\x1b[2J"], "--description"),
]


@pytest.mark.parametrize("extra, words", TRAIN_BAD)
def test_train_refuses_bad_values_before_any_work(capsys, place, extra, words):
    _refused(capsys, ["train", place, "--out", place / "newmodel", *extra], words, place)


@pytest.mark.parametrize("out, words", [
    ("{p}/file.txt", "is a file, not a folder"), ("{p}/file.txt/m", "is a file, not a folder"),
    ("{p}/dir", "already holds 1 file(s)"), ("", "needs a model folder"), ("/proc/qbdi-model", "cannot write in /proc"),
])
def test_train_refuses_bad_out_folders_before_training(capsys, place, out, words):
    if out.startswith("/proc") and not Path("/proc/self").exists():
        pytest.skip("no /proc")
    _refused(capsys, ["train", place, "--out", out.format(p=place)], words, place)


@pytest.mark.parametrize("extra, words", [
    (["--port", "-1"], "port must be a whole number from 0 to 65535"), (["--port", "70000"], "port"),
    (["--port", "x"], "invalid int"), (["--notify-port", "0"], "notify port"), (["--notify-port", "70000"], "notify"),
    (["--workers", "-5"], "workers must be a whole number from 0 to 64"), (["--workers", "100000"], "workers"),
    (["--host", ""], "host must be"), (["--host", "a b"], "host must be"), (["--model", ""], "needs a model"),
    (["--log-level", "bogus"], "unknown log level"), (["--log-level", "BASIC_FORMAT"], "unknown log level"),
    (["--host", "nosuch.invalid"], "cannot listen on nosuch.invalid"),
    (["--model", "nosuchmodel"], "unknown model"),
])
def test_serve_refuses_bad_values_and_never_starts(capsys, extra, words):
    argv = ["serve", *extra] + ([] if "--port" in extra else ["--port", "0"])
    _refused(capsys, argv, words)


def test_an_unresolvable_host_gives_no_false_network_warning(capsys):
    _refused(capsys, ["serve", "--port", "0", "--host", "nosuch.invalid"], "cannot listen")
    assert "reachable from other machines" not in capsys.readouterr().err


@pytest.mark.parametrize("extra, words", [
    (["--port", "70000"], "--port"), (["--port", "-1"], "--port"), (["--seconds", "nan"], "--seconds"),
    (["--seconds", "0"], "--seconds"), (["--seconds", "-1"], "--seconds"), (["--seconds", "inf"], "--seconds"),
    (["--seconds", "1e9"], "--seconds"), (["--requests", "0"], "--requests"), (["--requests", "x"], "--requests"),
    (["--bars", ""], "--bars must list"), (["--bars", "0"], "--bars must list"), (["--bars", "x"], "--bars must be"),
    (["--bars", "600"], "--bars must be at most 512"), (["--clients", "0"], "--clients"),
    (["--clients", "100000"], "--clients must be at most 256"), (["--cold", ""], "--cold"),
    (["--cold", "'unbalanced"], "is not a command line"), (["--cold-only"], "give --cold too"),
    (["--model", ""], "needs a model"),
])
def test_bench_refuses_bad_values_before_starting_anything(capsys, extra, words):
    _refused(capsys, ["bench", *extra], words)


@pytest.mark.parametrize("extra, words", [
    (["--rates", ""], "give at least one rate"), (["--rates", "x"], "rate"), (["--rates", "-5"], "rate"),
    (["--rates", "nan"], "rate"), (["--rates", "1.5"], "rate"), (["--rates", "2000000"], "rate"),
    (["--seeds", "0"], "--seeds"), (["--seeds", "-1"], "--seeds"), (["--seeds", "100000"], "--seeds"),
    (["--seed", str(2 ** 31 - 1), "--seeds", "5"], "past the largest seed"), (["--threshold", "nan"], "threshold"),
])
def test_sweep_refuses_bad_values_and_creates_no_folder(capsys, place, tiny, extra, words):
    _refused(capsys, ["sweep", place / "q.mid", "--out", place / "sweep", "--model", tiny, *extra], words, place)


@pytest.mark.parametrize("command", ["sweep", "analyze"])
@pytest.mark.parametrize("out, words", [
    ("{p}/file.txt", "is a file, not a folder"), ("{p}/file.txt/r", "is a file, not a folder"),
    ("{p}/dir", "already holds 1 file(s) or folder(s) that are not a qbdi"), (".", "that are not a qbdi"),
    ("", "needs a report folder"), ("/proc/qbdi-test", "cannot write in /proc"),
])
def test_reports_refuse_bad_out_folders(capsys, place, tiny, monkeypatch, command, out, words):
    if out.startswith("/proc") and not Path("/proc/self").exists():
        pytest.skip("no /proc")
    monkeypatch.chdir(place)
    _refused(capsys, [command, place / "q.mid", "--out", out.format(p=place), "--model", tiny], words, place)


@pytest.mark.parametrize("command", ["sweep", "analyze"])
@pytest.mark.parametrize("query, words", [("{p}/absent.mid", "no such file"), ("{p}/file.txt", "not a MIDI file"),
                                          ("{p}/dir", "is a folder")])
def test_reports_on_bad_files_create_no_folder(capsys, place, tiny, command, query, words):
    _refused(capsys, [command, query.format(p=place), "--out", place / "report", "--model", tiny], words, place)


def test_analyze_with_a_bad_model_creates_no_folder(capsys, place):
    _refused(capsys, ["analyze", place / "q.mid", "--out", place / "report", "--model", place / "dir"],
             "no config.json", place)


@pytest.mark.parametrize("extra, words", [(["--upgrade", ""], "needs a model folder"),
                                          (["--upgrade", "{p}/absent"], "no model folder"),
                                          (["--upgrade", "{p}/dir"], "no config.json")])
def test_models_upgrade_refuses_what_is_not_a_model(capsys, place, extra, words):
    _refused(capsys, ["models", *[e.format(p=place) for e in extra]], words, place)


def test_a_bad_global_log_level(capsys):
    _refused(capsys, ["--log-level", "loud", "models"], "unknown log level")


# --- the output promises, through real processes --------------------------------------------------------
def qbdi(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "bridge", *map(str, args)], capture_output=True, **kwargs)


def test_dash_writes_midi_to_standard_output_and_reads_it_from_standard_input(place, tiny):
    r = qbdi("improvise", place / "q.mid", "-o", "-", "--model", tiny, "--threshold", "0.3", check=True)
    assert r.stdout.startswith(b"MThd") and b"wrote standard output" in r.stderr
    mid = mido.MidiFile(file=io.BytesIO(r.stdout))
    assert [t.name for t in mid.tracks][1:] == ["improvisation"]
    again = qbdi("improvise", "-", "-o", "-", "--model", tiny, "--threshold", "0.3",
                 input=(place / "q.mid").read_bytes(), check=True)
    assert again.stdout == r.stdout


def test_force_onto_the_null_device_writes_into_it_and_never_replaces_it(place, tiny):
    rdev = os.stat(os.devnull).st_rdev
    try:
        os.mknod(place / "null", stat.S_IFCHR | 0o666, rdev)     # the system's null device, by another name
    except OSError as exc:
        pytest.skip(f"cannot make a device node here ({exc})")
    for force in ([], ["--force"]):
        r = qbdi("improvise", place / "q.mid", "-o", place / "null", "--model", tiny, *force, text=True)
        assert r.returncode == 0, r.stderr
        assert stat.S_ISCHR(os.lstat(place / "null").st_mode) and os.lstat(place / "null").st_rdev == rdev
    r = qbdi("improvise", place / "q.mid", "-o", place / "zero", "--model", tiny, "--force", text=True)
    assert r.returncode == 2 and "character device" in r.stderr
    assert stat.S_ISCHR(os.lstat(place / "zero").st_mode)


def test_two_runs_racing_to_one_new_output_never_replace_each_other(place, tiny):
    out = place / "race.mid"
    procs = [subprocess.Popen([sys.executable, "-m", "bridge", "improvise", str(place / "q.mid"), "-o", str(out),
                               "--model", str(tiny), "--seed", str(seed), "--sample", "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in (1, 2, 3)]
    results = [(p.wait(60), *p.communicate()) for p in procs]
    winners = [r for r in results if r[0] == 0]
    assert len(winners) == 1, results
    for rc, _, err in results:
        if rc:
            assert rc == 2 and ("exists" in err or "created by another program" in err), err
    seed = json.loads(winners[0][1])["settings"]["seed"]
    solo = qbdi("improvise", place / "q.mid", "-o", "-", "--model", tiny, "--seed", seed, "--sample", check=True)
    assert out.read_bytes() == solo.stdout
    assert sorted(p.name for p in place.iterdir() if "race" in p.name) == ["race.mid"]


def _without_permission_overrides() -> list[str]:
    """A command prefix under which permissions hold: none for a user; for root, dropping the
    capabilities that let root read and write anything (its files then belong to nobody)."""
    if not ROOT:
        return []
    import shutil

    if not shutil.which("setpriv"):
        pytest.skip("root without setpriv cannot drop its permission overrides")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def test_a_user_without_permission_gets_one_line_and_nothing_is_written(place, tiny):
    prefix = _without_permission_overrides()
    secret, locked = place / "secret.mid", place / "locked"
    midi_file(secret, chord_bars())
    locked.mkdir()
    for path, mode in ((secret, 0o000), (locked, 0o555)):
        if ROOT:
            os.chown(path, 65534, 65534)
        path.chmod(mode)
    cases = [(["improvise", secret, "-o", place / "o.mid", "--model", tiny], "permission denied"),
             (["improvise", place / "q.mid", "-o", locked / "o.mid", "--model", tiny], "cannot write in folder"),
             (["analyze", place / "q.mid", "--out", locked / "r", "--no-latents"], "no write permission"),
             (["sweep", place / "q.mid", "--out", locked / "r", "--model", tiny], "no write permission"),
             (["train", place, "--out", locked / "m"], "no write permission")]
    try:
        for argv, words in cases:
            r = subprocess.run([*prefix, sys.executable, "-m", "bridge", *map(str, argv)], capture_output=True,
                               text=True)
            lines = r.stderr.strip().splitlines()
            assert r.returncode == 2 and len(lines) == 1 and words in lines[0], (argv, r.stderr)
        assert not (place / "o.mid").exists()
    finally:
        locked.chmod(0o755)
    assert list(locked.iterdir()) == []


def test_an_old_format_model_still_improvises_with_one_warning(place):
    folder = old_format_model(place / "old", sparse=True)
    r = qbdi("improvise", place / "q.mid", "-o", place / "o.mid", "--model", folder, text=True)
    assert r.returncode == 0 and r.stderr.count("qbdi models --upgrade") == 1, r.stderr
    r = qbdi("models", "--upgrade", folder, text=True)
    assert r.returncode == 0 and "format 1 -> 3" in r.stdout
    r = qbdi("improvise", place / "q.mid", "-o", place / "o2.mid", "--model", folder, text=True)
    assert r.returncode == 0 and "upgrade" not in r.stderr


def test_a_file_name_with_a_newline_gives_one_line(capsys, place, tiny):
    _refused(capsys, ["improvise", place / "a\nb.mid", "-o", place / "out.mid", "--model", tiny], "a\\nb.mid", place)


def test_the_meter_written_is_the_meter_asked_for(place, tiny):
    for bpb, signature in (("0.25", (1, 16)), ("1.25", (5, 16)), ("3.5", (7, 8)), ("6", (6, 4))):
        out = place / f"m{bpb}.mid"
        qbdi("improvise", place / "q.mid", "-o", out, "--model", tiny, "--beats-per-bar", bpb, check=True)
        sig = [m for m in mido.MidiFile(out).tracks[0] if m.type == "time_signature"][0]
        assert (sig.numerator, sig.denominator) == signature
    broken = place / "zero-meter.mid"
    data = bytearray(midi_file(broken, chord_bars(), signature=(4, 4)).read_bytes())
    at = data.index(b"\xff\x58\x04") + 3
    data[at] = 0                                              # numerator 0: the 0/4 some exporters write
    broken.write_bytes(bytes(data))
    r = qbdi("improvise", broken, "-o", place / "from-zero.mid", "--model", tiny, text=True)
    assert r.returncode == 0 and "0/4 is not a meter" in r.stderr, r.stderr
    sig = [m for m in mido.MidiFile(place / "from-zero.mid").tracks[0] if m.type == "time_signature"][0]
    assert (sig.numerator, sig.denominator) == (4, 4)


def test_reports_appear_whole_and_a_rerun_with_force_replaces_them(place, tiny):
    out = place / "report"
    for again in ([], ["--force"]):
        r = qbdi("analyze", place / "q.mid", "--out", out, "--no-latents", "--no-progress", *again, text=True)
        assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["analysis.json", "index.html", "q"]
    assert not [p for p in place.rglob("*") if ".qbdi-tmp" in p.name]


def test_threads_of_a_stuck_fifo_reader_do_not_hang_the_query(place, tiny):
    """A FIFO given as the query is refused at once (reading it would wait for a writer forever)."""
    os.mkfifo(place / "pipe.mid")
    done = []
    t = threading.Thread(target=lambda: done.append(qbdi("improvise", place / "pipe.mid", "-o", place / "o.mid",
                                                         "--model", tiny, text=True, timeout=60)))
    t.start()
    t.join(60)
    assert done and done[0].returncode == 2 and "is a FIFO" in done[0].stderr
