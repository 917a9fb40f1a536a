# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Output folders (an analysis report, a sweep, a model): checked before any work, written whole.

:func:`plan_folder` -> :class:`OutputFolder`: a folder that is new (its nearest existing ancestor
writable), empty, or a previous output of the same kind; never a file, never inside one. Its
:meth:`OutputFolder.staged` folder is where the work writes; it moves into place only when
complete, so a failure leaves neither a half-written report nor an empty folder behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import QbdiError
from .paths import blocking_parent, check_text, kind_of, os_error, probe_writable, read_input, shown

STAGING_PREFIX = ".qbdi-tmp-"


@dataclass(frozen=True)
class OutputFolder:
    """A folder for a report or a model, as checked by :func:`plan_folder`."""

    path: Path
    exists: bool

    def __str__(self) -> str:
        return shown(self.path)

    @contextlib.contextmanager
    def staged(self) -> Iterator[Path]:
        """A staging folder to write into; on success its contents move into place, on failure it is
        removed, so the folder is never left half-written nor created empty."""
        # a previous report is replaced whole from a staging folder beside it (where that can be written)
        swap = self.exists and os.access(self.path.parent, os.W_OK | os.X_OK) and any(
            not e.startswith(STAGING_PREFIX) for e in os.listdir(self.path))
        if self.exists:
            base, missing = (self.path.parent if swap else self.path), []
        else:
            base, missing = _existing_ancestor(self.path)
        try:
            staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=base))
        except OSError as exc:
            raise os_error(exc, "write in", base) from None
        try:
            yield staging
            os.chmod(staging, 0o777 & ~_umask())    # mkdtemp's 0700, made what mkdir would have given
            if swap:
                _swap(staging, self.path)
            elif self.exists:
                _merge(staging, self.path)
            else:
                for folder in missing[:-1]:
                    os.mkdir(folder)
                os.rename(staging, self.path)
        except OSError as exc:
            raise os_error(exc, "write", self.path) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _swap(staging: Path, dest: Path) -> None:
    """Replace the previous report ``dest`` by ``staging`` whole: nothing of the old one stays (its
    pieces' figure folders included), and a failure leaves the old one in place."""
    os.chmod(staging, stat.S_IMODE(os.stat(dest).st_mode))      # the folder keeps the mode it had
    old = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX + "old-", dir=dest.parent))
    os.rmdir(old)
    os.rename(dest, old)
    try:
        os.rename(staging, dest)
    except OSError:
        os.rename(old, dest)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _existing_ancestor(path: Path) -> tuple[Path, list[Path]]:
    """The nearest existing ancestor and the folders to create below it, outermost first."""
    missing = [path]
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        missing.insert(0, parent)
        parent = parent.parent
    return parent, missing


def _merge(staging: Path, dest: Path) -> None:
    """Move every file of ``staging`` to the same place under ``dest`` (replacing same-named files)."""
    for root, dirs, files in os.walk(staging):
        rel = Path(root).relative_to(staging)
        for name in dirs:
            target = dest / rel / name
            if not target.is_dir():
                os.mkdir(target)
        for name in files:
            os.replace(Path(root) / name, dest / rel / name)


def _plan_new_folder(target: Path, what: str) -> OutputFolder:
    blocker = blocking_parent(target)
    if blocker is not None:
        raise QbdiError(f"the {what} {shown(target)} cannot be created: {shown(blocker)} is a file, not a folder; "
                        "choose another --out")
    base, _ = _existing_ancestor(target)
    if not os.access(base, os.W_OK | os.X_OK):
        raise QbdiError(f"cannot create the {what} {shown(target)}: no write permission in {shown(base)} "
                        "(or a read-only disk); choose another --out")
    probe_writable(base)
    return OutputFolder(target, False)


def holds_report(file: Path, kind: str) -> bool:
    """Whether ``file`` is a qbdi JSON document of ``kind`` (a previous report that may be replaced)."""
    import json

    try:
        return json.loads(read_input(file, "report", 64 << 20)).get("kind") == kind
    except (QbdiError, ValueError, AttributeError, RecursionError):
        return False


def plan_folder(path: str | os.PathLike, what: str, owned: Callable[[Path], bool] = lambda p: False,
                produces: Sequence[str] = (), force: bool = True) -> OutputFolder:
    """Check an output folder before any work: new (its nearest existing ancestor writable), empty,
    or one ``owned`` says holds a previous ``what`` (replaced whole; with ``force=False`` refused:
    the user must say ``--force``). ``produces``: top-level names the report writes (each must be
    absent or of the same kind when the folder exists)."""
    text = check_text(path, what)
    target = Path(text)
    try:
        info = os.stat(text)
    except FileNotFoundError:
        return _plan_new_folder(target, what)
    except NotADirectoryError:
        raise QbdiError(f"the {what} {shown(text)} cannot be created: "
                        f"{shown(blocking_parent(target) or target.parent)} is a file, not a folder; "
                        "choose another --out") from None
    except OSError as exc:
        raise os_error(exc, "write in", text) from None
    if not stat.S_ISDIR(info.st_mode):
        raise QbdiError(f"{shown(text)} is {kind_of(info.st_mode) if not stat.S_ISREG(info.st_mode) else 'a file'}, "
                        f"not a folder; give --out a new or empty folder for the {what}")
    real = target.resolve()
    try:
        entries = [e for e in os.listdir(real) if not e.startswith(STAGING_PREFIX)]
    except OSError as exc:
        raise os_error(exc, "read", text) from None
    if entries and not owned(real):
        raise QbdiError(f"{shown(text)} already holds {len(entries)} file(s) or folder(s) that are not a qbdi {what}; "
                        f"give --out a new or empty folder (e.g. {shown(target / ('qbdi-' + what.split()[0]))})")
    if entries and not force:
        raise QbdiError(f"{shown(text)} already holds a qbdi {what}; add --force to replace it, or choose "
                        "another --out")
    if not os.access(real, os.W_OK | os.X_OK):
        raise QbdiError(f"cannot write in {shown(text)}: no write permission (or a read-only disk); "
                        "choose another --out")
    probe_writable(real)
    for name in produces:
        existing = real / name
        if existing.is_symlink() or (existing.exists() and not (existing.is_file() or existing.is_dir())):
            raise QbdiError(f"{shown(existing)} is {kind_of(os.lstat(existing).st_mode)}; qbdi will not replace it: "
                            "choose another --out")
    return OutputFolder(real, True)
