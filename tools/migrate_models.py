# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Re-save model folders in the current format: ``python -m tools.migrate_models [FOLDER...] [--check]``.

Without folders it takes the shipped ones (``bridge/models/*``). Each folder is checked whole (the
config's schema, the weights' checksum, shapes and values) before its config.json is re-saved and
sealed; the weights are not touched. ``--check`` writes nothing and exits 1 when a folder is not in
the current format (for CI, and for the lead after new weights land).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bridge.errors import QbdiError
from bridge.models import FORMAT_VERSION, installed_names, installed_root, read_spec, upgrade_model
from bridge.paths import shown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.migrate_models", description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", help="model folders (default: the shipped models)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a folder needs migrating")
    args = parser.parse_args(argv)
    folders = args.folders or [str(installed_root() / name) for name in installed_names()]
    stale = 0
    for folder in folders:
        try:
            if args.check:
                version = read_spec(Path(folder)).format_version
                stale += version != FORMAT_VERSION
                print(f"{shown(folder)}: format {version}" + ("" if version == FORMAT_VERSION else " (migrate it)"))
            else:
                old, new = upgrade_model(folder)
                print(f"{shown(folder)}: format {old} -> {new}" if old != new else f"{shown(folder)}: format {new}")
        except QbdiError as exc:
            print(f"{shown(folder)}: {exc}", file=sys.stderr)
            return 2
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
