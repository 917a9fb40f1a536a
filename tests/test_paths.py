# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Paths are untrusted: inputs that are not regular files never block or get read; outputs are
created exclusively, replaced only when they are regular files and --force says so, never through
a link or onto a device; report folders appear whole or not at all."""

import os
import stat
import threading
from pathlib import Path

import pytest

from bridge.errors import QbdiError
from bridge.folders import plan_folder
from bridge.paths import plan_output, read_input, shown, write_file


def _mknod(path: Path, kind: int, major: int, minor: int) -> Path:
    try:
        os.mknod(path, kind | 0o600, os.makedev(major, minor))
    except (OSError, AttributeError) as exc:
        pytest.skip(f"cannot make a device node here ({exc})")
    return path


# --- reading ------------------------------------------------------------------------------------------
def test_read_input_reads_a_regular_file_once_and_caps_its_size(tmp_path):
    (tmp_path / "f").write_bytes(b"abc")
    assert read_input(tmp_path / "f") == b"abc"
    (tmp_path / "big").write_bytes(b"x" * 2048)
    with pytest.raises(QbdiError, match="is 2048 bytes; the limit is 1024 bytes"):
        read_input(tmp_path / "big", "thing", limit=1024)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_read_input_refuses_a_fifo_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    done = []
    worker = threading.Thread(target=lambda: done.append(pytest.raises(QbdiError, read_input, tmp_path / "pipe")))
    worker.start()
    worker.join(5)
    assert done and "is a FIFO, not a file" in str(done[0].value)


@pytest.mark.parametrize("make, words", [
    ("missing", "no such file"), ("folder", "is a folder"), ("under a file", "is a file, not a folder"),
    ("empty name", "empty name"), ("nul", "NUL character"), ("long name", "file names end at"),
    ("long path", "paths end at"),
])
def test_read_input_names_the_problem(tmp_path, make, words):
    (tmp_path / "file").write_bytes(b"x")
    (tmp_path / "dir").mkdir()
    path = {"missing": tmp_path / "absent.mid", "folder": tmp_path / "dir", "under a file": tmp_path / "file" / "x.mid",
            "empty name": "", "nul": f"{tmp_path}/a\0b", "long name": tmp_path / ("n" * 300),
            "long path": "/".join(["d" * 200] * 30)}[make]
    with pytest.raises(QbdiError, match=words):
        read_input(path)


def test_read_input_refuses_devices(tmp_path):
    for path in (Path(os.devnull), _mknod(tmp_path / "zero", stat.S_IFCHR, 1, 5)):
        with pytest.raises(QbdiError, match="character device"):
            read_input(path)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux /proc")
def test_proc_files_read_as_what_they_hold_not_their_size():
    assert b"Name:" in read_input("/proc/self/status")        # stat says 0 bytes; the content is read


def test_shown_paths_are_one_printable_line():
    assert shown("a\nb\x1b[2J") == "a\\nb\\x1b[2J" and shown(os.fsdecode(b"caf\xe9")) == "caf\\udce9"


# --- one output file ----------------------------------------------------------------------------------
def test_a_new_output_is_created_exclusively(tmp_path):
    out = tmp_path / "o.mid"
    first, second = plan_output(out), plan_output(out)          # two runs that both saw no file
    first.write(b"first")
    with pytest.raises(QbdiError, match="created by another program while qbdi was working"):
        second.write(b"second")
    assert out.read_bytes() == b"first" and sorted(tmp_path.iterdir()) == [out]


def test_many_racing_writers_give_one_winner_and_no_debris(tmp_path):
    out = tmp_path / "race.mid"
    plans = [plan_output(out) for _ in range(8)]
    outcomes = []
    barrier = threading.Barrier(len(plans))

    def run(k):
        barrier.wait()
        try:
            plans[k].write(bytes([k]) * 1000)
            outcomes.append(k)
        except QbdiError:
            pass
    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(plans))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 1 and out.read_bytes() == bytes(outcomes) * 1000
    assert sorted(tmp_path.iterdir()) == [out]


def test_racing_writers_with_force_each_replace_whole(tmp_path):
    out = tmp_path / "forced.mid"
    plans = [plan_output(out, force=True) for _ in range(6)]
    barrier = threading.Barrier(len(plans))

    def run(k):
        barrier.wait()
        plans[k].write(bytes([k]) * 100_000)
    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(plans))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    data = out.read_bytes()
    assert len(data) == 100_000 and len(set(data)) == 1            # one writer's file, whole
    assert sorted(tmp_path.iterdir()) == [out]


def test_force_replaces_a_regular_file_atomically_keeping_its_mode(tmp_path):
    out = tmp_path / "o.mid"
    out.write_bytes(b"old")
    out.chmod(0o640)
    with pytest.raises(QbdiError, match="exists; choose another -o or add --force"):
        plan_output(out)
    plan_output(out, force=True).write(b"new")
    assert out.read_bytes() == b"new" and stat.S_IMODE(out.stat().st_mode) == 0o640
    assert sorted(tmp_path.iterdir()) == [out]


def test_force_never_replaces_a_symlink_or_its_target(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_bytes(b"precious")
    link = tmp_path / "link.mid"
    link.symlink_to(target)
    dangling = tmp_path / "dangling.mid"
    dangling.symlink_to(tmp_path / "nowhere")
    for path in (link, dangling):
        with pytest.raises(QbdiError, match="symbolic link"):
            plan_output(path, force=True)
    assert target.read_bytes() == b"precious" and link.is_symlink() and not (tmp_path / "nowhere").exists()


def test_force_never_replaces_a_device(tmp_path):
    zero = _mknod(tmp_path / "zero", stat.S_IFCHR, 1, 5)
    disk = _mknod(tmp_path / "disk", stat.S_IFBLK, 7, 0)
    for path, words in ((zero, "character device"), (disk, "block device")):
        with pytest.raises(QbdiError, match=words):
            plan_output(path, force=True)
        assert not stat.S_ISREG(os.lstat(path).st_mode)


def test_the_null_device_is_written_into_never_replaced(tmp_path):
    rdev = os.stat(os.devnull).st_rdev          # a private node of the null device: the system's stays untouched
    null = _mknod(tmp_path / "null", stat.S_IFCHR, os.major(rdev), os.minor(rdev))
    for force in (False, True):
        output = plan_output(null, force=force)
        assert output.mode == "stream"
        output.write(b"MThd" * 100)
    assert stat.S_ISCHR(os.lstat(null).st_mode) and os.lstat(null).st_rdev == os.stat(os.devnull).st_rdev


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_is_written_into_and_a_fifo_nobody_reads_is_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(QbdiError, match="no program is reading the FIFO"):
        plan_output(fifo, force=True).write(b"data")
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    for _ in range(200):                          # until the reader has the FIFO open
        try:
            plan_output(fifo).write(b"MThd data")
            break
        except QbdiError:
            threading.Event().wait(0.01)
    reader.join(5)
    assert got == [b"MThd data"] and stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("make, words", [
    ("folder", "is a folder"), ("dot", "names a folder"), ("slash", "names a folder"), ("no parent", "does not exist"),
    ("parent is a file", "is a file, not a folder"), ("long name", "file names end at"), ("empty", "empty name"),
])
def test_plan_output_names_the_problem(tmp_path, make, words):
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_bytes(b"x")
    path = {"folder": tmp_path / "dir", "dot": ".", "slash": f"{tmp_path}/new/", "no parent": tmp_path / "a" / "b.mid",
            "parent is a file": tmp_path / "file" / "o.mid", "long name": tmp_path / ("n" * 256 + ".mid"),
            "empty": ""}[make]
    with pytest.raises(QbdiError, match=words):
        plan_output(path, force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "file"]


def test_the_query_is_never_the_output_even_through_a_hard_link(tmp_path):
    query = tmp_path / "q.mid"
    query.write_bytes(b"query")
    os.link(query, tmp_path / "alias.mid")
    with pytest.raises(QbdiError, match="is the query file"):
        plan_output(tmp_path / "alias.mid", force=True, keep=[query])
    assert query.read_bytes() == b"query"


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="Linux /proc")
def test_proc_is_not_a_place_for_files():
    for path in ("/proc/qbdi.mid", "/proc/self/status"):
        with pytest.raises(QbdiError):
            plan_output(path, force=True).write(b"MThd")


def test_write_file_replaces_regular_files_only(tmp_path):
    write_file(tmp_path / "a", b"1")
    write_file(tmp_path / "a", b"2")
    assert (tmp_path / "a").read_bytes() == b"2"
    with pytest.raises(QbdiError, match="exists"):
        write_file(tmp_path / "a", b"3", replace=False)


# --- one output folder -----------------------------------------------------------------------------
def test_a_staged_folder_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "deep" / "report"
    folder = plan_folder(target, "analysis report")
    with pytest.raises(RuntimeError), folder.staged() as staging:
        (staging / "half.json").write_text("{")
        raise RuntimeError("the work failed half-way")
    assert list(tmp_path.iterdir()) == []                  # no report, no parents, no staging
    with folder.staged() as staging:
        (staging / "a.json").write_text("{}")
        (staging / "sub").mkdir()
        (staging / "sub" / "b.png").write_bytes(b"png")
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == ["a.json", "sub", "sub/b.png"]
    assert [p.name for p in tmp_path.iterdir()] == ["deep"]


def test_a_previous_report_is_replaced_whole_and_a_foreign_folder_refused(tmp_path):
    report = tmp_path / "r"
    (report / "old piece").mkdir(parents=True)
    (report / "mine.txt").write_text("the old report")
    report.chmod(0o750)
    with pytest.raises(QbdiError, match="already holds 2 file"):
        plan_folder(report, "analysis report")
    owned = lambda p: (p / "mine.txt").exists()   # noqa: E731
    with pytest.raises(QbdiError, match="already holds a qbdi analysis report; add --force"):
        plan_folder(report, "analysis report", owned=owned, force=False)
    folder = plan_folder(report, "analysis report", owned=owned, force=True)
    with folder.staged() as staging:
        (staging / "analysis.json").write_text("{}")
    assert sorted(p.name for p in report.iterdir()) == ["analysis.json"]      # nothing of the old one is left
    assert [p.name for p in tmp_path.iterdir()] == ["r"] and oct(report.stat().st_mode & 0o777) == "0o750"


def test_a_new_report_folder_gets_the_usual_mode_not_0700(tmp_path):
    folder = plan_folder(tmp_path / "new", "analysis report")
    with folder.staged() as staging:
        (staging / "analysis.json").write_text("{}")
    mask = os.umask(0o022)
    os.umask(mask)
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o777 & ~mask


@pytest.mark.parametrize("make, words", [
    ("file", "is a file, not a folder"), ("inside a file", "is a file, not a folder"), ("empty", "empty name")])
def test_plan_folder_names_the_problem(tmp_path, make, words):
    (tmp_path / "file").write_bytes(b"x")
    path = {"file": tmp_path / "file", "inside a file": tmp_path / "file" / "out", "empty": ""}[make]
    with pytest.raises(QbdiError, match=words):
        plan_folder(path, "sweep")
    assert [p.name for p in tmp_path.iterdir()] == ["file"]
