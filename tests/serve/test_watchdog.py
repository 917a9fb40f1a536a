# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``qbdi serve --exit-with-stdin`` (bridge.serve.watchdog): the server ends with the program that
started it. A real parent process starts the real server with a pipe on its stdin, as the Max
launcher does, and is killed with SIGKILL: the orphaned server must stop by itself."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bridge.client import Client
from bridge.serve.watchdog import watch_stdin

ROOT = Path(__file__).resolve().parents[2]

# The parent: starts `python -m bridge serve --exit-with-stdin` with stdin=PIPE (and never writes
# to it), prints the server's pid, then sleeps until it is killed.
PARENT = r"""
import subprocess, sys
port, notify, model = sys.argv[1], sys.argv[2], sys.argv[3]
child = subprocess.Popen([sys.executable, "-m", "bridge", "serve", "--port", port, "--notify-port", notify,
                          "--model", model, "--exit-with-stdin"], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=open(sys.argv[4], "w"))
print(child.pid, flush=True)
import time
time.sleep(600)
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting for a reaper counts as gone)."""
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            return stat.read_text().split(")")[-1].split()[0] != "Z"
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def test_watch_stdin_calls_back_at_end_of_file():
    read_end, write_end = os.pipe()
    called = threading.Event()
    with os.fdopen(read_end, "rb") as stream:
        thread = watch_stdin(called.set, stream)
        os.write(write_end, b"anything written is ignored\n")
        time.sleep(0.1)
        assert not called.is_set(), "data on stdin is not end of file"
        os.close(write_end)
        assert called.wait(5), "end of file stops the server"
        thread.join(5)


def test_watch_stdin_treats_a_missing_stdin_as_closed(monkeypatch):
    called = threading.Event()
    monkeypatch.setattr(sys, "stdin", None)
    watch_stdin(called.set)
    assert called.wait(5)


def test_watch_stdin_survives_a_failing_stream():
    class Broken(io.RawIOBase):
        def read(self, n=-1):
            raise OSError("broken pipe")

    called = threading.Event()
    watch_stdin(called.set, Broken())
    assert called.wait(5)


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL: POSIX (on Windows the launcher's job object kills the child)")
def test_the_server_stops_when_its_parent_is_killed_with_sigkill(model_dir, tmp_path):
    port = free_port()
    log = tmp_path / "server.log"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as notify:
        notify.bind(("127.0.0.1", 0))
        notify.settimeout(60)
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        parent = subprocess.Popen([sys.executable, "-c", PARENT, str(port), str(notify.getsockname()[1]),
                                   str(model_dir), str(log)], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        server_pid = None
        try:
            server_pid = int(parent.stdout.readline())
            notify.recv(4096)                                   # /qbdi/ready: the server is up
            with Client(port=port, timeout=10) as client:
                assert client.ping().protocol_version >= 1
            parent.send_signal(signal.SIGKILL)                  # no handler can run: the pipe just closes
            parent.wait(10)
            deadline = time.monotonic() + 10
            while alive(server_pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not alive(server_pid), f"the orphaned server still runs:\n{log.read_text()}"
            assert "stdin closed" in log.read_text()
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
                again.bind(("127.0.0.1", port))                 # its port is free again
        finally:
            if parent.poll() is None:
                parent.kill()
            if server_pid and alive(server_pid):
                os.kill(server_pid, signal.SIGKILL)
