# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The OSC client examples of docs/PROTOCOL.md ("Other OSC clients"), run for real.

Each example is a file in examples/ and is printed in the docs between marker comments; the docs
must show the file byte for byte. Both examples then run against a real ``python -m bridge serve``
subprocess (on a free port, with the tiny test model) and must print the notes that
``bridge.improvise.improvise`` gives for the same query, settings and seed:

- examples/osc_client.py: python-osc only, no qbdi import (a user without our package);
- examples/qbdi_ping.pd: Pure Data vanilla, run headless (``pd -nogui``); skipped, saying why,
  only when Pure Data is not installed (.ci/run installs it where apt-get is available).
"""

from __future__ import annotations

import ast
import importlib.util
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from builders import A_MINOR, C_MAJOR, F_MAJOR, G_MAJOR, chord_bars

from bridge import __version__
from bridge import protocol as P
from bridge.config import Settings
from bridge.improvise import improvise
from bridge.models import load_model
from bridge.osc import decode, encode
from bridge.pianoroll import Note

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "PROTOCOL.md"
PY_EXAMPLE = ROOT / "examples" / "osc_client.py"
PD_EXAMPLE = ROOT / "examples" / "qbdi_ping.pd"
EXAMPLES = (PY_EXAMPLE, PD_EXAMPLE)
# <!-- example: examples/NAME --> then one fenced block, then <!-- end of example -->
MARKED = re.compile(r"<!-- example: (?P<path>\S+) -->\n```[\w-]*\n(?P<body>.*?)```\n<!-- end of example -->", re.S)
PD = os.environ.get("QBDI_PD") or shutil.which("pd")
START_TIMEOUT_S = 60.0   # a loaded 2-core machine may take a while to import NumPy and load the model
RUN_TIMEOUT_S = 60.0


def doc_examples() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    found = {}
    for match in MARKED.finditer(text):
        assert match["path"] not in found, f"docs/PROTOCOL.md shows {match['path']} twice"
        found[match["path"]] = match["body"]
    return found


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def engine_notes(model_dir: Path, query, settings_args: list) -> list[tuple]:
    """What the server must answer: ``improvise`` on the query as it arrives (float32 on the wire)
    with the settings as the server reads them."""
    settings = Settings.from_dict(P.parse_settings(settings_args))
    notes = [Note(int(p), float(np.float32(s)), float(np.float32(d)), int(v)) for p, s, d, v in query]
    result = improvise(load_model(str(model_dir)), notes, settings)
    expected = [(n.pitch, float(np.float32(n.start)), float(np.float32(n.duration)), n.velocity) for n in result.notes]
    assert expected, "the test model gives no notes for this query: the comparison would prove nothing"
    return expected


# --- the docs show the files --------------------------------------------------------------------
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_docs_show_the_example_file_verbatim(path):
    shown = doc_examples()
    name = path.relative_to(ROOT).as_posix()
    assert name in shown, f"docs/PROTOCOL.md has no block marked <!-- example: {name} -->"
    assert shown[name] == path.read_text(encoding="utf-8"), \
        f"the {name} block in docs/PROTOCOL.md differs from the file; copy the file into the docs"


def test_docs_show_only_existing_examples():
    for name in doc_examples():
        assert (ROOT / name).is_file(), f"docs/PROTOCOL.md shows {name}, which does not exist"


# --- a real server, as a user starts it ----------------------------------------------------------
@pytest.fixture(scope="module")
def served(model_dir, tmp_path_factory):
    """``(port, model_dir)`` of ``python -m bridge serve --port 0 --model <tiny>``; the port comes
    from /qbdi/ready on --notify-port."""
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    notify = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    notify.bind(("127.0.0.1", 0))
    notify.settimeout(0.5)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bridge", "serve", "--port", "0", "--model", str(model_dir),
             "--notify-port", str(notify.getsockname()[1]), "--workers", "1"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        port = None
        while port is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"qbdi serve did not become ready (exit code {proc.poll()}):\n"
                            f"{log_path.read_text(errors='replace')}")
            try:
                address, args = decode(notify.recv(4096))
            except TimeoutError:
                continue
            if address == P.READY:
                port = args[2]
        yield port, model_dir
    finally:
        notify.close()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- Python with python-osc --------------------------------------------------------------------------
def load_python_example():
    spec = importlib.util.spec_from_file_location("qbdi_osc_client_example", PY_EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # main() runs only as a script
    return module


def test_python_example_needs_only_python_osc():
    tree = ast.parse(PY_EXAMPLE.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    outside = sorted(imported - set(sys.stdlib_module_names) - {"pythonosc"})
    assert not outside, f"examples/osc_client.py imports {outside}; it may use python-osc and the standard library only"


def test_python_example_sends_what_the_protocol_defines():
    example = load_python_example()
    assert example.NOTES_PER_CHUNK == P.NOTES_PER_CHUNK
    assert set(example.SETTINGS) <= set(P.SETTING_KEYS)
    P.parse_notes([x for note in example.QUERY for x in note])          # a valid query
    text = PY_EXAMPLE.read_text(encoding="utf-8")
    used = set(re.findall(r'"(/qbdi/[a-z/]+)"', text))
    assert used == {P.IMPROVISE, P.NOTES, P.RESULT, P.RESULT_NOTES, P.ERROR, P.WARNING}


def test_python_example_improvises_against_a_real_server(served, tmp_path):
    port, model_dir = served
    example = load_python_example()
    run = subprocess.run([sys.executable, str(PY_EXAMPLE), "--port", str(port)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert run.returncode == 0, f"the example failed:\n{run.stdout}\n{run.stderr}"
    expected = engine_notes(model_dir, example.QUERY, [x for kv in example.SETTINGS.items() for x in kv])
    lines = run.stdout.splitlines()
    settings = example.SETTINGS
    assert lines[0] == f"{len(expected)} notes from model tiny, rate {settings['rate']}, seed {settings['seed']}"
    assert lines[1].split() == ["pitch", "start", "duration", "velocity"]
    printed = [(int(p), float(s), float(d), int(v)) for p, s, d, v in (line.split() for line in lines[2:])]
    assert printed == expected


def test_python_example_chunks_a_long_query_and_reassembles_a_long_result(served):
    """More than 128 notes each way: the query goes in several /qbdi/notes chunks and the result
    comes back in several /qbdi/result/notes chunks."""
    port, model_dir = served
    example = load_python_example()
    query = [(n.pitch, n.start, n.duration, n.velocity) for n in chord_bars((C_MAJOR, A_MINOR, F_MAJOR, G_MAJOR) * 4)]
    settings = {"rate": 128, "seed": 3}
    assert P.n_chunks(len(query)) > 1
    model, effective, notes = example.improvise("127.0.0.1", port, query, settings)
    expected = engine_notes(model_dir, query, [x for kv in settings.items() for x in kv])
    assert len(expected) > P.NOTES_PER_CHUNK
    assert (model, effective["rate"], effective["seed"]) == ("tiny", 128, 3)
    assert [(p, s, d, v) for p, s, d, v in notes] == expected


def test_python_example_takes_the_reply_in_any_order():
    """Chunks before their header, last chunk first, a warning and a stray reply to another id
    on the way: the example still puts the notes back in order."""
    example = load_python_example()
    notes = [(60 + i % 12, i * 0.25, 0.25, 64 + i % 60) for i in range(300)]
    chunks = P.chunk_args([x for note in notes for x in note])
    fake = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fake.bind(("127.0.0.1", 0))
    fake.settimeout(10)

    def serve_once():
        received = {}
        while not (P.IMPROVISE in received and P.NOTES in received):
            data, (host, _) = fake.recvfrom(65536)
            address, args = decode(data)
            received[address] = args
        request_id, reply_port = received[P.IMPROVISE][:2]
        dest = (host, reply_port)
        fake.sendto(encode(P.RESULT_NOTES, [request_id ^ 1, 0, 1]), dest)   # another request's
        for index in reversed(range(len(chunks))):
            fake.sendto(encode(P.RESULT_NOTES, [request_id, index, len(chunks), *chunks[index]]), dest)
        fake.sendto(encode(P.WARNING, [request_id, "a warning"]), dest)
        fake.sendto(encode(P.RESULT, [request_id, len(notes), len(chunks), "fake", "rate", 256, "seed", 7]), dest)

    thread = threading.Thread(target=serve_once, daemon=True)
    thread.start()
    try:
        model, settings, got = example.improvise("127.0.0.1", fake.getsockname()[1], example.QUERY, example.SETTINGS)
    finally:
        thread.join(10)
        fake.close()
    assert len(chunks) == 3 and (model, settings) == ("fake", {"rate": 256, "seed": 7})
    assert got == [(p, np.float32(s), np.float32(d), v) for p, s, d, v in notes]


def test_python_example_reports_a_server_error(served, tmp_path):
    """The /qbdi/error path: a model the server does not have."""
    port, _ = served
    script = (f"import sys; sys.path.insert(0, {str(PY_EXAMPLE.parent)!r}); import osc_client as c; "
              f"c.improvise('127.0.0.1', {port}, c.QUERY, {{'model': 'no-such-model'}})")
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                         timeout=RUN_TIMEOUT_S)
    assert run.returncode == 1
    assert run.stderr.startswith("qbdi error unknown_model: unknown model 'no-such-model'"), run.stderr


def test_python_example_says_when_no_server_answers(tmp_path):
    script = (f"import sys; sys.path.insert(0, {str(PY_EXAMPLE.parent)!r}); import osc_client as c; "
              f"c.improvise('127.0.0.1', {free_udp_port()}, c.QUERY, c.SETTINGS, timeout=0.3)")
    run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                         timeout=RUN_TIMEOUT_S)
    assert run.returncode == 1
    assert "within 0.3 s: is qbdi serve running there?" in run.stderr


# --- Pure Data -----------------------------------------------------------------------------------------
def pd_records(path: Path) -> list[list[str]]:
    """A .pd file as records (split at unescaped ';'), each a list of atoms (escapes kept)."""
    text = path.read_text(encoding="utf-8")
    records = [r.strip() for r in re.split(r"(?<!\\);", text) if r.strip()]
    return [r.split() for r in records]


def pd_boxes(path: Path):
    """``(boxes, connections)``: boxes are ``(kind, atoms)`` in file order (the indices that
    ``#X connect`` uses, comments included); connections ``(src, outlet, dst, inlet)``."""
    records = pd_records(path)
    assert records[0][:2] == ["#N", "canvas"], "a Pd patch starts with #N canvas"
    boxes, connections = [], []
    for record in records[1:]:
        assert record[0] == "#X", f"unexpected record {' '.join(record)}"
        if record[1] == "connect":
            connections.append(tuple(int(x) for x in record[2:6]))
        else:
            atoms = record[4:]
            if len(atoms) >= 3 and atoms[-2] == "f" and re.search(r"[^\\],$", atoms[-3]):
                atoms = atoms[:-3] + [atoms[-3][:-1]]       # drop the box width ", f N"
            boxes.append((record[1], atoms))
    return boxes, connections


def pd_example_request():
    """The Pd example's query and settings, read from its two message boxes."""
    boxes, _ = pd_boxes(PD_EXAMPLE)
    messages = [atoms for kind, atoms in boxes if kind == "msg" and atoms[:2] == ["\\$1", "\\$2"]]
    assert len(messages) == 2, "expected one header and one notes message box starting with \\$1 \\$2"
    header, notes = sorted(messages, key=lambda atoms: "rate" not in atoms)
    # Pd sends every number as an OSC float: so do these
    n_notes, n_chunks = int(header[2]), int(header[3])
    settings = [a if re.fullmatch(r"[a-z_]+", a) else float(a) for a in header[4:]]
    chunk, chunk_count, flat = int(notes[2]), int(notes[3]), [float(a) for a in notes[4:]]
    query = [tuple(flat[i:i + 4]) for i in range(0, len(flat), 4)]
    return n_notes, n_chunks, chunk, chunk_count, query, settings


def test_pd_example_is_a_wired_patch_speaking_the_protocol():
    boxes, connections = pd_boxes(PD_EXAMPLE)
    for src, outlet, dst, inlet in connections:
        assert 0 <= src < len(boxes) and 0 <= dst < len(boxes), f"connect {src} {outlet} {dst} {inlet}: no such box"
        assert boxes[src][0] != "text" and boxes[dst][0] != "text", f"connect {src} {dst}: a comment"
        assert outlet >= 0 and inlet >= 0
    objects = [atoms for kind, atoms in boxes if kind == "obj"]
    sent = {"/" + "/".join(atoms[1:]) for atoms in objects if atoms[0] == "oscformat"}
    assert sent == {P.PING, P.IMPROVISE, P.NOTES}
    # [oscparse] -> [list trim] -> [route qbdi] -> [route pong result ...]; result -> [route notes]
    assert ["route", "qbdi"] in objects and ["route", "notes"] in objects
    kinds = next(atoms[1:] for atoms in objects if atoms[0] == "route" and "pong" in atoms)
    heard = {f"/qbdi/{kind}" for kind in kinds} | {P.RESULT + "/notes"}
    assert heard <= set(P.REPLIES) and {P.PONG, P.RESULT, P.RESULT_NOTES, P.ERROR} <= heard
    assert ["netsend", "-u", "-b"] in objects and ["oscparse"] in objects

    n_notes, n_chunks, chunk, chunk_count, query, settings = pd_example_request()
    assert n_notes == len(query) and n_chunks == chunk_count == P.n_chunks(len(query)) and chunk == 0
    P.parse_notes([x for note in query for x in note])
    assert set(P.parse_settings(settings)) <= set(P.SETTING_KEYS)


class PdRun:
    """``pd -nogui`` on a patch; its printout (stderr) read line by line in a thread."""

    def __init__(self, patch: Path, path: Path) -> None:
        self.proc = subprocess.Popen([PD, "-nogui", "-nosound", "-nomidi", "-noprefs", "-stderr", "-path", str(path),
                                      "-open", str(patch)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))

    def next_line(self, deadline: float) -> str | None:
        try:
            line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            return None
        self.seen.append(line)
        return line

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.mark.skipif(PD is None, reason="Pure Data is not installed (apt-get install puredata-core, "
                                       "or set QBDI_PD to the pd binary); .ci/run installs it")
def test_pd_example_pings_and_improvises_against_a_real_server(served, tmp_path):
    port, model_dir = served
    reply_port = free_udp_port()
    # the example as an abstraction: [qbdi_ping <server port> <reply port>] (docs/PROTOCOL.md)
    patch = tmp_path / "run.pd"
    patch.write_text(f"#N canvas 0 0 400 200 12;\n#X obj 10 10 {PD_EXAMPLE.stem} {port} {reply_port};\n")
    n_notes, _, _, _, query, settings = pd_example_request()
    expected = engine_notes(model_dir, query, settings)

    pd = PdRun(patch, PD_EXAMPLE.parent)
    pong, result, notes, errors = None, None, [], []
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while time.monotonic() < deadline and not (pong and result and len(notes) >= int(result[1])):
            line = pd.next_line(deadline)
            if line is None:
                break
            label, _, rest = line.partition(": ")
            if label == "qbdi-pong":
                pong = rest.split()
            elif label == "qbdi-result":
                result = rest.split()
            elif label == "qbdi-note":
                pitch, start, duration, velocity = rest.split()
                notes.append((int(pitch), float(start), float(duration), int(velocity)))
            elif label in ("qbdi-error", "qbdi-warning", "error"):
                errors.append(line)
                break
    finally:
        pd.stop()
    printout = "\n".join(pd.seen)
    assert not errors, f"Pd reported errors:\n{printout}"
    assert pong == ["1", __version__, str(P.PROTOCOL_VERSION)], f"no /qbdi/pong:\n{printout}"
    assert result is not None, f"no /qbdi/result:\n{printout}"
    assert result[0] == "2" and int(result[1]) == len(expected) and result[3] == "tiny"
    assert notes == expected
