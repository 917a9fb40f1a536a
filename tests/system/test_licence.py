# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Licences are part of correctness: every source file names its licence, the GPL part stays
where it is declared, and the package metadata says the same."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = (".py", ".js", ".sh", ".ps1", ".spec")
GPL_FILES = {"bridge/analysis/oracle.py", "bridge/analysis/lockstep.py"}   # follow vmo (GPL-3.0-or-later)
TAG = "SPDX-" "License-Identifier"   # split so that REUSE does not read this line as a header
HEADER = re.compile(rf"^(?:#|//) {TAG}: (\S+)$", re.M)


def tracked() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [f for f in out.splitlines() if f]


def test_every_source_file_names_its_licence_in_its_first_lines():
    missing, wrong = [], []
    for name in tracked():
        if not (name.endswith(SOURCE) or name == ".ci/run") or not (ROOT / name).is_file():
            continue
        head = "\n".join((ROOT / name).read_text(encoding="utf-8").splitlines()[:4])
        match = HEADER.search(head)
        if match is None:
            missing.append(name)
        elif match.group(1) != ("GPL-3.0-or-later" if name in GPL_FILES else "MIT"):
            wrong.append(f"{name}: {match.group(1)}")
    assert not missing, f"add the two SPDX lines (see any bridge/ module) to: {', '.join(missing)}"
    assert not wrong, f"unexpected licence: {', '.join(wrong)}"


def test_the_licence_texts_and_the_package_metadata_agree():
    tomllib = pytest.importorskip("tomllib")
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["license"] == "MIT AND GPL-3.0-or-later"
    for text in ("MIT.txt", "GPL-3.0-or-later.txt"):
        assert (ROOT / "LICENSES" / text).is_file()
    assert "oracle.py" in (ROOT / "LICENSE").read_text()


def test_the_standalone_server_and_the_device_hold_no_gpl_code():
    spec = (ROOT / "build" / "qbdi-server.spec").read_text()
    assert '"bridge.analysis"' in spec.split("FORBIDDEN")[1], "the frozen server must refuse bridge.analysis"
    for name in GPL_FILES:
        module = name.removesuffix(".py").replace("/", ".")
        assert any(module.startswith(f"{forbidden}.") for forbidden in ("bridge.analysis",)), module
