# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``.ci/run`` says what failed and what it skipped: run for real in a scratch copy of the repository
whose steps (.ci/lint.sh, .ci/test.sh, build/build.sh) and tools (python3, pd) are stubs, so that only
the script's own logic runs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def fake_repo(tmp_path: Path, tests_rc: int) -> tuple[Path, dict]:
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "run", repo / ".ci" / "run")
    (repo / "build").mkdir()
    build = repo / "build" / "build.sh"
    build.write_text("#!/usr/bin/env bash\ntouch \"$(dirname \"$0\")/built\"\n")
    build.chmod(0o755)
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for script, rc in (("lint.sh", 0), ("test.sh", tests_rc)):      # the steps .ci/run calls
        (repo / ".ci" / script).write_text(f'echo "1 failed, 9 passed"\nexit {rc}\n' if rc else "exit 0\n")
    scripts = {
        "python3": f'[ "$1 $2" = "-m venv" ] && mkdir -p "$3/bin" && echo "PATH={stubs}:\\$PATH" > "$3/bin/activate"\n'
                   "exit 0",
        "python": "exit 0", "pd": "exit 0",
    }
    for name, body in scripts.items():
        stub = stubs / name
        stub.write_text(f"#!/usr/bin/env bash\n{body}\n")
        stub.chmod(0o755)
    env = dict(os.environ, PATH=f"{stubs}:/usr/bin:/bin")
    return repo, env


def test_a_failing_test_step_says_the_standalone_build_and_smoke_test_were_skipped(tmp_path):
    repo, env = fake_repo(tmp_path, tests_rc=1)
    done = subprocess.run(["bash", ".ci/run"], cwd=repo, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "ci: FAILED (exit 1) in the test step" in done.stderr, done.stderr
    assert "standalone build and its smoke test (build/build.sh --smoke --release), were skipped" in done.stderr
    assert not (repo / "build" / "built").exists()


def test_a_green_run_builds_and_says_so(tmp_path):
    repo, env = fake_repo(tmp_path, tests_rc=0)
    done = subprocess.run(["bash", ".ci/run"], cwd=repo, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (repo / "build" / "built").exists() and "ci: all steps passed" in done.stdout
    assert "FAILED" not in done.stderr


def test_reserved_ports_avoid_the_ephemeral_range_and_the_locks_of_live_runs(monkeypatch, tmp_path):
    import builders

    monkeypatch.setattr(builders, "PORT_LOCKS", tmp_path)
    monkeypatch.setattr(builders, "_held", [])
    taken = builders.PORT_LOW
    (tmp_path / str(taken)).write_text(str(os.getppid()))          # a live run holds it
    stale = builders.PORT_LOW + 1
    (tmp_path / str(stale)).write_text("999999999")                 # a killed run left it
    picks = iter([taken, stale])
    monkeypatch.setattr(builders.random, "randint", lambda lo, hi: next(picks))
    assert builders.reserved_udp_port() == stale
    assert (tmp_path / str(stale)).read_text() == str(os.getpid())
    assert builders.PORT_HIGH < 32768                              # below Linux's (and every OS's) ephemeral range
