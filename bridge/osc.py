# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""OSC 1.0 messages on the wire, the subset Max's ``[udpsend]``/``[udpreceive]`` speak.

:func:`encode` writes only flat int32 (``i``), float32 (``f``) and string (``s``) arguments, one
message per datagram: no bundles, no float64, no arrays, no blobs (see docs/PROTOCOL.md).
:func:`decode` reads that subset with one ``struct`` call per run of numbers, which is about ten
times faster than a general parser on note chunks; any other type tag (``h``, ``d``, ``T``,
arrays...) is handed to python-osc's parser, so the server can answer such messages with a
clear error instead of dropping them. Bundles are refused.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence

from .config import INT32_MAX

INT32_MIN = -INT32_MAX - 1
_F32 = struct.Struct(">f")
_SIMPLE_TAGS = frozenset("ifs")
# OSC 1.0 + 1.1 tags python-osc reads. Not "c" and "I": python-osc skips them with a warning on the
# root logger, one line per datagram, which bypassed the server's log throttle (found by tools/fuzz.py).
_KNOWN_TAGS = frozenset("ifsbhdtTFNrm[]")


class OscError(ValueError):
    """A datagram that is not a readable OSC message, or an argument that cannot be sent."""


def _padded(raw: bytes) -> bytes:
    """An OSC string: the bytes, a NUL, then NULs up to a multiple of 4."""
    return raw + b"\0" * (4 - len(raw) % 4)


def encode(address: str, args: Sequence = ()) -> bytes:
    """One OSC message with flat ``i``/``f``/``s`` arguments.

    Python ``int`` -> ``i`` (must fit int32), ``float`` -> ``f`` (float32), ``str`` -> ``s`` (UTF-8).
    Anything else (bool, None, bytes, lists, numpy arrays) raises :class:`OscError`.
    """
    if not address.startswith("/"):
        raise OscError(f"an OSC address starts with '/', got {address!r}")
    tags = [","]
    fmt = [">"]
    values: list = []
    for arg in args:
        if isinstance(arg, bool) or arg is None:
            raise OscError(f"cannot send {arg!r}: only int32, float32 and string arguments")
        if isinstance(arg, int) or (hasattr(arg, "__index__") and not isinstance(arg, float)):
            value = int(arg.__index__())
            if not INT32_MIN <= value <= INT32_MAX:
                raise OscError(f"int {value} does not fit in 32 bits")
            tags.append("i")
            fmt.append("i")
            values.append(value)
        elif isinstance(arg, float):
            tags.append("f")
            fmt.append("f")
            values.append(arg)
        elif isinstance(arg, str):
            raw = arg.encode("utf-8")
            if b"\0" in raw:
                raise OscError("strings cannot hold NUL characters")
            padded = _padded(raw)
            tags.append("s")
            fmt.append(f"{len(padded)}s")
            values.append(padded)
        else:
            raise OscError(f"cannot send {type(arg).__name__} {arg!r}: only int32, float32 and string arguments")
    try:
        body = struct.pack("".join(fmt), *values)
    except (struct.error, OverflowError) as exc:   # a float beyond float32's range
        raise OscError(f"cannot encode the arguments ({exc})") from None
    return _padded(address.encode("utf-8")) + _padded("".join(tags).encode("ascii")) + body


def _read_string(data: bytes, offset: int) -> tuple[str, int]:
    end = data.find(b"\0", offset)
    if end < 0:
        raise OscError("a string is not NUL-terminated")
    try:
        text = data[offset:end].decode("utf-8")
    except UnicodeDecodeError:
        raise OscError("a string is not valid UTF-8") from None
    return text, offset + ((end - offset) // 4 + 1) * 4


def decode(data: bytes) -> tuple[str, list]:
    """A datagram -> ``(address, args)``; raises :class:`OscError` if it is not one OSC message.

    ``i`` -> int, ``f`` -> float (the float32 value), ``s`` -> str; other tags as python-osc reads them.
    """
    if data.startswith(b"#bundle"):
        raise OscError("OSC bundles are not supported; send one message per datagram")
    if not data.startswith(b"/"):
        raise OscError("not an OSC message (it does not start with '/')")
    address, offset = _read_string(data, 0)
    if offset >= len(data):             # OSC 1.0 allows a message without a type tag string
        return address, []
    if data[offset:offset + 1] != b",":
        raise OscError("the type tag string does not start with ','")
    tags, offset = _read_string(data, offset)
    tags = tags[1:]
    if not set(tags) <= _SIMPLE_TAGS:
        unknown = set(tags) - _KNOWN_TAGS
        if unknown:
            raise OscError(f"unknown type tag(s) {''.join(sorted(unknown))!r}")
        return _decode_general(data)
    if offset > len(data):
        raise OscError("the message is truncated")
    args: list = []
    run_start = 0
    for i, tag in enumerate(tags + "s"):      # a sentinel string closes the last run of numbers
        if tag != "s":
            continue
        if i > run_start:
            fmt = ">" + tags[run_start:i]
            size = 4 * (i - run_start)
            if offset + size > len(data):
                raise OscError("the message is truncated")
            args.extend(struct.unpack_from(fmt, data, offset))
            offset += size
        if i < len(tags):
            if offset >= len(data):
                raise OscError("the message is truncated")
            text, offset = _read_string(data, offset)
            args.append(text)
        run_start = i + 1
    if offset > len(data):
        raise OscError("the message is truncated")
    return address, args


def _decode_general(data: bytes) -> tuple[str, list]:
    from pythonosc.osc_message import OscMessage, ParseError

    try:
        message = OscMessage(data)
        return message.address, list(message.params)
    except (ParseError, ValueError, IndexError, struct.error, UnicodeDecodeError) as exc:
        raise OscError(f"not a readable OSC message ({exc})") from None


def shortest_float32(value: float) -> float:
    """The shortest decimal that reads back as the same float32: 0.30000001192... -> 0.3.

    A value that is not exactly a float32 (or not finite) is returned unchanged, so this is
    safe on any float. It makes a threshold of 0.3 from Max equal to ``--threshold 0.3``.
    """
    if not math.isfinite(value):
        return value
    try:
        if _F32.unpack(_F32.pack(value))[0] != value:
            return value
        for digits in range(1, 10):
            candidate = float(f"{value:.{digits}g}")
            if _F32.unpack(_F32.pack(candidate))[0] == value:
                return candidate
    except (OverflowError, struct.error):
        pass
    return value
