# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The standalone server (build/, docs/STANDALONE.md), checked without building it.

The spec is executed with stand-ins for PyInstaller's Analysis/PYZ/EXE/COLLECT, so what it would
exclude, hide-import and bundle is read from the spec itself. The build and the smoke test of the
real binary run in CI (.ci/run -> build/build.sh --smoke); the last test here repeats the smoke
test when a built dist/qbdi-server/ is present, and is skipped otherwise.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
from builders import tiny_model

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "build" / "qbdi-server.spec"
ENTRY = ROOT / "build" / "entry.py"
BINARY = ROOT / "dist" / "qbdi-server" / ("qbdi-server.exe" if os.name == "nt" else "qbdi-server")
NOT_IN_BUNDLE = ("torch", "matplotlib", "scipy", "vmo", "music21", "tqdm", "tkinter")


# --- the spec, run against stand-ins ------------------------------------------------------------
class _Recorder:
    """Stands in for Analysis, PYZ, EXE and COLLECT: records its arguments."""

    calls: dict[str, tuple] = {}

    def __init__(self, kind: str, pure=(), binaries=(), datas=()):
        self.kind, self.pure, self.binaries, self.datas = kind, list(pure), list(binaries), list(datas)
        self.scripts = []

    @classmethod
    def factory(cls, kind: str, found: dict | None = None):
        def make(*args, **kwargs):
            cls.calls[kind] = (args, kwargs)
            return cls(kind, **(found or {}))
        return make


def run_spec(spec_path: Path, monkeypatch, found: dict | None = None) -> dict[str, tuple]:
    """Execute a spec with PyInstaller replaced by recorders; what Analysis/EXE/COLLECT got."""
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.copy_metadata = lambda name: [(f"/site-packages/{name}.dist-info/METADATA", f"{name}.dist-info")]
    for name in ("PyInstaller", "PyInstaller.utils"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)
    _Recorder.calls = {}
    namespace = {"SPECPATH": str(spec_path.parent), "workpath": str(spec_path.parent / "work"),
                 "__file__": str(spec_path),
                 "Analysis": _Recorder.factory("Analysis", found), "PYZ": _Recorder.factory("PYZ"),
                 "EXE": _Recorder.factory("EXE"), "COLLECT": _Recorder.factory("COLLECT")}
    exec(compile(spec_path.read_text(encoding="utf-8"), str(spec_path), "exec"), namespace)
    return dict(_Recorder.calls)


@pytest.fixture()
def spec_tree(tmp_path):
    """A copy of the spec in a tree with two small models (the real ones may not be installed)."""
    (tmp_path / "build").mkdir()
    shutil.copy(SPEC, tmp_path / "build" / SPEC.name)
    tiny_model(tmp_path / "bridge" / "models" / "pop", name="pop")
    tiny_model(tmp_path / "bridge" / "models" / "bach", name="bach", seed=1)
    (tmp_path / "bridge" / "models" / "half").mkdir()            # no weights: not a model, not bundled
    (tmp_path / "bridge" / "models" / "half" / "config.json").write_text("{}")
    return tmp_path


def test_spec_excludes_training_and_analysis_and_names_the_hidden_imports(spec_tree, monkeypatch):
    calls = run_spec(spec_tree / "build" / SPEC.name, monkeypatch)
    kwargs = calls["Analysis"][1]
    for name in (*NOT_IN_BUNDLE, "_tkinter", "rtmidi", "mido", "bridge.training", "bridge.analysis"):
        assert name in kwargs["excludes"], name
    for name in ("pythonosc", "pythonosc.osc_message", "safetensors.numpy", "bridge.serve.server"):
        assert name in kwargs["hiddenimports"], name
    assert not any("rtmidi" in name or "mido" in name for name in kwargs["hiddenimports"])
    assert calls["Analysis"][0][0] == [str(spec_tree / "build" / "entry.py")]
    assert kwargs["pathex"] == [str(spec_tree)]


def test_spec_bundles_each_model_folder_where_importlib_resources_looks(spec_tree, monkeypatch):
    datas = run_spec(spec_tree / "build" / SPEC.name, monkeypatch)["Analysis"][1]["datas"]
    models = sorted((Path(src).relative_to(spec_tree).as_posix(), dest) for src, dest in datas
                    if "bridge/models" in dest)
    assert models == [(f"bridge/models/{name}/{f}", f"bridge/models/{name}") for name in ("bach", "pop")
                      for f in ("config.json", "model.safetensors")]
    assert not any("mido" in dest for _, dest in datas)          # qbdi jam's; the server reads MIDI itself


def test_spec_builds_one_folder_named_as_the_launcher_expects(spec_tree, monkeypatch):
    calls = run_spec(spec_tree / "build" / SPEC.name, monkeypatch)
    exe = calls["EXE"][1]
    assert exe["name"] == "qbdi-server" and exe["exclude_binaries"] is True and exe["console"] is True
    assert calls["COLLECT"][1]["name"] == "qbdi-server"               # -> dist/qbdi-server/qbdi-server


def test_spec_refuses_to_build_without_a_model(tmp_path, monkeypatch):
    (tmp_path / "build").mkdir()
    (tmp_path / "bridge" / "models").mkdir(parents=True)
    shutil.copy(SPEC, tmp_path / "build" / SPEC.name)
    with pytest.raises(SystemExit, match="no model"):
        run_spec(tmp_path / "build" / SPEC.name, monkeypatch)


@pytest.mark.parametrize("module", ["torch.nn", "scipy.linalg", "matplotlib.pyplot", "bridge.training.train"])
def test_spec_fails_the_build_if_training_or_analysis_is_pulled_in(spec_tree, monkeypatch, module):
    found = {"pure": [(module, f"/x/{module}.py", "PYMODULE")]}
    with pytest.raises(SystemExit, match=module.split(".")[0]):
        run_spec(spec_tree / "build" / SPEC.name, monkeypatch, found)


def test_spec_fails_the_build_on_torch_libraries_too(spec_tree, monkeypatch):
    found = {"binaries": [("torch/lib/libtorch_cpu.so", "/x/libtorch_cpu.so", "BINARY")]}
    with pytest.raises(SystemExit, match="torch"):
        run_spec(spec_tree / "build" / SPEC.name, monkeypatch, found)


# --- the entry script -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def entry():
    spec = importlib.util.spec_from_file_location("qbdi_standalone_entry", ENTRY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def commands():
    from bridge.cli import COMMANDS

    return COMMANDS


@pytest.mark.parametrize("argv, expected", [
    ([], ["serve"]),                                                          # a double-click
    (["--port", "7500"], ["serve", "--port", "7500"]),                        # only flags: serve's
    (["--port", "7500", "--notify-port", "7401"], ["serve", "--port", "7500", "--notify-port", "7401"]),
    (["--log-level", "DEBUG", "--port", "1"], ["--log-level", "DEBUG", "serve", "--port", "1"]),
    (["--log-level=DEBUG"], ["--log-level=DEBUG", "serve"]),
    (["-h"], ["serve", "-h"]),
    (["serve", "--port", "1"], ["serve", "--port", "1"]),
    (["--log-level", "INFO", "serve", "--host", "127.0.0.1"], ["--log-level", "INFO", "serve", "--host", "127.0.0.1"]),
    (["models", "--json"], ["models", "--json"]),
    (["--version"], ["--version"]),
    (["-m", "bridge", "serve", "--port", "0"], ["serve", "--port", "0"]),    # qbdi-server bench's own server
    (["frob"], ["frob"]),                                                     # bridge.cli names the commands
])
def test_entry_maps_a_bare_invocation_to_serve(entry, commands, argv, expected):
    assert entry.normalize_argv(argv, commands) == expected


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js not installed")
def test_entry_passes_the_max_launchers_arguments_to_serve(entry, commands):
    script = ("const {Launcher, serverBinaryName} = require('./max_patches/qbdi_launcher.js');"
              "const l = new Launcher({logLevel: 'INFO', model: 'bach', port: 7411});"
              "console.log(JSON.stringify({args: l.serveArgs(), name: serverBinaryName('linux'),"
              " win: serverBinaryName('win32')}));")
    done = subprocess.run(["node", "-e", script], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["name"] == "qbdi-server" and got["win"] == "qbdi-server.exe"
    args = got["args"]
    assert entry.normalize_argv(args, commands) == args and "serve" in args
    parsed = __import__("bridge.cli", fromlist=["build_parser"]).build_parser().parse_args(args)
    assert (parsed.command, parsed.port, parsed.model, parsed.host) == ("serve", 7411, "bach", "127.0.0.1")


@pytest.mark.parametrize("command", ["train", "analyze", "sweep"])
def test_entry_turns_away_what_the_bundle_leaves_out(entry, command):
    message = entry.not_bundled([command, "x"])
    assert message and command in message and "pip install" in message and "\n" not in message


def test_entry_with_only_flags_runs_serve(tmp_path):
    """Through the real CLI: flags alone reach `qbdi serve`, which reports the missing model folder."""
    done = subprocess.run([sys.executable, str(ENTRY), "--port", "0", "--model", str(tmp_path / "nowhere")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "no model folder" in done.stderr, done.stderr


# --- the serving path, the build scripts ---------------------------------------------------------------
def test_serving_path_imports_no_training_or_analysis_module(tmp_path):
    model = tiny_model(tmp_path / "tiny")
    script = f"""
import sys
from bridge.cli import main
from bridge.serve.server import Server
from bridge.client import Client
from bridge.bench import realistic_query
with Server(port=0, model={str(model)!r}) as server, Client(port=server.port) as client:
    client.ping(); client.models(); client.improvise(realistic_query(2), {{"rate": 64}}); client.free(bars=1)
loaded = sorted({{name.split(".")[0] for name in sys.modules}} & {set(NOT_IN_BUNDLE + ("rtmidi", "mido"))!r})
loaded += [name for name in sys.modules if name.startswith(("bridge.training", "bridge.analysis"))]
print(loaded)
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"the serving path imported {done.stdout.strip()}"


TRIMMED = ("numpy.fft", "numpy.polynomial", "numpy.ma", "numpy.ctypeslib", "numpy.matlib", "typing_extensions",
           "_decimal", "_bz2", "_lzma", "_codecs_jp", "_codecs_cn", "_multibytecodec", "unicodedata")


def test_spec_trims_what_the_serving_path_never_loads_and_runs_in_utf8_mode(spec_tree, monkeypatch):
    calls = run_spec(spec_tree / "build" / SPEC.name, monkeypatch)
    excludes = calls["Analysis"][1]["excludes"]
    for name in TRIMMED:
        assert name in excludes, name
    assert ("X utf8", None, "OPTION") in calls["EXE"][0][2], "UTF-8 mode: no East Asian codec needed, stderr UTF-8"


def test_serve_improvise_and_models_work_without_the_trimmed_modules(tmp_path):
    """What the spec leaves out must not be needed: with every trimmed module made unimportable
    (as in the bundle), a real server round trip (improvise, continue, structure lock, sampling,
    free, an error), the improvise command on a MIDI file and models all work."""
    model = tiny_model(tmp_path / "tiny")
    script = f"""
import sys
for name in {TRIMMED!r}:
    sys.modules[name] = None          # import raises ImportError, as in the bundle
from pathlib import Path
from bridge.cli import main
from bridge.serve.server import Server
from bridge.client import Client, ServerError
from bridge.bench import realistic_query
from bridge.midifile import write_midi
with Server(port=0, model={str(model)!r}) as server, Client(port=server.port) as client:
    client.ping(); client.models(); client.status()
    client.improvise(realistic_query(4), {{"rate": 64, "structure": "lock", "continue_bars": 2, "sampling": "sample"}})
    client.free(bars=2)
    try:
        client.improvise(realistic_query(1), {{"model": "nope"}})
    except ServerError:
        pass
write_midi(Path({str(tmp_path)!r}) / "q.mid", [("piano", realistic_query(2))], tempo_bpm=100.0, time_signature=(4, 4))
main(["improvise", {str(tmp_path / "q.mid")!r}, "-o", {str(tmp_path / "o.mid")!r}, "--model", {str(model)!r}])
assert main(["models"]) == 0
import statistics                     # bench's: decimal falls back to _pydecimal
print("ok", statistics.median([1, 2, 3]))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "ok 2"


def test_build_scripts_are_wired_for_ci():
    build_sh = ROOT / "build" / "build.sh"
    assert os.access(build_sh, os.X_OK), ".ci/run only builds when build/build.sh is executable (chmod +x)"
    text = build_sh.read_text()
    assert "--smoke" in text and "build/smoke.py" in text and "build/qbdi-server.spec" in text
    assert "--workpath" in text and "build/work" in text
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"pyinstaller>=6.0"' in pyproject and "pyinstaller>=6.0" in text
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "/dist/" in ignored and "/build/work/" in ignored
    assert "build/build.sh --smoke" in (ROOT / ".ci" / "run").read_text()


# --- the built binary (CI builds it; here only when dist/qbdi-server/ exists) -------------------------------
@pytest.mark.slow
@pytest.mark.skipif(not BINARY.is_file(), reason="dist/qbdi-server/ not built (bash build/build.sh)")
def test_built_binary_passes_the_smoke_test():
    done = subprocess.run([sys.executable, str(ROOT / "build" / "smoke.py"), str(BINARY), "--cold-runs", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (f"{done.stdout}\n{done.stderr}\n(a stale build? rebuild with "
                                  "bash build/build.sh)")
    assert "smoke test passed" in done.stdout
