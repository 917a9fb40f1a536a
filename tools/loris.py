# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``python -m tools.loris``: other clients' service while a hostile local client misbehaves.

Starts ``qbdi serve`` (:class:`bridge.bench.ServerProcess`), then for each phase runs a hostile
client in its own process (this module with ``--hostile VARIANT``) while ``--clients`` real
:class:`bridge.client.Client` s keep asking for improvisations (an 8-bar query, rate 256), and
reports what the real clients got: completed, errors by code, timeouts, round trip p50/p99.
The phases (docs/FAULTS.md has the figures):

- ``baseline``: no hostile client;
- ``headers``: one socket re-sends the headers of requests it never completes, naming 64 reply
  ports (the slow loris the outside battery found: it held every slot for as long as it went on);
- ``sockets``: 128 sockets, each sending headers of new requests it never completes: a table
  full of incomplete requests that keeps refilling;
- ``chunks``: 64 sockets, each announcing MAX_CHUNKS chunks and sending one new chunk at a time
  (progress, so only the absolute deadline ends them), or MAX_CHUNKS one-note requests;
- ``heavy``: 16 sockets sending complete requests for the longest free improvisation allowed
  (1,024 model frames each) as fast as they are refused or answered: a queue full of long jobs;
- ``flood``: one socket sending status requests as fast as it can, whatever ``--rate`` says.

The hostile client writes only to the server's port and names only its own (unread) sockets as
reply ports. Exit code 0 when every real request in every phase got its improvisation, 1 when one
did not, 2 for a usage error or a server that would not start.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bridge import protocol as P
from bridge.bench import BENCH_SETTINGS, ServerProcess, _percentiles, realistic_query
from bridge.client import Client, NoReply, ServerError
from bridge.errors import QbdiError
from bridge.osc import encode

VARIANTS = ("headers", "sockets", "chunks", "heavy", "flood")
ROOT = Path(__file__).resolve().parents[1]      # where ``python -m tools.loris`` runs
RAMP_S = 0.5              # the hostile client runs this long before the real clients start
DRAIN_S = 120.0           # at most this long for the server to finish a phase's leftovers


# --- the hostile client (its own process) --------------------------------------------------------
def _socket(rcvbuf: int | None = None) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind(("127.0.0.1", 0))
    return s


def hostile(variant: str, port: int, seconds: float, rate: float, seed: int = 0) -> dict[str, Any]:
    """Misbehave at the server on ``port`` for ``seconds`` at about ``rate`` datagrams a second."""
    rng = random.Random(seed)
    dest = ("127.0.0.1", port)
    deaf = [_socket(rcvbuf=4096) for _ in range(64)]      # reply ports: ours, never read
    ports = [s.getsockname()[1] for s in deaf]
    next_id = rng.randrange(1, 2**30)
    senders = [_socket() for _ in range({"headers": 1, "sockets": 128, "chunks": 64, "heavy": 16, "flood": 1}[variant])]
    if variant == "flood":
        rate = float("inf")
    chunk_of: dict[int, int] = {}           # chunks: sender -> next chunk index
    id_of = {k: next_id + 1000 * k for k in range(len(senders))}
    sent = 0
    print("ready", flush=True)
    started = time.perf_counter()
    end = started + seconds
    cycle = 0
    while time.perf_counter() < end:
        batch: list[tuple[socket.socket, bytes]] = []
        if variant == "headers":       # the same 64 pending headers, again and again
            batch = [(senders[0], encode(P.IMPROVISE, [next_id + i, ports[i], 1, 1])) for i in range(64)]
        elif variant == "sockets":     # every socket a new incomplete request each round
            for k, s in enumerate(senders):
                id_of[k] += 1
                batch.append((s, encode(P.IMPROVISE, [id_of[k], ports[k % 64], 1, 1])))
        elif variant == "chunks":
            for k, s in enumerate(senders):
                if k % 2:              # one more chunk of a request that never completes: progress
                    index = chunk_of.get(k, 0)
                    if index >= P.MAX_CHUNKS - 1:
                        id_of[k], index = id_of[k] + 1, 0
                    chunk_of[k] = index + 1
                    batch.append((s, encode(P.NOTES, [id_of[k], ports[k], index, P.MAX_CHUNKS, 60, 0.0, 1.0, 90])))
                else:                  # a new request announcing MAX_CHUNKS chunks, one of them sent
                    id_of[k] += 1
                    batch.append((s, encode(P.NOTES, [id_of[k], ports[k], 0, P.MAX_CHUNKS, 60, 0.0, 1.0, 90])))
        elif variant == "flood":
            batch = [(senders[0], encode(P.STATUS, [next_id + i, ports[i % 64]])) for i in range(256)]
        else:                          # heavy: complete requests for the longest free improvisation
            for k, s in enumerate(senders):
                id_of[k] += 1
                batch.append((s, encode(P.FREE, [id_of[k], ports[k], "bars", 256, "beats_per_bar", 16.0,
                                                 "rate", 256, "seed", cycle])))
        for s, data in batch:
            try:
                s.sendto(data, dest)
                sent += 1
            except OSError:
                pass
            pause = started + sent / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        cycle += 1
    for s in senders + deaf:
        s.close()
    return {"variant": variant, "sent": sent, "seconds": round(time.perf_counter() - started, 2)}


# --- the real clients ----------------------------------------------------------------------------
def real_clients(port: int, clients: int, seconds: float, timeout: float) -> dict[str, Any]:
    """``clients`` threads, each a Client improvising back to back for ``seconds``."""
    query = realistic_query(8)
    times: list[float] = []
    failures: Counter = Counter()
    lock = threading.Lock()
    end = time.perf_counter() + seconds

    def run(k: int) -> None:
        with Client(port=port, timeout=timeout) as client:
            i = 0
            while time.perf_counter() < end:
                i += 1
                started = time.perf_counter()
                try:
                    client.improvise(query, {**BENCH_SETTINGS, "seed": k * 100_000 + i}, beats_per_bar=4)
                except ServerError as exc:
                    with lock:
                        failures[exc.code] += 1
                    continue
                except NoReply:
                    with lock:
                        failures["timeout"] += 1
                    continue
                with lock:
                    times.append(time.perf_counter() - started)

    threads = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"completed": len(times), "failed": dict(failures), **_percentiles(times, (50, 99)),
            "max_ms": round(1000 * max(times), 1) if times else None}


def run_loris(seconds: float = 10.0, clients: int = 2, variants: tuple[str, ...] = VARIANTS, rate: float = 5000.0,
              model: str | None = None, timeout: float = 10.0) -> dict[str, Any]:
    """Every phase against one ``qbdi serve`` subprocess; the report (``ok``, ``problems``)."""
    server = ServerProcess.start(model)
    phases: list[dict[str, Any]] = []
    problems: list[str] = []
    try:
        for variant in ("baseline", *variants):
            hostile_report = None
            proc = None
            if variant != "baseline":
                proc = subprocess.Popen([sys.executable, "-m", "tools.loris", "--hostile", variant, "--port",
                                         str(server.port), "--seconds", str(seconds + RAMP_S), "--rate", str(rate)],
                                        stdout=subprocess.PIPE, text=True, cwd=ROOT)
                proc.stdout.readline()          # "ready"
                time.sleep(RAMP_S)
            got = real_clients(server.port, clients, seconds, timeout)
            if proc is not None:
                out, _ = proc.communicate(timeout=seconds + 30)
                hostile_report = json.loads(out.strip().splitlines()[-1])
            pending, drained = None, time.perf_counter()
            try:      # the next phase starts once what this one left queued is done (or has expired)
                with Client(port=server.port, timeout=timeout) as probe:
                    while (pending := probe.status().pending) and time.perf_counter() - drained < DRAIN_S:
                        time.sleep(0.2)
            except QbdiError:
                problems.append(f"{variant}: no status reply within {timeout:g} s after the phase")
            phase = {"phase": variant, **got, "pending_after": pending,
                     "drain_s": round(time.perf_counter() - drained, 1)}
            if hostile_report:
                phase["hostile_per_s"] = round(hostile_report["sent"] / max(hostile_report["seconds"], 1e-9))
            phases.append(phase)
            if got["failed"] or not got["completed"]:
                problems.append(f"{variant}: the real clients got {got['failed'] or 'nothing'} "
                                f"({got['completed']} completed)")
    finally:
        alive = server.process.poll() is None
        exit_code = server.stop() if alive else server.process.returncode
    if not alive:
        problems.append("the server died")
    elif exit_code != 0:
        problems.append(f"the server exited with code {exit_code}")
    return {"mode": "loris", "clients": clients, "seconds_per_phase": seconds, "hostile_rate": rate,
            "model": model or "pop", "phases": phases, "server_exit_code": exit_code,
            "ok": not problems, "problems": problems}


def format_report(report: dict[str, Any]) -> str:
    lines = [f"loris: {report['clients']} real client(s), {report['seconds_per_phase']:g} s a phase, hostile at up "
             f"to {report['hostile_rate']:g} datagrams/s, model {report['model']}",
             f"  {'phase':<9} {'hostile/s':>9} {'done':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  failed"]
    for p in report["phases"]:
        lines.append(f"  {p['phase']:<9} {p.get('hostile_per_s', 0):>9} {p['completed']:>6} {p['p50_ms']:>8.1f} "
                     f"{p['p99_ms']:>8.1f} {p['max_ms'] or 0:>8.1f}  {p['failed'] or 0}")
    lines.append("  OK" if report["ok"] else "  PROBLEMS:\n" + "\n".join(f"  - {x}" for x in report["problems"]))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.loris", description="Real clients' service while a hostile "
                                "local client misbehaves, against a real qbdi serve (docs/FAULTS.md).")
    p.add_argument("--seconds", type=float, default=10.0, help="length of each phase (default 10)")
    p.add_argument("--clients", type=int, default=2, help="real clients (default 2)")
    p.add_argument("--variant", action="append", choices=VARIANTS, help="a hostile variant (default: all)")
    p.add_argument("--rate", type=float, default=5000.0, help="hostile datagrams a second at most (default 5000)")
    p.add_argument("--model", default=None, help="model name or folder (default: pop)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--hostile", choices=VARIANTS, help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.hostile:
        print(json.dumps(hostile(args.hostile, args.port, args.seconds, args.rate)), flush=True)
        return 0
    try:
        if not (args.seconds > 0 and args.clients >= 1 and args.rate > 0):
            raise QbdiError("--seconds and --rate must be above 0, --clients 1 or more")
        report = run_loris(args.seconds, args.clients, tuple(args.variant or VARIANTS), args.rate, args.model)
    except QbdiError as exc:
        print(f"qbdi loris: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
