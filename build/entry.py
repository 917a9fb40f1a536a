# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Entry script of the standalone server (``qbdi-server``, built by build/qbdi-server.spec).

It runs the same command line as ``qbdi`` (bridge.cli.main), with three differences:

- no subcommand means ``serve``: ``qbdi-server`` alone (a double-click) and ``qbdi-server --port
  7500`` start the server, as does the Max launcher's ``qbdi-server [--log-level L] serve --host H
  --port P [--model M] --notify-port N`` (max_patches/qbdi_launcher.js, serveArgs());
- ``-m bridge`` in front is dropped, so ``qbdi-server bench`` can start its own server with
  ``sys.executable -m bridge serve`` (sys.executable is this binary when frozen);
- the commands that need what the bundle leaves out (train: PyTorch; analyze and sweep: vmo,
  SciPy, matplotlib) end with one line saying so, and exit code 2.

Nothing here imports NumPy: ``qbdi serve`` sets OPENBLAS_NUM_THREADS before NumPy loads.
"""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

SERVE = "serve"
NOT_BUNDLED = {"train": "PyTorch", "analyze": "vmo, SciPy and matplotlib", "sweep": "vmo, SciPy and matplotlib"}
TOP_LEVEL_WITH_VALUE = ("--log-level",)    # bridge.cli's top-level option that takes a value
PASS_THROUGH_FLAGS = ("--version",)        # a top-level flag that must reach bridge.cli as it is


def _command_index(argv: list[str]) -> int:
    """Where the command word is, or would go: after bridge.cli's top-level --log-level."""
    i = 0
    while i < len(argv):
        if argv[i] in TOP_LEVEL_WITH_VALUE:
            i += 2
        elif argv[i].split("=", 1)[0] in TOP_LEVEL_WITH_VALUE and "=" in argv[i]:
            i += 1
        else:
            break
    return min(i, len(argv))


def normalize_argv(argv: list[str], commands) -> list[str]:
    """The argument list bridge.cli.main gets: ``serve`` inserted when no command is named."""
    argv = list(argv)
    if argv[:2] == ["-m", "bridge"]:
        argv = argv[2:]
    i = _command_index(argv)
    if i < len(argv) and (argv[i] in commands or argv[i] in PASS_THROUGH_FLAGS or not argv[i].startswith("-")):
        return argv                # a command, --version, or an unknown word (bridge.cli names the commands)
    return [*argv[:i], SERVE, *argv[i:]]   # nothing, or serve's flags (-h included: serve's help)


def not_bundled(argv: list[str]) -> str | None:
    """The one-line message for a command this bundle cannot run, or None."""
    i = _command_index(argv)
    command = argv[i] if i < len(argv) else None
    if command in NOT_BUNDLED:
        return (f"qbdi-server: '{command}' needs {NOT_BUNDLED[command]}, which the standalone server leaves "
                f"out; install the Python package instead (pip install 'qbdi-bridge[train,analysis]') "
                f"and run qbdi {command}")
    return None


def run(argv: list[str] | None = None) -> int:
    if not getattr(sys, "frozen", False):      # python build/entry.py from a checkout: its bridge
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bridge.cli import COMMANDS, main

    raw = sys.argv[1:] if argv is None else list(argv)
    args = normalize_argv(raw, COMMANDS)
    message = not_bundled(args)
    if message:
        print(message, file=sys.stderr)
        return 2
    code = main(args)
    if code and not raw and sys.platform == "win32" and getattr(sys, "frozen", False) and sys.stdin.isatty():
        # started by a double-click: keep the console window open long enough to read the error
        try:
            input("Press Enter to close this window.")
        except (EOFError, KeyboardInterrupt):
            pass
    return code


if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(run())
