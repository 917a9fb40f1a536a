# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""What ``qbdi improvise`` (bridge.improvise) gives for a request as the Max side sent it.

stdin: {"kind": "improvise" | "free" | "interpolate", "settings": [key, value, ...] as sent over OSC,
        "notes": [pitch, start, duration, velocity, ...] as sent, "model": name or folder or null;
        interpolate also "steps", "n_notes_a", "lengths": [a, b] as sent}
stdout: {"notes": [{"pitch", "start", "duration", "velocity"}], "model": name}; interpolate: "clips",
        one such note list per step (bridge.interpolate)

Numbers go through float32 first, as they do on the wire, then through the same argument parsing
as the server (bridge.protocol.parse_settings / parse_notes), then bridge.improvise.
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from bridge import protocol as P  # noqa: E402
from bridge.config import Settings  # noqa: E402
from bridge.improvise import free_improvise, improvise  # noqa: E402
from bridge.interpolate import interpolate  # noqa: E402
from bridge.models import load_model  # noqa: E402
from bridge.pianoroll import Note  # noqa: E402


def wire(value):
    """A JavaScript number as [udpsend] sends it: whole numbers as int32, others as float32."""
    if isinstance(value, float) and not value.is_integer():
        return struct.unpack(">f", struct.pack(">f", value))[0]
    if isinstance(value, float):
        return int(value)
    return value


def main() -> int:
    request = json.load(sys.stdin)
    settings = Settings.from_dict(P.parse_settings([wire(v) for v in request["settings"]]))
    model = load_model(settings.model or request.get("model"))
    if request["kind"] == "interpolate":
        notes = [Note(p, s, d, v) for p, s, d, v in P.parse_notes([wire(v) for v in request["notes"]])]
        n_a = request["n_notes_a"]
        length_a, length_b = (wire(float(x)) or None for x in request["lengths"])
        morph = interpolate(model, notes[:n_a], notes[n_a:], request["steps"], settings, length_a=length_a,
                            length_b=length_b)
        clips = [[{"pitch": n.pitch, "start": n.start, "duration": n.duration, "velocity": n.velocity} for n in i.notes]
                 for i in morph.improvisations]
        json.dump({"clips": clips, "model": model.name}, sys.stdout)
        return 0
    if request["kind"] == "free":
        result = free_improvise(model, settings)
    else:
        notes = [Note(p, s, d, v) for p, s, d, v in P.parse_notes([wire(v) for v in request["notes"]])]
        result = improvise(model, notes, settings)
    out = [{"pitch": n.pitch, "start": n.start, "duration": n.duration, "velocity": n.velocity} for n in result.notes]
    json.dump({"notes": out, "model": result.model}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
