# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Runs the Node tests of the Max-side JavaScript (tests/max_patches/*.test.js) so one ``pytest``
runs everything. Node 20+'s built-in runner, no npm packages. On its own: ``node --test tests/max_patches``.
A failing Node test fails this test with its name, file, error and stack (from the TAP report).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOT_OK = re.compile(r"^(\s*)not ok \d+ - ")


def failure_details(tap: str) -> str:
    """Each failing test's ``not ok`` line with the indented YAML block under it (error, stack, file)."""
    lines = tap.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        found = NOT_OK.match(line)
        if not found:
            continue
        indent = len(found.group(1))
        block = [line]
        for following in lines[i + 1:]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            block.append(following)
        blocks.append("\n".join(block))
    return "\n\n".join(blocks)


def test_failure_details_keep_the_error_of_each_failing_test():
    tap = ("TAP version 13\n# Subtest: fine\nok 1 - fine\n  ---\n  duration_ms: 1\n  ...\n"
           "# Subtest: broken\nnot ok 2 - broken\n  ---\n  location: 'x.test.js:3:1'\n  error: |-\n"
           "    Expected values to be strictly equal:\n\n    1 !== 2\n  stack: |-\n    at x.test.js:4:10\n  ...\n"
           "# Subtest: after\nok 3 - after\n1..3\n# pass 2\n# fail 1\n")
    details = failure_details(tap)
    assert details.startswith("not ok 2 - broken") and "1 !== 2" in details and "x.test.js:4:10" in details
    assert "fine" not in details and "after" not in details


def test_node_suite():
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js 20+ is needed for the Max-side JavaScript tests (node not found on PATH)")
    done = subprocess.run([node, "--test", "--test-reporter=tap", "tests/max_patches"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    summary = "\n".join(line for line in done.stdout.splitlines()
                        if line.startswith(("# tests", "# pass", "# fail", "# cancelled", "not ok")))
    assert done.returncode == 0, (f"node --test tests/max_patches failed:\n{summary}\n\n"
                                  f"{failure_details(done.stdout) or done.stdout[-6000:]}\n{done.stderr[-2000:]}")
    assert "# fail 0" in done.stdout and "# pass 0" not in done.stdout, summary
