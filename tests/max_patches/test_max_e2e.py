# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""End-to-end tests of the Max side against the real server, written in Node
(tests/max_patches/e2e/*.e2e.js) and started from here with the environment they need:

- device.e2e.js: the device's JavaScript over real UDP against ``python -m bridge serve``; the notes
  it writes into the stand-in clip equal ``bridge.improvise`` for the same query, settings and seed.
- client.e2e.js: the abstraction's JavaScript turns a note list into the same improvisation, and
  reports a server error.
- launcher.e2e.js: the launcher starts a real server, sees it answer ping, stops it; a port in use
  gives the port_in_use error.
- remote.e2e.js: the abstraction against a real server bound on this machine's non-loopback
  address (a peer "on another machine"): the handshake is transparent (QBDI_E2E_LAN_HOST; skipped
  where there is no such address).
- play.e2e.js: Play Along on a stand-in of Live's transport: notes out on the grid of the bar after
  the one played, echo at full rate equal to ``bridge.improvise``, rate 64 equal to bridge.stream,
  late and lost answers, tempo and meter changes, nothing left on.
- stream.e2e.js: the protocol's stream helpers against the server, as bridge.stream answers.

The server runs a small random-weight model in the real format (tests/conftest.py), so these need
no trained model. Set QBDI_MODEL to use another. play.e2e.js also runs on the shipped model.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
E2E = sorted((ROOT / "tests" / "max_patches" / "e2e").glob("*.e2e.js"))


@pytest.mark.parametrize("script", E2E, ids=lambda p: p.name)
def test_e2e(script, model_dir, lan_address):
    run_e2e(script, os.environ.get("QBDI_MODEL", str(model_dir)), lan_address)


def test_play_along_e2e_on_the_shipped_model(real_model):
    """Play Along against the real server on the trained model a musician gets (skipped until installed)."""
    run_e2e(ROOT / "tests" / "max_patches" / "e2e" / "play.e2e.js", real_model, None)


def run_e2e(script: Path, model: str, lan_address: str | None) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js 20+ is needed for the Max-side end-to-end tests (node not found on PATH)")
    env = dict(os.environ, QBDI_PYTHON=sys.executable, QBDI_MODEL=model, QBDI_E2E_LAN_HOST=lan_address or "")
    done = subprocess.run([node, "--test", str(script)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    summary = "\n".join(line for line in done.stdout.splitlines() if line.startswith(("# ", "not ok")))
    assert done.returncode == 0, f"{script.name} failed:\n{summary}\n\n{done.stdout[-8000:]}{done.stderr[-2000:]}"
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout, summary
