# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Paths a user gives are untrusted: reading input files and writing outputs without surprises.

Everything is checked before anything is created, and a failure leaves nothing behind:

* :func:`read_input`: a regular file only (never blocks on a FIFO or a device), size-capped,
  read once (what is checked is what is used).
* :func:`plan_output` -> :class:`OutputFile`: without ``force`` a new file is created
  exclusively (two runs racing to one name cannot replace each other); with it, the file is
  written beside and renamed over the name atomically, which replaces a regular file and nothing
  else: a symbolic link, a folder or a device is refused; a FIFO and the null device are written
  into, never replaced; ``-`` is standard output.

Output folders (reports, models) are :mod:`bridge.folders`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import QbdiError

STDIO = "-"
NAME_MAX = 255          # bytes in one file name (POSIX systems and NTFS); asked of the system when it can say
PATH_MAX = 4096
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NOCTTY = getattr(os, "O_NOCTTY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_BINARY = getattr(os, "O_BINARY", 0)


def shown(path: str | os.PathLike) -> str:
    """A path as one printable line: control characters and undecodable bytes escaped."""
    text = os.fsdecode(path) if not isinstance(path, str) else path
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def kind_of(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device (a disk)"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def check_text(path: str | os.PathLike, what: str) -> str:
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    text = os.fspath(path)
    if not text:
        raise QbdiError(f"the {what} is an empty name; give a path")
    if "\0" in text:
        raise QbdiError(f"the {what} {shown(text)} holds a NUL character; give another path")
    encoded = os.fsencode(text)
    if len(encoded) > PATH_MAX:
        raise QbdiError(f"the {what} is {len(encoded)} bytes long; paths end at {PATH_MAX}: choose a shorter one")
    for part in Path(text).parts:
        size = len(os.fsencode(part))
        if size > _name_max(text):
            raise QbdiError(f"the name {shown(part[:40])}... in the {what} is {size} bytes long; file names end at "
                            f"{_name_max(text)} bytes: choose a shorter one")
    return text


def _name_max(text: str) -> int:
    probe = Path(text).parent
    while True:
        try:
            return min(NAME_MAX, os.pathconf(probe, "PC_NAME_MAX"))
        except (OSError, ValueError, AttributeError):
            if probe == probe.parent:
                return NAME_MAX
            probe = probe.parent


def os_error(exc: OSError, action: str, path: str | os.PathLike) -> QbdiError:
    reason = exc.strerror or type(exc).__name__
    if exc.errno == errno.ENAMETOOLONG:
        return QbdiError(f"cannot {action} {shown(path)}: the name is too long; choose a shorter one")
    if exc.errno == errno.ELOOP:
        return QbdiError(f"cannot {action} {shown(path)}: too many symbolic links; give the real path")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return QbdiError(f"cannot {action} {shown(path)}: permission denied; check its permissions or choose another")
    if exc.errno == errno.ENOSPC:
        return QbdiError(f"cannot {action} {shown(path)}: the disk is full; free some space or choose another place")
    if exc.errno == errno.EROFS:
        return QbdiError(f"cannot {action} {shown(path)}: the file system is read-only; choose another place")
    return QbdiError(f"cannot {action} {shown(path)} ({reason}); choose another path")


def blocking_parent(path: Path) -> Path | None:
    """The first ancestor of ``path`` that exists but is not a folder (why ENOTDIR), if any."""
    for parent in reversed(path.parents):
        try:
            if not stat.S_ISDIR(os.stat(parent).st_mode):
                return parent
        except OSError:
            return None
    return None


# --- reading ------------------------------------------------------------------------------------
def read_input(path: str | os.PathLike, what: str = "file", limit: int = 16 << 20) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or :class:`QbdiError` in one line.

    ``-`` reads standard input. A FIFO, a device or a folder is refused before it is opened."""
    text = check_text(path, what)
    if text == STDIO:
        return _read_stdin(what, limit)
    try:
        info = os.stat(text)
    except FileNotFoundError:
        blocker = blocking_parent(Path(text))
        if blocker is not None:
            raise QbdiError(f"{shown(text)}: {shown(blocker)} is a file, not a folder; check the path") from None
        raise QbdiError(f"{shown(text)}: no such file; check the path") from None
    except NotADirectoryError:
        raise QbdiError(f"{shown(text)}: a part of the path is a file, not a folder; check the path") from None
    except OSError as exc:
        raise os_error(exc, "read", text) from None
    if stat.S_ISDIR(info.st_mode):
        raise QbdiError(f"{shown(text)} is a folder; give a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise QbdiError(f"{shown(text)} is {kind_of(info.st_mode)}, not a {what}; give a regular file")
    try:
        fd = os.open(text, os.O_RDONLY | _NONBLOCK | _NOCTTY | _BINARY)
    except OSError as exc:
        raise os_error(exc, "read", text) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):   # replaced between the two looks
            raise QbdiError(f"{shown(text)} is not a regular file; give a {what}")
        return _read_capped(fd, text, what, limit)
    except OSError as exc:
        raise os_error(exc, "read", text) from None
    finally:
        os.close(fd)


def _read_capped(fd: int, name: str, what: str, limit: int) -> bytes:
    chunks, total = [], 0
    if os.fstat(fd).st_size > limit:          # refused before a byte is read (a /proc file says 0: read it)
        total = limit + 1
    while total <= limit:
        block = os.read(fd, min(1 << 20, limit + 1 - total))
        if not block:
            break
        chunks.append(block)
        total += len(block)
    if total > limit:
        size = max(total, os.fstat(fd).st_size)
        raise QbdiError(f"{shown(name)} is {_megabytes(size)}; the limit is {_megabytes(limit)} for a {what}: "
                        "split it or cut the part you need")
    return b"".join(chunks)


def _megabytes(size: int) -> str:
    return f"{size // (1 << 20)} MB" if size >= 1 << 20 else f"{size} bytes"


def _read_stdin(what: str, limit: int) -> bytes:
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise QbdiError(f"standard input is closed; give the {what} as a path")
    if stream.isatty():
        raise QbdiError(f"standard input is a terminal; pipe the {what} in (qbdi ... - < file) or give its path")
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise QbdiError(f"standard input holds over {_megabytes(limit)}; the limit is {_megabytes(limit)} for a {what}")
    return data


# --- one output file ----------------------------------------------------------------------------
@dataclass(frozen=True)
class OutputFile:
    """Where one output goes, as checked by :func:`plan_output`.

    ``mode``: ``new`` (created exclusively), ``replace`` (an existing regular file, atomically),
    ``stream`` (a FIFO or the null device, written into) or ``stdout``."""

    path: Path | None
    mode: str
    keep: tuple[tuple[int, int], ...] = ()      # (device, inode) of inputs that must never be replaced

    def __str__(self) -> str:
        return "standard output" if self.path is None else shown(self.path)

    def write(self, data: bytes) -> None:
        """Write ``data`` whole, or raise :class:`QbdiError` leaving nothing half-written."""
        if self.mode == "stdout":
            _write_stdout(data)
        elif self.mode == "stream":
            _write_stream(self.path, data)
        elif self.mode == "new":
            _write_new(self.path, data)
        else:
            _write_replace(self.path, data, self.keep)


def _identity(path: str | os.PathLike) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def plan_output(path: str | os.PathLike, force: bool = False, keep: Sequence[str | os.PathLike] = (),
                what: str = "output file") -> OutputFile:
    """Check an output path before any work; ``keep``: input files it must not be (the query)."""
    text = check_text(path, what)
    if text == STDIO:
        stream = getattr(sys.stdout, "buffer", None)
        if stream is None:
            raise QbdiError("standard output is closed; give -o a file name")
        if stream.isatty():
            raise QbdiError("standard output is a terminal, not a place for a MIDI file; redirect it "
                            "(-o - > out.mid) or give -o a file name")
        return OutputFile(None, "stdout")
    keep_ids = tuple(i for i in map(_identity, keep) if i is not None)
    target = Path(text)
    if text.endswith(("/", os.sep)) or target.name in ("", ".", ".."):
        raise QbdiError(f"{shown(text)} names a folder; give a file name, e.g. {shown(target / 'improvisation.mid')}")
    try:
        info = os.lstat(text)
    except FileNotFoundError:          # new: created exclusively, or with --force replaced atomically
        _check_parent(target, what)
        return OutputFile(target, "replace" if force else "new", keep_ids)
    except NotADirectoryError:
        blocker = blocking_parent(target)
        raise QbdiError(f"{shown(text)} cannot be written: {shown(blocker or target.parent)} is a file, not a folder; "
                        "choose another path") from None
    except OSError as exc:
        raise os_error(exc, "write", text) from None
    mode = info.st_mode
    if stat.S_ISLNK(mode):
        hint = " (for standard output use -o -)" if text in ("/dev/stdout", "/dev/stderr") else ""
        raise QbdiError(f"{shown(text)} is a symbolic link; qbdi neither writes through links nor replaces them: "
                        f"choose another path{hint}")
    if stat.S_ISDIR(mode):
        raise QbdiError(f"{shown(text)} is a folder; give a file name, e.g. {shown(target / 'improvisation.mid')}")
    if stat.S_ISFIFO(mode) or (stat.S_ISCHR(mode) and _is_null_device(info)):
        return OutputFile(target, "stream", keep_ids)    # written into, never replaced: nothing is lost
    if not stat.S_ISREG(mode):
        raise QbdiError(f"{shown(text)} is {kind_of(mode)}, not a file; qbdi writes and replaces only regular files: "
                        "choose another path")
    if (info.st_dev, info.st_ino) in keep_ids:
        raise QbdiError(f"the output {shown(text)} is the query file; choose another -o so the query is kept")
    if not force:
        raise QbdiError(f"{shown(text)} exists; choose another -o or add --force to overwrite it")
    _check_parent(target, what)
    return OutputFile(target, "replace", keep_ids)


def _is_null_device(info: os.stat_result) -> bool:
    try:
        null = os.stat(os.devnull)
    except OSError:
        return False
    return stat.S_ISCHR(null.st_mode) and info.st_rdev == null.st_rdev


def _check_parent(target: Path, what: str) -> None:
    parent = target.parent
    try:
        info = os.stat(parent)
    except FileNotFoundError:
        blocker = blocking_parent(target)
        if blocker is not None:
            raise QbdiError(f"{shown(target)} cannot be written: {shown(blocker)} is a file, not a folder; "
                            "choose another path") from None
        raise QbdiError(f"folder {shown(parent)} does not exist; create it or choose another path for the "
                        f"{what}") from None
    except NotADirectoryError:
        raise QbdiError(f"{shown(target)} cannot be written: {shown(blocking_parent(target) or parent)} is a file, "
                        "not a folder; choose another path") from None
    except OSError as exc:
        raise os_error(exc, "write in", parent) from None
    if not stat.S_ISDIR(info.st_mode):
        raise QbdiError(f"{shown(parent)} is not a folder; choose another path for the {what}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise QbdiError(f"cannot write in folder {shown(parent)}: no write permission (or a read-only disk); "
                        f"choose another path for the {what}")
    probe_writable(parent)


def probe_writable(folder: str | os.PathLike) -> None:
    """Create and remove a file in ``folder``: the one test that holds on every file system (/proc
    and /sys, network and FUSE mounts, ACLs, root on a read-only mount), before hours of work."""
    try:
        fd, name = tempfile.mkstemp(prefix=".qbdi-probe-", dir=folder)
    except OSError as exc:
        raise os_error(exc, "write in", folder) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _write_stdout(data: bytes) -> None:
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        raise QbdiError("standard output was closed before the MIDI file was written whole") from None
    except OSError as exc:
        raise os_error(exc, "write", "standard output") from None


def _write_stream(path: Path, data: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | _NONBLOCK | _NOFOLLOW | _NOCTTY | _BINARY)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise QbdiError(f"no program is reading the FIFO {shown(path)}; start the reader first") from None
        raise os_error(exc, "write", path) from None
    try:
        info = os.fstat(fd)
        if not (stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode) and _is_null_device(info)):
            raise QbdiError(f"{shown(path)} changed while qbdi was working; it was left as it is, run again")
        if _NONBLOCK and hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        _write_all(fd, data)
    except BrokenPipeError:
        raise QbdiError(f"the program reading {shown(path)} closed it before the file was written whole") from None
    except OSError as exc:
        raise os_error(exc, "write", path) from None
    finally:
        os.close(fd)


def _write_new(path: Path, data: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _NOCTTY | _BINARY, 0o666)
    except FileExistsError:
        raise QbdiError(f"{shown(path)} was created by another program while qbdi was working; it was left as it is: "
                        "choose another -o or add --force") from None
    except OSError as exc:
        raise os_error(exc, "write", path) from None
    try:
        _write_all(fd, data)
        os.fsync(fd)
    except OSError as exc:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(path)               # ours: created exclusively just now
        raise os_error(exc, "write", path) from None
    os.close(fd)


def _write_replace(path: Path, data: bytes, keep: tuple[tuple[int, int], ...] = ()) -> None:
    try:
        old = os.lstat(path)
    except FileNotFoundError:
        old = None
    except OSError as exc:
        raise os_error(exc, "write", path) from None
    if old is not None and (not stat.S_ISREG(old.st_mode) or (old.st_dev, old.st_ino) in keep):
        raise QbdiError(f"{shown(path)} changed while qbdi was working and is no longer a file it may replace; "
                        "it was left as it is")
    prefix = "." + path.name[:40] + "."
    try:
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".qbdi-tmp", dir=path.parent)
    except OSError as exc:
        raise os_error(exc, "write in", path.parent) from None
    try:
        try:
            _write_all(fd, data)
            if old is not None and hasattr(os, "fchmod"):
                os.fchmod(fd, stat.S_IMODE(old.st_mode))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise os_error(exc, "write", path) from None


def write_file(path: str | os.PathLike, data: bytes, replace: bool = True) -> None:
    """Write ``data`` to ``path``: a new file, or (``replace``) an existing regular file atomically."""
    plan_output(path, force=replace).write(data)
