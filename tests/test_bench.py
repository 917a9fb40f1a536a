# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import json
import subprocess
import sys
from pathlib import Path

from bridge.bench import format_report, measure_latency, measure_throughput, realistic_query

PY = [sys.executable, "-m", "bridge"]


def test_realistic_query_is_chords_and_melody_inside_its_bars():
    notes = realistic_query(8)
    assert 8 * 6 <= len(notes) <= 8 * 16
    assert max(n.end for n in notes) == 32.0 and min(n.start for n in notes) == 0.0
    assert all(24 <= n.pitch <= 101 and 1 <= n.velocity <= 127 and n.duration > 0 for n in notes)
    assert realistic_query(8) == notes and realistic_query(8, seed=1) != notes


def test_measurements_against_an_in_process_server(server):
    latency = measure_latency(server.port, bars=2, requests=3, settings={"rate": 64})
    assert latency["requests"] == 3 and 0 < latency["p50_ms"] <= latency["p99_ms"]
    throughput = measure_throughput(server.port, clients=2, seconds=0.2, settings={"rate": 64})
    assert throughput["errors"] == 0 and throughput["improvisations"] > 0 and throughput["per_second"] > 0


def test_bench_json_with_tiny_counts_and_cold_start(model_dir):
    cold = f"{sys.executable} -m bridge serve --model {model_dir} --log-level WARNING"
    proc = subprocess.run([*PY, "bench", "--json", "--requests", "3", "--bars", "1,2", "--clients", "1,2",
                           "--seconds", "0.3", "--model", str(model_dir), "--cold", cold, "--stream-bars", "3"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [row["bars"] for row in report["latency"]] == [1, 2]
    assert [row["clients"] for row in report["throughput"]] == [1, 2]
    assert all(row["errors"] == 0 and row["improvisations"] > 0 for row in report["throughput"])
    assert report["server"]["model"] == "tiny" and report["server_exit_code"] == 0
    assert 0 < report["cold"]["first_pong_s"] <= report["cold"]["first_improvisation_s"]
    assert [(row["mode"], row["load_bars"]) for row in report["stream"]] == [("echo", 0), ("ahead", 0), ("echo", 0),
                                                                           ("echo", 512)]
    table = format_report(report)
    assert "p99 ms" in table and "improv/s" in table and "cold start" in table and "play along" in table


def test_cold_only_measures_the_start_and_nothing_else(model_dir):
    cold = f"{sys.executable} -m bridge serve --model {model_dir}"
    proc = subprocess.run([*PY, "bench", "--cold", cold, "--cold-only"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("cold start of") and "improv/s" not in proc.stdout


def test_bench_rejects_bad_lists_with_one_line():
    proc = subprocess.run([*PY, "bench", "--bars", "eight"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "--bars" in proc.stderr


def test_bench_reports_a_server_that_cannot_start():
    proc = subprocess.run([*PY, "bench", "--model", "no-such-model", "--requests", "1"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "no-such-model" in proc.stderr


def test_the_stream_case_measures_one_bar_round_trips(server):
    from bridge.bench import measure_stream

    row = measure_stream(server.port, bars=5, settings={"rate": 64})
    assert row["bars"] == 5 and row["mode"] == "echo" and 0 < row["p50_ms"] <= row["p99_ms"]
    loaded = measure_stream(server.port, bars=3, settings={"rate": 64}, mode="ahead", load_bars=64)
    assert loaded["load_bars"] == 64 and loaded["mode"] == "ahead" and loaded["p99_ms"] > 0


def test_bench_jam_times_the_output_against_the_grid(model_dir):
    proc = subprocess.run([*PY, "bench", "--jam", "--jam-bars", "2", "--bpm", "300", "--model", str(model_dir),
                           "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["events"] > 0 and report["early"] == 0 and report["sounding_after"] == 0
    assert 0 <= report["late_p50_ms"] <= report["late_p99_ms"] <= report["late_max_ms"]


def test_bench_jam_without_the_jam_extra_says_what_to_install(model_dir):
    """mido is the [jam] extra (the standalone server leaves it out): one line, exit 2, no traceback."""
    script = ("import sys; sys.modules['mido'] = None; from bridge.cli import main; "
              f"sys.exit(main(['bench', '--jam', '--jam-bars', '1', '--model', {str(model_dir)!r}]))")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "[jam] extra (mido)" in proc.stderr and "pip install 'qbdi-bridge[jam]'" in proc.stderr


def test_the_core_package_never_imports_mido():
    """mido belongs to qbdi jam (the [jam] extra): only bridge/jam/ may import it, and only lazily."""
    import ast

    root = Path(__file__).resolve().parents[1] / "bridge"
    users = {}
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n.split(".")[0] == "mido" for n in names):
                users.setdefault(path.relative_to(root).as_posix(), []).append(node in tree.body)
    assert users and set(users) <= {"jam/ports.py"}, users
    assert not any(at_top for found in users.values() for at_top in found)
