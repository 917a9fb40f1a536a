# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""One exception type for everything a user can get wrong; the CLI prints it as one line, exit 2."""

from __future__ import annotations


class QbdiError(Exception):
    """A problem with the user's input or files, with a message that names the fix.

    ``code`` is a short machine-readable tag that the OSC server sends in ``/qbdi/error``.
    """

    def __init__(self, message: str, code: str = "bad_request") -> None:
        super().__init__(message)
        self.code = code


class ModelError(QbdiError):
    """A model folder that is missing, corrupt, or of another format version."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="bad_model")


class MidiError(QbdiError):
    """A MIDI file that cannot be read or holds nothing to improvise on."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="bad_midi")
