# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""How fast ``bridge.midifile`` reads MIDI: a folder of real files, and the worst 16 MB files.

``python -m tools.midi_read_bench [FOLDER] [--repeat N]`` prints, for each case, the best and the
median of N runs: the folder's files read by qbdi's reader and by mido (the reader it replaced),
and 16 MB files built to be slow (one event kind repeated: controller, sustain pedal, meta, sysex).
"""

from __future__ import annotations

import argparse
import glob
import io
import os
import statistics
import time
from pathlib import Path

from bridge.midifile import MAX_FILE_BYTES, decode_midi

FLOODS = {"control change 7": b"\x00\xb0\x07\x40", "sustain pedal": b"\x00\xb0\x40\x7f\x00\xb0\x40\x00",
          "meta text": b"\x00\xff\x01\x00", "sysex": b"\x00\xf0\x00"}


def flood(unit: bytes, size: int = MAX_FILE_BYTES) -> bytes:
    """A type 0 file of ``size`` bytes: one note, then ``unit`` repeated."""
    body = b"\x00\x90\x3c\x40" + unit * ((size - 40) // len(unit)) + b"\x10\x80\x3c\x00"
    return b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk" + len(body).to_bytes(4, "big") + body


def timed(run, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.midi_read_bench", description=__doc__.splitlines()[0])
    corpus = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "pop_music_midi"
    parser.add_argument("folder", nargs="?", default=str(corpus),
                        help="a folder of MIDI files (default: ../shared/datasets/pop_music_midi beside the repo)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    files = sorted(glob.glob(os.path.join(args.folder, "*.mid*")))
    blobs = [open(f, "rb").read() for f in files]   # noqa: SIM115 (read whole, closed by refcount)
    rows = []
    if blobs:
        import mido

        rows.append((f"{len(blobs)} files, {sum(map(len, blobs)) // 1024} KB: qbdi",
                     timed(lambda: [decode_midi(b) for b in blobs], args.repeat)))
        rows.append((f"{len(blobs)} files: mido.MidiFile (parse only)",
                     timed(lambda: [mido.MidiFile(file=io.BytesIO(b)) for b in blobs], args.repeat)))
    for name, unit in FLOODS.items():
        data = flood(unit)
        rows.append((f"16 MB of {name}", timed(lambda d=data: decode_midi(d), max(1, args.repeat // 2))))
    print(f"{'case':<46}{'best s':>9}{'median s':>10}")
    for name, (best, median) in rows:
        print(f"{name:<46}{best:>9.3f}{median:>10.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
