"""The OSC protocol between qbdi and Max: every address, argument layout and cap lives here.

Designed for Max's ``[udpsend]``/``[udpreceive]``: flat int32 / float32 / string arguments, one
message per datagram, no bundles, no float64, no arrays. The device's JavaScript
(``max_patches/qbdi_protocol.js``) mirrors the constants below; a test keeps the two equal.
docs/PROTOCOL.md describes every message.

Requests are stateless: each carries a request id, the UDP port to reply to, and its full
settings as ``key value`` pairs, so one server can serve many devices and may be restarted.
Numbers may arrive as int or float (Max sends a float that happens to be whole as an int).
"""

from __future__ import annotations

PROTOCOL_VERSION = 1
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7400

# --- requests (client -> server) -------------------------------------------------------------
# /qbdi/ping <id:i> <reply_port:i>
PING = "/qbdi/ping"
# /qbdi/status <id:i> <reply_port:i>
STATUS = "/qbdi/status"
# /qbdi/models <id:i> <reply_port:i>
MODELS = "/qbdi/models"
# /qbdi/improvise <id:i> <reply_port:i> <n_notes:i> <n_chunks:i> [<key:s> <value>]...
IMPROVISE = "/qbdi/improvise"
# /qbdi/notes <id:i> <reply_port:i> <chunk:i> <n_chunks:i> [<pitch:i> <start:f> <duration:f> <velocity:i>]...
NOTES = "/qbdi/notes"
# /qbdi/free <id:i> <reply_port:i> [<key:s> <value>]...
FREE = "/qbdi/free"
# /qbdi/quit <id:i> <reply_port:i>
QUIT = "/qbdi/quit"

# --- replies (server -> client) --------------------------------------------------------------
# /qbdi/pong <id:i> <server_version:s> <protocol_version:i>
PONG = "/qbdi/pong"
# /qbdi/status/reply <id:i> <ready:i> <model:s> <n_models:i> <uptime_s:f> <served:i> <pending:i>
STATUS_REPLY = "/qbdi/status/reply"
# /qbdi/models/reply <id:i> <default:s> <n:i> [<name:s> <latent_size:i> <max_rate:i>]...
MODELS_REPLY = "/qbdi/models/reply"
# /qbdi/result <id:i> <n_notes:i> <n_chunks:i> <model:s> [<key:s> <value>]...   (effective settings)
RESULT = "/qbdi/result"
# /qbdi/result/notes <id:i> <chunk:i> <n_chunks:i> [<pitch:i> <start:f> <duration:f> <velocity:i>]...
RESULT_NOTES = "/qbdi/result/notes"
# /qbdi/error <id:i> <code:s> <message:s>      (id -1 when the request id could not be read)
ERROR = "/qbdi/error"
# /qbdi/warning <id:i> <message:s>
WARNING = "/qbdi/warning"
# /qbdi/ready <server_version:s> <protocol_version:i> <port:i> <model:s>  (to --notify-port, once loaded)
READY = "/qbdi/ready"
# /qbdi/bye <id:i>
BYE = "/qbdi/bye"

REQUESTS = (PING, STATUS, MODELS, IMPROVISE, NOTES, FREE, QUIT)
REPLIES = (PONG, STATUS_REPLY, MODELS_REPLY, RESULT, RESULT_NOTES, ERROR, WARNING, READY, BYE)
ADDRESSES = REQUESTS + REPLIES

# --- settings keys in /qbdi/improvise and /qbdi/free (values: see bridge.config.Settings) ------
# rate: int bits, or "full" / -1; the others take the Settings field's type.
SETTING_KEYS = (
    "model", "rate", "sampling", "threshold", "temperature", "z", "seed", "allocation",
    "source", "beats_per_bar", "bars", "structure", "continue_bars",
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
    "internal",         # a bug: the message says what happened, the server keeps serving
)

# --- sizes and caps ---------------------------------------------------------------------------
FIELDS_PER_NOTE = 4
NOTES_PER_CHUNK = 128          # 128 notes -> ~2.6 KB per datagram, well under the 4 KB cap
MAX_DATAGRAM = 4096            # no datagram either way exceeds this
MAX_NOTES = 20_000             # per request and per reply
MAX_CHUNKS = -(-MAX_NOTES // NOTES_PER_CHUNK)
MAX_PENDING = 64               # incomplete requests held at once
REQUEST_TTL_S = 5.0            # an incomplete request expires after this long without a chunk
MAX_STRING = 256               # longest string argument accepted


def n_chunks(n_notes: int) -> int:
    """Number of /qbdi/notes chunks for ``n_notes`` notes (at least one, possibly empty)."""
    return max(1, -(-n_notes // NOTES_PER_CHUNK))


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
