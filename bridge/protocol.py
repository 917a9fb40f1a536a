# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The OSC protocol between qbdi and Max: every address, argument layout and cap lives here.

Designed for Max's ``[udpsend]``/``[udpreceive]``: flat int32 / float32 / string arguments, one
message per datagram, no bundles, no float64, no arrays. The device's JavaScript
(``max_patches/qbdi_protocol.js``) mirrors the constants below; a test keeps the two equal.
docs/PROTOCOL.md describes every message.

Requests are stateless: each carries a request id, the UDP port to reply to, and its full
settings as ``key value`` pairs, so one server can serve many devices and may be restarted.
Numbers may arrive as int or float (Max sends a float that happens to be whole as an int).

Peers on other machines first ping (padded to HANDSHAKE_BYTES) for a cookie, then end every
request with ``"cookie" <cookie>`` (bridge.serve.peers); until then no reply to them is larger than the
datagram that caused it. Loopback peers need none of this.
"""

from __future__ import annotations

import functools
import ipaddress
import math
from array import array
from collections import namedtuple
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .config import INT32_MAX, Settings, parse_rate
from .config import MAX_INTERPOLATE_BARS as _MAX_INTERPOLATE_BARS
from .config import MAX_INTERPOLATE_STEPS as _MAX_INTERPOLATE_STEPS
from .config import MAX_NOTES as _MAX_NOTES
from .config import MIN_INTERPOLATE_STEPS as _MIN_INTERPOLATE_STEPS
from .errors import QbdiError
from .osc import shortest_float32
from .pianoroll import Note

PROTOCOL_VERSION = 2
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7400

# --- requests (client -> server) -------------------------------------------------------------
PING = "/qbdi/ping"
STATUS = "/qbdi/status"
MODELS = "/qbdi/models"
IMPROVISE = "/qbdi/improvise"
NOTES = "/qbdi/notes"
FREE = "/qbdi/free"
QUIT = "/qbdi/quit"
INTERPOLATE = "/qbdi/interpolate"

# --- replies (server -> client) --------------------------------------------------------------
PONG = "/qbdi/pong"
STATUS_REPLY = "/qbdi/status/reply"
MODELS_REPLY = "/qbdi/models/reply"
RESULT = "/qbdi/result"
RESULT_NOTES = "/qbdi/result/notes"
ERROR = "/qbdi/error"
WARNING = "/qbdi/warning"
READY = "/qbdi/ready"
BYE = "/qbdi/bye"

# --- play along: stream sessions (bridge.serve.sessions, docs/PROTOCOL.md "Playing along") ---------
# A session is keyed by (sender host, reply port, session id); the session id takes the place of
# the request id. Bar notes are in beats from the bar's start; a negative start is a note held
# over from an earlier bar. Answers come back tagged with the bar they are for.
STREAM_OPEN = "/qbdi/stream/open"
STREAM_SET = "/qbdi/stream/set"
STREAM_BAR = "/qbdi/stream/bar"
STREAM_CLOSE = "/qbdi/stream/close"
STREAM_OPENED = "/qbdi/stream/opened"
STREAM_NEXT = "/qbdi/stream/next"
STREAM_CLOSED = "/qbdi/stream/closed"
STREAM_REQUESTS = (STREAM_OPEN, STREAM_SET, STREAM_BAR, STREAM_CLOSE)
STREAM_REPLIES = (STREAM_OPENED, STREAM_NEXT, STREAM_CLOSED)

REQUESTS = (PING, STATUS, MODELS, IMPROVISE, NOTES, FREE, QUIT, INTERPOLATE) + STREAM_REQUESTS
REPLIES = (PONG, STATUS_REPLY, MODELS_REPLY, RESULT, RESULT_NOTES, ERROR, WARNING, READY, BYE) + STREAM_REPLIES
ADDRESSES = REQUESTS + REPLIES
# Requests a peer on another machine may send without a cookie (every other request needs one).
HANDSHAKES = (PING,)

# --- every message's layout, as data (as mido's message specs): read by parse_header ----------
# "name:type" is one argument (i int32, f float32, s string; * any of them); "name?:type" an optional
# last one; "name..." a repeated group of GROUPS after the fixed arguments.
GROUPS = {
    "settings": ("key:s", "value:*"),
    "notes": ("pitch:i", "start:f", "duration:f", "velocity:i"),
    "models": ("name:s", "latent_size:i", "max_rate:i"),
}
LAYOUTS = {
    PING: ("id:i", "reply_port:i", "padding?:s"),      # padded to HANDSHAKE_BYTES by peers on other machines
    STATUS: ("id:i", "reply_port:i"),
    MODELS: ("id:i", "reply_port:i"),
    IMPROVISE: ("id:i", "reply_port:i", "n_notes:i", "n_chunks:i", "settings..."),
    NOTES: ("id:i", "reply_port:i", "chunk:i", "n_chunks:i", "notes..."),
    FREE: ("id:i", "reply_port:i", "settings..."),
    QUIT: ("id:i", "reply_port:i"),
    # a morph (docs/PROTOCOL.md "Morphing"): clip A's notes then B's in NOTES chunks, as an improvise request's
    # (n_notes: both clips', the first n_notes_a are A's); lengths in beats, 0: to the last note's end. The reply
    # is one RESULT: every step's notes in sequence, step k (from 0) from k x the result's length_beats.
    INTERPOLATE: ("id:i", "reply_port:i", "n_notes:i", "n_chunks:i", "steps:i", "n_notes_a:i", "length_a:f",
                  "length_b:f", "settings..."),
    PONG: ("id:i", "server_version:s", "protocol_version:i", "cookie?:s"),   # the cookie: to non-loopback peers
    STATUS_REPLY: ("id:i", "ready:i", "model:s", "n_models:i", "uptime_s:f", "served:i", "pending:i"),
    MODELS_REPLY: ("id:i", "default:s", "n:i", "models..."),
    RESULT: ("id:i", "n_notes:i", "n_chunks:i", "model:s", "settings..."),   # effective settings, RESULT_MEASURES
    RESULT_NOTES: ("id:i", "chunk:i", "n_chunks:i", "notes..."),
    ERROR: ("id:i", "code:s", "message:s"),              # id -1 when the request id could not be read
    WARNING: ("id:i", "message:s"),
    READY: ("server_version:s", "protocol_version:i", "port:i", "model:s"),   # to --notify-port, once loaded
    BYE: ("id:i",),
    STREAM_OPEN: ("session:i", "reply_port:i", "settings..."),     # (re)start: settings, mode, window
    STREAM_SET: ("session:i", "reply_port:i", "settings..."),      # change dials, keep the history
    STREAM_BAR: ("session:i", "reply_port:i", "bar:i", "n_notes:i", "chunk:i", "n_chunks:i", "notes..."),
    STREAM_CLOSE: ("session:i", "reply_port:i"),
    STREAM_OPENED: ("session:i", "model:s", "settings..."),        # effective settings; after open and set
    STREAM_NEXT: ("session:i", "bar:i", "n_notes:i", "chunk:i", "n_chunks:i", "notes..."),
    STREAM_CLOSED: ("session:i", "bars_answered:i"),
}

# --- what an improvisation kept (bridge.measures.metrics.kept), measured by the server ------------------
# After the effective settings, /qbdi/result of an improvise request carries these as key/value pairs
# (float32, 0..1; a pair is left out where the figure is undefined, and free improvisations have none):
# retained harmony and copy, the figures `qbdi sweep` reports. Additive: a client that reads the
# settings pairs and does not know these keys sees two unknown settings (PROTOCOL_VERSION unchanged).
RESULT_MEASURES = ("retained", "copy")

# --- the handshake (bridge.serve.peers) -------------------------------------------------------------
# Any request may end with the pair  "cookie" <cookie:s>  after its other arguments.
COOKIE_KEY = "cookie"
COOKIE_PERIOD_S = 60.0         # a cookie is accepted in the period it was issued and the next one
HANDSHAKE_BYTES = 128          # a ping from another machine must be at least this long to get its pong

# --- settings keys in /qbdi/improvise and /qbdi/free (values: see bridge.config.Settings) ------
# rate: int bits, or "full" / -1; the others take the Settings field's type.
SETTING_KEYS = (
    "model", "rate", "sampling", "threshold", "temperature", "z", "seed", "allocation",
    "source", "beats_per_bar", "length_beats", "bars", "structure", "continue_bars",
)

# --- error codes ------------------------------------------------------------------------------
ERROR_CODES = (
    "bad_request",      # malformed message, bad setting value
    "too_large",        # a cap below was exceeded
    "unknown_model",    # the model name is not installed
    "bad_model",        # the model folder is corrupt
    "expired",          # chunks stopped arriving before the request was complete
    "unknown_address",  # an OSC address this server does not know
    "busy",             # too many requests in flight
    "cookie",           # a peer on another machine sent no valid cookie: ping for one, then retry
    "internal",         # a bug: the message says what happened, the server keeps serving
    "unknown_stream",   # a stream message for a session this server does not hold: open it (again)
)

# --- sizes and caps ---------------------------------------------------------------------------
FIELDS_PER_NOTE = 4
NOTES_PER_CHUNK = 128          # 128 notes -> ~2.6 KB per datagram, well under the 4 KB cap
MAX_DATAGRAM = 4096            # no datagram either way exceeds this
MAX_NOTES = _MAX_NOTES        # per request and per reply (bridge.config: the engine's cap too)
MAX_CHUNKS = -(-MAX_NOTES // NOTES_PER_CHUNK)
MAX_PENDING = 64               # incomplete requests held at once
REQUEST_TTL_S = 5.0            # an incomplete request expires after this long without a new chunk
REQUEST_DEADLINE_S = 10.0      # ... and this long after its first datagram, however it goes on
MAX_STRING = 256               # longest string argument accepted
MAX_REPLY_TEXT = 1000          # bytes of an error or warning message sent back
RESULT_BURST = 8               # result chunks sent back to back; then the server pauses RESULT_PAUSE_S, so a
RESULT_PAUSE_S = 0.001         # receiver whose buffer it cannot size (Max's [udpreceive]) drains a long reply

# --- morph caps (bridge.config: the engine's too) -----------------------------------------------
MIN_INTERPOLATE_STEPS = _MIN_INTERPOLATE_STEPS   # clips a morph writes, both ends included
MAX_INTERPOLATE_STEPS = _MAX_INTERPOLATE_STEPS
MAX_INTERPOLATE_BARS = _MAX_INTERPOLATE_BARS     # steps x bars per step

# --- stream keys and caps ---------------------------------------------------------------------
# The keys of /qbdi/stream/open and /set: the settings that apply to a stream (bars, length_beats
# and continue_bars are accepted there and ignored) plus the stream's own (bridge.config.StreamSettings).
STREAM_KEYS = ("mode", "window")
STREAM_SETTING_KEYS = tuple(k for k in SETTING_KEYS if k not in ("length_beats", "bars", "continue_bars")) + STREAM_KEYS
MAX_STREAMS = 64               # sessions held at once
MAX_STREAMS_PER_HOST = 32      # from one host (every device of a Live set shares 127.0.0.1)
MAX_STREAMS_PER_SENDER = 4     # from one host and reply port (one device); another one replaces its oldest
STREAM_TTL_S = 120.0           # a session that gets no message for this long is dropped
MAX_BAR_NOTES = 2048           # notes in one bar, either way
MAX_BAR_CHUNKS = -(-MAX_BAR_NOTES // NOTES_PER_CHUNK)
MAX_QUEUED_BARS = 64           # bars waiting for the stream thread, in all
MAX_QUEUED_PER_STREAM = 4      # ... and from one session
MIN_NOTE_START = -16384.0      # beats: how far before its bar a held note may have begun (MAX_BARS x 32)


# --- who needs the handshake: peers not on the loopback (bridge.serve.peers, bridge.client) ----
@functools.lru_cache(maxsize=1024)
def plain_host(host: str) -> str:
    """The address a host string names, IPv4-mapped IPv6 written as IPv4 (``::ffff:1.2.3.4`` ->
    ``1.2.3.4``), scope ids kept; a string that is not an address is returned unchanged."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return host


@functools.lru_cache(maxsize=1024)
def is_loopback(host: str) -> bool:
    """Whether a peer at ``host`` is on this machine's loopback, and so needs no handshake: true for
    127.0.0.0/8, ``::1`` and IPv4-mapped loopback; names and other addresses are not."""
    try:
        return ipaddress.ip_address(plain_host(host)).is_loopback
    except ValueError:
        return host == "localhost"


def clip_text(text: str, limit: int = MAX_REPLY_TEXT) -> str:
    """At most ``limit`` UTF-8 bytes (a cut text ends in "..."), so every error or warning reply
    fits one datagram (and, to a peer on another machine, the size of its request)."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    if limit < 3:
        return raw[:max(0, limit)].decode("utf-8", errors="ignore")
    return raw[:limit - 3].decode("utf-8", errors="ignore") + "..."


def padded_ping(request_id: int, reply_port: int) -> list:
    """``/qbdi/ping`` arguments padded with a string so the datagram is HANDSHAKE_BYTES long:
    large enough for the pong and its cookie, which a peer on another machine gets only then."""
    bare = 12 + 8 + 8          # "/qbdi/ping" + ",iis" + id and port
    return [request_id, reply_port, "p" * (HANDSHAKE_BYTES - bare - 4)]


def n_chunks(n_notes: int) -> int:
    """Number of /qbdi/notes chunks for ``n_notes`` notes (at least one, possibly empty)."""
    return max(1, -(-n_notes // NOTES_PER_CHUNK))


def split_steps(notes, steps: int, step_beats: float) -> list[list]:
    """A morph's result (every step's notes in sequence) -> ``steps`` lists of ``(pitch, start,
    duration, velocity)`` with starts from each step's beginning. ``step_beats``: one step's length."""
    out: list[list] = [[] for _ in range(steps)]
    for pitch, start, duration, velocity in notes:
        k = min(steps - 1, max(0, int(math.floor(start / step_beats + 1e-6))))
        out[k].append((pitch, start - k * step_beats, duration, velocity))
    return out


def flatten_notes(notes) -> list:
    """Notes (objects with pitch, start, duration, velocity) -> flat [p, s, d, v, ...] OSC args."""
    out: list = []
    for n in notes:
        out.extend((int(n.pitch), float(n.start), float(n.duration), int(n.velocity)))
    return out


def chunk_args(flat: list) -> list[list]:
    """Split flat note args into chunks of ``NOTES_PER_CHUNK`` notes (at least one, maybe empty)."""
    step = NOTES_PER_CHUNK * FIELDS_PER_NOTE
    chunks = [flat[i:i + step] for i in range(0, len(flat), step)]
    return chunks or [[]]


def notes_from_flat(flat: Sequence) -> list[Note]:
    """The inverse of :func:`flatten_notes`: flat ``[p, s, d, v, ...]`` ``(n_notes * 4,)`` -> Notes
    (pitch and velocity whole). The values are taken as they are: check them first where they
    come from outside (:func:`notes_array`)."""
    return [Note(int(p), s, d, int(v)) for p, s, d, v in zip(*[iter(flat)] * FIELDS_PER_NOTE)]


class Chunks:
    """The chunks of one chunked message (a request's notes, a result, a stream bar), collected in
    any order: chunk index -> its flat note values; the first copy of a chunk is kept.

    Only the collecting: the server's reassembly (:mod:`bridge.serve.reassembly`) adds caps and
    deadlines around it; the stream sessions and both Python clients use it as it is.
    """

    def __init__(self, n_chunks: int | None = None) -> None:
        self.n_chunks = n_chunks           # None until a header or chunk says it
        self.parts: dict[int, Sequence] = {}
        self.values = 0                    # flat values held, FIELDS_PER_NOTE per note

    def add(self, index: int, flat: Sequence) -> bool:
        """Keep chunk ``index``; False (and nothing kept) if it is in already."""
        if index in self.parts:
            return False
        self.parts[index] = flat
        self.values += len(flat)
        return True

    def __len__(self) -> int:
        return len(self.parts)

    def __contains__(self, index: object) -> bool:
        return index in self.parts

    @property
    def notes_held(self) -> int:
        return self.values // FIELDS_PER_NOTE

    @property
    def last(self) -> int:
        """The highest chunk index in (-1 with none)."""
        return max(self.parts, default=-1)

    @property
    def complete(self) -> bool:
        return self.n_chunks is not None and len(self.parts) >= self.n_chunks

    def ordered(self) -> Iterator[Sequence]:
        """The chunks in index order."""
        return (self.parts[index] for index in sorted(self.parts))

    def flat(self) -> list:
        """Every chunk's values in chunk order, one flat list."""
        return [v for part in self.ordered() for v in part]

    def notes(self) -> list[Note]:
        return notes_from_flat(self.flat())


# --- reading a message by its layout (LAYOUTS) -------------------------------------------------
_LABELS = {"id": "the request id", "session": "the session id", "reply_port": "the reply port",
           "chunk": "the chunk index", "bar": "the bar index"}
_GROUP_USAGE = {"settings": "[key value]...", "notes": "[pitch start duration velocity]...",
                "models": "[name latent_size max_rate]..."}


class _Layout:
    """One row of LAYOUTS, ready to read: the fixed fields, the tail, the header's type."""

    def __init__(self, address: str, row: Sequence[str]) -> None:
        self.address = address
        fixed = [f for f in row if not f.endswith("...") and "?" not in f]
        self.fields = [tuple(f.split(":")) for f in fixed]
        tails = [f for f in row if f not in fixed]
        self.group = next((f[:-3] for f in tails if f.endswith("...")), None)
        self.optional = next((f.split("?")[0] for f in tails if "?" in f), None)
        self.usage = " ".join([f"<{name}>" for name, _ in self.fields]
                              + ([_GROUP_USAGE[self.group]] if self.group else [])
                              + ([f"[{self.optional}]"] if self.optional else []))
        name = "".join(part.title() for part in address.split("/")[2:]).replace("_", "")
        self.header = namedtuple(name, [name for name, _ in self.fields] + ["rest"])


_layouts = {address: _Layout(address, row) for address, row in LAYOUTS.items()}


def parse_header(address: str, args: Sequence) -> Any:
    """A message's arguments -> its typed header: a named tuple of the fixed fields of its layout
    (LAYOUTS; whole floats accepted for ints, ints for floats) plus ``rest``, what follows them
    (settings pairs, flat notes, the optional last argument), unread. A message too short, or a
    field of the wrong type, raises :class:`QbdiError` naming the layout."""
    layout = _layouts[address]
    if len(args) < len(layout.fields):
        raise QbdiError(f"{address} takes {layout.usage}; got {len(args)} arguments")
    values: list[Any] = []
    for (name, kind), value in zip(layout.fields, args):
        what = _LABELS.get(name, name)
        if kind == "i":
            values.append(as_int(value, what))
        elif kind == "f":
            values.append(as_float(value, what))
        elif kind == "s":
            if not isinstance(value, str):
                raise QbdiError(f"{what} must be a string, got {describe(value)}")
            values.append(value)
        else:
            values.append(value)
    return layout.header(*values, list(args[len(layout.fields):]))


# --- reading and writing arguments: shared by bridge.serve.server and bridge.client ------------------
# How each setting travels: "str" (a symbol), "rate" (int bits, "full" or -1), "float", "int".
SETTING_TYPES = {
    "model": "str", "rate": "rate", "sampling": "str", "threshold": "float", "temperature": "float",
    "z": "str", "seed": "int", "allocation": "str", "source": "str", "beats_per_bar": "float", "length_beats": "float",
    "bars": "int", "structure": "str", "continue_bars": "int",
}
MIDI_RANGE = (0, 127)


def describe(value: Any) -> str:
    """A short, safe rendering of a received argument for an error message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def as_int(value: Any, what: str) -> int:
    """An int, or a float holding a whole number (Max may send either); else :class:`QbdiError`."""
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise QbdiError(f"{what} must be a whole number, got {describe(value)}")
    return value


def as_float(value: Any, what: str) -> float:
    """An int or float -> float (not checked for finiteness); else :class:`QbdiError`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise QbdiError(f"{what} must be a number, got {describe(value)}")
    return float(value)


def read_id(args: Sequence) -> int:
    """The request id (first argument, a whole number 0..2^31-1), or -1 when it cannot be read.

    An id beyond int32 (a float such as 3e9, or an ``h`` int64) is unreadable: no reply could carry it."""
    try:
        request_id = as_int(args[0], "the request id") if args else -1
    except QbdiError:
        return -1
    return request_id if 0 <= request_id <= INT32_MAX else -1


def read_reply_port(args: Sequence) -> int | None:
    """The reply port (second argument) if it is a usable UDP port, else None."""
    try:
        port = as_int(args[1], "the reply port") if len(args) > 1 else None
    except QbdiError:
        return None
    return port if port is not None and 1 <= port <= 65535 else None


def settings_args(values: Mapping[str, Any]) -> list:
    """Settings as a dict (``Settings.to_dict()``) -> flat ``[key, value, ...]`` in SETTING_KEYS order.

    ``None`` values are left out (the server then uses its default model and the query's meter);
    a full rate is sent as ``"full"``; keys outside SETTING_KEYS are ignored.
    """
    out: list = []
    for key in SETTING_KEYS:
        if key not in values:
            continue
        value = values[key]
        if key == "rate" and value is None:
            value = "full"
        if value is None:
            continue
        kind = SETTING_TYPES[key]
        if kind == "float":
            value = float(value)
        elif kind == "int":
            value = int(value)
        out.extend((key, value))
    return out


def measure_args(values: dict[str, float]) -> list:
    """RESULT_MEASURES as flat ``[key, value, ...]`` for the end of /qbdi/result; undefined (NaN) ones left out."""
    out: list = []
    for key in RESULT_MEASURES:
        value = values.get(key)
        if value is not None and math.isfinite(value):
            out += [key, round(float(value), 4)]
    return out


def split_measures(pairs: Sequence) -> tuple[list, dict[str, float]]:
    """/qbdi/result's key/value pairs -> (the settings pairs, the RESULT_MEASURES given)."""
    settings: list = []
    measures: dict[str, float] = {}
    for key, value in zip(pairs[0::2], pairs[1::2]):
        if key in RESULT_MEASURES and isinstance(value, (int, float)):
            measures[key] = shortest_float32(float(value))
        else:
            settings += [key, value]
    return settings, measures


def read_settings(args: Sequence, base: Settings | None = None) -> Settings:
    """Flat ``[key, value, ...]`` -> :class:`Settings` (over ``base``'s values, if given), in one call."""
    values = parse_settings(args)
    return Settings.from_dict({**base.to_dict(), **values} if base is not None else values)


def parse_settings(args: Sequence) -> dict[str, Any]:
    """Flat ``[key, value, ...]`` -> a dict for ``Settings.from_dict``; :class:`QbdiError` names the bad pair.

    Whole floats are accepted for int settings, ints for float settings; float32 values are read
    back as their shortest decimal (0.3 stays 0.3); an empty model name means the server's default.
    A key given twice keeps its last value.
    """
    if len(args) % 2:
        raise QbdiError(f"settings come as key value pairs; got an odd number of arguments ({len(args)})")
    out: dict[str, Any] = {}
    for i in range(0, len(args), 2):
        key, value = args[i], args[i + 1]
        if not isinstance(key, str) or key not in SETTING_TYPES:
            raise QbdiError(f"unknown setting {describe(key)}; known: {', '.join(SETTING_KEYS)}")
        kind = SETTING_TYPES[key]
        if kind == "str":
            if not isinstance(value, str):
                raise QbdiError(f"setting {key} must be a name, got {describe(value)}")
            out[key] = value if (value or key != "model") else None
        elif kind == "rate":
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise QbdiError(f"rate must be a whole number of bits or 'full', got {describe(value)}")
            out[key] = parse_rate(value)
        elif kind == "int":
            out[key] = as_int(value, f"setting {key}")
        else:
            out[key] = shortest_float32(as_float(value, f"setting {key}"))
    return out


def parse_notes(flat: Sequence, first_index: int = 0, min_start: float = 0.0) -> list[tuple[int, float, float, int]]:
    """Flat ``[pitch, start, duration, velocity, ...]`` -> checked tuples.

    Pitch and velocity are whole numbers in 0..127; start and duration (beats) finite, the
    duration >= 0 and the start >= ``min_start`` (0; MIN_NOTE_START in a stream's bars).
    ``first_index`` numbers the notes in error messages (a chunk's offset in the request).
    """
    if len(flat) % FIELDS_PER_NOTE:
        raise QbdiError(f"notes come as {FIELDS_PER_NOTE} numbers each (pitch start duration velocity); "
                        f"got {len(flat)} numbers")
    lo, hi = MIDI_RANGE
    out = []
    for i in range(0, len(flat), FIELDS_PER_NOTE):
        index = first_index + i // FIELDS_PER_NOTE
        pitch = as_int(flat[i], f"note {index}: pitch")
        start = as_float(flat[i + 1], f"note {index}: start")
        duration = as_float(flat[i + 2], f"note {index}: duration")
        velocity = as_int(flat[i + 3], f"note {index}: velocity")
        if not lo <= pitch <= hi:
            raise QbdiError(f"note {index}: pitch {pitch} is outside {lo}..{hi}")
        if not lo <= velocity <= hi:
            raise QbdiError(f"note {index}: velocity {velocity} is outside {lo}..{hi}")
        if not (math.isfinite(start) and start >= min_start):
            raise QbdiError(f"note {index}: start {start} must be a finite number of beats >= {min_start:g}")
        if not (math.isfinite(duration) and duration >= 0):
            raise QbdiError(f"note {index}: duration {duration} must be a finite number of beats >= 0")
        out.append((pitch, start, duration, velocity))
    return out


def notes_array(flat: Sequence, chunk: int = 0, min_start: float = 0.0) -> array:
    """A chunk's note args -> flat ``array('d')`` ``(n_notes * 4,)``, checked as :func:`parse_notes`
    checks them but vectorised (about ten times faster); an error names the chunk and the note."""
    if len(flat) <= 8 * FIELDS_PER_NOTE:      # a few notes: NumPy's set-up costs more than the loop
        try:
            return array("d", [v for note in parse_notes(flat, min_start=min_start) for v in note])
        except QbdiError as exc:
            raise QbdiError(f"chunk {chunk}, {exc}") from None
    try:
        if len(flat) % FIELDS_PER_NOTE or any(type(v) is bool for v in flat):
            raise TypeError
        values = array("d", flat)
        a = np.frombuffer(values, dtype=np.float64).reshape(-1, FIELDS_PER_NOTE)
        whole = a[:, [0, 3]]
        lo, hi = MIDI_RANGE
        ok = bool(np.isfinite(a).all() and (a[:, 1] >= min_start).all() and (a[:, 2] >= 0).all() and (whole >= lo).all()
                  and (whole <= hi).all() and (whole == np.floor(whole)).all())
    except (TypeError, OverflowError, ValueError):
        ok = False
    if ok:
        return values
    try:
        parse_notes(flat, min_start=min_start)
    except QbdiError as exc:
        raise QbdiError(f"chunk {chunk}, {exc}") from None
    raise QbdiError(f"chunk {chunk}: the notes are malformed")  # not reached: parse_notes agrees


def parse_stream_settings(args: Sequence) -> tuple[dict[str, Any], dict[str, Any]]:
    """Flat ``[key, value, ...]`` of /qbdi/stream/open or /set -> (dict for ``Settings.from_dict``,
    dict for ``StreamSettings.from_dict``). ``mode`` is a name, ``window`` a whole number of bars;
    the other keys are read by :func:`parse_settings`, and those that do not apply to a stream are
    dropped."""
    if len(args) % 2:
        raise QbdiError(f"settings come as key value pairs; got an odd number of arguments ({len(args)})")
    engine: list = []
    stream: dict[str, Any] = {}
    for key, value in zip(args[::2], args[1::2]):
        if key == "mode":
            if not isinstance(value, str):
                raise QbdiError(f"setting mode must be a name, got {describe(value)}")
            stream["mode"] = value
        elif key == "window":
            stream["window"] = as_int(value, "setting window")
        elif isinstance(key, str) and key in SETTING_TYPES:
            engine += [key, value]
        else:
            raise QbdiError(f"unknown setting {describe(key)}; a stream knows {', '.join(STREAM_SETTING_KEYS)}")
    settings = parse_settings(engine)
    return {k: v for k, v in settings.items() if k in STREAM_SETTING_KEYS}, stream


def stream_settings_args(settings: Mapping[str, Any], stream: Mapping[str, Any]) -> list:
    """Effective settings (``Settings.to_dict()``, ``StreamSettings.to_dict()``) -> flat pairs in
    STREAM_SETTING_KEYS order: what /qbdi/stream/opened echoes and what clients send."""
    pairs = settings_args({k: v for k, v in settings.items() if k in STREAM_SETTING_KEYS})
    return pairs + [item for key in STREAM_KEYS if key in stream for item in (key, stream[key])]
