# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Safe defaults of `qbdi serve`: loopback only unless asked, no files written, request sizes capped
with an error that names the cap. (The caps already covered by test_server.py's MALFORMED list,
99,999 notes, a 4 KB datagram, a 300-character string, 9,999 free bars, are not repeated here.)"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from builders import tiny_model

from bridge import protocol as P
from bridge.client import Client
from bridge.osc import decode, encode
from bridge.pianoroll import Note


def _serve(args, env=None, cwd=None):
    """`qbdi serve --port 0` as a subprocess; returns (process, port) once it announced itself."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as notify:
        notify.bind(("127.0.0.1", 0))
        notify.settimeout(60)
        proc = subprocess.Popen([sys.executable, "-m", "bridge", "serve", "--port", "0",
                                 "--notify-port", str(notify.getsockname()[1]), *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
        try:
            address, ready = decode(notify.recv(4096))
        except BaseException:
            proc.kill()
            raise
    assert address == P.READY
    return proc, ready[2]


def _bound_addresses(port):
    """Local addresses of the UDP sockets on ``port``, from /proc/net/udp and udp6 (hex, as the kernel writes them)."""
    found = []
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for fields in (line.split() for line in lines):
            address, hex_port = fields[1].split(":")
            if int(hex_port, 16) == port:
                found.append(address)
    return found


@pytest.mark.skipif(not Path("/proc/net/udp").exists(), reason="reads the kernel's socket table (Linux)")
def test_serve_binds_loopback_only_by_default(model_dir):
    proc, port = _serve(["--model", str(model_dir)])
    try:
        assert _bound_addresses(port) == ["0100007F"]        # 127.0.0.1, not 0.0.0.0 or ::
        with Client(port=port) as client:
            client.quit()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert f"listening on 127.0.0.1:{port}" in err and "reachable from other machines" not in err


def _files_under(*roots):
    return sorted(str(p) for root in roots for p in Path(root).rglob("*"))


def test_the_server_writes_no_files(tmp_path, tmp_path_factory):
    """Run with a fresh HOME, working folder and TMPDIR, exercise every request and a few errors:
    nothing appears in any of them, nor in the model folder."""
    model = tiny_model(tmp_path_factory.mktemp("writes") / "tiny", sparse=True)
    home, cwd, tmp = tmp_path / "home", tmp_path / "cwd", tmp_path / "tmp"
    for d in (home, cwd, tmp):
        d.mkdir()
    model_files = {p: p.stat().st_mtime_ns for p in model.iterdir()}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "MPLCONFIGDIR", "PYTHONPYCACHEPREFIX"))}
    env.update(HOME=str(home), TMPDIR=str(tmp), TMP=str(tmp), TEMP=str(tmp),
               PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc, port = _serve(["--model", str(model), "--log-level", "DEBUG"], env=env, cwd=cwd)
    try:
        with Client(port=port, timeout=10) as client:
            client.ping(), client.status(), client.models()
            client.improvise([Note(60, 0.0, 1.0, 90), Note(64, 1.0, 1.0, 90)], {"rate": 16})
            client.free({"bars": 2})
            raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            raw.bind(("127.0.0.1", 0))
            for data in (b"garbage", encode("/qbdi/dance", [1, raw.getsockname()[1]]),
                         encode(P.FREE, [2, raw.getsockname()[1], "model", "../../etc"]),
                         encode(P.FREE, [3, raw.getsockname()[1], "model", str(model)])):
                raw.sendto(data, ("127.0.0.1", port))
            raw.settimeout(5)
            codes = sorted(decode(raw.recv(4096))[1][1] for _ in range(3))
            raw.close()
            client.quit()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert codes == ["unknown_address", "unknown_model", "unknown_model"]   # a request cannot name a path
    assert _files_under(home, cwd, tmp) == []
    assert {p: p.stat().st_mtime_ns for p in model.iterdir()} == model_files


# --- request sizes ------------------------------------------------------------------------------
def _chunks_past_max_notes(port):
    chunk = [60, 0.0, 0.25, 90] * P.NOTES_PER_CHUNK
    return [encode(P.NOTES, [41, port, i, P.MAX_CHUNKS, *chunk]) for i in range(P.MAX_CHUNKS)]


CAPS = [
    # (datagrams for the reply port, request id, code, words in the message)
    (lambda p: [encode(P.IMPROVISE, [31, p, 1, P.MAX_CHUNKS + 1])], 31, "too_large", f"0 to {P.MAX_CHUNKS}"),
    (lambda p: [encode(P.NOTES, [32, p, 0, 10**6, 60, 0.0, 1.0, 90])], 32, "too_large", f"0 to {P.MAX_CHUNKS}"),
    (lambda p: [encode(P.IMPROVISE, [33, p, 2, 1]), encode(P.NOTES, [33, p, 0, 1, 60, 0.0, 1.0, 90,
                                                                    60, 2048.0, 1.0, 90])],
     33, "too_large", "513 bars long; the limit is 512"),
    (lambda p: [encode(P.IMPROVISE, [34, p, 1, 1, "beats_per_bar", 0.25]),
                encode(P.NOTES, [34, p, 0, 1, 60, 200.0, 1.0, 90])], 34, "too_large", "the limit is 512"),
    (lambda p: [encode(P.IMPROVISE, [35, p, 1, 1, "continue_bars", 513])], 35, "bad_request", "0 to 512"),
    (lambda p: [encode(P.IMPROVISE, [36, p, 1, 1, "length_beats", 10**6])], 36, "bad_request", "length"),
    (lambda p: [encode(P.FREE, [37, p, "bars", 513])], 37, "bad_request", "from 1 to 512"),
    (lambda p: [encode(P.FREE, [38, p, "beats_per_bar", 64.0])], 38, "bad_request", "beats per bar"),
    (lambda p: [encode(P.FREE, [39, p, "bars", 4, "beats_per_bar", 32.0, "threshold", 0.01])],
     39, "too_large", f"the limit is {P.MAX_NOTES}"),
    (lambda p: _chunks_past_max_notes(p), 41, "too_large", f"more than {P.MAX_NOTES} notes"),
]


@pytest.mark.parametrize("make, request_id, code, words", CAPS)
def test_request_sizes_are_capped_with_an_error_naming_the_cap(peer, make, request_id, code, words):
    for data in make(peer.port):
        peer.send_raw(data)
    got_id, got_code, message = peer.error(request_id)
    assert (got_id, got_code) == (request_id, code) and words in message, message
    peer.ping()
