# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The licence files that go with the standalone server and the release: qbdi's LICENSE and
THIRD-PARTY-NOTICES.txt, the licence texts of everything the bundle carries (the Python runtime,
NumPy with the OpenBLAS, LAPACK and GCC runtime libraries its wheels bundle, mido, python-osc,
safetensors, threadpoolctl, PyInstaller's bootloader), read from the build environment.

    python build/notices.py DIR        # writes DIR/LICENSE and DIR/THIRD-PARTY-NOTICES.txt

The spec runs it for dist/qbdi-server/; build.sh --release (and build.ps1) copy both files into
the release folder, so the zip carries them. A bundled package whose licence cannot be found stops
the build: a release must never ship without its notices.
"""

from __future__ import annotations

import importlib.metadata as md
import shutil
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# distributions whose code is in the bundle (the serving path: see qbdi-server.spec's HIDDEN)
BUNDLED = ("numpy", "mido", "python-osc", "safetensors", "threadpoolctl", "packaging")
BOOTLOADER = "pyinstaller"       # its bootloader runs the bundle: GPL with an exception that allows this
LICENCE_WORDS = ("LICEN", "COPYING", "NOTICE")
RULE = "=" * 100


def licence_texts(name: str) -> list[tuple[str, str]]:
    """``(file name, text)`` of a distribution's licence files, or its metadata's licence text."""
    dist = md.distribution(name)
    found = [(str(f), Path(dist.locate_file(f)).read_text(encoding="utf-8", errors="replace"))
             for f in dist.files or () if any(w in f.name.upper() for w in LICENCE_WORDS)
             and Path(dist.locate_file(f)).is_file()]
    if not found:
        text = dist.metadata.get("License") or ""
        if len(text) > 200:            # a full text in the metadata (python-osc's Unlicense), not a name
            found = [("METADATA License", text)]
    return found


def python_licence() -> str:
    for candidate in (Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt", Path(sys.base_prefix) / "LICENSE.txt",
                      Path(sys.base_prefix) / "LICENSE"):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8", errors="replace")
    raise SystemExit("notices.py: the Python licence (LICENSE.txt in the standard library folder) was not found; "
                     "the bundle carries the Python runtime and must carry its licence")


def notices(bootloader: bool = True) -> str:
    parts = [f"Third-party software in the qbdi standalone server (Python {sys.version.split()[0]}), and its licences.",
             "qbdi's own licence is in LICENSE, next to this file.", ""]
    sections = [(f"Python {sys.version.split()[0]} (the runtime)", [("LICENSE.txt", python_licence())])]
    names = BUNDLED + ((BOOTLOADER,) if bootloader else ())
    for name in names:
        try:
            texts = licence_texts(name)
            version = md.version(name)
        except md.PackageNotFoundError:
            if name in ("packaging", BOOTLOADER):       # pulled in only by some builds
                continue
            raise SystemExit(f"notices.py: {name} is bundled but not installed here; build in the environment "
                             "that the spec collects from") from None
        if not texts:
            raise SystemExit(f"notices.py: no licence file found for {name} {version}; add it before releasing")
        sections.append((f"{name} {version}", texts))
    for title, texts in sections:
        parts += [RULE, title, RULE]
        for file, text in texts:
            parts += [f"--- {file} ---", text.rstrip(), ""]
    return "\n".join(parts) + "\n"


def write(folder: str | Path, bootloader: bool = True) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "LICENSE", folder / "LICENSE")
    (folder / "THIRD-PARTY-NOTICES.txt").write_text(notices(bootloader), encoding="utf-8")
    return [folder / "LICENSE", folder / "THIRD-PARTY-NOTICES.txt"]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python build/notices.py DIR")
    for path in write(sys.argv[1]):
        print(f"notices.py: wrote {path}")
