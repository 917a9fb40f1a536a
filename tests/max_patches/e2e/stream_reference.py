# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""What the play-along engine (bridge.stream) answers to bars as the Max side sent them.

stdin: {"settings": [key, value, ...] as sent in /qbdi/stream/open, "bars": [[bar, [p, s, d, v, ...]], ...]
        as sent in /qbdi/stream/bar, "model": name or folder or null}
stdout: {"answers": [{"bar": b, "notes": [{"pitch", "start", "duration", "velocity"}]}, ...]}
Numbers go through float32 as on the wire (reference.wire), then the server's own parsing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference import wire  # noqa: E402

from bridge import protocol as P  # noqa: E402
from bridge.config import Settings, StreamSettings  # noqa: E402
from bridge.models import load_model  # noqa: E402
from bridge.pianoroll import Note  # noqa: E402
from bridge.stream import StreamImproviser  # noqa: E402


def main() -> int:
    request = json.load(sys.stdin)
    engine_keys, own = P.parse_stream_settings([wire(v) for v in request["settings"]])
    settings = Settings.from_dict(engine_keys)
    engine = StreamImproviser(load_model(settings.model or request.get("model")), settings,
                              StreamSettings.from_dict(own))
    answers = []
    for bar, flat in request["bars"]:
        notes = [Note(p, s, d, v) for p, s, d, v in P.parse_notes([wire(x) for x in flat], min_start=P.MIN_NOTE_START)]
        answer = engine.play(bar, notes)
        if answer is not None:
            answers.append({"bar": answer.bar, "notes": [{"pitch": n.pitch, "start": n.start, "duration": n.duration,
                                                          "velocity": n.velocity} for n in answer.notes]})
    json.dump({"answers": answers}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
