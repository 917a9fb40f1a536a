# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Command-line options the measuring tools share."""

from __future__ import annotations

import argparse
from typing import Any

from bridge.config import Settings


def base_settings(args: argparse.Namespace) -> Settings:
    """The :class:`Settings` a tool's ``--threshold``, ``--source``, ``--allocation``, ``--sample`` and
    ``--temperature`` ask for (each one the tool has; the rest keep their defaults)."""
    changes: dict[str, Any] = {}
    if getattr(args, "threshold", None) is not None:
        changes["threshold"] = args.threshold
    if getattr(args, "source", None):
        changes["source"] = args.source
    if getattr(args, "allocation", None):
        changes["allocation"] = args.allocation
    if getattr(args, "sample", False):
        changes["sampling"] = "sample"
    if getattr(args, "temperature", None) is not None:
        changes["temperature"] = args.temperature
    return Settings(**changes)
