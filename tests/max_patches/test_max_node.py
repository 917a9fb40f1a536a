# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Runs the Node tests of the Max-side JavaScript (tests/max_patches/*.test.js) so one ``pytest``
runs everything. Node 20+'s built-in runner, no npm packages. On its own: ``node --test tests/max_patches``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_node_suite():
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js 20+ is needed for the Max-side JavaScript tests (node not found on PATH)")
    done = subprocess.run([node, "--test", "tests/max_patches"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    summary = "\n".join(line for line in done.stdout.splitlines() if line.startswith(("# ", "not ok")))
    assert done.returncode == 0, (f"node --test tests/max_patches failed:\n{summary}\n\n"
                                  f"{done.stdout[-6000:]}{done.stderr[-2000:]}")
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout, summary
