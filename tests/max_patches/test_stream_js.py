# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The device's bar collector (qbdi_protocol.js ``barNotes``) against ``bridge.stream.split_bars``:
for random performances, every bar's notes as the JavaScript would send them make the same frames
and the same struck notes (the bar's dynamics) as the Python splitter's."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bridge.config import Representation
from bridge.pianoroll import BarGrid, Note, step_position
from bridge.stream import bar_frames, split_bars

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
const P = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map((c) => c.bars.map((b) =>
  P.barNotes(c.notes, b * c.bpb, c.bpb).map((n) => [n.pitch, n.start, n.duration, n.velocity])))));
"""


def performances(count: int = 60):
    rng = random.Random(16)
    for _ in range(count):
        bpb = rng.choice((4.0, 3.0, 2.5, 1.75))
        grid = rng.choice((8, 96, 480, 0))             # ticks per beat; 0: unquantised timing
        notes = []
        for _ in range(rng.randint(1, 40)):
            start = rng.uniform(0, 6 * bpb)
            length = rng.choice((0.0, rng.uniform(0, 1), rng.uniform(0, 3 * bpb)))
            if grid:
                start, length = round(start * grid) / grid, round(length * grid) / grid
            notes.append(Note(rng.randint(30, 90), start, length, rng.randint(1, 127)))
        yield bpb, notes


def test_js_bar_notes_make_the_frames_python_makes():
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js 20+ is needed (node not found on PATH)")
    cases = [(bpb, notes, split_bars(notes, bpb)) for bpb, notes in performances()]
    payload = [{"bpb": bpb, "bars": list(range(len(bars))),
                "notes": [{"pitch": n.pitch, "start": n.start, "duration": n.duration, "velocity": n.velocity}
                          for n in notes]} for bpb, notes, bars in cases]
    done = subprocess.run([node, "-e", SCRIPT, str(ROOT / "max_patches" / "qbdi_protocol.js")],
                          input=json.dumps(payload), capture_output=True, text=True, timeout=120, check=True)
    rep = Representation()
    for (bpb, _notes, bars), js_bars in zip(cases, json.loads(done.stdout)):
        grid = BarGrid(bpb, 1, rep)
        for t, (py, js) in enumerate(zip(bars, js_bars)):
            js_notes = [Note(int(p), s, d, int(v)) for p, s, d, v in js]
            assert np.array_equal(bar_frames(js_notes, grid, t), bar_frames(py, grid, t)), (bpb, t)
            struck = sorted((n.pitch, n.velocity) for n in py if 0 <= step_position(n.start, 4) / 4 < bpb)
            assert sorted((n.pitch, n.velocity) for n in js_notes if 0 <= step_position(n.start, 4) / 4 < bpb) == struck
