# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Smoke test of the built standalone server (build/build.sh --smoke, build/build.ps1 -Smoke,
tests/system/test_standalone.py). Talks to it with bridge.client from this checkout's Python.

    python build/smoke.py [dist/qbdi-server/qbdi-server] [--cold-runs 3] [--json]

Checks, each on a free loopback port:
  1. started as the Max launcher starts it (``--log-level INFO serve --host 127.0.0.1 --port P
     --notify-port N``): /qbdi/ready arrives, ping answers with this checkout's versions, the
     models reply lists exactly the models in bridge/models/;
  2. one improvisation with the default model: the same notes as this checkout's engine gives
     in process, and as the binary's own ``improvise`` command on the same query as a MIDI file;
     one with each other bundled model; one free improvisation;
  3. an error reply: a request naming an unknown model gets /qbdi/error unknown_model, and the
     server still answers ping afterwards;
  4. a second server on the same port exits with code 2 and one line naming the port;
  5. clean shutdown: /qbdi/quit -> exit code 0; started bare (only ``--port``, as a double-click
     would, plus a port) and stopped with SIGTERM -> exit code 0 (not on Windows); started with
     ``--exit-with-stdin`` and a pipe, as the launcher does: closing the pipe -> exit code 0;
  6. cold start to first pong and first improvisation (bridge.bench.measure_cold, best and median
     of --cold-runs), and the folder's size: over SIZE_BUDGET_MB (or --max-mb) fails.
Exit code 0 when every check passes, 1 otherwise. The goals (60 MB, 1.5 s) are reported; the
size budget is enforced (it catches what should not be in the bundle: a third model, SciPy...),
the cold start only with --max-cold-s.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # the server's BLAS setting: identical sums

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bridge import __version__  # noqa: E402
from bridge import protocol as P  # noqa: E402
from bridge.bench import measure_cold, realistic_query  # noqa: E402
from bridge.client import Client, ServerError  # noqa: E402
from bridge.config import Settings  # noqa: E402
from bridge.improvise import improvise  # noqa: E402
from bridge.midifile import read_midi, write_midi  # noqa: E402
from bridge.models import DEFAULT_MODEL, installed_names, load_model  # noqa: E402
from bridge.osc import OscError, decode  # noqa: E402
from bridge.stream_client import Stream  # noqa: E402

EXE = "qbdi-server.exe" if os.name == "nt" else "qbdi-server"
DEFAULT_BINARY = ROOT / "dist" / "qbdi-server" / EXE
GOAL_MB, GOAL_COLD_S = 60.0, 1.5
SIZE_BUDGET_MB = 72.0        # Linux x86-64 with pop and bach: 70.2 MB (docs/STANDALONE.md); 76.2 before the trim
START_TIMEOUT_S = 60.0
SETTINGS = {"rate": 256, "seed": 1}


class SmokeFailure(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def as_tuples(notes) -> list[tuple]:
    return sorted((n.pitch, n.start, n.duration, n.velocity) for n in notes)


class Running:
    """The binary as a subprocess; stderr goes to a temporary file (no pipe to fill up)."""

    def __init__(self, argv: list[str], stdin=subprocess.DEVNULL) -> None:
        self.argv = argv
        self.log = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")  # noqa: SIM115 (closed in stop)
        self.started = time.perf_counter()
        self.process = subprocess.Popen(argv, stdin=stdin, stdout=self.log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise SmokeFailure(f"{self.argv[0]} did not exit within {timeout:g} s; output:\n{self.output()}") from None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


def wait_ready(run: Running, notify: socket.socket, timeout: float = START_TIMEOUT_S) -> list:
    notify.settimeout(0.05)
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if run.process.poll() is not None:
            raise SmokeFailure(f"the server exited with code {run.process.returncode} before /qbdi/ready; "
                               f"output:\n{run.output()}")
        try:
            address, args = decode(notify.recv(P.MAX_DATAGRAM))
        except (TimeoutError, OscError):
            continue
        if address == P.READY:
            return args
    raise SmokeFailure(f"no /qbdi/ready within {timeout:g} s; output:\n{run.output()}")


def smoke(binary: Path, cold_runs: int = 3, say=print) -> dict:
    check(binary.is_file() and os.access(binary, os.X_OK), f"no executable at {binary}; build it first")
    folder = binary.parent
    shipped = installed_names()
    check(DEFAULT_MODEL in shipped, f"the default model {DEFAULT_MODEL} is not in bridge/models/ "
                                    f"(found: {', '.join(shipped) or 'none'})")
    report: dict = {"binary": str(binary)}
    query = realistic_query(8)
    say(f"smoke test of {binary}")

    # 1-3: started as the Max launcher starts it
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as notify:
        notify.bind(("127.0.0.1", 0))
        argv = [str(binary), "--log-level", "INFO", "serve", "--host", "127.0.0.1", "--port", str(port),
                "--notify-port", str(notify.getsockname()[1])]
        run = Running(argv)
        try:
            ready = wait_ready(run, notify)
            ready_s = time.perf_counter() - run.started
            check(ready[0] == __version__ and ready[1] == P.PROTOCOL_VERSION and ready[2] == port
                  and ready[3] == DEFAULT_MODEL, f"/qbdi/ready said {ready}")
            say(f"  ready         {ready_s:6.2f} s   /qbdi/ready {ready}")
            report["ready_s"] = round(ready_s, 3)
            with Client(port=port, timeout=20) as client:
                pong = client.ping()
                check((pong.server_version, pong.protocol_version) == (__version__, P.PROTOCOL_VERSION),
                      f"ping answered {pong}, expected {__version__} / protocol {P.PROTOCOL_VERSION}")
                say(f"  ping          ok       server {pong.server_version}, protocol {pong.protocol_version}, "
                    f"{pong.round_trip_s * 1000:.1f} ms")
                models = client.models()
                names = sorted(m.name for m in models.models)
                check(models.default == DEFAULT_MODEL and names == sorted(shipped),
                      f"models reply: default {models.default}, {names}; bridge/models/ has {sorted(shipped)}")
                say(f"  models        ok       default {models.default}, bundled {', '.join(names)}")

                result = client.improvise(query, SETTINGS)
                check(result.model == DEFAULT_MODEL, f"improvised with {result.model}, not {DEFAULT_MODEL}")
                check(result.settings.rate == SETTINGS["rate"] and result.settings.seed == SETTINGS["seed"],
                      f"effective settings {result.raw_settings} do not echo {SETTINGS}")
                local = improvise(load_model(DEFAULT_MODEL), query, Settings.from_dict(SETTINGS))
                check(as_tuples(result.notes) == as_tuples(local.notes),
                      f"the binary gave {len(result.notes)} notes, this checkout's engine {len(local.notes)} "
                      "(or different ones) for the same query, model and seed")
                say(f"  improvise     ok       8 bars, {len(query)} -> {len(result.notes)} notes, model "
                    f"{result.model}, rate {result.settings.rate}, {result.round_trip_s * 1000:.1f} ms; "
                    "same notes as the engine in process")
                report["improvise"] = {"notes_in": len(query), "notes_out": len(result.notes),
                                       "round_trip_ms": round(result.round_trip_s * 1000, 2)}

                for name in shipped:
                    if name != DEFAULT_MODEL:
                        other = client.improvise(query, {**SETTINGS, "model": name})
                        check(other.model == name, f"a request for model {name} used {other.model}")
                        say(f"  model {name:<8}ok       {len(other.notes)} notes from the bundled {name}")

                free = client.free(SETTINGS, bars=4)
                check(free.model == DEFAULT_MODEL, f"free improvisation used {free.model}")
                say(f"  free          ok       4 bars, {len(free.notes)} notes")

                with Stream(SETTINGS, port=port, beats_per_bar=4.0) as stream:
                    answers = [stream.bar(i, realistic_query(1, seed=i)) for i in range(3)]
                check([a.bar for a in answers] == [1, 2, 3] and all(a.notes for a in answers),
                      f"the stream answered bars {[a.bar for a in answers]}")
                say(f"  stream        ok       3 bars played along, {sum(len(a.notes) for a in answers)} notes back")

                try:
                    client.improvise(query, {**SETTINGS, "model": "no-such-model"})
                    raise SmokeFailure("a request for an unknown model got notes, not /qbdi/error")
                except ServerError as exc:
                    check(exc.code == "unknown_model" and "no-such-model" in str(exc),
                          f"unknown model answered {exc.code}: {exc}")
                    say(f"  error reply   ok       /qbdi/error {exc.code}: {str(exc)[:70]}...")
                client.ping()

                # 4: a second server on the same port
                second = Running([str(binary), "serve", "--port", str(port)])
                try:
                    code = second.wait(START_TIMEOUT_S)
                    text = second.output().strip()
                    check(code == 2 and str(port) in text and "in use" in text,
                          f"a second server on port {port} exited with {code}: {text}")
                    say(f"  port in use   ok       exit 2: {text.splitlines()[-1][:90]}")
                finally:
                    second.close()

                # 5a: quit
                client.quit()
            code = run.wait(10)
            check(code == 0, f"after /qbdi/quit the server exited with {code}; output:\n{run.output()}")
            say("  quit          ok       /qbdi/bye, exit code 0")
        finally:
            run.close()

    # 2b: the binary's own improvise command (mido inside the bundle), same notes as the server's
    with tempfile.TemporaryDirectory() as tmp:
        query_file, out_file = Path(tmp) / "q.mid", Path(tmp) / "out.mid"
        write_midi(query_file, [("piano", query)], tempo_bpm=100.0, time_signature=(4, 4))
        cli = subprocess.run([str(binary), "improvise", str(query_file), "-o", str(out_file), "--rate",
                              str(SETTINGS["rate"]), "--seed", str(SETTINGS["seed"])],
                             capture_output=True, text=True, timeout=120)
        check(cli.returncode == 0, f"qbdi-server improvise exited with {cli.returncode}: {cli.stderr.strip()}")
        check(as_tuples(read_midi(out_file).notes) == as_tuples(result.notes),
              "qbdi-server improvise on the query as a MIDI file gave other notes than the server")
        say("  improvise CLI ok       qbdi-server improvise q.mid: the same notes as the server")

    # 5b: bare start (no subcommand), SIGTERM
    if os.name != "nt":
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as notify:
            notify.bind(("127.0.0.1", 0))
            run = Running([str(binary), "--port", str(port), "--notify-port", str(notify.getsockname()[1])])
            try:
                wait_ready(run, notify)
                with Client(port=port, timeout=20) as client:
                    client.ping()
                run.process.send_signal(signal.SIGTERM)
                code = run.wait(10)
                check(code == 0, f"after SIGTERM the server exited with {code}; output:\n{run.output()}")
                say("  SIGTERM       ok       started without a subcommand; exit code 0")
            finally:
                run.close()

    # 5c: the launcher's watchdog: a pipe on stdin, closed -> the server stops by itself
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as notify:
        notify.bind(("127.0.0.1", 0))
        run = Running([str(binary), "serve", "--port", str(port), "--notify-port", str(notify.getsockname()[1]),
                       "--exit-with-stdin"], stdin=subprocess.PIPE)
        try:
            wait_ready(run, notify)
            run.process.stdin.close()
            code = run.wait(10)
            check(code == 0 and "stdin closed" in run.output(),
                  f"after its stdin closed the server exited with {code}; output:\n{run.output()}")
            say("  stdin closed  ok       --exit-with-stdin: stopped by itself, exit code 0")
        finally:
            run.close()

    # 6: cold start and size
    command = shlex.quote(binary.as_posix())    # measure_cold splits it POSIX-style, also on Windows
    colds = [measure_cold(command, dict(SETTINGS), timeout=START_TIMEOUT_S) for _ in range(max(1, cold_runs))]
    pongs = sorted(c["first_pong_s"] for c in colds)
    firsts = sorted(c["first_improvisation_s"] for c in colds)
    report["cold"] = {"runs": len(colds), "first_pong_s_best": pongs[0],
                      "first_pong_s_median": round(statistics.median(pongs), 3),
                      "first_improvisation_s_best": firsts[0],
                      "first_improvisation_s_median": round(statistics.median(firsts), 3)}
    size = folder_bytes(folder)
    report["size_mb"] = round(size / 1e6, 1)
    report["size_mib"] = round(size / 2**20, 1)
    report["files"] = sum(1 for p in folder.rglob("*") if p.is_file())
    c = report["cold"]
    say(f"  cold start    {c['first_pong_s_median']:6.2f} s   to first pong (median of {len(colds)}, best "
        f"{c['first_pong_s_best']:.2f} s); first improvisation {c['first_improvisation_s_median']:.2f} s "
        f"[goal <= {GOAL_COLD_S} s: {'met' if c['first_pong_s_median'] <= GOAL_COLD_S else 'MISSED'}]")
    say(f"  size          {report['size_mb']:6.1f} MB  ({report['size_mib']} MiB, {report['files']} files) "
        f"in {folder} [goal <= {GOAL_MB:g} MB: {'met' if report['size_mb'] <= GOAL_MB else 'MISSED'}]")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Smoke-test the built standalone qbdi server.")
    parser.add_argument("binary", nargs="?", default=str(DEFAULT_BINARY))
    parser.add_argument("--cold-runs", type=int, default=3, help="cold starts to time (default 3)")
    parser.add_argument("--max-cold-s", type=float, default=None, help="fail if the median first pong is slower")
    parser.add_argument("--max-mb", type=float, default=SIZE_BUDGET_MB,
                        help=f"fail if the folder weighs more (default {SIZE_BUDGET_MB:g} MB)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON at the end")
    args = parser.parse_args(argv)
    try:
        report = smoke(Path(args.binary).resolve(), args.cold_runs)
        if args.max_cold_s is not None:
            check(report["cold"]["first_pong_s_median"] <= args.max_cold_s,
                  f"cold start {report['cold']['first_pong_s_median']} s exceeds {args.max_cold_s} s")
        check(report["size_mb"] <= args.max_mb,
              f"the folder weighs {report['size_mb']} MB, over the {args.max_mb:g} MB budget: something was "
              "bundled that should not be (see EXCLUDES in build/qbdi-server.spec)")
    except SmokeFailure as exc:
        print(f"smoke test FAILED: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2))
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
