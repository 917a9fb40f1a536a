# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``qbdi bench``: round-trip latency and throughput of ``qbdi serve`` through real UDP on loopback.

By default it starts ``qbdi serve`` as a subprocess on a free port (told back through
``--notify-port``), measures, and asks it to quit; ``--port`` measures a running server instead.

- Latency: one client sends ``--requests`` improvisations on a 1-, 8- and 32-bar query, one after
  the other; p50 and p99 of the round trip (first datagram sent to last note chunk received).
- Throughput: 1, 4 and 16 clients (threads, each with its own socket) send 8-bar queries back to
  back for ``--seconds``; completed improvisations per second, and their latency.
- ``--cold CMD``: start a server command (``qbdi serve``, the packaged binary...) and time it to
  its first pong and its first improvisation.
- Play along: one stream sends ``--stream-bars`` one-bar requests, each as soon as the answer to
  the last is in; p50 and p99 of the round trip per bar (the bar's first datagram sent to its
  answer's last one received: the server-side latency plus loopback), in echo and ahead mode, and
  while another client keeps the workers busy with 512-bar improvisations.
- ``--jam``: the output timing of ``qbdi jam`` against the ideal grid (bridge.jam.jam.measure_jitter).

Queries are built in code: a I-vi-IV-V progression with bass, triads and an eighth-note melody.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from . import protocol as P
from .client import Client, NoReply
from .config import MAX_BARS
from .errors import QbdiError
from .osc import OscError, decode
from .pianoroll import Note

log = logging.getLogger(__name__)

BENCH_SETTINGS = {"rate": 256, "seed": 1}        # a typical dial setting: the channel is exercised
PROGRESSION = ((48, (60, 64, 67)), (45, (57, 60, 64)), (41, (53, 57, 60)), (43, (55, 59, 62)))
START_TIMEOUT_S = 60.0
MAX_CLIENTS = 256
WARMUP = 10


def realistic_query(bars: int, beats_per_bar: int = 4, seed: int = 0) -> list[Note]:
    """``bars`` bars of I-vi-IV-V in C: a bass note and a triad per bar, an eighth-note melody on
    chord and passing tones with some rests and held notes (about 12 notes per bar)."""
    rng = random.Random(seed)
    scale = (72, 74, 76, 77, 79, 81, 83, 84)
    notes: list[Note] = []
    for bar in range(bars):
        bass, triad = PROGRESSION[bar % len(PROGRESSION)]
        t0 = float(bar * beats_per_bar)
        notes.append(Note(bass, t0, float(beats_per_bar), 70))
        notes += [Note(p, t0, beats_per_bar - 0.5, 60) for p in triad]
        step = 0.0
        while step < beats_per_bar:
            length = rng.choice((0.5, 0.5, 0.5, 1.0))
            if rng.random() > 0.15:
                pitch = rng.choice([p + 12 for p in triad] + list(scale))
                notes.append(Note(pitch, t0 + step, min(length, beats_per_bar - step), rng.randint(75, 100)))
            step += length
    return notes


@dataclass
class ServerProcess:
    """A ``qbdi serve`` subprocess on a free port; ``port`` is read from its /qbdi/ready."""

    command: list[str]
    process: subprocess.Popen
    port: int
    ready_s: float
    log_file: IO[str]
    host: str = P.DEFAULT_HOST

    @classmethod
    def start(cls, model: str | None = None, extra: Sequence[str] = (), host: str = P.DEFAULT_HOST) -> ServerProcess:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as notify:
            notify.bind(("127.0.0.1", 0))
            command = [sys.executable, "-m", "bridge", "serve", "--host", host, "--port", "0", "--log-level",
                       "WARNING", "--notify-port", str(notify.getsockname()[1]), *extra]
            if model:
                command += ["--model", model]
            started = time.perf_counter()
            log_file = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed with the server) not a pipe: a full one stalls it
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log_file, text=True)
            try:
                port = _wait_ready(notify, process, log_file, START_TIMEOUT_S)
            except BaseException:
                log_file.close()
                raise
            return cls(command, process, port, time.perf_counter() - started, log_file, host)

    def stop(self) -> int:
        """Quit it through the protocol (SIGTERM if that fails); its exit code."""
        try:
            with Client(host=self.host, port=self.port, timeout=5.0) as client:
                client.quit()
            return self.process.wait(timeout=10)
        except (QbdiError, subprocess.TimeoutExpired):
            self.process.terminate()
            return self.process.wait(timeout=10)
        finally:
            self.log_file.close()


def _last_line(log_file: IO[str]) -> str:
    log_file.seek(0)
    lines = log_file.read().strip().splitlines()
    return lines[-1] if lines else "no message"


def _wait_ready(notify: socket.socket, process: subprocess.Popen, log_file: IO[str], timeout: float) -> int:
    deadline = time.perf_counter() + timeout
    notify.settimeout(0.1)
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise QbdiError(f"the server exited with code {process.returncode} before it was ready: "
                            f"{_last_line(log_file)}")
        try:
            address, args = decode(notify.recv(P.MAX_DATAGRAM))
        except (TimeoutError, OscError):
            continue
        if address == P.READY:
            return int(args[2])
    process.terminate()
    raise QbdiError(f"the server was not ready within {timeout:g} s")


def _percentiles(seconds: list[float], quantiles: Sequence[int] = (50, 99)) -> dict[str, float]:
    """``{"p50_ms": ..., "p99_ms": ..., "mean_ms": ...}`` of round trips in seconds (NaN when none)."""
    if not seconds:
        return {**{f"p{q}_ms": float("nan") for q in quantiles}, "mean_ms": float("nan")}
    ms = np.asarray(seconds) * 1000.0
    return {**{f"p{q}_ms": round(float(np.percentile(ms, q)), 3) for q in quantiles},
            "mean_ms": round(float(ms.mean()), 3)}


def measure_latency(port: int, bars: int, requests: int, settings: dict[str, Any]) -> dict[str, Any]:
    """Sequential round trips of one client on a ``bars``-bar query."""
    query = realistic_query(bars)
    times: list[float] = []
    out_notes = 0
    with Client(port=port) as client:
        for i in range(WARMUP + requests):
            started = time.perf_counter()
            result = client.improvise(query, {**settings, "seed": i})
            if i >= WARMUP:
                times.append(time.perf_counter() - started)
                out_notes += len(result.notes)
    return {"bars": bars, "query_notes": len(query), "requests": requests,
            "mean_result_notes": round(out_notes / max(1, requests), 1), **_percentiles(times)}


def measure_throughput(port: int, clients: int, seconds: float, settings: dict[str, Any],
                       bars: int = 8) -> dict[str, Any]:
    """``clients`` threads, each its own Client, sending ``bars``-bar queries back to back."""
    query = realistic_query(bars)
    barrier = threading.Barrier(clients + 1)
    times: list[list[float]] = [[] for _ in range(clients)]
    errors: list[int] = [0] * clients
    stop = threading.Event()

    def run(k: int) -> None:
        with Client(port=port) as client:
            client.improvise(query, settings)       # warm: socket, caches
            barrier.wait()
            i = 0
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    client.improvise(query, {**settings, "seed": (k * 100_003 + i) % 2**31})
                    times[k].append(time.perf_counter() - started)
                except (QbdiError, NoReply):
                    errors[k] += 1
                i += 1

    threads = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    elapsed = time.perf_counter() - started
    done = sum(len(t) for t in times)
    return {"clients": clients, "bars": bars, "seconds": round(elapsed, 3), "improvisations": done,
            "per_second": round(done / elapsed, 1), "errors": sum(errors),
            **_percentiles([x for t in times for x in t])}


def measure_stream(port: int, bars: int, settings: dict[str, Any], mode: str = "echo",
                   load_bars: int = 0) -> dict[str, Any]:
    """Round trips of one stream's bars; ``load_bars`` > 0: meanwhile another client improvises
    ``load_bars``-bar queries back to back (the workers busy, the stream thread not)."""
    from .stream import split_bars
    from .stream_client import Stream

    played = split_bars(realistic_query(16), 4.0)
    stop, loads = threading.Event(), [0]

    def load() -> None:
        query = realistic_query(load_bars)
        with Client(port=port, timeout=60.0) as client:
            while not stop.is_set():
                client.improvise(query, settings)
                loads[0] += 1

    loader = threading.Thread(target=load, daemon=True) if load_bars else None
    times: list[float] = []
    with Stream(settings, mode=mode, port=port, timeout=10.0) as stream:
        if loader:
            loader.start()
            time.sleep(0.2)
        for t in range(WARMUP + bars):
            answer = stream.bar(t, played[t % len(played)])
            if t >= WARMUP:
                times.append(answer.round_trip_s)
    stop.set()
    if loader:
        loader.join(timeout=60)
    return {"mode": mode, "bars": bars, "rate": settings.get("rate", "full"), "load_bars": load_bars,
            "improvisations_meanwhile": loads[0], **_percentiles(times)}


def measure_cold(command: str, settings: dict[str, Any], timeout: float = START_TIMEOUT_S) -> dict[str, Any]:
    """Start ``command`` (``--port`` added when absent), ping until it answers, improvise once."""
    argv = shlex.split(command, posix=os.name != "nt")  # keep Windows backslashes
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    if "--port" not in argv:
        argv += ["--port", str(port)]
    else:
        port = int(argv[argv.index("--port") + 1])
    log_file = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed with the process)
    started = time.perf_counter()
    try:
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log_file, text=True)
    except OSError as exc:
        log_file.close()
        raise QbdiError(f"cannot start {command!r}: {exc}") from None
    try:
        with Client(port=port, timeout=0.05) as client:
            while True:
                if process.poll() is not None:
                    raise QbdiError(f"{command!r} exited with code {process.returncode}: {_last_line(log_file)}")
                if time.perf_counter() - started > timeout:
                    raise QbdiError(f"{command!r} did not answer a ping within {timeout:g} s")
                try:
                    client.ping()
                    break
                except NoReply:
                    continue
            first_pong = time.perf_counter() - started
            client.timeout = timeout
            client.improvise(realistic_query(8), settings)
            first_result = time.perf_counter() - started
            client.quit()
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        log_file.close()
    return {"command": command, "first_pong_s": round(first_pong, 3), "first_improvisation_s": round(first_result, 3)}


def run_bench(port: int = 0, model: str | None = None, requests: int = 200, bars: Sequence[int] = (1, 8, 32),
              clients: Sequence[int] = (1, 4, 16), seconds: float = 3.0, cold: str | None = None,
              cold_only: bool = False, stream_bars: int = 300) -> dict[str, Any]:
    """Everything ``qbdi bench`` measures, as a dict (what ``--json`` prints)."""
    settings = dict(BENCH_SETTINGS)
    report: dict[str, Any] = {"settings": settings, "cpu_count": _cpu_count()}
    if cold:
        report["cold"] = measure_cold(cold, settings)
        if cold_only:
            return report
    server = None
    if not port:
        server = ServerProcess.start(model)
        port = server.port
        report["server_start_s"] = round(server.ready_s, 3)
    elif model:
        settings["model"] = model
    try:
        with Client(port=port, timeout=10.0) as client:
            pong, status = client.ping(), client.status()
        report["server"] = {"port": port, "version": pong.server_version, "protocol": pong.protocol_version,
                            "model": settings.get("model", status.model), "started_by_bench": server is not None}
        report["latency"] = [measure_latency(port, b, requests, settings) for b in bars]
        report["throughput"] = [measure_throughput(port, c, seconds, settings) for c in clients]
        if stream_bars:
            report["stream"] = [measure_stream(port, stream_bars, settings, "echo"),
                                measure_stream(port, stream_bars, settings, "ahead"),
                                measure_stream(port, stream_bars, {**settings, "rate": "full"}, "echo"),
                                measure_stream(port, stream_bars, settings, "echo", load_bars=512)]
    finally:
        if server is not None:
            report["server_exit_code"] = server.stop()
    return report


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def format_report(report: dict[str, Any]) -> str:
    """The report as a plain-text table."""
    lines: list[str] = []
    if "server" in report:
        lines += _server_tables(report)
    if "cold" in report:
        cold = report["cold"]
        lines += ["", f"cold start of {cold['command']!r}: first pong {cold['first_pong_s']:.2f} s, "
                      f"first improvisation {cold['first_improvisation_s']:.2f} s"]
    return "\n".join(lines).strip("\n")


def _server_tables(report: dict[str, Any]) -> list[str]:
    server = report["server"]
    lines = [f"qbdi bench: server {server['version']} (protocol {server['protocol']}) on 127.0.0.1:{server['port']}, "
             f"model {server['model']}, {report['cpu_count']} CPU(s), settings "
             + " ".join(f"{k}={v}" for k, v in report["settings"].items()), "",
             "round trip, one client       bars  notes   p50 ms   p99 ms  mean ms  requests"]
    for row in report["latency"]:
        lines.append(f"{'':28}{row['bars']:>5} {row['query_notes']:>6} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} "
                     f"{row['mean_ms']:>8.2f} {row['requests']:>9}")
    lines += ["", "throughput, 8-bar queries  clients  improv/s   p50 ms   p99 ms  errors"]
    for row in report["throughput"]:
        lines.append(f"{'':26}{row['clients']:>8} {row['per_second']:>9.1f} {row['p50_ms']:>8.2f} "
                     f"{row['p99_ms']:>8.2f} {row['errors']:>7}")
    if report.get("stream"):
        lines += ["", "play along, 1-bar requests  mode   rate   p50 ms   p99 ms     bars  meanwhile"]
        for row in report["stream"]:
            meanwhile = f"{row['improvisations_meanwhile']} x {row['load_bars']} bars" if row["load_bars"] else "-"
            lines.append(f"{'':28}{row['mode']:<6}{row['rate']!s:>5} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} "
                         f"{row['bars']:>8}  {meanwhile}")
    return lines


def int_list(text: str, what: str) -> list[int]:
    """``"1,8,32"`` -> ``[1, 8, 32]``; ``what`` (the option) names a bad list in the error."""
    try:
        values = [int(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        raise QbdiError(f"{what} must be a comma-separated list of whole numbers, got {text!r}") from None
    if not values or min(values) < 1:
        raise QbdiError(f"{what} must list whole numbers of 1 or more, got {text!r}")
    return values


def bench(*, port: int = 0, model: str | None = None, requests: int = 200, bars: Sequence[int] = (1, 8, 32),
          clients: Sequence[int] = (1, 4, 16), seconds: float = 3.0, cold: str | None = None,
          cold_only: bool = False, stream_bars: int = 300, jam: bool = False, jam_bars: int = 32,
          bpm: float = 120.0, as_json: bool = False) -> int:
    """``qbdi bench``: measure, then print the table (or JSON with ``as_json``); 0 on success.

    ``port`` 0 starts a server (else: one runs there); ``bars`` query lengths; ``clients`` concurrent
    client counts; ``cold`` a server command whose cold start is measured (only that: ``cold_only``);
    ``jam``: ``qbdi jam``'s output timing over ``jam_bars`` bars at ``bpm`` instead (no server).
    """
    bars, clients = list(bars), list(clients)
    if not bars or not clients or min(bars) < 1 or min(clients) < 1:
        raise QbdiError("--bars and --clients must list whole numbers of 1 or more")
    if not (requests >= 1 and 0 < seconds <= 3600 and 0 <= port <= 65535):
        raise QbdiError("--requests must be 1 or more, --seconds above 0 (at most 3600), --port 0 to 65535")
    if max(bars) > MAX_BARS:
        raise QbdiError(f"--bars must be at most {MAX_BARS}")
    if max(clients) > MAX_CLIENTS:
        raise QbdiError(f"--clients must be at most {MAX_CLIENTS} (one thread and socket each)")
    if cold is not None:
        try:
            argv = shlex.split(cold, posix=os.name != "nt")
        except ValueError as exc:
            raise QbdiError(f"--cold {cold!r} is not a command line ({exc})") from None
        if not argv:
            raise QbdiError("--cold needs a server command, e.g. --cold 'qbdi serve'")
    if cold_only and not cold:
        raise QbdiError("--cold-only measures the cold start of --cold CMD; give --cold too")
    if jam:
        import importlib.util

        if importlib.util.find_spec("mido") is None:
            raise QbdiError("bench --jam measures qbdi jam, which needs the [jam] extra (mido): "
                            "pip install 'qbdi-bridge[jam]'; the standalone server does not include it")
        from .jam.jam import format_jitter, measure_jitter

        if jam_bars < 1 or not 20 <= bpm <= 400:
            raise QbdiError("--jam-bars must be 1 or more and --bpm between 20 and 400")
        report = measure_jitter(realistic_query(jam_bars), {**BENCH_SETTINGS, "model": model}, bars=jam_bars, bpm=bpm)
        print(json.dumps(report, indent=2) if as_json else format_jitter(report))
        return 0
    if stream_bars < 0:
        raise QbdiError("--stream-bars must be 0 (skip) or more")
    report = run_bench(port=port, model=model, requests=requests, bars=bars, clients=clients, seconds=seconds,
                       cold=cold, cold_only=cold_only, stream_bars=stream_bars)
    print(json.dumps(report, indent=2) if as_json else format_report(report))
    return 0
