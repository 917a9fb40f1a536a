# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The package's shape: layers as the extras install them, modules of a readable size."""

from __future__ import annotations

from pathlib import Path

BRIDGE = Path(__file__).resolve().parents[2] / "bridge"
MAX_MODULE_LINES = 450   # "about 100-400 lines" per module, with a little slack


def test_no_module_of_the_package_is_much_over_400_lines():
    long = {p.relative_to(BRIDGE).as_posix(): n for p in BRIDGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"split these along their seams: {long}"


def test_the_layers_are_the_extras_and_dev_tools_live_outside():
    assert (BRIDGE / "training" / "train.py").is_file() and (BRIDGE / "analysis" / "oracle.py").is_file()
    for moved in ("fuzz.py", "train.py", "corpus.py", "evaluate.py"):
        assert not (BRIDGE / moved).exists(), f"bridge/{moved} belongs in tools/ or bridge/training/"
    assert (BRIDGE / "py.typed").is_file()
