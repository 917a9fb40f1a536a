# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The parent watchdog of ``qbdi serve --exit-with-stdin``: stop serving when stdin closes.

The Max launcher (max_patches/qbdi_launcher.js) starts the server with a pipe on its stdin and
never writes to it. Whatever ends the launcher -- a clean quit, a crash, ``kill -9``, Live
crashing -- the operating system closes its end of the pipe, the server reads end of file and
shuts down. Unlike polling a parent pid, this needs no platform code: it works the same on
macOS, Windows and Linux, and inside the PyInstaller build (a console program keeps its stdin).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import BinaryIO

log = logging.getLogger(__name__)

READ_BYTES = 4096


def watch_stdin(on_close: Callable[[], None], stream: BinaryIO | None = None) -> threading.Thread:
    """Call ``on_close()`` once ``stream`` (default: stdin) reaches end of file or fails.

    Anything written to the stream is read and ignored. Returns the daemon thread that waits.
    A process without a stdin at all (``sys.stdin is None``) counts as closed at once."""
    if stream is None:
        stream = sys.stdin.buffer if sys.stdin is not None else None

    def wait() -> None:
        read = getattr(stream, "read1", None) or getattr(stream, "read", None)
        try:
            while read is not None and read(READ_BYTES):
                pass
        except (OSError, ValueError) as exc:   # a broken pipe, or stdin closed under us
            log.debug("stdin watchdog: %s", exc)
        log.warning("stdin closed (the program that started this server is gone): stopping")
        on_close()

    thread = threading.Thread(target=wait, name="qbdi-stdin-watchdog", daemon=True)
    thread.start()
    return thread
