# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``python -m tools.analysis_bench``: wall time and peak RSS of a real ``qbdi analyze`` by piece length.

For each length in ``--bars`` and each kind in ``--kinds`` it writes a synthetic piece built in
code to a temporary MIDI file, runs ``python -m bridge analyze FILE --out DIR --no-progress`` as a
subprocess with the default settings (surface and latent views, model ``pop``), and reports the
wall time, the child's own peak RSS (``ru_maxrss`` from ``os.wait4``), its exit code, and from
``analysis.json`` the frames, builds and best threshold of each view. ``--repeat`` runs each case
several times (the table gives the median and the range).

Kinds of piece (both 4/4, 120 bpm; four-bar phrases, sections of 16 bars):

- ``song``: quantised pop: one of three progressions per section, bass on beats 1 and 3, triads, an
  eighth-note melody from a few motifs, one bar in five a random line. Many frames repeat exactly.
- ``performed``: the same notes played: onsets jittered (sd 0.04 beat) and durations shortened by
  up to 20%, so the chroma of almost every step is a little different (near-continuous features).

``--checkout PATH`` runs the ``bridge`` package of another checkout (e.g. ``/work/main`` for the
figures before a change) with this interpreter. ``--limit-gb`` caps the child's address space
(default 6 GB) so that a quadratic "before" run fails with MemoryError instead of swamping a
shared machine; 0 lifts the cap.

Exit code 0 when every run exited 0, 1 otherwise, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PROGRESSIONS = (((0, 4, 7), (9, 0, 4), (5, 9, 0), (7, 11, 2)),      # I vi IV V
                ((2, 5, 9), (7, 11, 2), (0, 4, 7), (0, 4, 7)),      # ii V I I
                ((9, 0, 4), (5, 9, 0), (0, 4, 7), (7, 11, 2)))      # vi IV I V
MOTIFS = ((0, 2, 4, 7, 4, 2, 0, None), (7, None, 9, 7, 4, None, 2, 0), (4, 4, 5, 7, 7, 5, 4, 2),
          (12, 11, 9, 7, 9, None, 7, None))
KINDS = ("song", "performed")


def synthetic_piece(bars: int, kind: str = "song", seed: int = 0) -> list:
    """A ``bars``-bar 4/4 piece as :class:`bridge.pianoroll.Note` objects (about 15 notes a bar)."""
    from bridge.pianoroll import Note

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    rng = np.random.default_rng(seed)
    notes = []
    for b in range(bars):
        section = (b // 16) % len(PROGRESSIONS)
        chord = PROGRESSIONS[section][b % 4]
        t0 = 4.0 * b
        notes += [Note(48 + pc, t0, 4.0, 70) for pc in chord]
        notes += [Note(36 + chord[0], t0 + half * 2, 2.0, 90) for half in (0, 1)]
        motif = MOTIFS[(b // 4 + section) % len(MOTIFS)]
        line = motif if rng.random() > 0.2 else tuple(int(p) for p in rng.integers(0, 12, 8))
        notes += [Note(72 + p, t0 + k * 0.5, 0.5, 100) for k, p in enumerate(line) if p is not None]
    if kind == "performed":
        notes = [Note(n.pitch, max(0.0, n.start + rng.normal() * 0.04), n.duration * rng.uniform(0.8, 1.0),
                      n.velocity) for n in notes]
    return notes


def run_case(path: Path, checkout: Path, limit_gb: float, timeout_s: float) -> dict[str, Any]:
    """One ``qbdi analyze`` subprocess on ``path``: wall time, peak RSS (MB), exit code, views."""
    with tempfile.TemporaryDirectory(prefix="qbdi-bench-") as out, tempfile.TemporaryFile() as errors:
        env = dict(os.environ, PYTHONPATH=str(checkout))
        cmd = [sys.executable, "-m", "bridge", "analyze", str(path), "--out", out, "--no-progress"]

        def limit() -> None:
            if limit_gb > 0:
                cap = int(limit_gb * 2**30)
                resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

        started = time.perf_counter()
        child = subprocess.Popen(cmd, cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=errors,
                                 preexec_fn=limit)
        status, usage = _wait(child.pid, started + timeout_s)
        wall = time.perf_counter() - started
        child.returncode = rc = os.waitstatus_to_exitcode(status)
        scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
        result: dict[str, Any] = {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
                                  "peak_rss_mb": round(usage.ru_maxrss * scale / 2**20, 1), "rc": rc}
        if rc == 0:
            doc = json.loads((Path(out) / "analysis.json").read_text())["files"][0]
            for view in ("surface", "latent"):
                v = doc[view]
                result[view] = None if v is None else {k: v[k] for k in ("n_frames", "n_builds", "best_threshold",
                                                                         "ir_total", "n_clusters")}
        else:
            errors.seek(0)
            lines = errors.read().decode(errors="replace").strip().splitlines()
            result["error"] = lines[-1][:200] if lines else f"exit code {rc}"
        return result


def _wait(pid: int, deadline: float) -> tuple[int, Any]:
    """Reap ``pid`` with ``os.wait4`` (its own rusage, not all children's); kill it at ``deadline``."""
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done == pid:
            return status, usage
        if time.perf_counter() > deadline:
            os.kill(pid, 9)
            _, status, usage = os.wait4(pid, 0)
            return status, usage
        time.sleep(0.05)


def bench(bars: list[int], kinds: list[str], repeat: int, checkout: Path, limit_gb: float,
          timeout_s: float, seed: int) -> list[dict[str, Any]]:
    """Every (kind, length) case, ``repeat`` times; one row per case."""
    from bridge.midifile import write_midi

    rows = []
    with tempfile.TemporaryDirectory(prefix="qbdi-bench-midi-") as folder:
        for kind in kinds:
            for n in bars:
                path = Path(folder) / f"{kind}-{n}.mid"
                write_midi(path, [("piano", synthetic_piece(n, kind, seed))])
                runs = []
                for _ in range(repeat):
                    runs.append(run_case(path, checkout, limit_gb, timeout_s))
                    print(f"  {kind} {n} bars: {json.dumps(runs[-1])}", file=sys.stderr, flush=True)
                rows.append(_summary(kind, n, runs))
    return rows


def _summary(kind: str, bars: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if r["rc"] == 0]
    walls = [r["wall_s"] for r in runs]
    rss = [r["peak_rss_mb"] for r in runs]
    return {"kind": kind, "bars": bars, "runs": len(runs), "ok": len(ok),
            "wall_s_median": round(statistics.median(walls), 2), "wall_s_range": [min(walls), max(walls)],
            "cpu_s_median": round(statistics.median(r["cpu_s"] for r in runs), 2), "peak_rss_mb_max": max(rss),
            "surface": ok[0].get("surface") if ok else None, "latent": ok[0].get("latent") if ok else None,
            "error": None if ok else runs[0].get("error")}


def _table(rows: list[dict[str, Any]]) -> str:
    head = f"{'kind':<10} {'bars':>6} {'frames':>7} {'builds':>7} {'wall s (median, range)':>24} {'CPU s':>7} " \
           f"{'peak RSS MB':>12}  result"
    lines = [head, "-" * len(head)]
    for r in rows:
        s = r["surface"] or {}
        builds = f"{s.get('n_builds', '-')}/{(r['latent'] or {}).get('n_builds', '-')}"
        wall = f"{r['wall_s_median']:.1f} ({r['wall_s_range'][0]:.1f}-{r['wall_s_range'][1]:.1f})"
        result = "ok" if r["ok"] == r["runs"] else f"{r['runs'] - r['ok']} failed: {r['error']}"
        lines.append(f"{r['kind']:<10} {r['bars']:>6} {s.get('n_frames', '-'):>7} {builds:>7} {wall:>24} "
                     f"{r['cpu_s_median']:>7.1f} {r['peak_rss_mb_max']:>12}  {result}")
    return "\n".join(lines)


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers separated by commas, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"lengths must be at least 1 bar, got {text!r}")
    return values


def _kinds(text: str) -> list[str]:
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    bad = [k for k in kinds if k not in KINDS]
    if not kinds or bad:
        raise argparse.ArgumentTypeError(f"kinds are {', '.join(KINDS)}, got {text!r}")
    return kinds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.analysis_bench", description=__doc__.splitlines()[0])
    p.add_argument("--bars", type=_ints, default=[100, 400, 1000], help="piece lengths (default 100,400,1000)")
    p.add_argument("--kinds", type=_kinds, default=list(KINDS), help=f"pieces (default {','.join(KINDS)})")
    p.add_argument("--repeat", type=int, default=1, help="runs per case (default 1)")
    p.add_argument("--checkout", type=Path, default=ROOT, help="checkout whose bridge package runs (default this)")
    p.add_argument("--limit-gb", type=float, default=6.0, help="address-space cap of each run (default 6; 0: none)")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per run before it is killed (default 1800)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = p.parse_args(argv)
    if args.repeat < 1 or not (args.limit_gb >= 0) or not (args.timeout > 0):
        p.error("--repeat must be at least 1, --limit-gb at least 0 and --timeout positive")
    if not (args.checkout / "bridge" / "__init__.py").is_file():
        p.error(f"{args.checkout} has no bridge package; give a qbdi checkout")
    rows = bench(args.bars, args.kinds, args.repeat, args.checkout.resolve(), args.limit_gb, args.timeout, args.seed)
    print(json.dumps(rows, indent=1) if args.json else _table(rows))
    try:
        load = os.getloadavg()
        print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs",
              file=sys.stderr)
    except OSError:
        pass
    return 0 if all(r["ok"] == r["runs"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
