# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Build the wheel as ``pip install .`` would and fail on what a user would trip over:

* any setuptools warning in the build log (a model folder missing from the packages is one, and
  setuptools says it will become an error);
* a shipped model folder (bridge/models/<name>/ with config.json and model.safetensors) missing
  from the wheel, or a Python module of bridge/ missing;
* a dependency outside the extras that only an extra needs (mido is ``qbdi jam``'s: the [jam] extra).

    python .ci/check_package.py [--no-isolation]     exit 0, or 1 with the reasons

``--no-isolation`` builds with the environment's setuptools (no download; setuptools>=77 needed)."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WARNINGS = re.compile(r"SetuptoolsWarning|SetuptoolsDeprecationWarning|BuildBackendWarning|_DeprecatedConfig|"
                      r"Package would be ignored|is absent from the `packages` configuration")
EXTRA_ONLY = {"mido", "python-rtmidi", "torch", "vmo", "scipy", "matplotlib", "music21", "pyinstaller"}


def build(out: Path, isolation: bool) -> tuple[Path, str]:
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(out), str(ROOT)]
    if not isolation:
        command.insert(5, "--no-build-isolation")
    done = subprocess.run(command, capture_output=True, text=True)
    log = done.stdout + done.stderr
    if done.returncode != 0:
        raise SystemExit(f"check_package: the wheel did not build:\n{log[-4000:]}")
    return next(out.glob("qbdi_bridge-*.whl")), log


def problems(wheel: Path, log: str) -> list[str]:
    out = [f"setuptools warns: {line.strip()}" for line in log.splitlines() if WARNINGS.search(line)]
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in sorted(p for p in (ROOT / "bridge" / "models").iterdir() if (p / "config.json").is_file()):
        for file in ("config.json", "model.safetensors"):
            if (folder / file).is_file() and f"bridge/models/{folder.name}/{file}" not in names:
                out.append(f"the wheel lacks bridge/models/{folder.name}/{file}")
    for module in sorted(ROOT.glob("bridge/**/*.py")):
        if module.relative_to(ROOT).as_posix() not in names:
            out.append(f"the wheel lacks {module.relative_to(ROOT).as_posix()}")
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines():
        if line.startswith("Requires-Dist:") and "extra ==" not in line:
            name = re.split(r"[\s<>=!~;\[(]", line.split(":", 1)[1].strip(), maxsplit=1)[0].lower()
            if name in EXTRA_ONLY:
                out.append(f"`pip install .` would install {name}, which only an extra needs ({line.strip()})")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-isolation", action="store_true", help="build with this environment's setuptools")
    args = parser.parse_args(argv)
    out = Path(tempfile.mkdtemp(prefix="qbdi-wheel-"))
    try:
        wheel, log = build(out, isolation=not args.no_isolation)
        found = problems(wheel, log)
    finally:
        shutil.rmtree(out, ignore_errors=True)
        for leftover in (ROOT / "build" / "lib", *ROOT.glob("build/bdist.*")):      # setuptools builds here
            shutil.rmtree(leftover, ignore_errors=True)
    for line in found:
        print(f"check_package: {line}", file=sys.stderr)
    if not found:
        print(f"check_package: {wheel.name} builds without a setuptools warning, with every model and module, "
              "and installs no extra's dependency")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
