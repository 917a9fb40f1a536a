# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""docs/API.md's examples run, in order, in one namespace, in a scratch folder; and `import bridge`
offers exactly what the page lists, without loading NumPy until a name is used."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "API.md"


def examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.S)


def test_the_api_page_examples_run(real_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = examples()
    assert len(blocks) >= 6
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"docs/API.md example {i + 1}", "exec"), namespace)
    assert (tmp_path / "improvisation.mid").is_file()


def test_import_bridge_offers_the_names_of_the_page_lazily():
    import bridge

    listed = set(re.findall(r"`bridge\.(\w+)", PAGE.read_text(encoding="utf-8")))
    assert listed <= set(bridge.__all__) | {"serve"}, listed - set(bridge.__all__)
    assert {"load_model", "improvise_notes", "improvise_file", "StreamImproviser", "compare", "Client"} <= listed
    for name in bridge.__all__:
        assert getattr(bridge, name) is not None and name in dir(bridge)
        assert name == "__version__" or getattr(bridge, name).__doc__, f"bridge.{name} has no docstring for help()"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        bridge.nothing  # noqa: B018
    fresh = subprocess.run([sys.executable, "-c", "import sys, bridge; print('numpy' in sys.modules)"],
                           capture_output=True, text=True, cwd=ROOT, check=True)
    assert fresh.stdout.strip() == "False"


def test_the_readme_python_api_example_runs(real_model, capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"## Python API\n\n```python\n(.*?)```", readme, flags=re.S)
    exec(compile(block, "README.md, Python API", "exec"), {})
    assert "HarmonyMetrics(" in capsys.readouterr().out
